"""SQL helpers where bound parameters cannot help: IN-lists, LIKE, ORDER BY.

Runs against an in-memory SQLite database with hostile search terms. Every
*value* is still a bound parameter; the helpers only build the SQL text that
parameters cannot express.
"""

from __future__ import annotations

import sqlite3

from securekit.errors import InputValidationError
from securekit.sql import in_list, like_pattern, order_by

#: Public sort keys -> columns. Input never reaches the SQL text directly.
SORTABLE = {"name": "name", "newest": "id"}


def search(
    conn: sqlite3.Connection, term: str, sort: str, direction: str | None
) -> list[tuple[int, str]]:
    """Products whose name contains ``term`` literally, sorted as asked."""
    clause = order_by(sort, direction, allowed=SORTABLE)  # 'ORDER BY "name" ASC'
    # ESCAPE '\' names the escape character escape_like uses: SQLite has none
    # by default, so without it "100%" would still be a wildcard.
    query = f"SELECT id, name FROM products WHERE name LIKE ? ESCAPE '\\' {clause}"  # noqa: S608
    return conn.execute(query, (like_pattern(term),)).fetchall()


def main() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    names = ["100% cotton", "1000 threads", "a_b test", "a1b test", "O'Reilly book"]
    conn.executemany("INSERT INTO products (name) VALUES (?)", [(n,) for n in names])

    print("contains '100%':", search(conn, "100%", "name", "asc"))
    print("contains 'a_b':", search(conn, "a_b", "newest", "DESC"))
    print(
        'contains "\'; DROP TABLE products; --":',
        search(conn, "'; DROP TABLE products; --", "name", None),
    )

    ids = ["2", "4", "999"]  # e.g. ?id=2&id=4&id=999
    placeholders, params = in_list(ids)  # '(?, ?, ?)'
    rows = conn.execute(
        f"SELECT id, name FROM products WHERE id IN {placeholders} ORDER BY id",  # noqa: S608
        params,
    ).fetchall()
    print("IN-list:", rows)

    for sort, direction in [("name; DROP TABLE products", "asc"), ("name", "sideways")]:
        try:
            search(conn, "x", sort, direction)
        except InputValidationError as exc:
            print(f"refused sort={sort!r} direction={direction!r}: {exc.reason.value}")
    try:
        in_list(list(range(5000)))
    except InputValidationError as exc:
        print("refused a 5000-item IN-list:", exc.reason.value)
    assert conn.execute("SELECT count(*) FROM products").fetchone() == (5,)
    conn.close()


if __name__ == "__main__":
    main()
