"""securekit.signing: purpose-bound, expiring, signed tokens."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    InvalidTokenError,
    StoreUnavailableError,
    TokenReason,
)
from securekit.keys import KeyRing
from securekit.signing import (
    CLOCK_SKEW,
    MAX_LIFETIME,
    MAX_PAYLOAD_BYTES,
    MAX_TOKEN_CHARS,
    TOKEN_VERSION,
    TokenSigner,
    _mac,
    _mac_ok,
)
from securekit.stores import MemoryStore, RedisStore, SQLiteStore
from securekit.testing import FixedClock
from tests._leak import assert_no_leak
from tests.conftest import load_vectors

RING = KeyRing.generate("mac")
HOUR = timedelta(hours=1)
PURPOSE = "password-reset"


def signer(
    clock: FixedClock | None = None,
    *,
    ring: KeyRing = RING,
    purpose: str = PURPOSE,
    max_age: timedelta = HOUR,
    store: Any = None,
) -> TokenSigner:
    return TokenSigner(
        ring, purpose=purpose, max_age=max_age, store=store, clock=clock or FixedClock()
    )


def b64d(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(
    *,
    issued: int,
    expires: int,
    payload: bytes = b"{}",
    ring: KeyRing = RING,
    purpose: str = PURPOSE,
    version: int = TOKEN_VERSION,
) -> str:
    """A token MACed with the real derived key, to reach the post-MAC checks."""
    key = ring.derive("signing/" + purpose).primary
    signed = (
        bytes([version])
        + key.id.to_bytes(4, "big")
        + issued.to_bytes(8, "big")
        + expires.to_bytes(8, "big")
        + bytes(16)
        + payload
    )
    prefix = b"securekit/v1/signing\x00" + purpose.encode() + b"\x00"
    return b64e(signed + _mac(key.material, prefix + signed))


def reason_of(s: TokenSigner, token: str, **kw: Any) -> TokenReason:
    with pytest.raises(InvalidTokenError) as exc:
        s.verify(token, **kw)
    reason: TokenReason = exc.value.reason
    return reason


# -- round trip and format -------------------------------------------------------------


def test_round_trip() -> None:
    clock = FixedClock()
    s = signer(clock)
    token = s.sign({"user": "42", "n": 1, "ok": True, "nested": {"a": [1, None]}})
    got = s.verify(token)
    assert got.payload == {"user": "42", "n": 1, "ok": True, "nested": {"a": [1, None]}}
    assert got.purpose == PURPOSE == s.purpose
    assert got.key_id == RING.primary.id
    assert got.issued_at == clock()
    assert got.expires_at == clock() + HOUR
    assert len(got.token_id) == 32


def test_default_payload_is_empty_object() -> None:
    s = signer()
    assert s.verify(s.sign()).payload == {}


def test_layout() -> None:
    clock = FixedClock()
    s = signer(clock)
    token = s.sign({"b": 1, "a": "é"})
    assert base64.urlsafe_b64encode(b64d(token)).rstrip(b"=").decode() == token
    raw = b64d(token)
    assert raw[0] == TOKEN_VERSION == 1
    assert int.from_bytes(raw[1:5], "big") == RING.primary.id
    issued = int(clock().timestamp())
    assert int.from_bytes(raw[5:13], "big") == issued
    assert int.from_bytes(raw[13:21], "big") == issued + 3600
    # Canonical JSON: sorted keys, no spaces, UTF-8.
    assert raw[37:-32] == '{"a":"é","b":1}'.encode()
    assert len(raw) == 37 + len(raw[37:-32]) + 32


def test_token_ids_are_unique() -> None:
    s = signer()
    assert len({s.verify(s.sign()).token_id for _ in range(50)}) == 50


# -- verification order and reasons -----------------------------------------------------


def test_purpose_binding() -> None:
    clock = FixedClock()
    reset = signer(clock, purpose="password-reset")
    verify_email = signer(clock, purpose="email-verify")
    token = reset.sign({"user": "1"})
    assert reason_of(verify_email, token) is TokenReason.BAD_SIGNATURE


def test_expiry_is_mandatory_and_exact() -> None:
    clock = FixedClock()
    s = signer(clock)
    token = s.sign()
    clock.advance(HOUR - timedelta(seconds=1))
    s.verify(token)
    clock.advance(timedelta(seconds=1))
    assert reason_of(s, token) is TokenReason.EXPIRED
    # The per-call time wins over the clock.
    s.verify(token, now=clock() - timedelta(minutes=5))


def test_issued_in_future() -> None:
    clock = FixedClock()
    s = signer(clock)
    token = s.sign()
    s.verify(token, now=clock() - CLOCK_SKEW)
    assert reason_of(s, token, now=clock() - CLOCK_SKEW - timedelta(seconds=1)) is (
        TokenReason.ISSUED_IN_FUTURE
    )


def test_lifetime_longer_than_verifier_allows() -> None:
    clock = FixedClock()
    long = signer(clock, max_age=2 * HOUR)
    token = long.sign()
    assert reason_of(signer(clock), token) is TokenReason.LIFETIME_TOO_LONG


def test_post_mac_claim_checks() -> None:
    clock = FixedClock()
    s = signer(clock)
    now = int(clock().timestamp())
    assert reason_of(s, forge(issued=now, expires=now)) is TokenReason.BAD_CLAIM
    assert reason_of(s, forge(issued=now, expires=now - 5)) is TokenReason.BAD_CLAIM
    assert reason_of(s, forge(issued=now, expires=(1 << 64) - 1)) is TokenReason.BAD_CLAIM
    s.verify(forge(issued=now, expires=now + 10))


@pytest.mark.parametrize(
    "payload",
    [b"[1]", b'"x"', b'{"a":1,"a":2}', b"{", b'{"a":NaN}', b"\xff\xfe", b"{}x", b'{"a":1e999}'],
)
def test_payload_is_parsed_strictly_after_mac(payload: bytes) -> None:
    clock = FixedClock()
    now = int(clock().timestamp())
    token = forge(issued=now, expires=now + 60, payload=payload)
    assert reason_of(signer(clock), token) is TokenReason.MALFORMED


def test_length_is_checked_first() -> None:
    s = signer()
    assert reason_of(s, "A" * (MAX_TOKEN_CHARS + 1)) is TokenReason.TOO_LARGE
    assert reason_of(s, "!" * (MAX_TOKEN_CHARS + 1)) is TokenReason.TOO_LARGE
    assert reason_of(s, "") is TokenReason.MALFORMED
    assert reason_of(s, "!!!") is TokenReason.MALFORMED
    # The largest payload still fits under the cap.
    big = s.sign({"p": "x" * (MAX_PAYLOAD_BYTES - 8)})
    assert len(big) <= MAX_TOKEN_CHARS
    s.verify(big)


def test_encoding_is_canonical_base64url() -> None:
    s = signer()
    token = s.sign({"user": "1"})
    raw = b64d(token)
    padded = base64.urlsafe_b64encode(raw).decode()
    std = base64.b64encode(raw).decode()
    bad = [
        token + "=" if padded == token else padded,
        token[:10] + " " + token[10:],
        token + "\n",
        token[:-1] + "é",
        token + "A",  # length % 4 == 1 (or an extra byte)
    ]
    if std != token:
        bad.append(std)
    for candidate in bad:
        assert reason_of(s, candidate) in {TokenReason.BAD_ENCODING, TokenReason.BAD_SIGNATURE}
    assert reason_of(s, token[:10] + " " + token[10:]) is TokenReason.BAD_ENCODING


def test_non_canonical_trailing_bits_rejected() -> None:
    s = signer()
    token = s.sign()
    if len(token) % 4 == 0:  # pragma: no cover - depends on payload length
        token = s.sign({"x": 1})
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    # Flip the lowest (unused) bit of the last character: same bytes, other text.
    variant = token[:-1] + alphabet[last ^ 1]
    assert b64d(variant) == b64d(token)
    assert reason_of(s, variant) is TokenReason.BAD_ENCODING


def test_version_then_key_id_then_mac() -> None:
    clock = FixedClock()
    s = signer(clock)
    raw = bytearray(b64d(s.sign()))
    bad_version = bytearray(raw)
    bad_version[0] = 2
    bad_version[1:5] = b"\x00\x00\x00\x00"  # unknown key too: version wins
    assert reason_of(s, b64e(bytes(bad_version))) is TokenReason.UNSUPPORTED_VERSION
    unknown = bytearray(raw)
    unknown[1:5] = (RING.primary.id ^ 1).to_bytes(4, "big")
    assert reason_of(s, b64e(bytes(unknown))) is TokenReason.UNKNOWN_KEY
    # A bad MAC is reported even for an expired token: MAC before expiry.
    expired_and_forged = bytearray(raw)
    expired_and_forged[-1] ^= 1
    clock.advance(2 * HOUR)
    assert reason_of(s, b64e(bytes(expired_and_forged))) is TokenReason.BAD_SIGNATURE


def test_every_bit_flip_fails() -> None:
    s = signer()
    raw = b64d(s.sign({"u": "1"}))
    for i in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(InvalidTokenError):
            s.verify(b64e(bytes(flipped)))


def test_truncated_and_extended_tokens_fail() -> None:
    s = signer()
    token = s.sign({"u": "1"})
    for cut in range(len(token)):
        with pytest.raises(InvalidTokenError):
            s.verify(token[:cut])
    raw = b64d(token)
    with pytest.raises(InvalidTokenError):
        s.verify(b64e(raw + b"\x00"))


def test_rotation() -> None:
    clock = FixedClock()
    old = signer(clock)
    token = old.sign()
    rotated = RING.rotate()
    new = signer(clock, ring=rotated)
    assert new.verify(token).key_id == RING.primary.id
    assert new.verify(new.sign()).key_id == rotated.primary.id
    gone = signer(clock, ring=rotated.remove(RING.primary.id))
    assert reason_of(gone, token) is TokenReason.UNKNOWN_KEY


def test_errors_do_not_leak_the_token() -> None:
    s = signer()
    token = s.sign({"user": "someone"})
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BA")
    with pytest.raises(InvalidTokenError) as exc:
        s.verify(tampered)
    assert_no_leak(exc.value, tampered, RING.primary.material)
    assert str(exc.value) == "the token is not valid"


# -- single use -------------------------------------------------------------------------


def test_consume_is_single_use() -> None:
    clock = FixedClock()
    s = signer(clock, store=MemoryStore())
    token = s.sign({"user": "1"})
    assert s.verify(token).payload == {"user": "1"}  # verify does not consume
    assert s.consume(token).payload == {"user": "1"}
    with pytest.raises(InvalidTokenError) as exc:
        s.consume(token)
    assert exc.value.reason is TokenReason.REUSED
    assert reason_of(s, token) is TokenReason.REUSED
    # Other tokens are unaffected.
    s.consume(s.sign({"user": "1"}))


def test_consume_checks_the_token_first() -> None:
    store = MemoryStore()
    s = signer(store=store)
    with pytest.raises(InvalidTokenError) as exc:
        s.consume("x" * 200)
    assert exc.value.reason is not TokenReason.REUSED


def test_consume_needs_a_store() -> None:
    s = signer()
    with pytest.raises(ConfigurationError, match="store"):
        s.consume(s.sign())


class RecordingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, float | None]] = []

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        self.calls.append((key, ttl))
        return super().add(key, value, ttl=ttl)


def test_consume_remembers_until_expiry() -> None:
    clock = FixedClock()
    store = RecordingStore()
    s = signer(clock, store=store)
    token = s.sign()
    clock.advance(timedelta(minutes=30))
    got = s.consume(token)
    ((key, ttl),) = store.calls
    assert key == f"securekit:signing:{PURPOSE}:used:{got.token_id}"
    assert ttl == (timedelta(minutes=30) + CLOCK_SKEW).total_seconds()


class DownStore(MemoryStore):
    def get(self, key: str) -> bytes | None:
        raise StoreUnavailableError

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        raise StoreUnavailableError


def test_store_down_fails_closed() -> None:
    s = signer(store=DownStore())
    token = s.sign()
    with pytest.raises(StoreUnavailableError):
        s.verify(token)
    with pytest.raises(StoreUnavailableError):
        s.consume(token)


def test_concurrent_consume_has_one_winner() -> None:
    s = signer(store=MemoryStore())
    token = s.sign()
    wins: list[int] = []
    losses: list[TokenReason] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            s.consume(token)
            wins.append(1)
        except InvalidTokenError as exc:
            losses.append(exc.reason)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert losses == [TokenReason.REUSED] * 7


def test_single_use_with_sqlite_store(tmp_path: Path) -> None:
    s = signer(store=SQLiteStore(str(tmp_path / "tokens.db")))
    token = s.sign()
    s.consume(token)
    with pytest.raises(InvalidTokenError) as exc:
        s.consume(token)
    assert exc.value.reason is TokenReason.REUSED


@pytest.mark.redis
def test_single_use_with_redis_store(redis_url: str) -> None:
    store = RedisStore(redis_url)
    first = signer(store=store)
    token = first.sign()
    first.consume(token)
    # Another process (another signer on the same store) sees it used.
    with pytest.raises(InvalidTokenError) as exc:
        signer(store=RedisStore(redis_url)).consume(token)
    assert exc.value.reason is TokenReason.REUSED


def test_async_store_single_use() -> None:
    s = signer(store=MemoryStore().asyncio())
    token = s.sign({"u": 1})

    async def flow() -> list[TokenReason]:
        assert (await s.averify(token)).payload == {"u": 1}
        await s.aconsume(token)
        reasons = []
        for call in (s.aconsume, s.averify):
            try:
                await call(token)
            except InvalidTokenError as exc:
                reasons.append(exc.reason)
        return reasons

    assert asyncio.run(flow()) == [TokenReason.REUSED, TokenReason.REUSED]


def test_async_methods_accept_a_sync_store_or_none() -> None:
    s = signer(store=MemoryStore())
    token = s.sign()

    async def flow() -> None:
        await s.averify(token)
        await s.aconsume(token)
        with pytest.raises(InvalidTokenError):
            await s.averify(token)
        with pytest.raises(InvalidTokenError):
            await s.aconsume(token)
        plain = signer()
        await plain.averify(plain.sign())
        with pytest.raises(ConfigurationError, match="store"):
            await plain.aconsume(plain.sign())

    asyncio.run(flow())


def test_sync_methods_refuse_an_async_store() -> None:
    s = signer(store=MemoryStore().asyncio())
    token = s.sign()
    with pytest.raises(ConfigurationError, match="averify"):
        s.verify(token)
    with pytest.raises(ConfigurationError, match="aconsume"):
        s.consume(token)


def test_store_must_look_like_a_store() -> None:
    with pytest.raises(TypeError, match="store"):
        signer(store=object())


# -- misuse ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["aead", "signing"])
def test_ring_kind(kind: str) -> None:
    with pytest.raises(ConfigurationError, match="mac"):
        TokenSigner(KeyRing.generate(kind), purpose="x", max_age=HOUR)


def test_not_a_ring() -> None:
    with pytest.raises(TypeError):
        TokenSigner(b"k" * 32, purpose="x", max_age=HOUR)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "purpose", ["", "Password-Reset", "-x", "a b", "a/b", "é", "x" * 65, "reset\n"]
)
def test_bad_purpose(purpose: str) -> None:
    with pytest.raises(ConfigurationError, match="purpose"):
        TokenSigner(RING, purpose=purpose, max_age=HOUR)


def test_purpose_type() -> None:
    with pytest.raises(TypeError):
        TokenSigner(RING, purpose=b"x", max_age=HOUR)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "max_age",
    [
        timedelta(0),
        timedelta(seconds=-1),
        timedelta(seconds=1.5),
        timedelta(milliseconds=999),
        MAX_LIFETIME + timedelta(seconds=1),
    ],
)
def test_bad_max_age(max_age: timedelta) -> None:
    with pytest.raises(ConfigurationError, match="max_age"):
        TokenSigner(RING, purpose="x", max_age=max_age)


def test_max_age_is_required_and_typed() -> None:
    with pytest.raises(TypeError):
        TokenSigner(RING, purpose="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TokenSigner(RING, purpose="x", max_age=3600)  # type: ignore[arg-type]
    TokenSigner(RING, purpose="x", max_age=MAX_LIFETIME)


def test_clock_must_be_callable() -> None:
    with pytest.raises(TypeError):
        TokenSigner(RING, purpose="x", max_age=HOUR, clock="now")  # type: ignore[arg-type]


def test_sign_misuse() -> None:
    s = signer()
    with pytest.raises(TypeError):
        s.sign(["a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.sign({1: "a"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        s.sign({"a": object()})
    with pytest.raises(ConfigurationError, match="NaN"):
        s.sign({"a": math.nan})
    with pytest.raises(ConfigurationError, match="4300"):
        s.sign({"a": 10**5000})
    with pytest.raises(ConfigurationError, match="bytes"):
        s.sign({"a": "x" * MAX_PAYLOAD_BYTES})
    with pytest.raises(TypeError):
        s.sign(now=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ConfigurationError, match="1970"):
        s.sign(now=datetime(1960, 1, 1, tzinfo=UTC))


def test_verify_misuse() -> None:
    s = signer()
    with pytest.raises(TypeError):
        s.verify(b"token")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.verify(s.sign(), now=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(TypeError):
        signer(store=MemoryStore()).consume(None)  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5))
def test_property_round_trip(payload: dict[str, object]) -> None:
    s = signer()
    token = s.sign(payload)
    assert s.verify(token).payload == json.loads(json.dumps(payload))


@settings(max_examples=300, deadline=None)
@given(junk=st.text(max_size=300) | st.text(alphabet="ABCabc0123-_", min_size=60, max_size=300))
def test_property_junk_raises_only_invalid_token(junk: str) -> None:
    with pytest.raises(InvalidTokenError):
        signer().verify(junk)


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(min_size=0, max_size=200))
def test_property_junk_after_valid_header(tail: bytes) -> None:
    raw = b64d(signer().sign())
    with pytest.raises(InvalidTokenError):
        signer().verify(b64e(raw[:5] + tail))


# -- Wycheproof HMAC-SHA256 through the MAC function the signer uses ---------------------------


def test_wycheproof_hmac_sha256() -> None:
    data = load_vectors("wycheproof", "hmac_sha256_test.json")
    full = 0
    for group in data["testGroups"]:
        for case in group["tests"]:
            key, msg = bytes.fromhex(case["key"]), bytes.fromhex(case["msg"])
            tag = bytes.fromhex(case["tag"])
            computed = _mac(key, msg)
            if group["tagSize"] == 256:
                full += 1
                assert (computed == tag) is (case["result"] == "valid")
                assert _mac_ok(key, msg, tag) is (case["result"] == "valid")
            else:
                # Truncated tags are valid HMAC but never accepted by the signer.
                if case["result"] == "valid":
                    assert computed[: len(tag)] == tag
                assert _mac_ok(key, msg, tag) is False
    assert full > 20
