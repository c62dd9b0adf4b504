"""securekit.passwords: PasswordHasher (Argon2id, pepper, caps, equal cost) and misuse.

Every test uses cheap Argon2 parameters (acknowledged inside ``pytest.warns``)
except the few that check the defaults.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

import bcrypt
import pytest
from argon2.low_level import Type, hash_secret_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import securekit._password_formats as formats
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    PasswordReason,
    WeakPasswordError,
)
from securekit.keys import Algorithm, Key, KeyKind, KeyRing, KeyStatus
from securekit.passwords import (
    DEFAULT_PARAMETERS,
    MAX_PASSWORD_LENGTH,
    OWASP_MINIMUM,
    RFC_9106_HIGH_MEMORY,
    RFC_9106_LOW_MEMORY,
    Argon2Parameters,
    PasswordHasher,
    StoredHashLimits,
)
from tests._leak import assert_no_leak

#: Cheap parameters for tests only (64 KiB, one pass): far below the floor.
CHEAP = Argon2Parameters(time_cost=1, memory_cost=64, parallelism=1)


def make_cheap_hasher(
    *, parameters: Argon2Parameters = CHEAP, pepper: KeyRing | None = None
) -> PasswordHasher:
    """A hasher with cheap parameters, the weakening acknowledged."""
    with pytest.warns(InsecureConfigurationWarning):
        return PasswordHasher(
            parameters=parameters, pepper=pepper, insecure_allow_weak_parameters=True
        )


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return make_cheap_hasher()


@pytest.fixture(scope="module")
def pepper_ring() -> KeyRing:
    return KeyRing.generate("mac")


INSECURE_CALLS: dict[str, Callable[[], object]] = {
    "securekit.passwords.PasswordHasher.__init__:insecure_allow_weak_parameters": lambda: (
        PasswordHasher(parameters=CHEAP, insecure_allow_weak_parameters=True)
    ),
}


class ArgonSpy:
    """Records the (m, t, p) of every Argon2 computation in _password_formats."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int]] = []

    def __call__(self, secret: bytes, salt: bytes, **kw: Any) -> bytes:
        self.calls.append((kw["memory_cost"], kw["time_cost"], kw["parallelism"]))
        return self.real(secret, salt, **kw)

    real = staticmethod(hash_secret_raw)


@pytest.fixture
def argon_spy(monkeypatch: pytest.MonkeyPatch) -> ArgonSpy:
    spy = ArgonSpy()
    monkeypatch.setattr(formats, "hash_secret_raw", spy)
    return spy


# -- defaults ------------------------------------------------------------------


def test_default_parameters_meet_owasp_floor_and_rfc_9106_low_memory() -> None:
    hasher = PasswordHasher()
    params = hasher.parameters
    assert params is DEFAULT_PARAMETERS
    assert params.memory_cost >= 19 * 1024  # OWASP
    assert params.time_cost >= 2
    assert params.memory_cost >= 64 * 1024  # RFC 9106 section 4
    assert params.time_cost >= 3
    assert params.parallelism >= 1
    stored = hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert hasher.verify("correct horse battery staple", stored)
    assert not hasher.needs_rehash(stored)


def test_profiles_cite_their_values() -> None:
    assert (RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost) == (3, 65536)
    assert RFC_9106_LOW_MEMORY.parallelism == 4
    assert (RFC_9106_HIGH_MEMORY.time_cost, RFC_9106_HIGH_MEMORY.memory_cost) == (1, 2**21)
    assert (OWASP_MINIMUM.time_cost, OWASP_MINIMUM.memory_cost, OWASP_MINIMUM.parallelism) == (
        2,
        19456,
        1,
    )
    # OWASP minimum is exactly the floor: accepted without the insecure switch.
    PasswordHasher(parameters=OWASP_MINIMUM)


def test_weak_parameters_refused_without_switch() -> None:
    with pytest.raises(ConfigurationError, match="OWASP floor"):
        PasswordHasher(parameters=CHEAP)
    just_below = Argon2Parameters(time_cost=2, memory_cost=19455, parallelism=1)
    with pytest.raises(ConfigurationError):
        PasswordHasher(parameters=just_below)


def test_weak_parameters_warn_at_caller() -> None:
    with pytest.warns(InsecureConfigurationWarning) as record:
        PasswordHasher(parameters=CHEAP, insecure_allow_weak_parameters=True)
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"time_cost": 0, "memory_cost": 64, "parallelism": 1}, ConfigurationError),
        ({"time_cost": 1, "memory_cost": 7, "parallelism": 1}, ConfigurationError),
        ({"time_cost": 1, "memory_cost": 4096, "parallelism": 256}, ConfigurationError),
        ({"time_cost": 1, "memory_cost": 64, "parallelism": 1, "hash_len": 8}, ConfigurationError),
        ({"time_cost": 1, "memory_cost": 64, "parallelism": 1, "salt_len": 8}, ConfigurationError),
        ({"time_cost": True, "memory_cost": 64, "parallelism": 1}, TypeError),
        ({"time_cost": "1", "memory_cost": 64, "parallelism": 1}, TypeError),
    ],
)
def test_argon2_parameters_misuse(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Argon2Parameters(**kwargs)


def test_constructor_misuse(pepper_ring: KeyRing) -> None:
    with pytest.raises(TypeError):
        PasswordHasher(parameters="argon2id")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PasswordHasher(limits={"bcrypt_max_cost": 12})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PasswordHasher(pepper=b"k" * 32)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="mac"):
        PasswordHasher(pepper=KeyRing.generate("aead"))
    with pytest.raises(ConfigurationError):
        StoredHashLimits(bcrypt_max_cost=0)


def test_limits_never_below_own_parameters() -> None:
    hasher = PasswordHasher(limits=StoredHashLimits(argon2_max_memory_kib=1024))
    assert hasher.limits.argon2_max_memory_kib == DEFAULT_PARAMETERS.memory_cost
    assert hasher.verify("pw", hasher.hash("pw"))


def test_repr_has_no_secret(pepper_ring: KeyRing) -> None:
    hasher = make_cheap_hasher(pepper=pepper_ring)
    text = repr(hasher)
    assert "pepper=1 key(s)" in text
    assert pepper_ring.primary.material.hex() not in text
    assert "pepper=none" in repr(make_cheap_hasher())


# -- hash / verify ---------------------------------------------------------------


def test_hash_is_phc_argon2id_with_random_salt(hasher: PasswordHasher) -> None:
    one, two = hasher.hash("hunter2 hunter2"), hasher.hash("hunter2 hunter2")
    assert one != two
    assert one.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert hasher.verify("hunter2 hunter2", one)
    assert not hasher.verify("hunter2 hunter3", one)


def test_hash_refuses_oversized_input_before_work(
    hasher: PasswordHasher, argon_spy: ArgonSpy
) -> None:
    with pytest.raises(WeakPasswordError) as info:
        hasher.hash("a" * (MAX_PASSWORD_LENGTH + 1))
    assert info.value.reason is PasswordReason.TOO_LONG
    assert argon_spy.calls == []
    assert_no_leak(info.value, "a" * (MAX_PASSWORD_LENGTH + 1))
    # Exactly at the cap is fine; the cap counts code points, not bytes.
    assert hasher.verify("é" * MAX_PASSWORD_LENGTH, hasher.hash("é" * MAX_PASSWORD_LENGTH))


def test_verify_refuses_oversized_input_without_work(
    hasher: PasswordHasher, argon_spy: ArgonSpy
) -> None:
    stored = hasher.hash("x" * MAX_PASSWORD_LENGTH)
    argon_spy.calls.clear()
    assert not hasher.verify("x" * (MAX_PASSWORD_LENGTH + 1), stored)
    assert not hasher.verify("x" * 10_000_000, None)
    assert argon_spy.calls == []


def test_hash_misuse(hasher: PasswordHasher) -> None:
    with pytest.raises(TypeError):
        hasher.hash(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(WeakPasswordError) as info:
        hasher.hash("")
    assert info.value.reason is PasswordReason.TOO_SHORT
    with pytest.raises(WeakPasswordError) as info:
        hasher.hash("lone \ud800 surrogate")
    assert info.value.reason is PasswordReason.FORBIDDEN_CHARACTER


def test_verify_misuse(hasher: PasswordHasher) -> None:
    stored = hasher.hash("pw")
    with pytest.raises(TypeError):
        hasher.verify(b"pw", stored)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hasher.verify("pw", stored.encode())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hasher.needs_rehash(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hasher.verify_and_update(None, stored)  # type: ignore[arg-type]


def test_verify_lone_surrogate_is_false(hasher: PasswordHasher, argon_spy: ArgonSpy) -> None:
    stored = hasher.hash("pw")
    argon_spy.calls.clear()
    assert not hasher.verify("\udfff", stored)
    assert argon_spy.calls == [(64, 1, 1)]  # equal cost: one dummy verification


def test_unicode_nfkc_normalization(hasher: PasswordHasher) -> None:
    nfc = unicodedata.normalize("NFC", "Ångström café")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    stored = hasher.hash(nfc)
    assert hasher.verify(nfd, stored)
    # NFKC: the ligature and full-width forms are the same password.
    assert hasher.verify("ﬁne", hasher.hash("fine"))
    assert hasher.verify("\uff21\uff22\uff23", hasher.hash("ABC"))  # full-width ABC


def test_raw_form_fallback_for_pre_normalization_hashes(hasher: PasswordHasher) -> None:
    # A hash made by a system that did not normalize: argon2 over the raw NFD bytes.
    raw = unicodedata.normalize("NFD", "café au lait")
    legacy = _argon2_raw_hash(raw.encode(), CHEAP)
    assert hasher.verify(raw, legacy)
    ok, new = hasher.verify_and_update(raw, legacy)
    assert ok
    assert new is not None
    assert hasher.verify(unicodedata.normalize("NFC", raw), new)


def _argon2_raw_hash(secret: bytes, params: Argon2Parameters, *, key_id: int | None = None) -> str:
    salt = b"0123456789abcdef"
    tag = hash_secret_raw(
        secret,
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    return formats.encode_argon2(
        memory_cost=params.memory_cost,
        time_cost=params.time_cost,
        parallelism=params.parallelism,
        key_id=key_id,
        salt=salt,
        tag=tag,
    )


def test_verify_logs_reason_never_password(
    hasher: PasswordHasher, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cret-Password-value"  # pragma: allowlist secret
    with caplog.at_level(logging.INFO, logger="securekit.passwords"):
        assert not hasher.verify(secret, hasher.hash("other password"))
        assert not hasher.verify(secret, None)
        assert not hasher.verify(secret, "$md5$whatever")
    text = caplog.text
    assert "mismatch" in text
    assert "no_hash" in text
    assert "unsupported_hash" in text
    assert secret not in text


# -- equal cost (Django CVE-2024-39329 is the lesson) -------------------------


UNUSABLE = {
    "none": None,
    "empty": "",
    "django_unusable": "!Gs8ixk7vH2sFQn4hBG5S5Jxe39bnkPp0Yx2vm5W3",
    "malformed": "$argon2id$v=19$m=64,t=1,p=1$$",
    "unknown_format": "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
    "argon2d": "$argon2d$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$YWJjZGVmZ2hpamtsbW5vcGFiY2RlZmdoaWprbG1ub3A",
    "over_cap_memory": "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$YWJjZGVmZ2hpamtsbW5vcGFiY2RlZmdoaWprbG1ub3A",
    "over_cap_time": "$argon2id$v=19$m=64,t=1000000000,p=1$MDEyMzQ1Njc4OWFiY2RlZg$YWJjZGVmZ2hpamtsbW5vcGFiY2RlZmdoaWprbG1ub3A",
    "over_cap_bcrypt": "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "over_cap_pbkdf2": "pbkdf2_sha256$1000000000$seasalt2024$8mDeZ7hG6O9+45rM/x6zhY0KRDoJUuIXIPYGaiMKBjk=",
    "over_cap_scrypt": "scrypt:1073741824:8:1$PbVlnGoh8FMHJnZe$" + "00" * 64,
    "unknown_pepper_key": (
        "$argon2id$v=19$m=64,t=1,p=1,keyid=AAAAAQ$MDEyMzQ1Njc4OWFiY2RlZg"
        "$YWJjZGVmZ2hpamtsbW5vcGFiY2RlZmdoaWprbG1ub3A"
    ),
}


@pytest.mark.parametrize("stored", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_unusable_hash_costs_one_verification_at_own_parameters(
    hasher: PasswordHasher, argon_spy: ArgonSpy, stored: str | None
) -> None:
    real = hasher.hash("correct horse battery staple")
    argon_spy.calls.clear()
    assert not hasher.verify("wrong password", real)
    existing_user = list(argon_spy.calls)
    argon_spy.calls.clear()
    assert not hasher.verify("wrong password", stored)
    assert argon_spy.calls == existing_user == [(64, 1, 1)]


def test_over_cap_hashes_never_run_their_own_kdf(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a KDF ran with parameters above the cap")

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", forbidden)
    monkeypatch.setattr(hashlib, "scrypt", forbidden)
    monkeypatch.setattr(bcrypt, "checkpw", forbidden)
    for name in ("over_cap_bcrypt", "over_cap_pbkdf2", "over_cap_scrypt"):
        assert not hasher.verify("x", UNUSABLE[name])


def test_non_nfkc_password_costs_the_same_for_unknown_user(
    hasher: PasswordHasher, argon_spy: ArgonSpy
) -> None:
    # The raw-form fallback costs two verifications for an existing user; the
    # unknown-user path must match it, or timing reveals who exists.
    password = "ﬁ ligature password"  # pragma: allowlist secret
    real = hasher.hash("something else")
    argon_spy.calls.clear()
    hasher.verify(password, real)
    existing = len(argon_spy.calls)
    argon_spy.calls.clear()
    hasher.verify(password, None)
    assert existing == len(argon_spy.calls) == 2


def test_dummy_hash_is_computed_once(argon_spy: ArgonSpy) -> None:
    fresh = make_cheap_hasher()
    fresh.verify("a", None)
    dummy = fresh._dummy
    assert dummy is not None
    fresh.verify("a", "junk")
    assert fresh._dummy is dummy
    assert argon_spy.calls == [(64, 1, 1), (64, 1, 1)]


# -- needs_rehash / verify_and_update -----------------------------------------


def test_needs_rehash_false_after_hash_true_for_other_params(hasher: PasswordHasher) -> None:
    stored = hasher.hash("pw")
    assert not hasher.needs_rehash(stored)
    stronger = make_cheap_hasher(
        parameters=Argon2Parameters(time_cost=2, memory_cost=64, parallelism=1)
    )
    assert stronger.needs_rehash(stored)
    ok, new = stronger.verify_and_update("pw", stored)
    assert ok
    assert new is not None
    assert new.startswith("$argon2id$v=19$m=64,t=2,p=1$")
    assert stronger.verify_and_update("pw", new) == (True, None)
    assert hasher.needs_rehash("garbage")
    assert hasher.needs_rehash(_argon2_raw_hash(b"pw", CHEAP).replace("argon2id", "argon2i"))


def test_verify_and_update_failures(hasher: PasswordHasher) -> None:
    stored = hasher.hash("pw")
    assert hasher.verify_and_update("nope", stored) == (False, None)
    assert hasher.verify_and_update("pw", None) == (False, None)
    assert hasher.verify_and_update("pw", "junk") == (False, None)


def test_verify_and_update_empty_legacy_password_keeps_old_hash(hasher: PasswordHasher) -> None:
    # An old system accepted "": we verify it, but never hash an empty password.
    legacy = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"
    assert hasher.verify_and_update("", legacy) == (True, None)


def test_argon2i_and_version_16_migrate(hasher: PasswordHasher) -> None:
    salt = b"0123456789abcdef"
    for variant, name, version in (
        (Type.I, "argon2i", 19),
        (Type.ID, "argon2id", 16),
    ):
        tag = hash_secret_raw(
            b"pw",
            salt,
            time_cost=1,
            memory_cost=64,
            parallelism=1,
            hash_len=32,
            type=variant,
            version=version,
        )
        stored = (
            f"${name}$v={version}$m=64,t=1,p=1${formats.b64_phc_encode(salt)}"
            f"${formats.b64_phc_encode(tag)}"
        )
        assert hasher.verify("pw", stored)
        assert hasher.needs_rehash(stored)
        assert not hasher.verify("px", stored)


# -- pepper --------------------------------------------------------------------


def test_pepper_round_trip_and_key_id_in_hash(pepper_ring: KeyRing) -> None:
    peppered = make_cheap_hasher(pepper=pepper_ring)
    stored = peppered.hash("correct horse")
    key_b64 = formats.b64_phc_encode(pepper_ring.primary.id.to_bytes(4, "big"))
    assert f",keyid={key_b64}$" in stored
    assert peppered.verify("correct horse", stored)
    assert not peppered.verify("correct horsf", stored)
    assert not peppered.needs_rehash(stored)
    # Without the pepper the hash is useless (a leaked table alone is not enough).
    assert not make_cheap_hasher().verify("correct horse", stored)


def test_pepper_is_hmac_with_derived_key(pepper_ring: KeyRing) -> None:
    import hmac

    peppered = make_cheap_hasher(pepper=pepper_ring)
    stored = peppered.hash("pw")
    key = pepper_ring.primary.derive("password-pepper")
    mac = hmac.new(key, b"pw", hashlib.sha256).digest()
    parsed = formats.parse(stored, peppered.limits)
    assert isinstance(parsed, formats.Argon2Hash)
    assert parsed.check(mac)
    assert not parsed.check(b"pw")
    # The raw ring key is not used directly.
    assert not parsed.check(hmac.new(pepper_ring.primary.material, b"pw", hashlib.sha256).digest())


def test_pepper_rotation(pepper_ring: KeyRing) -> None:
    old = make_cheap_hasher(pepper=pepper_ring)
    stored = old.hash("pw")
    rotated_ring = pepper_ring.rotate()
    new = make_cheap_hasher(pepper=rotated_ring)
    assert new.verify("pw", stored)
    assert new.needs_rehash(stored)
    ok, upgraded = new.verify_and_update("pw", stored)
    assert ok
    assert upgraded is not None
    assert not new.needs_rehash(upgraded)
    # Once the old key is removed, old hashes are unusable (False, not an error).
    removed = make_cheap_hasher(pepper=rotated_ring.remove(pepper_ring.primary.id))
    assert not removed.verify("pw", stored)
    assert removed.verify("pw", upgraded)


def test_pepper_added_later_upgrades_plain_hashes(
    pepper_ring: KeyRing, hasher: PasswordHasher
) -> None:
    plain = hasher.hash("pw")
    peppered = make_cheap_hasher(pepper=pepper_ring)
    assert peppered.needs_rehash(plain)
    ok, new = peppered.verify_and_update("pw", plain)
    assert ok
    assert new is not None
    assert ",keyid=" in new


def test_pepper_specific_key() -> None:
    key = Key(
        id=7,
        kind=KeyKind.MAC,
        alg=Algorithm.HS256,
        status=KeyStatus.PRIMARY,
        material=bytes(range(32)),
    )
    peppered = make_cheap_hasher(pepper=KeyRing([key]))
    assert ",keyid=AAAABw$" in peppered.hash("pw")


# -- async ---------------------------------------------------------------------


def test_async_variants(hasher: PasswordHasher) -> None:
    async def run() -> tuple[bool, bool, tuple[bool, str | None]]:
        stored = await hasher.ahash("pw")
        return (
            await hasher.averify("pw", stored),
            await hasher.averify("px", stored),
            await hasher.averify_and_update("pw", stored),
        )

    assert asyncio.run(run()) == (True, False, (True, None))


# -- properties ------------------------------------------------------------------

PASSWORDS = st.text(min_size=1, max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=PASSWORDS)
def test_property_hash_then_verify(hasher: PasswordHasher, password: str) -> None:
    stored = hasher.hash(password)
    assert hasher.verify(password, stored)
    assert not hasher.needs_rehash(stored)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=PASSWORDS, data=st.data())
def test_property_one_character_change_is_false(
    hasher: PasswordHasher, password: str, data: st.DataObject
) -> None:
    stored = hasher.hash(password)
    index = data.draw(st.integers(0, len(password) - 1))
    replacement = data.draw(st.characters())
    changed = password[:index] + replacement + password[index + 1 :]
    if unicodedata.normalize("NFKC", changed) == unicodedata.normalize("NFKC", password):
        return  # the same password after normalization, by design
    assert not hasher.verify(changed, stored)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=PASSWORDS)
def test_property_nfc_and_nfd_verify(hasher: PasswordHasher, password: str) -> None:
    stored = hasher.hash(unicodedata.normalize("NFC", password))
    assert hasher.verify(unicodedata.normalize("NFD", password), stored)


HASHLIKE = st.one_of(
    st.none(),
    st.text(max_size=120),
    st.text(alphabet="$argon2idv=19mtpkey,0123456789ABCDEF/+:.abcdefXYZ", max_size=120),
    st.sampled_from([v for v in UNUSABLE.values() if v]).flatmap(
        lambda s: st.integers(0, len(s)).map(lambda i: s[:i] + s[i + 1 :])
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=st.text(max_size=30), stored=HASHLIKE)
def test_property_verify_never_raises(
    hasher: PasswordHasher, password: str, stored: str | None
) -> None:
    assert hasher.verify(password, stored) in {True, False}
    if stored is not None:
        assert hasher.needs_rehash(stored) in {True, False}
    ok, new = hasher.verify_and_update(password, stored)
    assert ok in {True, False}
    assert new is None or new.startswith("$argon2id$")
