r"""securekit.sql against real SQLite and PostgreSQL databases, with hostile values."""

# ruff: noqa: S608  # the SQL text here is built from securekit.sql output: what is under test

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, InputReason, InputValidationError
from securekit.sql import (
    DEFAULT_MAX_IN_ITEMS,
    escape_like,
    identifier,
    in_list,
    like_pattern,
    order_by,
    quote_identifier,
    sort_direction,
)
from securekit.testing import require_service
from securekit.testing._services import free_port
from tests._leak import assert_no_leak

#: The newest installed PostgreSQL (Debian layout), 15 on the build machines.
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
ESCAPE_CLAUSE = "ESCAPE '\\'"

HOSTILE = [
    "O'Brien",
    "'; DROP TABLE items; --",
    '" OR 1=1 --',
    "/* comment */",
    "-- trailing",
    "100%",
    "a_b",
    "%",
    "_",
    "\\",
    "\\%",
    "x\\_y",
    "[abc]",
    "^$.*+?()|{}",
    "😀 ünïcødé",
    "",
]


# --- SQLite -----------------------------------------------------------------


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO items (name) VALUES (?)", [(v,) for v in [*HOSTILE, "a1b", "100 percent"]]
    )
    yield conn
    conn.close()


def like_names(conn: sqlite3.Connection, pattern: str) -> list[str]:
    rows = conn.execute(
        f"SELECT name FROM items WHERE name LIKE ? {ESCAPE_CLAUSE} ORDER BY id", (pattern,)
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_sqlite_like_exact_matches_only_the_literal(db: sqlite3.Connection, value: str) -> None:
    assert like_names(db, like_pattern(value, match="exact")) == [value]


def test_sqlite_like_wildcards_are_literal(db: sqlite3.Connection) -> None:
    assert like_names(db, like_pattern("100%", match="exact")) == ["100%"]
    assert like_names(db, like_pattern("a_b", match="exact")) == ["a_b"]  # not "a1b"
    # Unescaped, the same input is a wildcard that matches more.
    assert like_names(db, "a_b") == ["a_b", "a1b"]
    assert set(like_names(db, like_pattern("%", match="contains"))) == {"100%", "%", "\\%"}
    assert like_names(db, like_pattern("100", match="prefix")) == ["100%", "100 percent"]
    assert like_names(db, like_pattern("%", match="suffix")) == ["100%", "%", "\\%"]


def test_sqlite_in_list_with_hostile_values(db: sqlite3.Connection) -> None:
    sql, params = in_list(HOSTILE)
    rows = db.execute(f"SELECT name FROM items WHERE name IN {sql} ORDER BY id", params)
    assert [r[0] for r in rows] == HOSTILE
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == len(HOSTILE) + 2


def test_sqlite_in_list_nul_is_just_a_value(db: sqlite3.Connection) -> None:
    db.execute("INSERT INTO items (name) VALUES (?)", ("nul\x00byte",))
    sql, params = in_list(["nul\x00byte"])
    rows = db.execute(f"SELECT name FROM items WHERE name IN {sql}", params).fetchall()
    assert rows == [("nul\x00byte",)]


def test_sqlite_very_long_lists(db: sqlite3.Connection) -> None:
    ids = list(range(DEFAULT_MAX_IN_ITEMS))
    sql, params = in_list(ids)
    assert db.execute(f"SELECT count(*) FROM items WHERE id IN {sql}", params).fetchone()[0] == (
        len(HOSTILE) + 2
    )
    with pytest.raises(InputValidationError) as info:
        in_list([*ids, 1])
    assert info.value.reason is InputReason.TOO_LARGE
    big = list(range(30_000))
    sql, params = in_list(big, max_items=30_000)
    assert db.execute(f"SELECT count(*) FROM items WHERE id IN {sql}", params).fetchone()[0] > 0


def test_sqlite_numeric_style(db: sqlite3.Connection) -> None:
    sql, params = in_list(["%", "_"], paramstyle="numeric", start=2)
    assert sql == "(:2, :3)"
    rows = db.execute(
        f"SELECT name FROM items WHERE id > :1 AND name IN {sql} ORDER BY id", (0, *params)
    )
    assert [r[0] for r in rows] == ["%", "_"]


def test_sqlite_identifier_and_order_by(db: sqlite3.Connection) -> None:
    db.execute('CREATE TABLE "odd ""table""" ("select" TEXT)')
    table = quote_identifier('odd "table"')
    db.execute(f"INSERT INTO {table} VALUES ('ok')")
    assert db.execute('SELECT "select" FROM "odd ""table"""').fetchone() == ("ok",)
    allowed = {"newest": "id", "name": "items.name"}
    clause = order_by("newest", "desc", allowed=allowed)
    assert clause == 'ORDER BY "id" DESC'
    rows = db.execute(f"SELECT name FROM items {clause} LIMIT 1").fetchall()
    assert rows == [("100 percent",)]
    assert identifier("name", allowed=allowed) == '"items"."name"'
    db.execute(f"SELECT {identifier('name', allowed=allowed)} FROM items").fetchall()


@pytest.mark.parametrize(
    "hostile",
    ["id; DROP TABLE items", 'id" DESC --', "id/**/", "ID", "Id", "newest ", "", "items.name"],
)
def test_identifier_not_in_allowlist_is_refused(hostile: str) -> None:
    with pytest.raises(InputValidationError) as info:
        identifier(hostile, allowed={"newest": "id", "title": "items.title"})
    assert info.value.reason is InputReason.NOT_ALLOWED
    if hostile:
        assert_no_leak(info.value, hostile)


def test_identifier_wrong_type_and_bad_allowlist() -> None:
    with pytest.raises(InputValidationError) as info:
        identifier(1, allowed={"id"})  # type: ignore[arg-type]
    assert info.value.reason is InputReason.WRONG_TYPE
    with pytest.raises(ConfigurationError):
        identifier("x", allowed=set())
    with pytest.raises(ConfigurationError):
        identifier("x", allowed={"x; drop"})
    with pytest.raises(ConfigurationError):
        identifier("id", allowed={"id"}, dialect="mysql")  # type: ignore[arg-type]


# --- hypothesis: LIKE on SQLite ---------------------------------------------

TEXT = st.text(
    st.sampled_from(list("ab%_\\'\"AB -"))
    | st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=12,
)


@pytest.fixture(scope="module")
def sqlite_cs() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    # Without this pragma SQLite's LIKE folds ASCII case; with it, "matches
    # exactly the literal input" can be checked byte for byte.
    conn.execute("PRAGMA case_sensitive_like = ON")
    yield conn
    conn.close()


@settings(max_examples=300, deadline=None)
@given(value=TEXT, other=TEXT, escape=st.sampled_from(["\\", "!", "#", "^"]))
def test_escaped_pattern_matches_exactly_the_literal(
    sqlite_cs: sqlite3.Connection, value: str, other: str, escape: str
) -> None:
    pattern = escape_like(value, escape=escape)
    query = "SELECT ? LIKE ? ESCAPE ?"
    assert sqlite_cs.execute(query, (value, pattern, escape)).fetchone() == (1,)
    matched = sqlite_cs.execute(query, (other, pattern, escape)).fetchone() == (1,)
    assert matched == (other == value)


@settings(max_examples=200, deadline=None)
@given(value=TEXT, other=TEXT)
def test_contains_pattern_matches_iff_substring(
    sqlite_cs: sqlite3.Connection, value: str, other: str
) -> None:
    pattern = like_pattern(value, match="contains")
    row = sqlite_cs.execute(f"SELECT ? LIKE ? {ESCAPE_CLAUSE}", (other, pattern)).fetchone()
    assert (row == (1,)) == (value in other)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50))
def test_escape_like_never_raises_other_errors(value: str) -> None:
    try:
        escaped = escape_like(value)
    except InputValidationError as exc:
        if exc.reason is InputReason.FORBIDDEN_CHARACTER:
            assert "\x00" in value
        else:
            assert exc.reason is InputReason.BAD_ENCODING
            assert any("\ud800" <= c <= "\udfff" for c in value)
        return
    assert escaped.replace("\\\\", "").replace("\\%", "").replace("\\_", "").count("%") == 0


def test_default_sqlite_like_folds_ascii_case(db: sqlite3.Connection) -> None:
    # Documented limitation: without the pragma, LIKE is ASCII case-insensitive.
    assert like_names(db, like_pattern("o'brien", match="exact")) == ["O'Brien"]


# --- unit checks ------------------------------------------------------------


def test_escape_like_values() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    assert escape_like("a!b%", escape="!") == "a!!b!%"
    assert escape_like("") == ""
    assert like_pattern("x") == "%x%"
    assert like_pattern("x", match="prefix") == "x%"
    assert like_pattern("x", match="suffix") == "%x"
    assert like_pattern("x", match="exact") == "x"


def test_escape_like_nul_and_length() -> None:
    needle = "needle\x00"
    with pytest.raises(InputValidationError) as info:
        escape_like(needle)
    assert info.value.reason is InputReason.FORBIDDEN_CHARACTER
    assert_no_leak(info.value, needle)
    assert escape_like("x" * 4096) == "x" * 4096
    with pytest.raises(InputValidationError) as info:
        escape_like("a\udc80")
    assert info.value.reason is InputReason.BAD_ENCODING
    with pytest.raises(InputValidationError) as info:
        escape_like("x" * 4097)
    assert info.value.reason is InputReason.TOO_LONG
    assert escape_like("%" * 5000, max_length=5000) == "\\%" * 5000


def test_sqlite_nul_pattern_would_truncate(db: sqlite3.Connection) -> None:
    # Why NUL is refused: SQLite stops reading a LIKE pattern at NUL.
    rows = db.execute(f"SELECT name FROM items WHERE name LIKE ? {ESCAPE_CLAUSE}", ("%\x00zzz",))
    assert len(rows.fetchall()) == len(HOSTILE) + 2


@pytest.mark.parametrize("escape", ["", "ab", "%", "_", "'", '"', "a", "7", " ", "\t", "é"])
def test_bad_escape(escape: str) -> None:
    with pytest.raises(ConfigurationError):
        escape_like("x", escape=escape)


def test_bad_like_arguments() -> None:
    with pytest.raises(TypeError):
        escape_like(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        escape_like("x", escape=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        escape_like("x", max_length=0)
    with pytest.raises(ConfigurationError):
        escape_like("x", max_length=True)
    with pytest.raises(ConfigurationError):
        escape_like("x", max_length=50_000)
    with pytest.raises(ConfigurationError):
        like_pattern("x", match="regex")  # type: ignore[arg-type]


def test_in_list_styles() -> None:
    assert in_list((1, 2)) == ("(?, ?)", (1, 2))
    assert in_list([1, 2], paramstyle="format") == ("(%s, %s)", (1, 2))
    assert in_list([1, 2], paramstyle="dollar", start=3) == ("($3, $4)", (1, 2))
    assert in_list([1], paramstyle="numeric") == ("(:1)", (1,))


def test_in_list_misuse() -> None:
    with pytest.raises(InputValidationError) as info:
        in_list([])
    assert info.value.reason is InputReason.TOO_SHORT
    for bad in ("abc", b"abc", {1, 2}, 5):
        with pytest.raises(TypeError):
            in_list(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        in_list([1], paramstyle="pyformat")  # type: ignore[arg-type]
    for start in (0, -1, True, "1"):
        with pytest.raises(ConfigurationError):
            in_list([1], start=start)  # type: ignore[arg-type]
    for cap in (0, 40_000, True, 1.5):
        with pytest.raises(ConfigurationError):
            in_list([1], max_items=cap)  # type: ignore[arg-type]


def test_quote_identifier() -> None:
    assert quote_identifier("users") == '"users"'
    assert quote_identifier('we"ird') == '"we""ird"'
    assert quote_identifier("public.users", dialect="postgresql") == '"public"."users"'
    assert quote_identifier("a" * 63, dialect="postgresql") == '"' + "a" * 63 + '"'
    cases: list[tuple[str, Any, InputReason]] = [
        ("", "sqlite", InputReason.TOO_SHORT),
        ("a..b", "sqlite", InputReason.TOO_SHORT),
        ("a\x00b", "postgresql", InputReason.FORBIDDEN_CHARACTER),
        ("a" * 64, "postgresql", InputReason.TOO_LONG),
        ("é" * 32, "postgresql", InputReason.TOO_LONG),  # 64 bytes
        ("a" * 129, "sqlite", InputReason.TOO_LONG),
        ("a" * 300, "sqlite", InputReason.TOO_LONG),
        ("\ud800", "postgresql", InputReason.BAD_ENCODING),
        ("a.\udc80", "sqlite", InputReason.BAD_ENCODING),
    ]
    for name, dialect, reason in cases:
        with pytest.raises(InputValidationError) as info:
            quote_identifier(name, dialect=dialect)
        assert info.value.reason is reason, name
    with pytest.raises(TypeError):
        quote_identifier(b"x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        quote_identifier("x", dialect="oracle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"), [("asc", "ASC"), ("DESC", "DESC"), ("Desc", "DESC")]
)
def test_sort_direction(value: str, expected: str) -> None:
    assert sort_direction(value) == expected


def test_sort_direction_default_and_refusals() -> None:
    assert sort_direction(None) == "ASC"
    assert sort_direction("", default="DESC") == "DESC"
    # U+017F (long s) upper-cases to "S": "de\u017fc".upper() == "DESC".
    for bad in ["de\u017fc", "ascending", "ASC;", " asc", "asc --", "DESC\x00", "\u0131asc"]:
        with pytest.raises(InputValidationError) as info:
            sort_direction(bad)
        assert info.value.reason is InputReason.NOT_ALLOWED
    with pytest.raises(InputValidationError) as info:
        sort_direction(1)  # type: ignore[arg-type]
    assert info.value.reason is InputReason.WRONG_TYPE
    with pytest.raises(ConfigurationError):
        sort_direction("asc", default="UP")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.sampled_from(["sqlite", "postgresql"]))
def test_quote_identifier_junk(name: str, dialect: Any) -> None:
    try:
        quoted = quote_identifier(name, dialect=dialect)
    except InputValidationError:
        return
    # Whatever was accepted is a valid delimited identifier on a real engine.
    conn = sqlite3.connect(":memory:")
    try:
        # "sqlite_" names are reserved by SQLite itself, whatever the quoting.
        if "." not in name and not name.lower().startswith("sqlite_"):
            conn.execute(f"CREATE TABLE {quoted} (x)")
            assert conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchone() == (name,)
    finally:
        conn.close()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_order_by_junk_raises_only_input_errors(value: str) -> None:
    try:
        clause = order_by(value, value, allowed={"id", "name"})
    except InputValidationError:
        return
    assert clause in {f'ORDER BY "{c}" {d}' for c in ("id", "name") for d in ("ASC", "DESC")}


# --- PostgreSQL ---------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        # initdb and postgres refuse to run as root.
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    if not (PG_BIN / "initdb").is_file():
        require_service("PostgreSQL", f"{PG_BIN}/initdb is not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        require_service("PostgreSQL", "running as root needs runuser to switch to postgres")
    # Under /tmp (not pytest's 0700 per-user dir) so the postgres user can reach it.
    root = Path(tempfile.mkdtemp(prefix="securekit-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        init = subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            capture_output=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            require_service("PostgreSQL", f"initdb failed: {init.stderr.decode()[-500:]}")
        proc = subprocess.Popen(
            _as_postgres(
                [
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(root),
                    "-F",
                    "-c",
                    "max_connections=20",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(dsn, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    require_service("PostgreSQL", "postgres did not start")
                time.sleep(0.1)
        yield dsn
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg(postgres_dsn: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO items (name) VALUES (%s)",
                [(v,) for v in [*HOSTILE, "a1b", "100 percent", "A_B"]],
            )
        yield conn


def pg_names(conn: Any, op: str, pattern: str) -> list[str]:
    rows = conn.execute(
        f"SELECT name FROM items WHERE name {op} %s {ESCAPE_CLAUSE} ORDER BY id", (pattern,)
    )
    return [r[0] for r in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_postgres_like_exact(pg: Any, value: str) -> None:
    assert pg_names(pg, "LIKE", like_pattern(value, match="exact")) == [value]


@pytest.mark.postgres
def test_postgres_like_and_ilike(pg: Any) -> None:
    assert pg_names(pg, "LIKE", "a_b") == ["a_b", "a1b"]  # unescaped: a wildcard
    assert pg_names(pg, "LIKE", like_pattern("a_b", match="exact")) == ["a_b"]
    assert pg_names(pg, "ILIKE", like_pattern("a_b", match="exact")) == ["a_b", "A_B"]
    assert pg_names(pg, "LIKE", like_pattern("%", match="suffix")) == ["100%", "%", "\\%"]
    assert pg_names(pg, "LIKE", like_pattern("\\", match="contains")) == ["\\", "\\%", "x\\_y"]
    # Another escape character works the same way.
    rows = pg.execute(
        "SELECT name FROM items WHERE name LIKE %s ESCAPE '!'",
        (like_pattern("100%", match="exact", escape="!"),),
    ).fetchall()
    assert rows == [("100%",)]


@pytest.mark.postgres
def test_postgres_in_list(pg: Any) -> None:
    sql, params = in_list(HOSTILE, paramstyle="format")
    rows = pg.execute(f"SELECT name FROM items WHERE name IN {sql} ORDER BY id", params)
    assert [r[0] for r in rows] == HOSTILE
    ids = list(range(DEFAULT_MAX_IN_ITEMS))
    sql, params = in_list(ids, paramstyle="format")
    count = pg.execute(f"SELECT count(*) FROM items WHERE id IN {sql}", params).fetchone()
    assert count == (len(HOSTILE) + 3,)
    sql, params = in_list(list(range(30_000)), paramstyle="format", max_items=30_000)
    assert pg.execute(f"SELECT count(*) FROM items WHERE id IN {sql}", params).fetchone()[0] > 0


@pytest.mark.postgres
def test_postgres_identifiers(pg: Any) -> None:
    weird = 'we"ird -- name'
    pg.execute(
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(weird, dialect='postgresql')} (x int)"
    )
    rows = pg.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = %s", (weird,)
    ).fetchone()
    assert rows == (1,)
    clause = order_by("name", "DESC", allowed={"name", "id"}, dialect="postgresql")
    first = pg.execute(f"SELECT name FROM items {clause} LIMIT 1").fetchone()
    assert first is not None
    # A 64-byte name would be truncated to 63 by PostgreSQL: refused first.
    with pytest.raises(InputValidationError):
        quote_identifier("t" * 64, dialect="postgresql")
    with contextlib.suppress(Exception):
        pg.execute(f"DROP TABLE {quote_identifier(weird, dialect='postgresql')}")


@pytest.mark.postgres
def test_postgres_refuses_nul_so_escape_like_does_too(pg: Any) -> None:
    import psycopg

    with pytest.raises(psycopg.DataError):
        pg.execute("SELECT %s::text", ("a\x00b",))
    with pytest.raises(InputValidationError):
        like_pattern("a\x00b")
