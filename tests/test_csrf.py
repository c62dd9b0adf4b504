"""CSRF: Fetch Metadata and Origin first, then masked session-bound tokens."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.csrf import CSRFProtect
from securekit.errors import (
    ConfigurationError,
    CSRFError,
    CSRFReason,
    InsecureConfigurationWarning,
)
from securekit.keys import KeyRing

RING = KeyRing.generate("mac")
SID = "session-token-abc"
ORIGIN = "https://app.example"


def protect(**kwargs: Any) -> CSRFProtect:
    return CSRFProtect(RING, origins={ORIGIN, "https://admin.example:8443"}, **kwargs)


INSECURE_CALLS: dict[str, Callable[[], object]] = {
    "securekit.csrf.CSRFProtect.__init__:insecure_allow_same_site": lambda: CSRFProtect(
        RING, origins={ORIGIN}, insecure_allow_same_site=True
    ),
}

SAME = {"Sec-Fetch-Site": "same-origin", "Origin": ORIGIN}


def reason_of(call: Callable[[], object]) -> CSRFReason:
    with pytest.raises(CSRFError) as info:
        call()
    return info.value.reason


def test_round_trip_and_masking() -> None:
    csrf = protect()
    first, second = csrf.token(SID), csrf.token(SID)
    assert first != second  # masked afresh: BREACH sees different bytes
    assert len(first) == 92
    for token in (first, second):
        csrf.verify(method="POST", headers=SAME, token=token, session_id=SID)


def test_safe_methods_are_exempt() -> None:
    csrf = protect()
    evil = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    for method in ("GET", "head", "OPTIONS", "TRACE"):
        csrf.verify(method=method, headers=evil, token=None, session_id=SID)
    assert (
        reason_of(lambda: csrf.verify(method="DELETE", headers=evil, token=None, session_id=SID))
        is CSRFReason.BAD_ORIGIN
    )


def test_token_is_bound_to_the_session() -> None:
    csrf = protect()
    token = csrf.token("other-session")
    assert (
        reason_of(lambda: csrf.verify(method="POST", headers=SAME, token=token, session_id=SID))
        is CSRFReason.BAD_TOKEN
    )


def test_token_from_another_key_is_rejected() -> None:
    other = CSRFProtect(KeyRing.generate("mac"), origins={ORIGIN})
    assert (
        reason_of(lambda: protect().check_token(other.token(SID), session_id=SID))
        is CSRFReason.BAD_TOKEN
    )


def test_rotation_keeps_old_tokens_valid() -> None:
    old = protect().token(SID)
    rotated = CSRFProtect(RING.rotate(), origins={ORIGIN})
    rotated.check_token(old, session_id=SID)
    rotated.check_token(rotated.token(SID), session_id=SID)
    removed = CSRFProtect(RING.rotate().remove(RING.primary.id), origins={ORIGIN})
    assert reason_of(lambda: removed.check_token(old, session_id=SID)) is CSRFReason.BAD_TOKEN


def test_ring_is_derived_not_used_directly() -> None:
    import hashlib
    import hmac

    token = protect().token(SID)
    raw = base64.urlsafe_b64decode(token + "===")
    mask, masked = raw[5:37], raw[37:]
    secret = bytes(a ^ b for a, b in zip(masked, mask, strict=True))
    direct = hmac.new(
        RING.primary.material, b"securekit/csrf/v1\x00" + SID.encode(), hashlib.sha256
    ).digest()
    derived = hmac.new(
        RING.primary.derive("csrf"), b"securekit/csrf/v1\x00" + SID.encode(), hashlib.sha256
    ).digest()
    assert secret == derived != direct


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, CSRFReason.CROSS_SITE),
        ({"Sec-Fetch-Site": "same-site"}, CSRFReason.CROSS_SITE),
        ({"sec-fetch-site": "weird"}, CSRFReason.CROSS_SITE),
        ({"Origin": "https://evil.example"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "null"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "http://app.example"}, CSRFReason.BAD_ORIGIN),  # scheme matters
        ({"Origin": "https://app.example:444"}, CSRFReason.BAD_ORIGIN),  # port matters
        ({"Origin": "https://app.example.evil.example"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://user@app.example"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://app.example/path"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://app.example:99999"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://app.example\n"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://äpp.example"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://[::1"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": "https://app.example, https://evil.example"}, CSRFReason.BAD_ORIGIN),
        ({"Origin": ORIGIN, "origin": "https://evil.example"}, CSRFReason.BAD_ORIGIN),
        (
            {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
            CSRFReason.BAD_ORIGIN,
        ),
    ],
)
def test_header_checks_reject(headers: dict[str, str], expected: CSRFReason) -> None:
    csrf = protect()
    token = csrf.token(SID)  # a valid token does not rescue a cross-site request
    assert (
        reason_of(lambda: csrf.verify(method="POST", headers=headers, token=token, session_id=SID))
        is expected
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"SEC-FETCH-SITE": " Same-Origin "},
        {"Origin": "HTTPS://APP.EXAMPLE:443"},
        {"Origin": "https://admin.example:8443", "Sec-Fetch-Site": "cross-site"},
        {},  # no browser metadata at all: the token decides
        {"Origin": ORIGIN, "origin": ORIGIN},
    ],
)
def test_header_checks_accept(headers: dict[str, str]) -> None:
    csrf = protect()
    csrf.verify(method="POST", headers=headers, token=csrf.token(SID), session_id=SID)


def test_header_checks_never_skip_the_token() -> None:
    csrf = protect()
    assert (
        reason_of(lambda: csrf.verify(method="POST", headers=SAME, token=None, session_id=SID))
        is CSRFReason.MISSING_TOKEN
    )
    assert (
        reason_of(lambda: csrf.verify(method="POST", headers=SAME, token="", session_id=SID))
        is CSRFReason.MISSING_TOKEN
    )


def test_same_site_switch() -> None:
    with pytest.warns(InsecureConfigurationWarning):
        csrf = protect(insecure_allow_same_site=True)
    csrf.check_headers({"Sec-Fetch-Site": "same-site"})
    assert reason_of(lambda: csrf.check_headers({"Sec-Fetch-Site": "cross-site"})) is (
        CSRFReason.CROSS_SITE
    )


def test_malformed_tokens() -> None:
    csrf = protect()
    good = csrf.token(SID)
    raw = bytearray(base64.urlsafe_b64decode(good + "==="))
    raw[0] = 2
    wrong_version = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    unknown_key = base64.urlsafe_b64encode(
        b"\x01" + struct.pack(">I", (RING.primary.id % 0xFFFFFFFE) + 1) + bytes(raw[5:])
    )
    for bad in (good[:-1], good + "A", "!" * 92, wrong_version):
        with pytest.raises(CSRFError) as info:
            csrf.check_token(bad, session_id=SID)
        assert info.value.reason is CSRFReason.MALFORMED_TOKEN
    flipped = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]
    assert reason_of(lambda: csrf.check_token(flipped, session_id=SID)) is CSRFReason.BAD_TOKEN
    bad_key = unknown_key.rstrip(b"=").decode()
    assert reason_of(lambda: csrf.check_token(bad_key, session_id=SID)) is CSRFReason.BAD_TOKEN


@settings(max_examples=150, deadline=None)
@given(junk=st.text(max_size=120) | st.text(alphabet="AZaz09-_", min_size=92, max_size=92))
def test_junk_tokens_raise_only_csrf_error(junk: str) -> None:
    csrf = protect()
    with pytest.raises(CSRFError):
        csrf.check_token(junk, session_id=SID)


@settings(max_examples=150, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(["Origin", "origin", "Sec-Fetch-Site", "X"]), st.text(max_size=60)
    )
)
def test_junk_headers_raise_only_csrf_error(headers: dict[str, str]) -> None:
    try:
        protect().check_headers(headers)
    except CSRFError:
        pass


@given(session=st.text(min_size=1, max_size=50))
@settings(max_examples=50, deadline=None)
def test_any_session_string_round_trips(session: str) -> None:
    csrf = protect()
    csrf.check_token(csrf.token(session), session_id=session)


def test_errors_do_not_leak() -> None:
    import secrets

    from tests._leak import assert_no_leak

    csrf = protect()
    token = csrf.token(SID)
    other = secrets.token_hex(8)
    with pytest.raises(CSRFError) as info:
        csrf.check_token(token, session_id=other)
    assert_no_leak(info.value, token, other)
    host = secrets.token_hex(8)
    with pytest.raises(CSRFError) as info2:
        csrf.check_headers({"Origin": f"https://{host}.example"})
    assert_no_leak(info2.value, host)


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="mac"):
        CSRFProtect(KeyRing.generate("aead"), origins={ORIGIN})
    for bad in ({"app.example"}, {"ftp://app.example"}, {"https://app.example/x"}, set()):
        with pytest.raises(ConfigurationError):
            CSRFProtect(RING, origins=bad)
    with pytest.raises(TypeError):
        CSRFProtect(RING, origins=ORIGIN)
    with pytest.raises(TypeError):
        CSRFProtect(RING, origins=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        CSRFProtect("key", origins={ORIGIN})  # type: ignore[arg-type]
    csrf = protect()
    with pytest.raises(ConfigurationError):
        csrf.token("")
    with pytest.raises(TypeError):
        csrf.token(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        csrf.verify(method=1, headers={}, token=None, session_id=SID)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        csrf.check_headers([("Origin", ORIGIN)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        csrf.check_headers({"Origin": b"x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        csrf.check_token(b"x", session_id=SID)  # type: ignore[arg-type]
    assert "https://app.example" in repr(csrf)
    ipv6 = CSRFProtect(RING, origins={"https://[::1]:8443"})
    ipv6.check_headers({"Origin": "https://[::1]:8443"})
