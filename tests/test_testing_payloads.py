"""securekit.testing.payloads: the corpora, run against securekit's own recipes.

Each corpus is checked in both directions: every payload is refused by the
recipe that guards against it, and a legitimate value of the same shape is
accepted (so the refusals are not vacuous).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from securekit.errors import ConfigurationError, InputValidationError, UploadRejectedError
from securekit.sql import escape_like
from securekit.testing import payloads
from securekit.testing.payloads import (
    ATTACKER_HOST,
    AttackPayloads,
    deep_json,
    hostile_filenames,
    malformed_json,
    nosql_injection,
    open_redirects,
    oversized_json,
    path_traversal,
    sql_injection,
    xss,
)
from securekit.uploads import safe_filename, safe_join
from securekit.urls import is_safe_redirect
from securekit.validation import SecureModel, Username, load_json
from tests._leak import assert_no_leak


class Login(SecureModel):
    username: Username
    password: str


@pytest.mark.parametrize("name", hostile_filenames())
def test_hostile_filenames_are_refused_by_safe_filename(name: str) -> None:
    with pytest.raises(UploadRejectedError) as info:
        safe_filename(name)
    if len(name.strip()) > 3:  # short names such as "." occur in any text
        assert_no_leak(info.value, name)


def test_a_plain_filename_is_accepted() -> None:
    assert safe_filename("avatar.png") == "avatar.png"


@pytest.mark.parametrize("part", path_traversal())
def test_path_traversal_never_leaves_the_base(part: str, tmp_path: Path) -> None:
    base = tmp_path.resolve()
    try:
        joined = safe_join(base, part)
    except UploadRejectedError:
        return
    # Accepted only as an inert name inside base ("..;" or "~" are plain
    # characters to a file system).
    assert joined.is_relative_to(base)
    assert ".." not in joined.relative_to(base).parts


def test_safe_join_refuses_nearly_all_of_the_traversal_corpus(tmp_path: Path) -> None:
    refused = 0
    for part in path_traversal():
        try:
            safe_join(tmp_path, part)
        except UploadRejectedError:
            refused += 1
    assert refused >= len(path_traversal()) - 3


def test_a_plain_path_is_joined(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "2024/report.pdf") == tmp_path.resolve() / "2024" / "report.pdf"


@pytest.mark.parametrize("url", open_redirects("example.com"))
def test_open_redirects_are_refused(url: str) -> None:
    assert not is_safe_redirect(url, allowed_hosts={"example.com"})


def test_open_redirects_use_the_given_host_and_the_attacker_host() -> None:
    urls = open_redirects("app.example.org")
    assert "https://app.example.org@attacker.invalid" in urls
    assert all("{" not in url for url in urls)
    assert sum(ATTACKER_HOST in url for url in urls) > len(urls) // 2
    assert is_safe_redirect("https://app.example.org/account", allowed_hosts={"app.example.org"})


@pytest.mark.parametrize("host", ["", "exa mple.com", "ex/ample", "b\u00fccher.de", "a@b"])
def test_open_redirects_refuse_a_bad_host(host: str) -> None:
    with pytest.raises(ConfigurationError, match="host"):
        open_redirects(host)


def test_open_redirects_wrong_type() -> None:
    with pytest.raises(TypeError):
        open_redirects(3)


@pytest.mark.parametrize("body", malformed_json(), ids=range(len(malformed_json())))
def test_malformed_json_is_refused_by_load_json(body: bytes) -> None:
    with pytest.raises(InputValidationError):
        load_json(body)


@pytest.mark.parametrize("kind", ["array", "object"])
def test_deep_json_is_refused_and_shallow_is_accepted(kind: str) -> None:
    with pytest.raises(InputValidationError) as info:
        load_json(deep_json(kind=kind))
    assert info.value.reason.value == "too_deep"
    assert load_json(deep_json(3, kind=kind)) in ([[[]]], {"a": {"a": {"a": 1}}})


@pytest.mark.parametrize("shape", ["string", "array", "object", "whitespace"])
def test_oversized_json_is_one_byte_over_and_valid(shape: str) -> None:
    body = oversized_json(4096, shape=shape)
    assert len(body) == 4097
    json.loads(body)  # valid JSON: only the size is wrong
    with pytest.raises(InputValidationError) as info:
        load_json(body, max_bytes=4096)
    assert info.value.reason.value == "too_large"
    assert load_json(body, max_bytes=4097) is not None


def test_oversized_json_default_is_over_one_mebibyte() -> None:
    assert len(oversized_json()) == payloads.DEFAULT_JSON_MAX_BYTES + 1
    with pytest.raises(InputValidationError):
        load_json(oversized_json())


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: deep_json(0), ConfigurationError),
        (lambda: deep_json(payloads.MAX_GENERATED_DEPTH + 1), ConfigurationError),
        (lambda: oversized_json(payloads.MAX_GENERATED_BYTES + 1), ConfigurationError),
        (lambda: deep_json(True), TypeError),
        (lambda: deep_json(3, kind="set"), ConfigurationError),
        (lambda: oversized_json(15), ConfigurationError),
        (lambda: oversized_json("1"), TypeError),  # type: ignore[arg-type]
        (lambda: oversized_json(100, shape="tree"), ConfigurationError),
    ],
)
def test_json_builders_misuse(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("text", nosql_injection())
def test_nosql_injection_is_refused_by_a_strict_model(text: str) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    body = json.dumps({"username": value, "password": value}).encode()
    with pytest.raises(InputValidationError):
        Login.model_validate_json(body)


def test_a_plain_login_is_accepted() -> None:
    login = Login.model_validate_json(b'{"username": "alice", "password": "pw"}')
    assert login.username == "alice"


@pytest.fixture(scope="module")
def users() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT, secret TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [("alice", "a"), ("bob", "b")])
    return db


@pytest.mark.parametrize("text", sql_injection())
def test_sql_injection_is_inert_with_parameters_and_escape_like(
    text: str, users: sqlite3.Connection
) -> None:
    exact = users.execute("SELECT name FROM users WHERE name = ?", (text,)).fetchall()
    assert exact == []
    try:
        pattern = "%" + escape_like(text) + "%"
    except InputValidationError:
        assert "\x00" in text  # NUL would end the pattern in SQLite: refused
        return
    like = users.execute(
        "SELECT name FROM users WHERE name LIKE ? ESCAPE '\\'", (pattern,)
    ).fetchall()
    assert like == []


def test_escape_like_is_what_keeps_wildcards_inert(users: sqlite3.Connection) -> None:
    """Without escape_like, the corpus's wildcard payloads match every row."""
    raw = users.execute("SELECT name FROM users WHERE name LIKE ?", ("%",)).fetchall()
    assert len(raw) == 2
    assert "%" in sql_injection()


def test_xss_corpus_is_the_browser_measured_one() -> None:
    strings = xss()
    corpus = payloads.xss_payloads()
    assert len(strings) == len(corpus) > 200
    assert set(strings) == {p.payload for p in corpus}
    assert strings[0] in {p.payload for p in corpus if p.raw_executes}


def test_all_payloads_bundles_every_corpus() -> None:
    bundle = payloads.all_payloads("example.com")
    assert isinstance(bundle, AttackPayloads)
    assert bundle.hostile_filenames == hostile_filenames()
    assert bundle.open_redirects == open_redirects("example.com")
    assert bundle.malformed_json == malformed_json()
    assert all(len(getattr(bundle, f)) > 20 for f in AttackPayloads.__dataclass_fields__)


def test_attack_payloads_fixture(attack_payloads: AttackPayloads) -> None:
    assert attack_payloads.sql_injection == sql_injection()
    assert attack_payloads.nosql_injection == nosql_injection()
    assert attack_payloads.path_traversal == path_traversal()
    assert attack_payloads.xss == xss()
