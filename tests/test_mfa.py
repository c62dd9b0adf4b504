"""securekit.mfa: TOTP (RFC 6238) with replay guard and throttling; recovery codes."""

from __future__ import annotations

import base64
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, MFAError, MFAReason, StoreUnavailableError
from securekit.mfa import (
    DEFAULT_FAILURE_LIMIT,
    TOTP,
    RecoveryCodes,
    generate_totp_secret,
)
from securekit.ratelimit import LoginThrottle, ThrottlePolicy
from securekit.stores import MemoryStore, RedisStore, SQLiteStore, Store
from securekit.testing import FixedClock
from tests._leak import assert_no_leak

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SQLiteStore(tmp_path / "mfa.db")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"))
        yield s
        s.close()


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


# --- RFC 6238 appendix B ------------------------------------------------------

# RFC 6238 appendix B: the seeds are the ASCII digits "1234567890" repeated
# to 20 (SHA-1), 32 (SHA-256) and 64 (SHA-512) bytes; 8-digit codes, X = 30.
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("unix", "sha1", "sha256", "sha512"), RFC6238_VECTORS)
def test_rfc6238_appendix_b(unix: int, sha1: str, sha256: str, sha512: str) -> None:
    now = datetime.fromtimestamp(unix, UTC)
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        totp = TOTP(MemoryStore(), issuer="RFC", digits=8, algorithm=algorithm)  # type: ignore[arg-type]
        secret = b32(SEEDS[algorithm])
        assert totp.code(secret, now=now) == expected
        totp.verify(expected, secret=secret, user="u", now=now)


# --- replay, window, throttling on every store --------------------------------


def test_code_accepted_once_then_refused_as_replay(store: Store) -> None:
    totp = TOTP(store, issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    totp.verify(code, secret=secret, user="alice", now=T0)
    with pytest.raises(MFAError) as info:
        totp.verify(code, secret=secret, user="alice", now=T0 + timedelta(seconds=5))
    assert info.value.reason is MFAReason.REPLAYED
    # Still refused one step later, while the old step is inside the window.
    with pytest.raises(MFAError) as info:
        totp.verify(code, secret=secret, user="alice", now=T0 + STEP)
    assert info.value.reason is MFAReason.REPLAYED
    # Another user with another secret is unaffected.
    other = generate_totp_secret()
    totp.verify(totp.code(other, now=T0), secret=other, user="bob", now=T0)


def test_older_code_refused_after_newer_one(store: Store) -> None:
    totp = TOTP(store, issuer="Example")
    secret = generate_totp_secret()
    newer = totp.code(secret, now=T0 + STEP)
    older = totp.code(secret, now=T0)
    totp.verify(newer, secret=secret, user="alice", now=T0)
    with pytest.raises(MFAError) as info:
        totp.verify(older, secret=secret, user="alice", now=T0)
    assert info.value.reason is MFAReason.REPLAYED
    # The next step is still fine.
    totp.verify(totp.code(secret, now=T0 + 2 * STEP), secret=secret, user="alice", now=T0 + STEP)


def test_corrupted_last_step_fails_closed() -> None:
    store = MemoryStore()
    totp = TOTP(store, issuer="Example", namespace="t")
    secret = generate_totp_secret()
    totp.verify(totp.code(secret, now=T0), secret=secret, user="alice", now=T0)
    (key,) = [k for k in ("t:last:" + h for h in _user_hashes("alice")) if store.get(k) is not None]
    store.set(key, b"garbage")
    with pytest.raises(MFAError) as info:
        totp.verify(
            totp.code(secret, now=T0 + 2 * STEP), secret=secret, user="alice", now=T0 + 2 * STEP
        )
    assert info.value.reason is MFAReason.REPLAYED


def _user_hashes(user: str) -> list[str]:
    import hashlib

    return [hashlib.sha256(b"totp\x00" + user.encode()).hexdigest()[:32]]


class LosingStore(MemoryStore):
    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        return False


def test_lost_races_fail_closed() -> None:
    totp = TOTP(LosingStore(), issuer="Example")
    secret = generate_totp_secret()
    with pytest.raises(MFAError) as info:
        totp.verify(totp.code(secret, now=T0), secret=secret, user="alice", now=T0)
    assert info.value.reason is MFAReason.REPLAYED


def test_concurrent_replay_succeeds_once(store: Store) -> None:
    totp = TOTP(store, issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait()
        try:
            totp.verify(code, secret=secret, user="alice", now=T0)
            results.append("ok")
        except MFAError as exc:
            results.append(exc.reason.value)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    # The others are refused as replays (or throttled: every attempt counts).
    assert set(results) - {"ok"} <= {"replayed", "throttled"}
    assert "replayed" in results


def test_window_accepts_one_step_each_side_only() -> None:
    secret = generate_totp_secret()
    totp = TOTP(MemoryStore(), issuer="Example")
    for offset in (-1, 0, 1):
        code = totp.code(secret, now=T0 + offset * STEP)
        totp.verify(code, secret=secret, user=f"u{offset}", now=T0)
    for offset in (-2, 2):
        code = totp.code(secret, now=T0 + offset * STEP)
        with pytest.raises(MFAError) as info:
            totp.verify(code, secret=secret, user=f"v{offset}", now=T0)
        assert info.value.reason is MFAReason.INVALID_CODE
    strict = TOTP(MemoryStore(), issuer="Example", window=0)
    with pytest.raises(MFAError):
        strict.verify(totp.code(secret, now=T0 - STEP), secret=secret, user="w", now=T0)


def test_failures_are_throttled_then_refused(store: Store) -> None:
    clock = FixedClock(T0)
    totp = TOTP(store, issuer="Example", clock=clock, failure_limit=5)
    secret = generate_totp_secret()
    wrong = "000000" if totp.code(secret) != "000000" else "111111"
    reasons = []
    for _ in range(8):
        try:
            totp.verify(wrong, secret=secret, user="alice")
        except MFAError as exc:
            reasons.append(exc.reason)
        clock.advance(timedelta(minutes=2))
    assert reasons[:5] == [MFAReason.INVALID_CODE] * 5
    assert reasons[5:] == [MFAReason.THROTTLED] * 3
    # Even the right code is refused while throttled: guessing cannot continue.
    with pytest.raises(MFAError) as info:
        totp.verify(totp.code(secret), secret=secret, user="alice")
    assert info.value.reason is MFAReason.THROTTLED


def test_progressive_delay_after_free_failures() -> None:
    clock = FixedClock(T0)
    totp = TOTP(MemoryStore(), issuer="Example", clock=clock)
    secret = generate_totp_secret()
    wrong = "000000" if totp.code(secret) != "000000" else "111111"
    for _ in range(3):
        with pytest.raises(MFAError) as info:
            totp.verify(wrong, secret=secret, user="alice")
        assert info.value.reason is MFAReason.INVALID_CODE
    # Immediately again: inside the delay, even the right code is refused.
    with pytest.raises(MFAError) as info:
        totp.verify(totp.code(secret), secret=secret, user="alice")
    assert info.value.reason is MFAReason.THROTTLED
    clock.advance(timedelta(seconds=5))
    totp.verify(totp.code(secret), secret=secret, user="alice")


def test_success_resets_failure_counter() -> None:
    clock = FixedClock(T0)
    totp = TOTP(MemoryStore(), issuer="Example", clock=clock, failure_limit=3)
    secret = generate_totp_secret()
    wrong = "000000" if totp.code(secret) != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(MFAError):
            totp.verify(wrong, secret=secret, user="alice")
    totp.verify(totp.code(secret), secret=secret, user="alice")
    clock.advance(STEP * 4)
    for _ in range(2):
        with pytest.raises(MFAError) as info:
            totp.verify(wrong, secret=secret, user="alice")
        assert info.value.reason is MFAReason.INVALID_CODE


def test_login_throttle_counts_per_ip() -> None:
    store = MemoryStore()
    clock = FixedClock(T0)
    throttle = LoginThrottle(
        store,
        policy=ThrottlePolicy(account_limit=2, account_free=2, pair_limit=2, pair_free=2),
        namespace="mfa-ip",
        clock=clock,
    )
    totp = TOTP(store, issuer="Example", throttle=throttle, clock=clock)
    secret = generate_totp_secret()
    wrong = "000000" if totp.code(secret) != "000000" else "111111"
    with pytest.raises(ConfigurationError, match="ip="):
        totp.verify(wrong, secret=secret, user="alice")
    for _ in range(2):
        with pytest.raises(MFAError) as info:
            totp.verify(wrong, secret=secret, user="alice", ip="192.0.2.1")
        assert info.value.reason is MFAReason.INVALID_CODE
    with pytest.raises(MFAError) as info:
        totp.verify(totp.code(secret), secret=secret, user="alice", ip="192.0.2.1")
    assert info.value.reason is MFAReason.THROTTLED


def test_login_throttle_success_resets() -> None:
    store = MemoryStore()
    clock = FixedClock(T0)
    throttle = LoginThrottle(store, namespace="mfa-ip", clock=clock)
    totp = TOTP(store, issuer="Example", throttle=throttle, clock=clock)
    secret = generate_totp_secret()
    totp.verify(totp.code(secret), secret=secret, user="alice", ip="192.0.2.1")


class DownStore(MemoryStore):
    def penalty_hit(self, *args: object, **kwargs: object) -> tuple[bool, float, bool]:
        raise StoreUnavailableError

    def add(self, *args: object, **kwargs: object) -> bool:
        raise StoreUnavailableError


def test_store_down_fails_closed() -> None:
    totp = TOTP(DownStore(), issuer="Example")
    secret = generate_totp_secret()
    with pytest.raises(StoreUnavailableError):
        totp.verify(totp.code(secret, now=T0), secret=secret, user="alice", now=T0)


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "123 4567", "1" * 65, "+12345", "12345\n"]
)
def test_malformed_codes(code: str) -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    with pytest.raises(MFAError) as info:
        totp.verify(code, secret=generate_totp_secret(), user="alice", now=T0)
    assert info.value.reason is MFAReason.MALFORMED


def test_spaces_in_code_are_ignored() -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    totp.verify(f"{code[:3]} {code[3:]}", secret=secret, user="alice", now=T0)


@settings(max_examples=100, deadline=None)
@given(code=st.text(max_size=80))
def test_junk_codes_raise_only_mfa_error(code: str) -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = b32(b"k" * 20)
    try:
        totp.verify(code, secret=secret, user="alice", now=T0)
    except MFAError as exc:
        assert_no_leak(exc, code) if len(code) > 3 else None
    else:
        accepted = code.strip(" \t\r\n").replace(" ", "")
        assert accepted in {totp.code(secret, now=T0 + o * STEP) for o in (-1, 0, 1)}


def test_errors_do_not_leak_code_or_secret() -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    totp.verify(code, secret=secret, user="alice", now=T0)
    with pytest.raises(MFAError) as info:
        totp.verify(code, secret=secret, user="alice", now=T0)
    assert_no_leak(info.value, code, secret)
    assert secret not in repr(totp)


# --- secrets and provisioning -------------------------------------------------


def test_generated_secret_is_160_bits_random_base32() -> None:
    first, second = generate_totp_secret(), generate_totp_secret()
    assert first != second
    assert len(base64.b32decode(first + "=" * (-len(first) % 8))) == 20
    assert len(generate_totp_secret(nbytes=32)) == 52
    with pytest.raises(ConfigurationError):
        generate_totp_secret(nbytes=10)
    with pytest.raises(TypeError):
        generate_totp_secret(nbytes="20")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("", ConfigurationError),
        ("not base32 at all!", ConfigurationError),
        (b32(b"short-key"), ConfigurationError),
        ("A" * 300, ConfigurationError),
        ("ÄÄÄÄÄÄÄÄ", ConfigurationError),
        (b"JBSWY3DPEHPK3PXP", TypeError),
    ],
)
def test_unusable_secrets(secret: object, error: type[Exception]) -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    with pytest.raises(error):
        totp.verify("123456", secret=secret, user="alice", now=T0)  # type: ignore[arg-type]


def test_secret_in_groups_and_lower_case_is_accepted() -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()
    assert totp.code(grouped, now=T0) == totp.code(secret, now=T0)


def test_provisioning_uri_is_percent_encoded() -> None:
    totp = TOTP(MemoryStore(), issuer="ACME Co & Sons")
    secret = generate_totp_secret()
    uri = totp.provisioning_uri(secret, account="alice+mfa@example.com")
    parts = urllib.parse.urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert urllib.parse.unquote(parts.path[1:]) == "ACME Co & Sons:alice+mfa@example.com"
    assert "&" not in parts.path
    assert " " not in uri
    query = urllib.parse.parse_qs(parts.query, strict_parsing=True)
    assert query == {
        "secret": [secret],
        "issuer": ["ACME Co & Sons"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    with pytest.raises(ConfigurationError):
        totp.provisioning_uri(secret, account="")
    with pytest.raises(ConfigurationError):
        totp.provisioning_uri(secret, account="a\nb")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"issuer": "a:b"}, ConfigurationError),
        ({"issuer": ""}, ConfigurationError),
        ({"issuer": 1}, TypeError),
        ({"digits": 7}, ConfigurationError),
        ({"digits": True}, ConfigurationError),
        ({"period": 30}, TypeError),
        ({"period": timedelta(seconds=5)}, ConfigurationError),
        ({"period": timedelta(seconds=30.5)}, ConfigurationError),
        ({"algorithm": "MD5"}, ConfigurationError),
        ({"window": 2}, ConfigurationError),
        ({"failure_limit": 0}, ConfigurationError),
        ({"failure_limit": 101}, ConfigurationError),
        ({"failure_limit": "5"}, TypeError),
        ({"throttle": object()}, TypeError),
        ({"namespace": ""}, ConfigurationError),
        ({"namespace": 5}, TypeError),
        ({"clock": "now"}, TypeError),
    ],
)
def test_totp_misuse(kwargs: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {"issuer": "Example", **kwargs}
    with pytest.raises(error):
        TOTP(MemoryStore(), **args)  # type: ignore[arg-type]


def test_totp_verify_misuse() -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    with pytest.raises(TypeError):
        TOTP("redis://", issuer="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        totp.verify(123456, secret=secret, user="alice", now=T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        totp.verify("123456", secret=secret, user=1, now=T0)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        totp.verify("123456", secret=secret, user="", now=T0)
    with pytest.raises(TypeError):
        totp.verify("123456", secret=secret, user="a", now=datetime(2026, 1, 1))  # noqa: DTZ001
    assert repr(totp) == "TOTP(issuer='Example', digits=6, period=30, algorithm='SHA1')"
    assert DEFAULT_FAILURE_LIMIT <= 100


# --- recovery codes -----------------------------------------------------------


def test_recovery_codes_single_use(store: Store) -> None:
    codes_box = RecoveryCodes(store)
    codes = codes_box.generate("alice")
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(c) == 23 and c.count("-") == 3 for c in codes)
    assert codes_box.remaining("alice") == 10
    codes_box.use(codes[0], user="alice")
    assert codes_box.remaining("alice") == 9
    with pytest.raises(MFAError) as info:
        codes_box.use(codes[0], user="alice")
    assert info.value.reason is MFAReason.USED_CODE
    with pytest.raises(MFAError) as info:
        codes_box.use(codes[1], user="bob")
    assert info.value.reason is MFAReason.INVALID_CODE


def test_recovery_codes_stored_only_hashed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "codes.db")
    box = RecoveryCodes(store)
    codes = box.generate("alice")
    dump = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"recovery:" in dump  # the scan can see stored keys at all
    for code in codes:
        assert code.replace("-", "").encode() not in dump
        assert code.encode() not in dump
    assert b"alice" not in dump
    # The store holds hashes: a fresh object on the same store still verifies.
    RecoveryCodes(store).use(codes[3], user="alice")


def test_regenerating_invalidates_old_codes() -> None:
    box = RecoveryCodes(MemoryStore(), count=3)
    old = box.generate("alice")
    new = box.generate("alice")
    with pytest.raises(MFAError) as info:
        box.use(old[0], user="alice")
    assert info.value.reason is MFAReason.INVALID_CODE
    box.use(new[0], user="alice")
    assert box.remaining("alice") == 2


def test_recovery_code_normalization() -> None:
    box = RecoveryCodes(MemoryStore(), count=1)
    (code,) = box.generate("alice")
    sloppy = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    box.use(sloppy, user="alice")


@pytest.mark.parametrize(
    "code", ["", "ABCDE", "U" * 20, "-" * 80, "ÄBCDEFGHJKMNPQRSTVWX", "A" * 21]
)
def test_malformed_recovery_codes(code: str) -> None:
    box = RecoveryCodes(MemoryStore())
    box.generate("alice")
    with pytest.raises(MFAError) as info:
        box.use(code, user="alice")
    assert info.value.reason is MFAReason.MALFORMED


def test_recovery_without_generation() -> None:
    box = RecoveryCodes(MemoryStore())
    assert box.remaining("nobody") == 0
    with pytest.raises(MFAError) as info:
        box.use("ABCDE-FGHJK-MNPQR-STVWX", user="nobody")
    assert info.value.reason is MFAReason.INVALID_CODE


def test_recovery_concurrent_use_succeeds_once(store: Store) -> None:
    box = RecoveryCodes(store, count=1)
    (code,) = box.generate("alice")
    results: list[str] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait()
        try:
            box.use(code, user="alice")
            results.append("ok")
        except MFAError as exc:
            results.append(exc.reason.value)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert results.count("used_code") == 5


@settings(max_examples=100, deadline=None)
@given(code=st.text(max_size=100))
def test_recovery_junk_raises_only_mfa_error(code: str) -> None:
    box = RecoveryCodes(MemoryStore(), count=1)
    box.generate("alice")
    with pytest.raises(MFAError):
        box.use(code, user="alice")


def test_recovery_misuse_and_leaks() -> None:
    with pytest.raises(TypeError):
        RecoveryCodes(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RecoveryCodes(MemoryStore(), count=0)
    with pytest.raises(TypeError):
        RecoveryCodes(MemoryStore(), count=True)
    box = RecoveryCodes(MemoryStore(), count=2)
    with pytest.raises(TypeError):
        box.use(None, user="alice")  # type: ignore[arg-type]
    codes = box.generate("alice")
    box.use(codes[0], user="alice")
    with pytest.raises(MFAError) as info:
        box.use(codes[0], user="alice")
    assert_no_leak(info.value, codes[0], codes[0].replace("-", ""))
    assert repr(box) == "RecoveryCodes(count=2, namespace='recovery')"


# --- regressions from the adversarial review ----------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_first_step_after_epoch_verifies_without_negative_counter() -> None:
    # The window's "-1" step at T = 0 used to reach HOTP as counter -1
    # and escape as a ValueError from cryptography.
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    now = EPOCH + timedelta(seconds=5)
    with pytest.raises(MFAError) as info:
        totp.verify(
            "000000" if totp.code(secret, now=now) != "000000" else "111111",
            secret=secret,
            user="alice",
            now=now,
        )
    assert info.value.reason is MFAReason.INVALID_CODE
    totp.verify(totp.code(secret, now=now), secret=secret, user="alice", now=now)


@pytest.mark.parametrize(
    "now",
    [
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime.min.replace(tzinfo=UTC),
    ],
)
def test_time_before_epoch_is_a_configuration_error(now: datetime) -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    with pytest.raises(ConfigurationError):
        totp.code(secret, now=now)
    with pytest.raises(ConfigurationError):
        totp.verify("123456", secret=secret, user="alice", now=now)


@pytest.mark.parametrize("wrap", [" {} ", "{}\n", "\t{}\r\n", "  {}"])
def test_whitespace_around_code_is_ignored(wrap: str) -> None:
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    totp.verify(wrap.format(totp.code(secret, now=T0)), secret=secret, user="alice", now=T0)


@pytest.mark.parametrize(
    "zero",
    [0xFF10, 0x0660, 0x06F0, 0x0966, 0x1D7CE],  # fullwidth, Arabic-Indic, ..., math bold
)
def test_unicode_digits_of_the_right_code_are_malformed(zero: int) -> None:
    translate = str.maketrans({str(d): chr(zero + d) for d in range(10)})
    totp = TOTP(MemoryStore(), issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    with pytest.raises(MFAError) as info:
        totp.verify(code.translate(translate), secret=secret, user="alice", now=T0)
    assert info.value.reason is MFAReason.MALFORMED
    # Nothing was consumed: the real code still works.
    totp.verify(code, secret=secret, user="alice", now=T0)


def test_non_ascii_secret_is_refused_not_case_folded() -> None:
    # "\u0131".upper() == "I": the secret must not decode via case folding.
    totp = TOTP(MemoryStore(), issuer="Example")
    with pytest.raises(ConfigurationError):
        totp.code("\u0131" * 32, now=T0)


def test_skew_beyond_window_refused_on_both_sides(store: Store) -> None:
    totp = TOTP(store, issuer="Example")
    secret = generate_totp_secret()
    for offset in (-2, 2, -10, 10):
        user = f"user{offset}"  # separate failure counters
        with pytest.raises(MFAError) as info:
            totp.verify(totp.code(secret, now=T0 + offset * STEP), secret=secret, user=user, now=T0)
        assert info.value.reason is MFAReason.INVALID_CODE


def test_replay_refused_at_every_later_step_of_the_window(store: Store) -> None:
    totp = TOTP(store, issuer="Example")
    secret = generate_totp_secret()
    code = totp.code(secret, now=T0)
    totp.verify(code, secret=secret, user="alice", now=T0)
    for later in (T0, T0 + timedelta(seconds=29), T0 + STEP):
        with pytest.raises(MFAError) as info:
            totp.verify(code, secret=secret, user="alice", now=later)
        assert info.value.reason is MFAReason.REPLAYED


def test_throttled_after_limit_even_with_the_right_code(store: Store) -> None:
    clock = FixedClock(T0)
    totp = TOTP(store, issuer="Example", failure_limit=5, clock=clock)
    secret = generate_totp_secret()
    good = totp.code(secret)
    bad = "000000" if good != "000000" else "111111"
    for _ in range(5):
        clock.advance(timedelta(minutes=2))  # past every progressive delay
        with pytest.raises(MFAError):
            totp.verify(bad, secret=secret, user="alice")
    clock.advance(timedelta(minutes=2))
    with pytest.raises(MFAError) as info:
        totp.verify(totp.code(secret), secret=secret, user="alice")
    assert info.value.reason is MFAReason.THROTTLED


def _code_with(codes: list[str], letters: str) -> str:
    return next(c for c in codes if any(ch in c for ch in letters))


def test_recovery_code_unicode_lookalikes_are_malformed() -> None:
    # "\u017f".upper() == "S" and "\u0131".upper() == "I" (read as 1).
    rc = RecoveryCodes(MemoryStore(), count=32)
    codes = rc.generate("alice")
    code = _code_with(codes, "S1")
    mangled = code.lower().replace("s", "\u017f").replace("1", "\u0131")
    with pytest.raises(MFAError) as info:
        rc.use(mangled, user="alice")
    assert info.value.reason is MFAReason.MALFORMED
    rc.use(code, user="alice")
