"""Tests for securekit.safe_errors: problem+json, redaction, safe messages.

Test secrets are assembled at run time (prefix + body) so that secret
scanners do not flag this file and so that hypothesis can generate them.
"""

from __future__ import annotations

import io
import json
import logging
import math
import sys
import time
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit import safe_errors as se
from securekit.errors import (
    ConfigurationError,
    CSRFError,
    CSRFReason,
    DecryptionError,
    DecryptionReason,
    InputReason,
    InputValidationError,
    InvalidTokenError,
    MFAError,
    MFAReason,
    PasswordReason,
    PermissionDeniedError,
    PermissionReason,
    RateLimitedError,
    RateLimitReason,
    SessionError,
    SessionReason,
    StoreUnavailableError,
    TokenReason,
    UnavailableError,
    UploadReason,
    UploadRejectedError,
    WeakPasswordError,
)
from securekit.safe_errors import (
    MASK,
    RedactingFilter,
    RedactingProcessor,
    problem_response,
    redact,
    redact_text,
)

INSECURE_CALLS: dict[str, Any] = {}

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9" + ".ey" + "JzdWIiOiIxMjM0In0" + "." + "c2lnbmF0dXJlLXZhbHVl"
AWS = "AK" + "IA" + "IOSFODNN7EXAMPLE"
GITHUB = "gh" + "p_" + "a" * 36
GOOGLE = "AI" + "za" + "b" * 35
SLACK = "xo" + "xb-" + "1234567890-abcdef"
STRIPE = "sk" + "_live_" + "c" * 24
OPENAI = "sk" + "-proj-" + "d" * 30
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
BEGIN = "-----BEGIN "
END = "-----END "
PEM = "-----BEGIN " + "PRIVATE KEY-----\n" + PEM_BODY + "\n-----END " + "PRIVATE KEY-----"
CARD = "4111" + "1111" + "1111" + "1111"  # the Visa test PAN; passes Luhn


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes ``partial`` pass Luhn."""
    for check in "0123456789":
        if se._luhn(partial + check):
            return partial + check
    raise AssertionError("unreachable")  # pragma: no cover


# --- redact: key names ---------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "PASSWORD",
        "db_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh-token",
        "Authorization",
        "Proxy-Authorization",
        "cookie",
        "Set-Cookie",
        "api_key",
        "X-Api-Key",
        "apikey",
        "private_key",
        "session_id",
        "csrf_token",
        "otp",
        "pin",
        "key",
        "ssn",
        "cvv",
        "card_number",
        "credentials",
    ],
)
def test_redact_masks_sensitive_keys_case_insensitively(key: str) -> None:
    assert redact({key: "plain-value"}) == {key: MASK}


@pytest.mark.parametrize("key", ["username", "author", "email", "id", "monkey", "classname"])
def test_redact_keeps_ordinary_keys(key: str) -> None:
    assert redact({key: "plain-value"}) == {key: "plain-value"}


def test_redact_masks_any_value_type_under_a_sensitive_key() -> None:
    data = {"password": {"nested": "x"}, "token": ["a", "b"], "secret": 12345, "pin": None}
    assert redact(data) == {"password": MASK, "token": MASK, "secret": MASK, "pin": MASK}


def test_redact_keeps_shape_and_does_not_modify_input() -> None:
    point = namedtuple("point", ["x", "token_text"])
    data: dict[Any, Any] = {
        "user": {"name": "alice", "password": "hunter2"},  # pragma: allowlist secret
        "items": [1, 2.5, True, None, "ok", b"bytes"],
        "pair": ("a", "Bearer " + "abcdefgh12345"),
        "tags": {"x", "y"},
        "frozen": frozenset({"z"}),
        "point": point(1, "x"),
        b"password": "bytes-key",  # pragma: allowlist secret
        3: "int key",
    }
    original = repr(data)
    result = redact(data)
    assert repr(data) == original
    assert isinstance(result, dict)
    assert result["user"] == {"name": "alice", "password": MASK}
    assert result["items"] == [1, 2.5, True, None, "ok", b"bytes"]
    assert result["pair"] == ("a", "Bearer " + MASK)
    assert result["tags"] == {"x", "y"}
    assert result["frozen"] == frozenset({"z"})
    assert type(result["point"]) is point
    assert result[b"password"] == MASK
    assert result[3] == "int key"


def test_redact_masks_header_pairs() -> None:
    scope = {
        "headers": [
            (b"cookie", b"sid=abc"),
            [b"authorization", b"Token t0"],
            ("Accept", "text/html"),
        ]
    }
    assert redact(scope) == {
        "headers": [(b"cookie", MASK), [b"authorization", MASK], ("Accept", "text/html")]
    }


@pytest.mark.parametrize(
    "key", ["mfa_code", "totpCode", "backup_code", "iban", "DB_CONNECTION_STRING"]
)
def test_redact_masks_second_factor_and_account_keys(key: str) -> None:
    assert redact({key: "123456"}) == {key: MASK}


def test_redact_handles_cycles_and_depth() -> None:
    loop: list[Any] = ["x"]
    loop.append(loop)
    assert redact(loop) == ["x", MASK]
    deep: Any = "leaf"
    for _ in range(40):
        deep = [deep]
    result = redact(deep)
    depth = 0
    while isinstance(result, list):
        result = result[0]
        depth += 1
    assert result == MASK
    assert depth == 32
    shared = {"a": 1}
    assert redact([shared, shared]) == [{"a": 1}, {"a": 1}]  # shared is not a cycle


def test_redact_extra_keys() -> None:
    assert redact({"Tenant-Id": "t1"}, extra_keys=["tenant_id"]) == {"Tenant-Id": MASK}
    assert redact({"internal_ref": "r"}, extra_keys=["internal"]) == {"internal_ref": MASK}
    with pytest.raises(TypeError):
        redact({}, extra_keys="password")
    with pytest.raises(TypeError):
        RedactingFilter(extra_keys=[1])  # type: ignore[list-item]


def test_redact_other_objects_unchanged() -> None:
    marker = object()
    assert redact(marker) is marker
    assert redact(math.pi) == math.pi
    assert redact(12) == 12
    assert redact(int(CARD)) == MASK
    assert redact(10**100) == 10**100
    assert redact(bytearray(b"ok")) == bytearray(b"ok")
    assert redact(("token " + JWT).encode()) == b"token " + MASK.encode()


# --- redact_text: value patterns --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("jwt " + JWT + " end", JWT),
        ("Authorization: Bearer abcdef123456", "abcdef123456"),  # pragma: allowlist secret
        ("header bearer abc.def-ghi~jkl", "abc.def-ghi~jkl"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("sent Basic dXNlcjpwYXNzd29yZA== upstream", "dXNlcjpwYXNzd29yZA=="),
        ("Cookie: a=first; sid=second-value", "second-value"),
        ("Set-Cookie: sid=abc123; HttpOnly", "abc123"),
        ("key: " + PEM + " trailing", PEM_BODY),
        ("-----BEGIN " + "EC PRIVATE KEY-----\n" + PEM_BODY, PEM_BODY),  # unterminated
        (
            BEGIN + "OPENSSH PRIVATE KEY-----\nb3Blbn\n" + END + "OPENSSH PRIVATE KEY-----",
            "b3Blbn",
        ),
        ("login password=hunter2 ok", "hunter2"),
        ("PASSWORD: hunter2", "hunter2"),
        ("db_password=hunter2&next=1", "hunter2"),
        ('{"password": "hunter 2", "x": 1}', "hunter 2"),  # pragma: allowlist secret
        ('{"password": "a\\"hunter2"}', "hunter2"),  # pragma: allowlist secret
        ("{'api_key': 'k-123456'}", "k-123456"),  # pragma: allowlist secret
        ("?access_token=tok123&x=1", "tok123"),
        ("client_secret = s3cr3t", "s3cr3t"),
        ("postgres://app:pa55word@db:5432/x", "pa55word"),  # pragma: allowlist secret
        ("redis://:pa55word@cache:6379", "pa55word"),
        ("aws " + AWS, AWS),
        ("gh " + GITHUB, GITHUB),
        ("google " + GOOGLE, GOOGLE),
        ("slack " + SLACK, SLACK),
        ("stripe " + STRIPE, STRIPE),
        ("openai " + OPENAI, OPENAI),
        ("DefaultEndpointsProtocol=https;AccountKey=abc+def/ghi==;x=y", "abc+def/ghi=="),
        ("card " + CARD, CARD),
        ("card 4111 1111 1111 1111 exp 12 25", "1111 1111 1111"),
        ("card 4111-1111-1111-1111.", "4111-1111"),
        ("amex 3782 822463 10005", "822463"),
        ("card 4111 1111 1111 1111 77 end", "1111 1111 1111"),
        ("id 12 4111 1111 1111 1111", "4111 1111"),
        ("two " + CARD + " and " + luhn_complete("550000000000000"), "550000000000000"),
    ],
)
def test_redact_text_masks_secret_values(text: str, secret: str) -> None:
    result = redact_text(text)
    assert secret not in result
    assert MASK in result


@pytest.mark.parametrize(
    "text",
    [
        "plain message with numbers 12 345 6789",
        "order 4111111111111112 failed",  # 16 digits, fails Luhn
        "timestamp 2024-01-01 12:00:00",
        "the basic idea is simple",
        "password reset requested for user 42",
        "https://example.com/path?q=1",
    ],
)
def test_redact_text_leaves_ordinary_text(text: str) -> None:
    assert redact_text(text) == text


def test_redact_text_keeps_quotes_around_masked_values() -> None:
    assert redact_text('{"password": "x"}') == '{"password": "' + MASK + '"}'
    assert redact_text("{'token': 'x'}") == "{'token': '" + MASK + "'}"


@pytest.mark.parametrize(
    "text",
    [
        "password=" * 10_000,
        'password="' * 10_000,
        "1 " * 25_000,
        "12 " * 15_000,
        "123 " * 12_000,
        "4111-" * 20_000,
        "-----BEGIN " + "PRIVATE KEY-----" * 3_000,
        "eyJ" + "a" * 50_000 + ".",
        "a://" + "b" * 250 + ":" * 10_000,
        "bearer " * 10_000,
        "cookie:" * 10_000,
        'password="' + "\\" * 50_000,
    ],
    ids=lambda t: t[:12],
)
def test_redact_text_is_linear_on_hostile_input(text: str) -> None:
    start = time.perf_counter()
    redact_text(text)
    # Generous bound for a loaded, shared 2-core machine (each case takes
    # well under a second alone); quadratic behaviour on these sizes takes
    # minutes.
    assert time.perf_counter() - start < 15.0


@pytest.mark.parametrize("value", [None, 1, b"token=abc", ["x"]])
def test_redact_text_wrong_type(value: Any) -> None:
    with pytest.raises(TypeError):
        redact_text(value)


def test_luhn() -> None:
    assert se._luhn("79927398713")
    assert not se._luhn("79927398710")
    assert se._luhn(CARD)


# --- logging filter ---------------------------------------------------------------


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test.safe_errors.{id(stream)}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_redacts_message(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("auth with Bearer abcdef123456 done")
    assert "abcdef123456" not in stream.getvalue()  # pragma: allowlist secret
    assert "done" in stream.getvalue()


def test_filter_redacts_tuple_args(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    data = {"password": "hunter2"}  # pragma: allowlist secret
    logger.info("user %s data %s token %s", "alice", data, JWT)
    out = stream.getvalue()
    assert "hunter2" not in out
    assert JWT not in out
    assert "alice" in out


def test_filter_redacts_secret_formed_by_formatting(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("password=%s", "hunter2")
    logger.info("Authorization: Bearer %s", "abcdef123456")  # pragma: allowlist secret
    assert "hunter2" not in stream.getvalue()
    assert "abcdef123456" not in stream.getvalue()  # pragma: allowlist secret


def test_filter_redacts_dict_args(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    data = {"user": "bob", "password": "hunter2"}  # pragma: allowlist secret
    logger.info("%(user)s logged in with %(password)s", data)
    out = stream.getvalue()
    assert "hunter2" not in out
    assert "bob logged in with " + MASK in out


def test_filter_survives_format_mismatch(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    # The card number becomes a str after redaction, so "%d" no longer fits.
    logger.info("charged card %d", int(CARD))
    out = stream.getvalue()
    assert CARD not in out
    assert "charged card" in out
    assert "Logging error" not in out


def test_filter_drops_arguments_a_masked_key_no_longer_fits(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("pin %(pin)d accepted", {"pin": 4821})
    out = stream.getvalue()
    assert "4821" not in out
    assert "[arguments redacted]" in out


def test_filter_redacts_non_string_message(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info({"event": "login", "password": "hunter2"})  # pragma: allowlist secret
    out = stream.getvalue()
    assert "hunter2" not in out
    assert "login" in out


def test_filter_redacts_exception_text(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    try:
        dsn = "postgres://app:pa55word@db/x"  # pragma: allowlist secret
        raise ValueError("connect failed: " + dsn + " token=" + JWT)
    except ValueError:
        logger.exception("boom")
    out = stream.getvalue()
    assert "pa55word" not in out
    assert JWT not in out
    assert "Traceback" in out
    assert "ValueError" in out


def test_filter_redacts_preformatted_exc_text_and_stack_info() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", None, None)
    record.exc_text = "ValueError: password=hunter2"
    record.stack_info = "Stack: api_key=abc123"
    assert RedactingFilter().filter(record)
    assert "hunter2" not in record.exc_text
    assert "abc123" not in record.stack_info


def test_filter_redacts_extra_fields(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, _ = log
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    keep.addFilter(RedactingFilter(extra_keys=["tenant"]))
    logger.addHandler(keep)
    try:
        logger.info(
            "ctx",
            extra={
                "api_key": "k-1",  # pragma: allowlist secret
                "tenant_id": "t-1",
                "ctx": {"session": "s-1", "ok": 1},
                "note": "Bearer abcdef123456",
            },
        )
    finally:
        logger.removeHandler(keep)
    (record,) = records
    dumped = repr(vars(record))
    for secret in ["k-1", "t-1", "s-1", "abcdef123456"]:  # pragma: allowlist secret
        assert secret not in dumped
    assert record.ctx == {"session": MASK, "ok": 1}  # type: ignore[attr-defined]


def test_filter_respects_logger_name_and_is_idempotent() -> None:
    record = logging.LogRecord("other", logging.INFO, __file__, 1, "token=%s", ("abc",), None)
    assert not RedactingFilter("mine").filter(record)
    record = logging.LogRecord("mine.sub", logging.INFO, __file__, 1, "token=%s", ("abc",), None)
    flt = RedactingFilter("mine")
    assert flt.filter(record)
    first = record.getMessage()
    assert flt.filter(record)
    assert record.getMessage() == first == "token=" + MASK


class CapturingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes formatted records and keeps the records for inspection."""

    def __init__(self, stream: io.StringIO) -> None:
        super().__init__(stream)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        super().emit(record)


def secret_text() -> st.SearchStrategy[str]:
    return st.text(alphabet=B64, min_size=12, max_size=24)


def pattern_secrets() -> st.SearchStrategy[tuple[str, str]]:
    """(text containing a secret, the secret) for each value pattern."""
    body = st.text(alphabet=B64, min_size=16, max_size=40)
    upper = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16)
    card = st.text(alphabet="0123456789", min_size=15, max_size=15).map(
        lambda d: luhn_complete("4" + d[1:])
    )
    return st.one_of(
        body.map(lambda b: ("ey" + "J" + b + ".ey" + b + "." + b, b)),
        body.map(lambda b: ("Bearer " + b, b)),
        upper.map(lambda b: ("AK" + "IA" + b, b)),
        body.map(lambda b: ("gh" + "p_" + (b * 3)[:36], (b * 3)[:36])),
        body.map(lambda b: ("-----BEGIN " + "PRIVATE KEY-----\n" + b + "\n", b)),
        body.map(lambda b: ("sk" + "_live_" + b, b)),
        card.map(lambda c: (c, c)),
        card.map(lambda c: (" ".join([c[:4], c[4:8], c[8:12], c[12:]]), c[4:8] + " " + c[8:12])),
        body.map(lambda b: ("https://user:" + b + "@host/", b)),
        body.map(lambda b: ("password=" + b, b)),
    )


@settings(max_examples=60, deadline=None)
@given(
    key=st.sampled_from(["password", "Token", "API-KEY", "secret", "Authorization", "cookie"]),
    keyed=secret_text(),
    pattern=pattern_secrets(),
    where=st.sampled_from(["message", "arg", "dict_arg", "extra", "exception", "nested_arg"]),
)
def test_no_generated_secret_reaches_formatted_log_output(
    key: str, keyed: str, pattern: tuple[str, str], where: str
) -> None:
    text, secret = pattern
    stream = io.StringIO()
    handler = CapturingHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    records = handler.records
    logger = logging.getLogger("test.safe_errors.property")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        if where == "message":
            logger.warning("value " + text.replace("%", "%%") + " end")
        elif where == "arg":
            logger.warning("value %s and %s", text, {key: keyed})
        elif where == "dict_arg":
            logger.warning("%(" + "x" + ")s %(" + key + ")s", {"x": text, key: keyed})
        elif where == "extra":
            logger.warning("extra", extra={"ctx": [text], "data": {key: keyed}})
        elif where == "nested_arg":
            logger.warning("nested %r", ({"inner": [{key: keyed, "note": text}]},))
        else:
            try:
                raise RuntimeError("failed: " + text + " " + key + "=" + keyed)
            except RuntimeError:
                logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert secret not in out
    if where != "message":
        assert keyed not in out
    for record in records:
        assert secret not in repr(vars(record))


# --- structlog processor ------------------------------------------------------------


def test_structlog_processor_end_to_end() -> None:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[RedactingProcessor(extra_keys=["tenant"]), structlog.processors.JSONRenderer()],
    )
    fields = {"password": "hunter2", "tenant": "t-9", "user": "alice"}  # pragma: allowlist secret
    logger.info("login " + JWT, **fields, ctx={"token": "x"})
    line = json.loads(out.getvalue())
    assert line == {
        "event": "login " + MASK,
        "password": MASK,
        "tenant": MASK,
        "user": "alice",
        "ctx": {"token": MASK},
    }


@pytest.mark.parametrize("form", ["true", "exception", "tuple"])
def test_structlog_processor_redacts_exceptions(form: str) -> None:
    processor = RedactingProcessor()
    try:
        raise ValueError("api_key=abc123 failed")
    except ValueError as exc:
        value: object = {"true": True, "exception": exc, "tuple": sys.exc_info()}[form]
        event = processor(None, "error", {"event": "x", "exc_info": value})
    assert "exc_info" not in event
    assert "ValueError" in event["exception"]
    assert "abc123" not in event["exception"]


def test_structlog_processor_ignores_empty_exc_info() -> None:
    processor = RedactingProcessor()
    assert processor(None, "info", {"event": "x", "exc_info": (None, None, None)}) == {"event": "x"}
    assert processor(None, "info", {"event": "x", "exc_info": False}) == {"event": "x"}
    assert processor(None, "info", {"event": "x", "exc_info": "yes"}) == {"event": "x"}


# --- problem_response ------------------------------------------------------------------

AUTH_FAILURES = [
    InvalidTokenError(TokenReason.EXPIRED),
    InvalidTokenError(TokenReason.BAD_SIGNATURE),
    SessionError(SessionReason.UNKNOWN),
    SessionError(SessionReason.EXPIRED_IDLE),
    MFAError(MFAReason.INVALID_CODE),
    PermissionDeniedError(PermissionReason.NOT_AUTHENTICATED),
]


def test_every_authentication_failure_gets_the_same_401() -> None:
    responses = [problem_response(exc, correlation_id="req-12345678") for exc in AUTH_FAILURES]
    assert {r.status for r in responses} == {401}
    assert len({r.content for r in responses}) == 1
    assert len({tuple(sorted(r.headers.items())) for r in responses}) == 1
    assert responses[0].headers["WWW-Authenticate"] == "Bearer"
    body = responses[0].body
    assert "reason" not in body
    assert "expired" not in responses[0].content.decode()


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (PermissionDeniedError(PermissionReason.DENIED_BY_RULE), 403),
        (PermissionDeniedError(PermissionReason.NO_RULE), 403),
        (PermissionDeniedError(PermissionReason.NOT_FOUND), 404),
        (CSRFError(CSRFReason.CROSS_SITE), 403),
        (RateLimitedError(RateLimitReason.LIMIT_EXCEEDED, retry_after=3.2), 429),
        (InputValidationError(InputReason.INVALID_JSON), 400),
        (InputValidationError(InputReason.DUPLICATE_KEY), 400),
        (InputValidationError(InputReason.TOO_DEEP), 400),
        (InputValidationError(InputReason.TOO_LONG, field="username"), 422),
        (InputValidationError(InputReason.EXTRA_FIELD), 422),
        (WeakPasswordError(PasswordReason.TOO_SHORT), 422),
        (UploadRejectedError(UploadReason.TOO_LARGE), 413),
        (UploadRejectedError(UploadReason.ARCHIVE_BOMB), 413),
        (UploadRejectedError(UploadReason.EXTENSION_NOT_ALLOWED), 415),
        (UploadRejectedError(UploadReason.TYPE_MISMATCH), 415),
        (UploadRejectedError(UploadReason.BAD_FILENAME), 400),
        (DecryptionError(DecryptionReason.AUTHENTICATION_FAILED), 400),
        (UnavailableError(), 503),
        (StoreUnavailableError(), 503),
        (ConfigurationError("weak key 0123"), 500),
        (KeyError("users.password_hash"), 500),
        (RuntimeError("SELECT * FROM users WHERE name='hunter2'"), 500),
        (KeyboardInterrupt(), 500),
    ],
)
def test_status_mapping(exc: BaseException, status: int) -> None:
    response = problem_response(exc)
    assert response.status == status
    assert response.body["status"] == status
    assert response.body["type"] == "about:blank"
    assert response.body["title"] == se._TITLES[status]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.content) == dict(response.body)
    # Never the exception text, never a traceback.
    text = response.content.decode()
    for leak in ["hunter2", "password_hash", "0123", "SELECT", "Traceback", "users"]:
        assert leak not in text


def test_input_error_body_names_the_schema_field_and_reason() -> None:
    response = problem_response(InputValidationError(InputReason.TOO_LONG, field="username"))
    assert response.body["field"] == "username"
    assert response.body["reason"] == "too_long"
    odd = InputValidationError(InputReason.TOO_LONG, field="<b>x</b>")
    assert "field" not in problem_response(odd).body


def test_not_found_body_matches_a_plain_404() -> None:
    response = problem_response(PermissionDeniedError(PermissionReason.NOT_FOUND))
    assert response.body["title"] == "Not Found"
    assert "permission" not in response.content.decode().lower()


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        (3.2, "4"),
        (0.0, "1"),
        (-5.0, "1"),
        (math.nan, "86400"),
        (math.inf, "86400"),
        (1e12, "86400"),
    ],
)
def test_retry_after(retry_after: float, header: str) -> None:
    exc = RateLimitedError(RateLimitReason.THROTTLED, retry_after=retry_after)
    assert problem_response(exc).headers["Retry-After"] == header


def test_correlation_id_is_reused_only_when_safe() -> None:
    good = problem_response(UnavailableError(), correlation_id="abc-123_XYZ.9")
    assert good.correlation_id == "abc-123_XYZ.9"
    assert good.body["correlation_id"] == good.correlation_id
    assert good.headers["X-Correlation-ID"] == good.correlation_id
    for hostile in ["x\r\nSet-Cookie: a=b", "<script>", "short", "a" * 65, ""]:
        response = problem_response(UnavailableError(), correlation_id=hostile)
        assert response.correlation_id != hostile
        assert len(response.correlation_id) == 32
    fresh = {problem_response(UnavailableError()).correlation_id for _ in range(5)}
    assert len(fresh) == 5


def test_unexpected_errors_are_logged_in_full_with_the_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="securekit.safe_errors"):
        try:
            raise RuntimeError("internal detail 42")
        except RuntimeError as exc:
            response = problem_response(exc)
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert response.correlation_id in record.getMessage()
    assert record.exc_info is not None
    assert "internal detail 42" in caplog.text  # server-side only
    assert "internal detail 42" not in response.content.decode()


def test_refusals_and_outages_are_logged_without_detail(caplog: pytest.LogCaptureFixture) -> None:
    custom = logging.getLogger("test.safe_errors.custom")
    with caplog.at_level(logging.DEBUG):
        problem_response(InvalidTokenError(TokenReason.EXPIRED), logger=custom)
        problem_response(StoreUnavailableError(), logger=custom)
    levels = [(r.name, r.levelno) for r in caplog.records]
    assert levels == [
        ("test.safe_errors.custom", logging.INFO),
        ("test.safe_errors.custom", logging.WARNING),
    ]
    assert "expired" in caplog.records[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)


def test_problem_response_is_immutable() -> None:
    response = problem_response(UnavailableError())
    with pytest.raises(TypeError):
        response.headers["X"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        response.body["detail"] = "y"  # type: ignore[index]


def test_problem_response_survives_odd_exception_objects() -> None:
    odd = InputValidationError(InputReason.TOO_LONG)
    odd.reason = "<script>x</script>"  # type: ignore[assignment]
    response = problem_response(odd)
    assert response.status == 422
    assert response.body["reason"] == "invalid"
    assert "script" not in response.content.decode()

    broken = PermissionDeniedError(PermissionReason.NO_RULE)
    del broken.reason  # classification now raises AttributeError
    response = problem_response(broken)
    assert response.status == 500
    assert response.body["detail"] == se._INTERNAL_DETAIL


def test_problem_response_wrong_type() -> None:
    with pytest.raises(TypeError):
        problem_response("not an exception")  # type: ignore[arg-type]


@given(st.text(max_size=50), st.sampled_from([ValueError, RuntimeError, KeyError, OSError]))
def test_problem_response_never_echoes_exception_text(text: str, kind: type[Exception]) -> None:
    marker = "Z9q" + text
    logging.getLogger("securekit.safe_errors").disabled = True
    try:
        response = problem_response(kind(marker))
    finally:
        logging.getLogger("securekit.safe_errors").disabled = False
    assert response.status == 500
    assert marker not in response.content.decode("ascii")
    assert json.loads(response.content)["detail"] == se._INTERNAL_DETAIL


# --- enumeration-safe messages ------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        se.LOGIN_FAILED,
        se.ACCOUNT_LOCKED,
        se.REGISTRATION_STARTED,
        se.PASSWORD_RESET_REQUESTED,
        se.EMAIL_CHANGE_REQUESTED,
    ],
)
def test_enumeration_safe_messages_do_not_reveal_account_state(message: str) -> None:
    lowered = message.lower()
    for revealing in [
        "not found",
        "no account",
        "does not exist",
        "already",
        "unknown",
        "wrong password",
    ]:
        assert revealing not in lowered
    assert message.endswith(".")


# --- review regressions (adversarial review, key spellings and value formats) --------


@pytest.mark.parametrize(
    "key",
    [
        "apiKey",
        "clientSecret",
        "accessToken",
        "refreshToken",
        "privateKey",
        "connectionString",
        "pass_word",
        "passWord",
        "APIKEY",
        "api.key",
        "API Key",
        "db_pass",
        "user_pw",
        "pw",
        "sms_otp",
        "credit_card",
        "creditCardNumber",
        "cc_number",
        "card",
        "DATABASE_URL",
        "x-amz-security-token",
        "X-CSRF-Token",
        "xsrfToken",
        "private",
    ],
)
def test_redact_masks_camel_compact_and_part_key_spellings(key: str) -> None:
    # Before the review, normalization only lowercased and mapped "-" and " ",
    # so camelCase multi-word names and separator variants slipped through.
    assert redact({key: "plain-value"}) == {key: MASK}


@pytest.mark.parametrize("key", ["status_code", "cache_key", "primary_key_name", "compass"])
def test_redact_part_matching_does_not_mask_ordinary_names(key: str) -> None:
    assert redact({key: "plain-value"}) == {key: "plain-value"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # "github_pat_" has no "gh" substring: the rule was never tried.
        ("token github_pat_" + "A1b2" * 20, "A1b2A1b2A1b2"),
        ("xapp-1-" + "A0123456789-abcdef", "A0123456789"),  # pragma: allowlist secret
        ("xoxe-1-" + "abcdefghijkl", "abcdefghijkl"),
        (
            BEGIN + "PGP PRIVATE KEY BLOCK-----\nlQOYBF0x\n" + END + "PGP PRIVATE KEY BLOCK-----",
            "lQOYBF0x",
        ),
        ("csrf=abc123xyz", "abc123xyz"),
        ("xsrf: abc123xyz", "abc123xyz"),
        ("api key: abc123xyz", "abc123xyz"),
        # A Python bytes repr: the b prefix used to end the value early.
        ("{b'password': b'hunter2xyz'}", "hunter2xyz"),  # pragma: allowlist secret
        ("password=u'hunter2xyz'", "hunter2xyz"),  # pragma: allowlist secret
    ],
)
def test_redact_text_review_formats(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_redact_masks_objects_whose_text_holds_a_secret() -> None:
    class Holder:
        def __str__(self) -> str:
            return "token=abc123secret"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    error = ValueError("password=hunter2xyz")  # pragma: allowlist secret
    out = redact({"err": error, "holder": Holder(), "broken": Broken()})
    assert isinstance(out, dict)
    assert "hunter2xyz" not in str(out["err"])
    assert out["err"] == "ValueError('password=" + MASK + "')"
    assert out["holder"] == MASK
    assert out["broken"] == MASK


def test_structlog_processor_redacts_exception_values() -> None:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[RedactingProcessor(), structlog.processors.JSONRenderer()],
    )
    logger.info("x", err=ValueError("token=abc123secret"))
    assert "abc123secret" not in out.getvalue()
    assert MASK in out.getvalue()


def test_filter_redacts_exception_object_as_message(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.error(ValueError("password=hunter2xyz"))  # pragma: allowlist secret
    assert "hunter2xyz" not in stream.getvalue()
    assert "password=" + MASK in stream.getvalue()


def test_filter_keeps_a_record_whose_message_cannot_be_printed(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    logger, stream = log
    logger.error(Unprintable())
    assert "unprintable message redacted" in stream.getvalue()


def test_filter_redacts_extra_objects(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    handler = logger.handlers[0]
    handler.setFormatter(logging.Formatter("%(message)s %(detail)s"))
    logger.info("m", extra={"detail": ValueError("secret=abc123secret")})
    assert "abc123secret" not in stream.getvalue()


@pytest.mark.parametrize(("retry_after", "header"), [(10**400, "86400"), (7, "7"), (True, "86400")])
def test_retry_after_odd_numbers(retry_after: float, header: str) -> None:
    # 10**400 made math.isfinite raise OverflowError: a 500 instead of a 429.
    exc = RateLimitedError(RateLimitReason.THROTTLED, retry_after=retry_after)
    response = problem_response(exc)
    assert response.status == 429
    assert response.headers["Retry-After"] == header


@pytest.mark.parametrize(
    "glue",
    ["_", "x", "\u8aa4", "key_", "\u00e9", "0"],
    ids=["underscore", "letter", "cjk", "name", "latin", "digit"],
)
@pytest.mark.parametrize(
    "secret",
    [AWS, GITHUB, GOOGLE, STRIPE, SLACK, JWT, "github_pat_" + "a1B2" * 15],
    ids=["aws", "github", "google", "stripe", "slack", "jwt", "github_pat"],
)
def test_redact_text_finds_secrets_glued_to_other_text(glue: str, secret: str) -> None:
    # A leading word boundary (\b, Unicode-aware) let "_AKIA...", "x-ghp_..."
    # glued to a letter, or a key after a CJK character slip through.
    out = redact_text(glue + secret + glue)
    assert secret[-12:] not in out
    assert MASK in out


@pytest.mark.parametrize("text", ["auth_Bearer abcdef123456", "auth_Basic dXNlcjpwYXNzd29yZA=="])
def test_redact_text_http_credentials_after_underscore(text: str) -> None:
    assert text.rsplit(maxsplit=1)[-1] not in redact_text(text)


@pytest.mark.parametrize("text", ["task-management-service-name", "pallbearer carried it"])
def test_redact_text_generic_prefixes_keep_a_boundary(text: str) -> None:
    assert redact_text(text) == text


def test_redact_text_url_password_with_a_raw_at_sign() -> None:
    # The password ended at the first "@", leaking the rest ("ss" here).
    out = redact_text("postgres://app:hunt@er2-tail@db.internal/app")
    assert "er2-tail" not in out
    assert out == "postgres://app:" + MASK + "@db.internal/app"


def test_redact_keeps_plain_leaf_objects_without_rendering_them() -> None:
    import datetime as dt
    import decimal
    import uuid

    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    ident = uuid.UUID(int=4111111111111111)
    amount = decimal.Decimal("12.50")
    out = redact({"when": when, "id": ident, "amount": amount, "reason": InputReason.TOO_LONG})
    assert out == {"when": when, "id": ident, "amount": amount, "reason": InputReason.TOO_LONG}
    # A Decimal is rendered and checked like any other object: a card number
    # held as a Decimal is masked, as one held as an int is.
    assert redact({"n": decimal.Decimal(CARD)}) == {"n": "Decimal('" + MASK + "')"}
