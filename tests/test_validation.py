"""Tests for securekit.validation and the strict JSON loader (securekit._json)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError, field_validator

from securekit import validation as v
from securekit.errors import ConfigurationError, InputReason, InputValidationError
from securekit.validation import (
    STRICT_CONFIG,
    Email,
    FloatRange,
    Identifier,
    IntRange,
    OneOf,
    SafeText,
    SecureModel,
    Slug,
    StrictUUID,
    URLRule,
    Username,
    load_json,
)
from tests._leak import assert_no_leak

INSECURE_CALLS: dict[str, Any] = {}

HOSTS = {"example.com", "*.cdn.example.com"}


def reason_of(fn: Any, *args: Any, **kwargs: Any) -> InputReason:
    with pytest.raises(InputValidationError) as info:
        fn(*args, **kwargs)
    return info.value.reason


# --- load_json -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"a": 1, "a": 2}', InputReason.DUPLICATE_KEY),
        ('{"x": {"a": 1, "a": 1}}', InputReason.DUPLICATE_KEY),
        ("NaN", InputReason.NOT_FINITE),
        ("[Infinity]", InputReason.NOT_FINITE),
        ('{"n": -Infinity}', InputReason.NOT_FINITE),
        ("[1e999]", InputReason.NOT_FINITE),
        ("-1e400", InputReason.NOT_FINITE),
        ("1" * 310 + ".5", InputReason.NOT_FINITE),  # no exponent, still overflows
        ("[" + "9" * 400 + "e0]", InputReason.NOT_FINITE),
        ("1" * 4301, InputReason.TOO_LARGE),
        ('"\\ud800"', InputReason.BAD_ENCODING),
        ('{"\\udfff": 1}', InputReason.BAD_ENCODING),
        ('["ok", ["\\ud83d"]]', InputReason.BAD_ENCODING),
        ('"\ud800"', InputReason.BAD_ENCODING),
        (b'"\xff"', InputReason.BAD_ENCODING),
        (b'"\xed\xa0\x80"', InputReason.BAD_ENCODING),  # CESU-8 surrogate
        (b'"\xc0\xaf"', InputReason.BAD_ENCODING),  # overlong "/"
        ('"a" "b"', InputReason.INVALID_JSON),
        ("{'a': 1}", InputReason.INVALID_JSON),
        ("", InputReason.INVALID_JSON),
        ("[1,]", InputReason.INVALID_JSON),
        ('"tab\there"', InputReason.INVALID_JSON),  # raw control character
        ("\ufeff{}", InputReason.INVALID_JSON),
        (b"\xef\xbb\xbf{}", InputReason.INVALID_JSON),
        ("[" * 65 + "]" * 65, InputReason.TOO_DEEP),
        ('{"a":' * 65 + "1" + "}" * 65, InputReason.TOO_DEEP),
        ("[" * 100_000, InputReason.TOO_DEEP),
    ],
)
def test_load_json_rejects(body: str | bytes, reason: InputReason) -> None:
    assert reason_of(load_json, body) is reason


def test_load_json_rejects_utf16_instead_of_guessing() -> None:
    # json.loads(bytes) would detect UTF-16 and accept it.
    body = '{"a": 1}'.encode("utf-16")
    assert json.loads(body) == {"a": 1}
    assert reason_of(load_json, body) is InputReason.BAD_ENCODING


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"a": [1, 2.5, "x", null, true]}', {"a": [1, 2.5, "x", None, True]}),
        ('"\\ud83d\\ude00"', "\U0001f600"),
        ('"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', "[" * 66),
        (b'{"caf\xc3\xa9": 1}', {"café": 1}),
        (bytearray(b"[1]"), [1]),
        ("  [1]\n", [1]),
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, not a surrogate
    ],
)
def test_load_json_accepts(body: str | bytes, expected: object) -> None:
    assert load_json(body) == expected


def test_load_json_accepts_the_default_depth() -> None:
    result = load_json("[" * 64 + "]" * 64)
    depth = 1
    while isinstance(result, list) and result:
        result = result[0]
        depth += 1
    assert result == []
    assert depth == 64


@pytest.mark.parametrize(
    "body",
    [
        # Closing brackets inside a string must not hide real nesting.
        '["' + "]" * 70 + '", ' + "[" * 70 + "]" * 70 + "]",
        '{"k": "' + "}" * 70 + '", "v": ' + '{"a":' * 70 + "1" + "}" * 71,
        '["\\"' + "]" * 70 + '", ' + "[" * 70 + "]" * 70 + "]",  # escaped quote
        '["\\\\", "' + "]" * 70 + '", ' + "[" * 70 + "]" * 70 + "]",  # escaped backslash
        '["", ""' + ', ""' * 5 + ", " + "[" * 70 + "]" * 70 + "]",
    ],
)
def test_load_json_depth_cannot_be_hidden_in_strings(body: str) -> None:
    assert reason_of(load_json, body) is InputReason.TOO_DEEP
    assert reason_of(load_json, body.encode()) is InputReason.TOO_DEEP


def test_load_json_brackets_in_strings_do_not_count() -> None:
    body = '{"a": "' + "[" * 100 + '", "b": ["' + "{" * 100 + '"], "c": "\\"[["}'
    assert load_json(body, max_depth=2) == {"a": "[" * 100, "b": ["{" * 100], "c": '"[['}


def test_load_json_mismatched_brackets_are_invalid() -> None:
    assert reason_of(load_json, "[" * 3 + "}" * 3) is InputReason.INVALID_JSON


def test_load_json_depth_limit_is_exact() -> None:
    assert load_json("[" * 3 + "]" * 3, max_depth=3) == [[[]]]
    assert reason_of(load_json, "[" * 4 + "]" * 4, max_depth=3) is InputReason.TOO_DEEP
    # Brackets inside strings do not count as depth.
    assert load_json('["[[[[[[["]', max_depth=1) == ["[[[[[[["]


def test_load_json_size_limit_counts_utf8_bytes() -> None:
    assert load_json('"' + "a" * 8 + '"', max_bytes=10) == "a" * 8
    assert reason_of(load_json, '"' + "a" * 9 + '"', max_bytes=10) is InputReason.TOO_LARGE
    # 3 characters but 7 UTF-8 bytes: the str form is measured in bytes.
    assert reason_of(load_json, '"\u20ac\u20ac"', max_bytes=6) is InputReason.TOO_LARGE
    assert load_json('"\u20ac\u20ac"', max_bytes=8) == "\u20ac\u20ac"
    assert reason_of(load_json, b"[" + b"1," * 10 + b"1]", max_bytes=10) is InputReason.TOO_LARGE


def test_load_json_default_limit_is_one_mebibyte() -> None:
    big = '"' + "a" * (1024 * 1024) + '"'
    assert reason_of(load_json, big) is InputReason.TOO_LARGE
    assert reason_of(load_json, big.encode()) is InputReason.TOO_LARGE


def test_load_json_int_digit_cap_without_interpreter_limit() -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # unlimited: our own cap must still apply
    try:
        assert reason_of(load_json, "[" + "1" * 4301 + "]") is InputReason.TOO_LARGE
        assert load_json("1" * 4300) == int("1" * 4300)
    finally:
        sys.set_int_max_str_digits(old)


def test_load_json_honours_lowered_int_digit_limit() -> None:
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        assert reason_of(load_json, "1" * 700) is InputReason.TOO_LARGE
    finally:
        sys.set_int_max_str_digits(old)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_bytes": 0},
        {"max_bytes": True},
        {"max_bytes": 1.5},
        {"max_depth": 0},
        {"max_depth": 10_000},
        {"max_depth": False},
    ],
)
def test_load_json_misconfiguration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        load_json("1", **kwargs)


@pytest.mark.parametrize("body", [None, 1, ["[]"], {"a": 1}])
def test_load_json_wrong_type(body: Any) -> None:
    with pytest.raises(TypeError):
        load_json(body)


def test_load_json_error_does_not_carry_the_body() -> None:
    secret = "hunter2-very-secret"  # pragma: allowlist secret
    with pytest.raises(InputValidationError) as info:
        load_json('{"password": "' + secret + '"')
    assert_no_leak(info.value, secret)
    assert info.value.__cause__ is None
    # Not even a suppressed context: JSONDecodeError.doc is the whole body.
    assert info.value.__context__ is None


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_load_json_round_trips_valid_json(value: object) -> None:
    text = json.dumps(value)
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode()) == json.loads(text)


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_load_json_junk_raises_only_input_validation_error(body: str | bytes) -> None:
    try:
        load_json(body)
    except InputValidationError:
        pass


# --- validators ----------------------------------------------------------------

VALIDATORS: dict[str, Any] = {
    "username": v.validate_username,
    "slug": v.validate_slug,
    "identifier": v.validate_identifier,
    "uuid": v.validate_uuid,
    "int": lambda x: v.validate_int(x, min_value=-1000, max_value=1000),
    "float": lambda x: v.validate_float(x, min_value=-1e6, max_value=1e6),
    "choice": lambda x: v.validate_choice(x, choices={"asc", "desc"}),
    "email": v.validate_email,
    "url": lambda x: v.validate_url(x, allowed_hosts=HOSTS),
    "sql": lambda x: v.validate_sql_identifier(x, allowed={"newest": "created_at"}),
    "text": lambda x: v.validate_text(x, max_length=50),
}

CONFUSION = [{"$ne": ""}, {"$gt": 0}, ["alice"], [], 1, 0, 1.5, True, False, None, b"alice"]


@pytest.mark.parametrize("name", sorted(set(VALIDATORS) - {"int", "float"}))
@pytest.mark.parametrize("value", CONFUSION, ids=repr)
def test_string_validators_reject_type_confusion(name: str, value: object) -> None:
    assert reason_of(VALIDATORS[name], value) is InputReason.WRONG_TYPE


@pytest.mark.parametrize("name", ["int", "float"])
@pytest.mark.parametrize("value", [{"$ne": ""}, [1], None, True, False, b"1"], ids=repr)
def test_number_validators_reject_type_confusion(name: str, value: object) -> None:
    assert reason_of(VALIDATORS[name], value) is InputReason.WRONG_TYPE


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@given(value=st.text(max_size=80) | st.binary(max_size=40) | JSON_VALUES)
@settings(max_examples=60)
def test_validators_on_junk_return_or_raise_input_validation_error(
    name: str, value: object
) -> None:
    try:
        result = VALIDATORS[name](value)
    except InputValidationError:
        return
    # Whatever was accepted is accepted again unchanged (idempotent).
    if name != "uuid":
        assert VALIDATORS[name](result) == result


@pytest.mark.parametrize(
    "value", ["alice", "a_b", "a.b-c", "abc", "A" * 32, "user_01", "\uff41\uff4c\uff49"]
)
def test_username_accepts(value: str) -> None:
    assert v.validate_username(value).isascii()


def test_username_normalizes_fullwidth_to_ascii() -> None:
    assert v.validate_username("\uff41\uff4c\uff49\uff43\uff45") == "alice"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ab", InputReason.TOO_SHORT),
        ("a" * 33, InputReason.TOO_LONG),
        ("alice\n", InputReason.FORBIDDEN_CHARACTER),  # re.match("...$") accepts this
        ("alice\r", InputReason.FORBIDDEN_CHARACTER),
        ("ali ce", InputReason.BAD_FORMAT),
        ("alice/../x", InputReason.BAD_FORMAT),
        ("al\u0456ce", InputReason.FORBIDDEN_CHARACTER),  # Cyrillic i (homoglyph)
        ("alic\u00e9", InputReason.FORBIDDEN_CHARACTER),
        ("\u0661\u0662\u0663", InputReason.FORBIDDEN_CHARACTER),  # Arabic-Indic digits
        ("ali\u202ece", InputReason.FORBIDDEN_CHARACTER),  # bidi override
        ("ali\u200bce", InputReason.FORBIDDEN_CHARACTER),  # zero-width space
        ("ali\x00ce", InputReason.FORBIDDEN_CHARACTER),
        ("\ufdfa" * 2, InputReason.TOO_LONG),  # NFKC expands 1 char into 18
        ("<script>", InputReason.BAD_FORMAT),
    ],
)
def test_username_rejects(value: str, reason: InputReason) -> None:
    assert reason_of(v.validate_username, value) is reason


def test_length_is_checked_before_normalization() -> None:
    # 10**6 characters: refused on length alone, before NFKC or regex.
    assert reason_of(v.validate_username, "\uff41" * 1_000_000) is InputReason.TOO_LONG


@pytest.mark.parametrize("value", ["a", "hello-world", "2024-post-1"])
def test_slug_accepts(value: str) -> None:
    assert v.validate_slug(value) == value


@pytest.mark.parametrize("value", ["", "-a", "a-", "a--b", "Hello", "a_b", "a b", "a\n", "x" * 65])
def test_slug_rejects(value: str) -> None:
    reason_of(v.validate_slug, value)


@pytest.mark.parametrize("value", ["a", "_private", "snake_case9", "X" * 64])
def test_identifier_accepts(value: str) -> None:
    assert v.validate_identifier(value) == value


@pytest.mark.parametrize("value", ["", "9a", "a-b", "a.b", "\u00e9", "x" * 65, "a\n"])
def test_identifier_rejects(value: str) -> None:
    reason_of(v.validate_identifier, value)


def test_uuid_accepts_canonical_forms_only() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert v.validate_uuid(str(u)) == u
    assert v.validate_uuid(str(u).upper()) == u
    assert v.validate_uuid(u) is u
    for other in [
        "{" + str(u) + "}",
        "urn:uuid:" + str(u),
        u.hex,
        " " + str(u),
        str(u) + "\n",
        str(u).replace("1", "\u0661"),
        "g" * 36,
    ]:
        # uuid.UUID would accept the first three.
        assert reason_of(v.validate_uuid, other) is InputReason.BAD_FORMAT


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), ("5", 5), ("-7", -7), ("0", 0), (1000, 1000), ("-1000", -1000)]
)
def test_int_accepts(value: object, expected: int) -> None:
    assert v.validate_int(value, min_value=-1000, max_value=1000) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\u0661\u0662\u0663", InputReason.BAD_FORMAT),  # int() accepts Arabic-Indic digits
        (" 1_000 ", InputReason.BAD_FORMAT),  # int() accepts whitespace and underscores
        ("1_000", InputReason.BAD_FORMAT),
        ("+1", InputReason.BAD_FORMAT),
        ("007", InputReason.BAD_FORMAT),
        ("1\n", InputReason.BAD_FORMAT),
        ("1.0", InputReason.BAD_FORMAT),
        ("", InputReason.BAD_FORMAT),
        ("9" * 41, InputReason.TOO_LONG),
        (True, InputReason.WRONG_TYPE),
        (1.0, InputReason.WRONG_TYPE),
        (1001, InputReason.OUT_OF_RANGE),
        ("-1001", InputReason.OUT_OF_RANGE),
        (10**100, InputReason.OUT_OF_RANGE),
    ],
)
def test_int_rejects(value: object, reason: InputReason) -> None:
    assert reason_of(v.validate_int, value, min_value=-1000, max_value=1000) is reason


@pytest.mark.parametrize(
    ("value", "expected"), [(1.5, 1.5), (2, 2.0), ("2.5", 2.5), ("-1e3", -1000.0), ("0", 0.0)]
)
def test_float_accepts(value: object, expected: float) -> None:
    assert v.validate_float(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("nan"), InputReason.NOT_FINITE),
        (float("inf"), InputReason.NOT_FINITE),
        (-float("inf"), InputReason.NOT_FINITE),
        # Text spellings of non-finite values say so (review: were BAD_FORMAT).
        ("nan", InputReason.NOT_FINITE),
        ("inf", InputReason.NOT_FINITE),
        ("Infinity", InputReason.NOT_FINITE),
        ("-Infinity", InputReason.NOT_FINITE),
        (" NaN ", InputReason.NOT_FINITE),
        ("+inf", InputReason.NOT_FINITE),
        ("nanx", InputReason.BAD_FORMAT),
        ("1e999", InputReason.NOT_FINITE),
        ("\u0661.5", InputReason.BAD_FORMAT),
        ("1_0.5", InputReason.BAD_FORMAT),
        (" 1.5", InputReason.BAD_FORMAT),
        ("1" * 65, InputReason.TOO_LONG),
        (10**400, InputReason.OUT_OF_RANGE),
        (True, InputReason.WRONG_TYPE),
    ],
)
def test_float_rejects(value: object, reason: InputReason) -> None:
    assert reason_of(v.validate_float, value) is reason


def test_float_range() -> None:
    assert v.validate_float(0.5, min_value=0.0, max_value=1.0) == 0.5
    assert reason_of(v.validate_float, 1.5, max_value=1.0) is InputReason.OUT_OF_RANGE
    assert reason_of(v.validate_float, -0.5, min_value=0.0) is InputReason.OUT_OF_RANGE


def test_choice() -> None:
    assert v.validate_choice("asc", choices=("asc", "desc")) == "asc"
    assert reason_of(v.validate_choice, "ASC", choices={"asc"}) is InputReason.NOT_ALLOWED
    assert reason_of(v.validate_choice, "asc ", choices={"asc"}) is InputReason.NOT_ALLOWED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice.Smith+tag@Mail.Example.COM", "Alice.Smith+tag@mail.example.com"),
        ("a@b.co", "a@b.co"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("o'brien@example.org", "o'brien@example.org"),
        ("\uff41@example.com", "a@example.com"),
    ],
)
def test_email_accepts(value: str, expected: str) -> None:
    assert v.validate_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "alice@",
        "@example.com",
        "alice@localhost",  # no dot in the domain
        "alice@example",
        "alice@example.c0m",
        "alice@-example.com",
        "alice@exa_mple.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        '"a b"@example.com',
        "a b@example.com",
        "alice@example.com\n",
        "alice@example.com\r\nBcc: x@evil.com",
        "alice@ex\u0430mple.com",  # Cyrillic a
        "alice@[127.0.0.1]",
        "a@b@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "a@" + "b." * 126 + "com",
        "a" * 250 + "@b.co",
        "alice@example.com.",
    ],
)
def test_email_rejects(value: str) -> None:
    reason_of(v.validate_email, value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com", "https://example.com"),
        ("https://EXAMPLE.com/Path?q=1#f", "https://example.com/Path?q=1#f"),
        ("https://img.cdn.example.com:8443/a.png", "https://img.cdn.example.com:8443/a.png"),
    ],
)
def test_url_accepts(value: str, expected: str) -> None:
    assert v.validate_url(value, allowed_hosts=HOSTS) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://example.com", InputReason.NOT_ALLOWED),
        ("javascript:alert(1)", InputReason.BAD_FORMAT),
        ("JAVASCRIPT://example.com/%0aalert(1)", InputReason.NOT_ALLOWED),
        ("https://evil.com", InputReason.NOT_ALLOWED),
        ("https://example.com.evil.com", InputReason.NOT_ALLOWED),
        ("https://evilexample.com", InputReason.NOT_ALLOWED),
        ("https://cdn.example.com", InputReason.NOT_ALLOWED),  # wildcard is subdomains only
        ("https://example.com@evil.com", InputReason.NOT_ALLOWED),
        ("https://evil.com\\@example.com", InputReason.FORBIDDEN_CHARACTER),
        ("https://evil.com#@example.com", InputReason.NOT_ALLOWED),
        ("https://evil.com?@example.com", InputReason.NOT_ALLOWED),
        ("https://example.com /x", InputReason.FORBIDDEN_CHARACTER),
        ("https://example.com\n", InputReason.FORBIDDEN_CHARACTER),
        ("https://ex\u0430mple.com", InputReason.FORBIDDEN_CHARACTER),
        ("//example.com", InputReason.BAD_FORMAT),
        ("/relative", InputReason.BAD_FORMAT),
        ("https://", InputReason.BAD_FORMAT),
        ("https://127.0.0.1", InputReason.BAD_FORMAT),
        ("https://example.com:0", InputReason.BAD_FORMAT),
        ("https://example.com:65536", InputReason.BAD_FORMAT),
        ("https://example.com:08", InputReason.BAD_FORMAT),
        ("https://example.com:x", InputReason.BAD_FORMAT),
        ("https://" + ("a" * 60 + ".") * 5 + "com", InputReason.BAD_FORMAT),
        ("https://example.com/" + "a" * 2048, InputReason.TOO_LONG),
    ],
)
def test_url_rejects(value: str, reason: InputReason) -> None:
    assert reason_of(v.validate_url, value, allowed_hosts=HOSTS) is reason


def test_url_schemes_and_localhost() -> None:
    url = "http://localhost:8000/cb"
    assert v.validate_url(url, allowed_hosts={"localhost"}, schemes={"http"}) == url


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allowed_hosts": set()},
        {"allowed_hosts": "example.com"},
        {"allowed_hosts": {1}},
        {"allowed_hosts": {"exa mple.com"}},
        {"allowed_hosts": {"*"}},
        {"allowed_hosts": HOSTS, "schemes": {"javascript"}},
        {"allowed_hosts": HOSTS, "schemes": set()},
        {"allowed_hosts": HOSTS, "schemes": "https"},
        {"allowed_hosts": HOSTS, "schemes": {"ht tp"}},
    ],
)
def test_url_misconfiguration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        v.validate_url("https://example.com", **kwargs)


def test_sql_identifier_returns_the_allowlisted_name_not_the_input() -> None:
    allowed = {"newest": "created_at", "name": "users.name"}
    assert v.validate_sql_identifier("newest", allowed=allowed) == "created_at"
    assert v.validate_sql_identifier("name", allowed=allowed) == "users.name"
    assert v.validate_sql_identifier("id", allowed=["id", "email"]) == "id"
    for hostile in ["created_at", "name; DROP TABLE users", "NEWEST", "newest ", "1=1"]:
        assert reason_of(v.validate_sql_identifier, hostile, allowed=allowed) is (
            InputReason.NOT_ALLOWED
        )


@pytest.mark.parametrize(
    "allowed",
    [{}, [], "name", {"a": "name; drop"}, ["a b"], {"a": 1}, ["x" * 200], {"a": "1col"}],
)
def test_sql_identifier_misconfiguration(allowed: Any) -> None:
    with pytest.raises(ConfigurationError):
        v.validate_sql_identifier("a", allowed=allowed)


@pytest.mark.parametrize("choices", [set(), "asc", {1}])
def test_choice_misconfiguration(choices: Any) -> None:
    with pytest.raises(ConfigurationError):
        v.validate_choice("asc", choices=choices)


@pytest.mark.parametrize(
    "kwargs", [{"max_length": 0}, {"max_length": True}, {"max_length": 2.5}, {"min_length": -1}]
)
def test_text_misconfiguration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        v.validate_text("abc", **kwargs)


def test_range_misconfiguration() -> None:
    with pytest.raises(ConfigurationError):
        v.validate_int(1, min_value=5, max_value=1)
    with pytest.raises(ConfigurationError):
        v.validate_float(1.0, min_value=5.0, max_value=1.0)
    with pytest.raises(ConfigurationError):
        IntRange(min_value=2, max_value=1)
    with pytest.raises(ConfigurationError):
        SafeText(max_length=1, min_length=2)
    with pytest.raises(ConfigurationError):
        URLRule(allowed_hosts=frozenset())
    with pytest.raises(ConfigurationError):
        OneOf(choices=frozenset())


def test_text() -> None:
    assert v.validate_text("caf\u00e9 \u2014 ok") == "caf\u00e9 \u2014 ok"
    assert v.validate_text("line1\nline2\tx", multiline=True) == "line1\nline2\tx"
    assert v.validate_text("e\u0301") == "\u00e9"  # NFKC composes
    assert reason_of(v.validate_text, "a\nb") is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "a\rb", multiline=True) is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "\u202eevil") is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "a\u2028b", multiline=True) is (
        InputReason.FORBIDDEN_CHARACTER
    )
    assert reason_of(v.validate_text, "a\u2029b") is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "\u2066x\u2069") is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "\ue000") is InputReason.FORBIDDEN_CHARACTER  # private use
    assert reason_of(v.validate_text, "\ud800") is InputReason.FORBIDDEN_CHARACTER
    assert reason_of(v.validate_text, "ab", min_length=3) is InputReason.TOO_SHORT
    assert reason_of(v.validate_text, "abcd", max_length=3) is InputReason.TOO_LONG
    assert reason_of(v.validate_text, "\uff41" * 4, max_length=3) is InputReason.TOO_LONG
    assert v.validate_text("\u3000x") == " x"  # ideographic space normalizes


def test_str_subclass_is_returned_as_plain_str() -> None:
    class Tainted(str):
        __slots__ = ()

    result = v.validate_username(Tainted("alice"))
    assert type(result) is str


@given(st.from_regex(r"[A-Za-z0-9_.\-]{3,32}", fullmatch=True))
def test_username_round_trip(name: str) -> None:
    assert v.validate_username(name) == name


@given(st.integers(min_value=-1000, max_value=1000))
def test_int_round_trip(n: int) -> None:
    assert v.validate_int(str(n), min_value=-1000, max_value=1000) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trip(x: float) -> None:
    assert v.validate_float(json.dumps(x)) == x


def test_validation_errors_do_not_echo_input() -> None:
    secret = "s3cr3t-value-\u202e"  # pragma: allowlist secret
    for fn in VALIDATORS.values():
        with pytest.raises(InputValidationError) as info:
            fn(secret)
        assert_no_leak(info.value, secret, "s3cr3t")


# --- pydantic ------------------------------------------------------------------


class Signup(SecureModel):
    username: Username
    email: Email
    age: Annotated[int, IntRange(min_value=13, max_value=150)] = 30
    score: Annotated[float, FloatRange(min_value=0.0)] = 0.0
    order: Annotated[str, OneOf(choices=frozenset({"asc", "desc"}))] = "asc"
    bio: Annotated[str, SafeText(max_length=200, multiline=True)] = ""
    site: Annotated[str, URLRule(allowed_hosts=frozenset({"example.com"}))] = "https://example.com"
    slug: Slug = "a"
    ident: Identifier = "a"
    ref: StrictUUID | None = None
    note: str = ""
    ratio: float = 0.0
    count: int = 0
    tags: dict[str, int] = Field(default_factory=dict)
    long_note: Annotated[str, Field(max_length=20_000)] = ""


OK = {"username": "alice", "email": "alice@example.com"}


def test_secure_model_accepts_valid_input() -> None:
    model = Signup(**OK, age=20, ref=uuid.UUID(int=1))
    assert model.username == "alice"
    assert model.age == 20
    assert Signup.model_validate({**OK, "order": "desc"}).order == "desc"
    assert Signup.model_validate_json(json.dumps({**OK, "score": 1.5})).score == 1.5
    assert Signup.model_validate_json(bytearray(json.dumps(OK).encode())).email == OK["email"]
    assert Signup(**OK, long_note="x" * 15_000).long_note == "x" * 15_000


@pytest.mark.parametrize(
    ("data", "reason", "field"),
    [
        ({**OK, "is_admin": True}, InputReason.EXTRA_FIELD, None),
        ({"username": "alice"}, InputReason.MISSING_FIELD, "email"),
        ({**OK, "username": {"$ne": ""}}, InputReason.WRONG_TYPE, "username"),
        ({**OK, "note": {"$ne": ""}}, InputReason.WRONG_TYPE, "note"),
        ({**OK, "note": ["a"]}, InputReason.WRONG_TYPE, "note"),
        ({**OK, "note": 5}, InputReason.WRONG_TYPE, "note"),
        ({**OK, "count": "5"}, InputReason.WRONG_TYPE, "count"),
        ({**OK, "count": True}, InputReason.WRONG_TYPE, "count"),
        ({**OK, "ratio": float("nan")}, InputReason.NOT_FINITE, "ratio"),
        ({**OK, "ratio": float("inf")}, InputReason.NOT_FINITE, "ratio"),
        ({**OK, "score": float("nan")}, InputReason.NOT_FINITE, "score"),
        ({**OK, "note": "x" * 10_001}, InputReason.TOO_LONG, "note"),
        ({**OK, "long_note": "x" * 20_001}, InputReason.TOO_LONG, "long_note"),
        ({**OK, "username": "al"}, InputReason.TOO_SHORT, "username"),
        ({**OK, "age": 12}, InputReason.OUT_OF_RANGE, "age"),
        ({**OK, "age": "20"}, InputReason.WRONG_TYPE, "age"),
        ({**OK, "age": 20.0}, InputReason.WRONG_TYPE, "age"),
        ({**OK, "score": "1.5"}, InputReason.WRONG_TYPE, "score"),
        ({**OK, "order": "random"}, InputReason.NOT_ALLOWED, "order"),
        ({**OK, "bio": "\u202e"}, InputReason.FORBIDDEN_CHARACTER, "bio"),
        ({**OK, "site": "https://evil.com"}, InputReason.NOT_ALLOWED, "site"),
        ({**OK, "slug": "A"}, InputReason.BAD_FORMAT, "slug"),
        ({**OK, "ident": "1"}, InputReason.BAD_FORMAT, "ident"),
        ({**OK, "ref": "{" + str(uuid.UUID(int=1)) + "}"}, InputReason.BAD_FORMAT, "ref"),
        ({**OK, "tags": {"k": "v"}}, InputReason.WRONG_TYPE, "tags"),
    ],
)
def test_secure_model_rejects(data: dict[str, Any], reason: InputReason, field: str | None) -> None:
    with pytest.raises(InputValidationError) as info:
        Signup.model_validate(data)
    assert (info.value.reason, info.value.field) == (reason, field)
    with pytest.raises(InputValidationError) as info:
        Signup(**data)
    assert (info.value.reason, info.value.field) == (reason, field)


def test_secure_model_field_names_come_from_the_schema() -> None:
    evil_key = "<script>secret-key</script>"
    for data in [{**OK, evil_key: 1}, {**OK, "tags": {evil_key: "x"}}]:
        with pytest.raises(InputValidationError) as info:
            Signup.model_validate(data)
        assert info.value.field in {None, "tags"}
        assert_no_leak(info.value, evil_key, "secret-key")


def test_secure_model_errors_do_not_echo_input() -> None:
    secret = "hunter2 secret value"  # pragma: allowlist secret
    for data in [{**OK, "username": secret}, {**OK, "note": {"$ne": secret}}]:
        with pytest.raises(InputValidationError) as info:
            Signup.model_validate(data)
        assert_no_leak(info.value, secret)


@given(JSON_VALUES)
@settings(max_examples=80)
def test_secure_model_junk_raises_only_input_validation_error(value: object) -> None:
    data = value if not isinstance(value, dict) else {**OK, **value}
    try:
        Signup.model_validate(data)
    except InputValidationError:
        pass


@given(st.text(max_size=120) | st.binary(max_size=120))
@settings(max_examples=80)
def test_secure_model_json_junk_raises_only_input_validation_error(body: str | bytes) -> None:
    try:
        Signup.model_validate_json(body)
    except InputValidationError:
        pass


def test_secure_model_json_uses_strict_loader() -> None:
    body = '{"username": "alice", "username": "admin", "email": "a@example.com"}'
    assert reason_of(Signup.model_validate_json, body) is InputReason.DUPLICATE_KEY
    assert reason_of(Signup.model_validate_json, '{"ratio": NaN}') is InputReason.NOT_FINITE
    assert (
        reason_of(Signup.model_validate_json, '{"a": ' + "[" * 70 + "]" * 70 + "}")
        is InputReason.TOO_DEEP
    )
    assert reason_of(Signup.model_validate_json, "{") is InputReason.INVALID_JSON
    with pytest.raises(InputValidationError) as info:
        Signup.model_validate_json(json.dumps({**OK, "count": "5"}))
    assert info.value.reason is InputReason.WRONG_TYPE


def test_markers_accept_text_only_when_asked() -> None:
    class Query(SecureModel):
        page: Annotated[int, IntRange(min_value=1, max_value=100, from_text=True)]
        ratio: Annotated[float, FloatRange(max_value=1.0, from_text=True)] = 0.0

    assert Query.model_validate({"page": "7", "ratio": "0.5"}).page == 7
    assert reason_of(Query.model_validate, {"page": "\u0667"}) is InputReason.BAD_FORMAT
    with pytest.raises(InputValidationError) as info:
        Signup.model_validate_json(json.dumps({**OK, "age": "20"}))
    assert (info.value.reason, info.value.field) == (InputReason.WRONG_TYPE, "age")


def test_secure_model_validates_assignment() -> None:
    model = Signup(**OK)
    with pytest.raises(InputValidationError) as info:
        model.username = "x"
    assert (info.value.reason, info.value.field) == (InputReason.TOO_SHORT, "username")
    model.username = "bob"
    assert model.username == "bob"


def test_secure_model_revalidates_instances() -> None:
    class Outer(SecureModel):
        inner: Signup

    bad = Signup.model_construct(username="x", email="nope")
    with pytest.raises(InputValidationError) as info:
        Outer(inner=bad)
    assert info.value.field == "inner"
    with pytest.raises(InputValidationError) as info:
        Outer.model_validate({"inner": {**OK, "username": "x"}})
    assert (info.value.reason, info.value.field) == (InputReason.TOO_SHORT, "inner")


def test_secure_model_unknown_error_type_maps_to_bad_format() -> None:
    class Dated(SecureModel):
        when: uuid.UUID
        pattern: Annotated[str, Field(pattern=r"^a+$")] = "a"
        even: int = 0

        @field_validator("even")
        @classmethod
        def _even(cls, value: int) -> int:
            if value % 2:
                raise ValueError("odd")
            return value

    with pytest.raises(InputValidationError) as info:
        Dated(when=uuid.UUID(int=1), even=3)
    assert (info.value.reason, info.value.field) == (InputReason.BAD_FORMAT, "even")
    with pytest.raises(InputValidationError) as info:
        Dated.model_validate_json('{"when": "not-a-uuid"}')
    assert info.value.reason in {InputReason.BAD_FORMAT, InputReason.WRONG_TYPE}
    with pytest.raises(InputValidationError) as info:
        Dated(when=uuid.UUID(int=1), pattern="b")
    assert info.value.reason is InputReason.BAD_FORMAT


def test_type_adapter_with_strict_config_hides_input() -> None:
    adapter: TypeAdapter[str] = TypeAdapter(Username, config=STRICT_CONFIG)
    assert adapter.validate_python("alice") == "alice"
    secret = "not a username secret"  # pragma: allowlist secret
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(secret)
    assert secret not in str(info.value)
    assert info.value.errors()[0]["ctx"] == {"reason": "bad_format"}
    assert TypeAdapter(Email).validate_python("a@B.co") == "a@b.co"
    schema = TypeAdapter(Username).json_schema()
    assert schema["maxLength"] == 32
    assert schema["minLength"] == 3


def test_json_schema_of_markers() -> None:
    schema = Signup.model_json_schema()["properties"]
    assert schema["age"]["minimum"] == 13
    assert schema["age"]["maximum"] == 150
    assert schema["order"]["enum"] == ["asc", "desc"]
    assert schema["bio"]["maxLength"] == 200
    assert schema["site"]["format"] == "uri"
    assert schema["score"] == {"type": "number", "minimum": 0.0, "title": "Score", "default": 0.0}
    full = TypeAdapter(Annotated[float, FloatRange(min_value=0.0, max_value=1.0)]).json_schema()
    assert full["maximum"] == 1.0
    upper = TypeAdapter(Annotated[float, FloatRange(max_value=1.0)]).json_schema()
    assert upper == {"type": "number", "maximum": 1.0}


def test_strict_config_settings() -> None:
    assert STRICT_CONFIG["extra"] == "forbid"
    assert STRICT_CONFIG["strict"] is True
    assert STRICT_CONFIG["allow_inf_nan"] is False
    assert STRICT_CONFIG["hide_input_in_errors"] is True


# --- review regressions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_value", "max_value"),
    [(float("nan"), 10.0), (0.0, float("nan")), (True, 10.0), ("0", 10.0)],
)
def test_float_bounds_must_be_numbers_not_nan(min_value: Any, max_value: Any) -> None:
    # A NaN bound compared False both ways: every value was "in range".
    with pytest.raises(ConfigurationError):
        v.validate_float(1e300, min_value=min_value, max_value=max_value)
    with pytest.raises(ConfigurationError):
        FloatRange(min_value=min_value, max_value=max_value)


@pytest.mark.parametrize(
    ("min_value", "max_value"), [(None, 10), (0, None), (0.5, 10), (0, 10.0), (False, 10)]
)
def test_int_bounds_must_be_ints(min_value: Any, max_value: Any) -> None:
    # None used to raise a bare TypeError from the comparison.
    with pytest.raises(ConfigurationError):
        v.validate_int(1, min_value=min_value, max_value=max_value)
    with pytest.raises(ConfigurationError):
        IntRange(min_value=min_value, max_value=max_value)


def test_float_bounds_may_be_ints_or_absent() -> None:
    assert v.validate_float(5, min_value=0, max_value=10) == 5.0
    assert v.validate_float(-1e300) == -1e300


def test_secure_model_error_carries_no_context() -> None:
    # pydantic's ValidationError (the context) keeps the input in .errors().
    class Login(SecureModel):
        username: Username
        age: int = 0

    secret = {"$ne": "hunter2-ctx"}  # pragma: allowlist secret
    calls: list[Callable[[], object]] = [
        lambda: Login(username=secret),
        lambda: Login.model_validate({"username": secret}),
        lambda: Login.model_validate_json(json.dumps({"username": "alice", "age": secret["$ne"]})),
    ]
    for call in calls:
        with pytest.raises(InputValidationError) as info:
            call()
        assert info.value.__context__ is None
        assert_no_leak(info.value, "hunter2-ctx")
    model = Login(username="alice")
    with pytest.raises(InputValidationError) as info:
        model.age = "hunter2-ctx"  # type: ignore[assignment]
    assert info.value.__context__ is None


@pytest.mark.parametrize(
    "body", [b'"\xff hunter2-ctx"', '"\ud800 hunter2-ctx"', '{"a": hunter2-ctx}', "1" * 5000]
)
def test_load_json_errors_carry_no_context(body: str | bytes) -> None:
    # UnicodeDecodeError.object and JSONDecodeError.doc are the whole input.
    with pytest.raises(InputValidationError) as info:
        load_json(body)
    assert info.value.__context__ is None
    assert_no_leak(info.value, "hunter2-ctx")
