"""Strict JSON and validation cost against the raw primitives.

* ``load_json`` against ``json.loads`` on a typical 10 KB API document: the
  strict checks (duplicate keys, NaN, depth, size, surrogates) must cost at
  most 3x the permissive parser (JWT and signing parse every token with it).
* ``SecureModel.model_validate_json`` against a plain pydantic model with the
  same fields (``str``, no checks): the strict loader runs first and the
  catalogue types (NFKC, allowlists, email syntax) are Python validators
  around pydantic's Rust core, so at most 8x (under 10 microseconds a body).
* ``validate_username`` against the one-line regex check users write by hand
  (which is wrong: it accepts a trailing newline and non-ASCII digits): the
  correct version may cost at most 5x of a few hundred nanoseconds.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel

from securekit.validation import Email, SecureModel, Username, load_json, validate_username
from tests.benchmarks._harness import QUICK, compare

DOCUMENT = json.dumps(
    {
        "items": [
            {
                "id": i,
                "name": f"item-{i}",
                "price": i * 1.25,
                "tags": ["a", "b", "caf\u00e9"],
                "active": i % 2 == 0,
                "owner": {"id": i * 7, "email": f"user{i}@example.com"},
            }
            for i in range(60)
        ],
        "cursor": None,
    }
)


def test_load_json_against_json_loads() -> None:
    assert 8_000 < len(DOCUMENT) < 14_000
    body = DOCUMENT.encode()
    text = compare(
        "load_json(str, 10 KB) vs json.loads",
        {"json.loads": lambda: json.loads(DOCUMENT), "securekit": lambda: load_json(DOCUMENT)},
        baseline="json.loads",
    )
    raw = compare(
        "load_json(bytes, 10 KB) vs json.loads",
        {"json.loads": lambda: json.loads(body), "securekit": lambda: load_json(body)},
        baseline="json.loads",
    )
    if not QUICK:
        assert text.ratio("securekit") <= 3.0
        assert raw.ratio("securekit") <= 3.0


class Strict(SecureModel):
    username: Username
    email: Email
    age: int
    bio: str


class Plain(BaseModel):
    username: str
    email: str
    age: int
    bio: str


def test_secure_model_against_plain_pydantic() -> None:
    body = b'{"username": "alice", "email": "alice@example.com", "age": 30, "bio": "hello"}'
    result = compare(
        "SecureModel.model_validate_json vs BaseModel",
        {
            "pydantic": lambda: Plain.model_validate_json(body),
            "securekit": lambda: Strict.model_validate_json(body),
        },
        baseline="pydantic",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 8.0


NAIVE = re.compile(r"^[\w.-]{3,32}$")


def test_username_against_naive_regex() -> None:
    result = compare(
        "validate_username vs re.match",
        {
            "re.match": lambda: NAIVE.match("alice_01"),
            "securekit": lambda: validate_username("alice_01"),
        },
        baseline="re.match",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 5.0
