"""Validate a signup request body: strict JSON, strict model, safe errors.

Run: python examples/validation_signup.py
"""

from __future__ import annotations

from typing import Annotated

from securekit.errors import InputValidationError
from securekit.validation import (
    Email,
    IntRange,
    SafeText,
    SecureModel,
    Username,
    validate_int,
    validate_sql_identifier,
)


class Signup(SecureModel):
    """The accepted shape of a signup request; anything else is refused."""

    username: Username
    email: Email
    age: Annotated[int, IntRange(min_value=13, max_value=150)]
    display_name: Annotated[str, SafeText(max_length=64)] = ""


def handle(body: bytes) -> str:
    """Parse and validate a request body; return what the API would answer."""
    try:
        signup = Signup.model_validate_json(body)
    except InputValidationError as exc:
        # exc.field comes from the schema and exc.reason is an enum: both are
        # safe to return; the rejected value is never on the exception.
        return f"422 field={exc.field} reason={exc.reason.value}"
    return f"201 created {signup.username} <{signup.email}>"


def main() -> None:
    bodies = [
        b'{"username": "alice", "email": "alice@Example.com", "age": 30}',
        b'{"username": "alice", "email": "alice@example.com", "age": 30, "is_admin": true}',
        b'{"username": {"$ne": ""}, "email": "alice@example.com", "age": 30}',
        b'{"username": "alice", "username": "admin", "email": "a@example.com", "age": 30}',
        b'{"username": "alice\\n", "email": "alice@example.com", "age": 30}',
        b'{"username": "alice", "email": "alice@example.com", "age": "30"}',
        b'{"username": "alice", "email": "a@example.com", "age": 30, "display_name": "\\u202e"}',
        b'{"username": "alice", "email": "alice@example.com", "age": NaN}',
    ]
    for body in bodies:
        print(f"{body.decode()[:70]:<72} -> {handle(body)}")

    # Plain functions work without pydantic, e.g. for query parameters.
    page = validate_int("3", min_value=1, max_value=1000)
    # ORDER BY cannot be parameterized: map the user's choice to a fixed column.
    column = validate_sql_identifier("newest", allowed={"newest": "created_at", "name": "name"})
    print(f"page={page} order_by={column}")
    for hostile in ["\u0661\u0662", " 1_000 ", "1e3"]:
        try:
            validate_int(hostile, min_value=1, max_value=1000)
        except InputValidationError as exc:
            print(f"page {hostile!r} refused: {exc.reason.value}")


if __name__ == "__main__":
    main()
