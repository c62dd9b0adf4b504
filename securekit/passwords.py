"""Password hashing (Argon2id) and password policy (NIST SP 800-63B-4).

Use :class:`PasswordHasher` instead of argon2-cffi, bcrypt, passlib, pwdlib or
Django's hashers, and :class:`PasswordPolicy` to decide which new passwords to
accept.

Example:
    >>> from securekit.passwords import PasswordHasher, PasswordPolicy
    >>> hasher = PasswordHasher()
    >>> PasswordPolicy().check("correct horse battery staple", context=("alice",))
    >>> stored = hasher.hash("correct horse battery staple")
    >>> hasher.verify("correct horse battery staple", stored)
    True
    >>> hasher.verify("correct horse battery staple", None)  # unknown user: same cost
    False
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import http.client
import itertools
import logging
import re
import secrets
import ssl
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import timedelta
from importlib import resources
from typing import Final, Protocol, runtime_checkable
from urllib.parse import urlsplit

from argon2.low_level import Type, hash_secret_raw

from securekit._net import is_loopback
from securekit._password_formats import Argon2Hash, LegacyHash, encode_argon2, parse
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    PasswordReason,
    UnavailableError,
    WeakPasswordError,
)
from securekit.keys import KeyKind, KeyRing

__all__ = [
    "DEFAULT_CALIBRATION_TARGET",
    "DEFAULT_PARAMETERS",
    "MAX_PASSWORD_LENGTH",
    "MIN_LENGTH_SINGLE_FACTOR",
    "MIN_LENGTH_WITH_MFA",
    "OWASP_MINIMUM",
    "RFC_9106_HIGH_MEMORY",
    "RFC_9106_LOW_MEMORY",
    "Argon2Parameters",
    "BreachChecker",
    "OfflineBreachChecker",
    "PasswordHasher",
    "PasswordPolicy",
    "RangeAPIBreachChecker",
    "StoredHashLimits",
    "calibrate",
    "is_common_password",
]

_LOG = logging.getLogger("securekit.passwords")

#: Longest password accepted, in code points. NIST SP 800-63B-4 section 3.1.1.2
#: asks for at least 64; a cap stops multi-megabyte "passwords" from costing
#: CPU and memory (OWASP Password Storage Cheat Sheet, long-password DoS).
MAX_PASSWORD_LENGTH: Final = 1024
#: NIST SP 800-63B-4 section 3.1.1.2: at least 15 characters when a password is
#: the only authenticator.
MIN_LENGTH_SINGLE_FACTOR: Final = 15
#: NIST SP 800-63B-4 section 3.1.1.2: at least 8 when it is one factor of MFA;
#: never lower.
MIN_LENGTH_WITH_MFA: Final = 8
#: NIST SP 800-63B-4 section 3.1.1.2: verifiers SHOULD permit at least 64 characters.
_MIN_MAX_LENGTH: Final = 64
#: Context words shorter than this match too much innocent text to be useful.
_MIN_CONTEXT_WORD: Final = 4
#: Only the first 256 code points of a context value are used, and at most 32
#: values: the work stays linear in the password (Django CVE-2021-45115).
_MAX_CONTEXT_CHARS: Final = 256
_MAX_CONTEXT_ITEMS: Final = 32
#: The calibration target of ``securekit calibrate``: interactive logins stay
#: responsive (RFC 9106 section 4 uses 0.5 s as its example upper bound).
DEFAULT_CALIBRATION_TARGET: Final = timedelta(milliseconds=250)
#: RFC 9106 section 3.1: a 16-byte salt is RECOMMENDED for password hashing.
_DEFAULT_SALT_LEN: Final = 16
#: RFC 9106 section 4: a 256-bit (32-byte) tag.
_DEFAULT_HASH_LEN: Final = 32
#: Range-API request budget: a login form must not hang on a slow third party.
_BREACH_TIMEOUT_SECONDS: Final = 2.0
#: A real Pwned Passwords range (~800 to 1,000 padded lines) is about 40 KB.
_BREACH_MAX_RESPONSE_BYTES: Final = 512 * 1024
#: Calibration's default memory ceiling: 1 GiB, half of RFC 9106's first option.
_CALIBRATION_MAX_MEMORY_KIB: Final = 1024 * 1024
#: The HKDF purpose of the pepper subkey derived from each ``mac`` ring key.
_PEPPER_PURPOSE: Final = "password-pepper"


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Argon2Parameters:
    """Argon2id cost parameters for new hashes (RFC 9106 section 3.1).

    Attributes:
        time_cost: passes over memory (t).
        memory_cost: memory in KiB (m); at least ``8 * parallelism``.
        parallelism: lanes (p).
        hash_len: tag length in bytes (16 to 64).
        salt_len: random salt length in bytes (16 to 64; RFC 9106 section 3.1
            recommends 16).
    """

    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = _DEFAULT_HASH_LEN
    salt_len: int = _DEFAULT_SALT_LEN

    def __post_init__(self) -> None:
        for item in fields(self):
            _positive_int(getattr(self, item.name), item.name)
        if self.memory_cost < 8 * self.parallelism:
            raise ConfigurationError("memory_cost must be at least 8 * parallelism KiB (RFC 9106)")
        if self.parallelism > 255:
            raise ConfigurationError("parallelism above 255 lanes is not supported")
        if not 16 <= self.hash_len <= 64:
            raise ConfigurationError("hash_len must be 16 to 64 bytes")
        if not 16 <= self.salt_len <= 64:
            raise ConfigurationError("salt_len must be 16 to 64 bytes (RFC 9106 section 3.1)")


#: RFC 9106 section 4, second recommended option ("if much less memory is
#: available"): t=3, m=64 MiB, p=4. Also above the OWASP floor.
RFC_9106_LOW_MEMORY: Final = Argon2Parameters(time_cost=3, memory_cost=64 * 1024, parallelism=4)
#: RFC 9106 section 4, first recommended option: t=1, m=2 GiB, p=4.
RFC_9106_HIGH_MEMORY: Final = Argon2Parameters(
    time_cost=1, memory_cost=2 * 1024 * 1024, parallelism=4
)
#: OWASP Password Storage Cheat Sheet, Argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_MINIMUM: Final = Argon2Parameters(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: The default for new hashes: at or above both the OWASP floor and RFC 9106's
#: low-memory profile.
DEFAULT_PARAMETERS: Final = RFC_9106_LOW_MEMORY

#: OWASP Password Storage Cheat Sheet: equally strong Argon2id (m KiB, t)
#: pairs. Parameters below all of them are weak.
_OWASP_FLOOR: Final = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def _is_weak(parameters: Argon2Parameters) -> bool:
    return not any(
        parameters.memory_cost >= m and parameters.time_cost >= t for m, t in _OWASP_FLOOR
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredHashLimits:
    """Caps on the cost a *stored* hash may claim; above them it is unusable.

    The caps are checked before any work, so a hostile or corrupted hash that
    claims 4 GiB or 10^9 iterations costs one ordinary (dummy) verification.
    The Argon2 caps are raised automatically to the hasher's own parameters.

    Attributes:
        argon2_max_memory_kib: Argon2 m cap (default 256 MiB, 4x RFC 9106 low-memory).
        argon2_max_time_cost: Argon2 t cap.
        argon2_max_parallelism: Argon2 p cap.
        bcrypt_max_cost: bcrypt log2 rounds cap (OWASP recommends 10 or more).
        pbkdf2_max_iterations: PBKDF2 iterations cap (OWASP: 600,000 for
            PBKDF2-HMAC-SHA256; Django and Werkzeug write 1,000,000+).
        scrypt_max_memory_bytes: scrypt 128 * N * r cap.
        scrypt_max_parallelism: scrypt p cap.
        scrypt_max_work: scrypt N * r * p cap.
        max_hash_length: longest stored-hash string parsed at all.
    """

    argon2_max_memory_kib: int = 256 * 1024
    argon2_max_time_cost: int = 10
    argon2_max_parallelism: int = 16
    bcrypt_max_cost: int = 14
    pbkdf2_max_iterations: int = 2_000_000
    scrypt_max_memory_bytes: int = 256 * 1024 * 1024
    scrypt_max_parallelism: int = 16
    scrypt_max_work: int = 1 << 22
    max_hash_length: int = 512

    def __post_init__(self) -> None:
        for item in fields(self):
            _positive_int(getattr(self, item.name), item.name)


def _nfkc(password: str) -> str:
    # NIST SP 800-63B-4 section 3.1.1.2: normalize (NFKC or NFKD) before hashing,
    # so the same password typed on different keyboards verifies.
    return unicodedata.normalize("NFKC", password)


def _utf8(text: str) -> bytes | None:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be a typed password
        return None


class PasswordHasher:
    """Hash passwords with Argon2id; verify and upgrade older hashes.

    New hashes are always Argon2id PHC strings. Hashes from bcrypt, Django,
    Werkzeug and passlib, and Argon2 hashes with other parameters, are verified
    for migration and upgraded on login (:meth:`verify_and_update`).

    Args:
        parameters: Argon2id parameters for new hashes (default
            :data:`RFC_9106_LOW_MEMORY`).
        pepper: an optional ``mac`` :class:`~securekit.keys.KeyRing`. The
            password is first HMAC-SHA256'd with a per-purpose subkey of the
            primary key; the key id goes into the hash (PHC ``keyid``) so the
            pepper can rotate.
        limits: caps on the parameters a stored hash may claim.
        insecure_allow_weak_parameters: allow parameters below the OWASP floor.
            Danger: weak parameters make offline guessing of a leaked hash
            cheap; use only for tests.

    Raises:
        ConfigurationError: weak parameters without the insecure switch, or a
            pepper ring that is not a ``mac`` ring.
    """

    __slots__ = ("_dummy", "_lock", "_params", "_pepper_keys", "_pepper_primary", "limits")

    def __init__(
        self,
        *,
        parameters: Argon2Parameters = DEFAULT_PARAMETERS,
        pepper: KeyRing | None = None,
        limits: StoredHashLimits | None = None,
        insecure_allow_weak_parameters: bool = False,
    ) -> None:
        if not isinstance(parameters, Argon2Parameters):
            raise TypeError("parameters must be an Argon2Parameters")
        if _is_weak(parameters):
            if not insecure_allow_weak_parameters:
                raise ConfigurationError(
                    "Argon2id parameters are below the OWASP floor (m=19 MiB, t=2, p=1 or an "
                    "equivalent pair); use RFC_9106_LOW_MEMORY or pass "
                    "insecure_allow_weak_parameters=True in tests"
                )
            warnings.warn(
                "PasswordHasher uses Argon2id parameters below the OWASP floor",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
        base = limits if limits is not None else StoredHashLimits()
        if not isinstance(base, StoredHashLimits):
            raise TypeError("limits must be a StoredHashLimits")
        # Our own hashes must always stay within the caps.
        self.limits: StoredHashLimits = StoredHashLimits(
            **{
                **{item.name: getattr(base, item.name) for item in fields(base)},
                "argon2_max_memory_kib": max(base.argon2_max_memory_kib, parameters.memory_cost),
                "argon2_max_time_cost": max(base.argon2_max_time_cost, parameters.time_cost),
                "argon2_max_parallelism": max(base.argon2_max_parallelism, parameters.parallelism),
            }
        )
        self._params = parameters
        self._pepper_keys: dict[int, bytes] = {}
        self._pepper_primary: int | None = None
        if pepper is not None:
            if not isinstance(pepper, KeyRing):
                raise TypeError("pepper must be a securekit.keys.KeyRing")
            if pepper.kind is not KeyKind.MAC:
                raise ConfigurationError(
                    "the pepper must be a 'mac' key ring (KeyRing.generate('mac'))"
                )
            self._pepper_keys = {key.id: key.derive(_PEPPER_PURPOSE) for key in pepper}
            self._pepper_primary = pepper.primary.id
        self._dummy: Argon2Hash | None = None
        self._lock = threading.Lock()

    @property
    def parameters(self) -> Argon2Parameters:
        """The Argon2id parameters of new hashes."""
        return self._params

    def __repr__(self) -> str:
        p = self._params
        pepper = "none" if self._pepper_primary is None else f"{len(self._pepper_keys)} key(s)"
        return (
            f"PasswordHasher(m={p.memory_cost}, t={p.time_cost}, p={p.parallelism}, "
            f"pepper={pepper})"
        )

    # -- hashing -------------------------------------------------------------

    def _secret(self, normalized: bytes, key_id: int | None) -> bytes:
        if key_id is None:
            return normalized
        # The pepper: HMAC-SHA256 under a subkey that lives outside the database,
        # so a leaked table alone cannot be attacked offline.
        return hmac.new(self._pepper_keys[key_id], normalized, hashlib.sha256).digest()

    def _new_hash(self, secret_source: bytes) -> str:
        p = self._params
        salt = secrets.token_bytes(p.salt_len)
        key_id = self._pepper_primary
        tag = hash_secret_raw(
            self._secret(secret_source, key_id),
            salt,
            time_cost=p.time_cost,
            memory_cost=p.memory_cost,
            parallelism=p.parallelism,
            hash_len=p.hash_len,
            type=Type.ID,
        )
        return encode_argon2(
            memory_cost=p.memory_cost,
            time_cost=p.time_cost,
            parallelism=p.parallelism,
            key_id=key_id,
            salt=salt,
            tag=tag,
        )

    def hash(self, password: str) -> str:
        """Hash a password with Argon2id; return the PHC string to store.

        The password is normalized to NFKC first.

        Args:
            password: the password (at most :data:`MAX_PASSWORD_LENGTH` code points).

        Returns:
            ``$argon2id$v=19$m=...,t=...,p=...[,keyid=...]$<salt>$<tag>``.

        Raises:
            TypeError: ``password`` is not a ``str``.
            WeakPasswordError: empty (``too_short``), over the length cap
                (``too_long``), or containing lone surrogates
                (``forbidden_character``); checked before any hashing.
        """
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise WeakPasswordError(PasswordReason.TOO_LONG)
        if not password:
            raise WeakPasswordError(PasswordReason.TOO_SHORT)
        encoded = _utf8(_nfkc(password))
        if encoded is None:
            raise WeakPasswordError(PasswordReason.FORBIDDEN_CHARACTER)
        return self._new_hash(encoded)

    # -- verifying -----------------------------------------------------------

    def _dummy_hash(self) -> Argon2Hash:
        # Computed once, lazily, at this hasher's parameters: the equal-cost
        # path for unknown users and unusable hashes (Django CVE-2024-39329).
        with self._lock:
            if self._dummy is None:
                parsed = parse(self._new_hash(secrets.token_bytes(16)), self.limits)
                if not isinstance(parsed, Argon2Hash):  # pragma: no cover - we wrote it
                    raise RuntimeError("internal error: the dummy hash does not parse")
                self._dummy = parsed
            return self._dummy

    def _burn(self, candidate: bytes, attempts: int) -> None:
        dummy = self._dummy_hash()
        for _ in range(attempts):
            dummy.check(self._secret(candidate, self._pepper_primary))

    def _fail(self, reason: PasswordReason) -> tuple[bool, bool]:
        _LOG.info("password not verified: %s", reason.value)
        return False, False

    def _verify(self, password: str, stored_hash: str | None) -> tuple[bool, bool]:
        """Return (matched, matched only in the raw, un-normalized form)."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        if stored_hash is not None and not isinstance(stored_hash, str):
            raise TypeError("stored_hash must be a str or None")
        if len(password) > MAX_PASSWORD_LENGTH:
            # Depends only on the input, not on the account: no work at all.
            return self._fail(PasswordReason.TOO_LONG)
        normalized = _utf8(_nfkc(password))
        raw = _utf8(password)
        if normalized is None or raw is None:
            self._burn(b"", 1)
            return self._fail(PasswordReason.FORBIDDEN_CHARACTER)
        # Hashes made before normalization (imported ones) may need the raw form.
        forms = [normalized] if raw == normalized else [normalized, raw]
        dummy_attempts = 1 if self._pepper_primary is not None else len(forms)
        if stored_hash is None:
            self._burn(normalized, dummy_attempts)
            return self._fail(PasswordReason.NO_HASH)
        parsed = parse(stored_hash, self.limits)
        if isinstance(parsed, PasswordReason):
            self._burn(normalized, dummy_attempts)
            return self._fail(parsed)
        key_id: int | None = None
        if isinstance(parsed, Argon2Hash) and parsed.key_id is not None:
            if parsed.key_id not in self._pepper_keys:
                self._burn(normalized, dummy_attempts)
                return self._fail(PasswordReason.UNKNOWN_KEY)
            key_id = parsed.key_id
            # A peppered hash was made by us, after normalization.
            forms = [normalized]
        for index, form in enumerate(forms):
            if parsed.check(self._secret(form, key_id)):
                return True, index > 0
        return self._fail(PasswordReason.MISMATCH)

    def verify(self, password: str, stored_hash: str | None) -> bool:
        """Return True when ``password`` matches ``stored_hash``.

        Never raises for ``str``/``None`` arguments: a wrong password, a
        malformed, unknown, unusable or over-capped hash all give False and
        log a reason (never the password) on the ``securekit.passwords``
        logger. ``stored_hash=None`` (unknown user), unusable and malformed
        hashes cost one Argon2id verification at this hasher's parameters,
        like a real one, so timing does not reveal which case happened.

        Args:
            password: the submitted password.
            stored_hash: the stored hash, or None when the user does not exist.

        Raises:
            TypeError: an argument is not a ``str`` (or None for ``stored_hash``).
        """
        return self._verify(password, stored_hash)[0]

    def _needs_rehash(self, parsed: Argon2Hash | LegacyHash | PasswordReason) -> bool:
        if not isinstance(parsed, Argon2Hash) or parsed.scheme != "argon2":
            return True
        p = self._params
        return (
            parsed.variant is not Type.ID
            or parsed.version != 19
            or parsed.memory_cost != p.memory_cost
            or parsed.time_cost != p.time_cost
            or parsed.parallelism != p.parallelism
            or len(parsed.tag) != p.hash_len
            or len(parsed.salt) < p.salt_len
            or parsed.key_id != self._pepper_primary
        )

    def needs_rehash(self, stored_hash: str) -> bool:
        """Return True unless ``stored_hash`` is Argon2id at the current settings.

        True for other algorithms, other parameters, a pepper key that is not
        the primary (or a pepper added or removed), and unusable hashes.

        Raises:
            TypeError: ``stored_hash`` is not a ``str``.
        """
        if not isinstance(stored_hash, str):
            raise TypeError("stored_hash must be a str")
        return self._needs_rehash(parse(stored_hash, self.limits))

    def verify_and_update(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Verify, and return a new hash when the stored one is out of date.

        Args:
            password: the submitted password.
            stored_hash: the stored hash, or None for an unknown user.

        Returns:
            ``(False, None)`` on failure; ``(True, None)`` when the hash is
            current; ``(True, new_hash)`` when the caller should store
            ``new_hash`` (older algorithm or parameters, rotated pepper, or a
            hash made before NFKC normalization).
        """
        ok, raw_only = self._verify(password, stored_hash)
        if not ok or stored_hash is None:
            return False, None
        if not raw_only and not self._needs_rehash(parse(stored_hash, self.limits)):
            return True, None
        try:
            return True, self.hash(password)
        except WeakPasswordError:  # an old system accepted an empty password
            return True, None

    async def ahash(self, password: str) -> str:
        """:meth:`hash` in a worker thread (argon2-cffi releases the GIL)."""
        return await asyncio.to_thread(self.hash, password)

    async def averify(self, password: str, stored_hash: str | None) -> bool:
        """:meth:`verify` in a worker thread."""
        return await asyncio.to_thread(self.verify, password, stored_hash)

    async def averify_and_update(
        self, password: str, stored_hash: str | None
    ) -> tuple[bool, str | None]:
        """:meth:`verify_and_update` in a worker thread."""
        return await asyncio.to_thread(self.verify_and_update, password, stored_hash)


# -- calibration ----------------------------------------------------------------


def _measure(parameters: Argon2Parameters) -> float:
    start = time.perf_counter()
    hash_secret_raw(
        b"calibration password",
        b"calibration salt",
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_cost,
        parallelism=parameters.parallelism,
        hash_len=parameters.hash_len,
        type=Type.ID,
    )
    return time.perf_counter() - start


def calibrate(
    *,
    target: timedelta = DEFAULT_CALIBRATION_TARGET,
    parallelism: int = RFC_9106_LOW_MEMORY.parallelism,
    max_memory_kib: int = _CALIBRATION_MAX_MEMORY_KIB,
    timer: Callable[[Argon2Parameters], float] | None = None,
) -> tuple[Argon2Parameters, float]:
    """Find Argon2id parameters that take about ``target`` on this machine.

    Follows RFC 9106 section 4: raise memory first (up to ``max_memory_kib``),
    then passes. Never returns less than :data:`RFC_9106_LOW_MEMORY` in
    memory and passes.

    Args:
        target: the time one hash may take.
        parallelism: lanes (p); the number of cores you can spare per login.
        max_memory_kib: the most memory one hash may use.
        timer: measures one hash in seconds (default: really hashes).

    Returns:
        The parameters and the seconds their last measurement took.

    Raises:
        ConfigurationError: a non-positive target or parallelism, or a memory
            limit below the floor.
    """
    if not isinstance(target, timedelta):
        raise TypeError("target must be a timedelta")
    if target <= timedelta(0):
        raise ConfigurationError("target must be positive")
    _positive_int(parallelism, "parallelism")
    _positive_int(max_memory_kib, "max_memory_kib")
    floor = RFC_9106_LOW_MEMORY
    if max_memory_kib < floor.memory_cost:
        raise ConfigurationError(f"max_memory_kib must be at least {floor.memory_cost} (64 MiB)")
    measure = timer or _measure
    seconds = target.total_seconds()
    params = Argon2Parameters(
        time_cost=floor.time_cost, memory_cost=floor.memory_cost, parallelism=parallelism
    )
    # Bounded: memory doubles at most log2(max/floor) times, passes grow to 10.
    while True:
        took = measure(params)
        if took >= seconds:
            return params, took
        if params.memory_cost * 2 <= max_memory_kib:
            params = Argon2Parameters(
                time_cost=params.time_cost,
                memory_cost=params.memory_cost * 2,
                parallelism=parallelism,
            )
        elif params.time_cost < StoredHashLimits().argon2_max_time_cost:
            params = Argon2Parameters(
                time_cost=params.time_cost + 1,
                memory_cost=params.memory_cost,
                parallelism=parallelism,
            )
        else:
            return params, took


# -- policy -----------------------------------------------------------------------

_BLOCKLIST_LOCK = threading.Lock()
_BLOCKLIST: frozenset[str] | None = None


def _blocklist() -> frozenset[str]:
    global _BLOCKLIST  # noqa: PLW0603 - loaded once, lazily, then shared read-only
    with _BLOCKLIST_LOCK:
        if _BLOCKLIST is None:
            data = resources.files("securekit").joinpath("data/common-passwords.txt.gz")
            text = gzip.decompress(data.read_bytes()).decode("utf-8")
            _BLOCKLIST = frozenset(line for line in text.split("\n") if line)
        return _BLOCKLIST


def _fold(text: str) -> str:
    # NFKC + case folding, then NFKC again (folding can denormalize).
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_common_password(password: str) -> bool:
    """Return True when ``password`` is on the bundled common-password list.

    The comparison is on the whole password after NFKC + case folding; the
    list (19,640 entries, from Django, BSD licence) is described in
    ``securekit/data/README.md``.

    Raises:
        TypeError: ``password`` is not a ``str``.
    """
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    if len(password) > MAX_PASSWORD_LENGTH:
        return False  # longer than any entry
    return _fold(password) in _blocklist()


@runtime_checkable
class BreachChecker(Protocol):
    """Something that says whether a password appears in known breaches."""

    def is_breached(self, password: str) -> bool:
        """Return True when ``password`` is known to be breached.

        Raises:
            UnavailableError: the checker could not answer (fail closed).
        """
        ...  # pragma: no cover


class OfflineBreachChecker:
    """The offline default: the bundled list plus your own entries.

    Args:
        passwords: extra known-breached passwords (compared after NFKC + case folding).
        sha1_hashes: extra known-breached SHA-1 hashes (hex, of the UTF-8
            password as typed), e.g. an offline copy of a range-API corpus.
    """

    __slots__ = ("_extra", "_sha1")

    def __init__(self, *, passwords: Iterable[str] = (), sha1_hashes: Iterable[str] = ()) -> None:
        self._extra = frozenset(_fold(p) for p in passwords)
        sha1 = set()
        for digest in sha1_hashes:
            if not re.fullmatch(r"[0-9A-Fa-f]{40}", digest):
                raise ConfigurationError("sha1_hashes must be 40 hex digits each")
            sha1.add(digest.upper())
        self._sha1 = frozenset(sha1)

    def is_breached(self, password: str) -> bool:
        """Return True when ``password`` is on the bundled list or the extra entries."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        folded = _fold(password)
        if folded in _blocklist() or folded in self._extra:
            return True
        raw = _utf8(password)
        if raw is None:
            return False
        # Published breach lists (HIBP format) are indexed by SHA-1 of the password.
        sha1 = hashlib.sha1(raw, usedforsecurity=False)  # reviewed: breach-list index, not a hash
        return sha1.hexdigest().upper() in self._sha1


_RANGE_LINE = re.compile(r"([0-9A-Fa-f]{35}):([0-9]{1,10})")


def _range_match(body: str, suffix: str, min_count: int) -> bool | None:
    """Return whether ``suffix`` is listed at least ``min_count`` times; None if malformed."""
    found = False
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        match = _RANGE_LINE.fullmatch(stripped)
        if match is None:
            return None
        # Padding entries have count 0 and never match (min_count >= 1).
        if match.group(1).upper() == suffix and int(match.group(2)) >= min_count:
            found = True
    return found


class RangeAPIBreachChecker:
    """Breach check with the k-anonymity range model (Pwned Passwords API).

    Only the first 5 hex digits of the password's SHA-1 leave the machine
    (``GET <base_url>/range/<prefix>``); the service answers with every
    ``SUFFIX:COUNT`` line under that prefix and the match happens locally.
    Padding entries (count 0, ``Add-Padding: true``) are ignored.

    Fails closed: a timeout, an error status, an oversized or malformed
    answer raises :class:`~securekit.errors.UnavailableError`, so a signup
    is refused rather than accepting an unchecked password.

    Args:
        base_url: e.g. ``"https://api.pwnedpasswords.com"``; HTTPS, or plain
            HTTP to a loopback address (tests, a local mirror).
        timeout: seconds for the whole request.
        max_response_bytes: larger answers are an error (a real range is ~40 KB).
        min_count: a suffix seen at least this often counts as breached.
        insecure_fail_open: answer "not breached" when the service fails.
            Danger: an outage or an attacker blocking the service then
            silently disables the check.

    Raises:
        ConfigurationError: a base URL that is not HTTPS (or loopback HTTP),
            or carries credentials, a query or a fragment.
    """

    __slots__ = (
        "_fail_open",
        "_host",
        "_https",
        "_max",
        "_min_count",
        "_path",
        "_port",
        "_timeout",
    )

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = _BREACH_TIMEOUT_SECONDS,
        max_response_bytes: int = _BREACH_MAX_RESPONSE_BYTES,
        min_count: int = 1,
        insecure_fail_open: bool = False,
    ) -> None:
        if not isinstance(base_url, str):
            raise TypeError("base_url must be a str")
        try:
            parts = urlsplit(base_url)
            port = parts.port
        except ValueError:
            raise ConfigurationError("base_url is not a valid URL") from None
        host = parts.hostname or ""
        if parts.scheme not in {"https", "http"} or not host:
            raise ConfigurationError("base_url must be an https:// URL")
        if parts.scheme == "http" and not is_loopback(host):
            raise ConfigurationError("base_url must use https:// (plain http only to loopback)")
        if parts.username is not None or parts.query or parts.fragment:
            raise ConfigurationError("base_url must not carry credentials, a query or a fragment")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout > 0:
            raise ConfigurationError("timeout must be a positive number of seconds")
        _positive_int(max_response_bytes, "max_response_bytes")
        _positive_int(min_count, "min_count")
        if insecure_fail_open:
            warnings.warn(
                "RangeAPIBreachChecker fails open: outages disable the breach check",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
        self._https = parts.scheme == "https"
        self._host = host
        self._port = port
        self._path = parts.path.rstrip("/")
        self._timeout = float(timeout)
        self._max = max_response_bytes
        self._min_count = min_count
        self._fail_open = insecure_fail_open

    def __repr__(self) -> str:
        scheme = "https" if self._https else "http"
        return f"RangeAPIBreachChecker({scheme}://{self._host}{self._path})"

    def _fetch(self, prefix: str) -> bytes:
        deadline = time.monotonic() + self._timeout
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.request(
                "GET",
                f"{self._path}/range/{prefix}",
                headers={"Add-Padding": "true", "User-Agent": "securekit"},
            )
            response = conn.getresponse()
            if response.status != 200:
                raise OSError("unexpected status")
            body = bytearray()
            while True:
                # The overall deadline stops a server that drips bytes slowly.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("breach check timed out")
                if conn.sock is not None:
                    conn.sock.settimeout(remaining)
                chunk = response.read(min(65536, self._max + 1 - len(body)))
                if not chunk:
                    return bytes(body)
                body += chunk
                if len(body) > self._max:
                    raise OSError("response too large")
        finally:
            conn.close()

    def _lookup(self, raw: bytes) -> bool:
        digest = (
            hashlib.sha1(raw, usedforsecurity=False).hexdigest().upper()
        )  # reviewed: SHA-1 is the k-anonymity range API's index format, not a password hash
        prefix, suffix = digest[:5], digest[5:]
        try:
            found = _range_match(self._fetch(prefix).decode("ascii"), suffix, self._min_count)
        except (OSError, http.client.HTTPException, ValueError):
            found = None
        if found is None:
            if self._fail_open:
                _LOG.warning("breached-password service failed; failing open (insecure)")
                return False
            _LOG.warning("breached-password service failed; failing closed")
            raise UnavailableError("the breached-password service is unavailable") from None
        return found

    def is_breached(self, password: str) -> bool:
        """Return True when the password (as typed, or its NFKC form) is in a breach.

        Raises:
            UnavailableError: the service failed (unless failing open).
        """
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        forms: list[bytes] = []
        for form in (password, _nfkc(password)):
            encoded = _utf8(form)
            if encoded is not None and encoded not in forms:
                forms.append(encoded)
        return any(self._lookup(form) for form in forms)


_CONTROL = frozenset({"Cc", "Cs"})
_WORD = re.compile(r"[^\W_]+")


def _repetitive(text: str) -> bool:
    # A repeated unit ("aaaa...", "abcabc...", "passwordpassword") or a run
    # with a constant step of +-1 ("abcdef...", "987654..."): NIST SP 800-63B-4
    # lists both as blocklist material. A string is a repetition of a shorter
    # unit exactly when it occurs inside its own doubling before offset n.
    n = len(text)
    if n >= 2 and (text + text).find(text, 1) < n:
        return True
    if n >= 3:
        step = ord(text[1]) - ord(text[0])
        if step in {1, -1} and all(ord(text[i]) - ord(text[i - 1]) == step for i in range(2, n)):
            return True
    return False


def _context_words(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        raise TypeError("context must be an iterable of str, not a str")
    words: list[str] = []
    # islice: a huge or endless iterable is never materialized.
    items = list(itertools.islice(values, _MAX_CONTEXT_ITEMS + 1))
    if len(items) > _MAX_CONTEXT_ITEMS:
        raise ConfigurationError(f"at most {_MAX_CONTEXT_ITEMS} context values are supported")
    for value in items:
        if not isinstance(value, str):
            raise TypeError("context values must be str")
        folded = _fold(value[:_MAX_CONTEXT_CHARS])
        candidates = [folded, folded.split("@", 1)[0], *_WORD.findall(folded)]
        words.extend(w for w in candidates if len(w) >= _MIN_CONTEXT_WORD)
    return words


class PasswordPolicy:
    """Which new passwords to accept (NIST SP 800-63B-4, OWASP ASVS 5.0 V6.2).

    Length in code points after NFKC, no composition rules, a whole-password
    blocklist of common passwords, context words (user name, email local
    part, service name), repetitive or sequential strings, and a pluggable
    breach check. All checks are linear in the password (Django
    CVE-2021-45115).

    Args:
        min_length: minimum length (default 15; 8 with ``used_with_mfa``).
        max_length: maximum length (64 to :data:`MAX_PASSWORD_LENGTH`).
        used_with_mfa: the password is only ever one factor of MFA, so
            NIST's minimum of 8 applies instead of 15.
        service_words: words naming your service (always context).
        breach_checker: the breach check (default: :class:`OfflineBreachChecker`).

    Raises:
        ConfigurationError: a minimum below 8 (or below 15 without
            ``used_with_mfa``), or a maximum below 64.
    """

    __slots__ = ("_breach", "_service", "max_length", "min_length")

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int = MAX_PASSWORD_LENGTH,
        used_with_mfa: bool = False,
        service_words: Iterable[str] = (),
        breach_checker: BreachChecker | None = None,
    ) -> None:
        floor = MIN_LENGTH_WITH_MFA if used_with_mfa else MIN_LENGTH_SINGLE_FACTOR
        minimum = floor if min_length is None else _positive_int(min_length, "min_length")
        if minimum < floor:
            hint = "" if used_with_mfa else " (8 only with used_with_mfa=True)"
            raise ConfigurationError(
                f"min_length must be at least {floor} (NIST SP 800-63B-4 section 3.1.1.2){hint}"
            )
        _positive_int(max_length, "max_length")
        if not _MIN_MAX_LENGTH <= max_length <= MAX_PASSWORD_LENGTH:
            raise ConfigurationError(
                f"max_length must be {_MIN_MAX_LENGTH} to {MAX_PASSWORD_LENGTH} "
                "(NIST SP 800-63B-4: allow at least 64)"
            )
        if minimum > max_length:
            raise ConfigurationError("min_length must not exceed max_length")
        checker = breach_checker if breach_checker is not None else OfflineBreachChecker()
        if not isinstance(checker, BreachChecker):
            raise TypeError("breach_checker must have an is_breached(password) method")
        self.min_length: int = minimum
        self.max_length: int = max_length
        self._service = tuple(_context_words(service_words))
        self._breach = checker

    def evaluate(self, password: str, *, context: Iterable[str] = ()) -> tuple[PasswordReason, ...]:
        """Return every reason the password is refused (empty when accepted).

        The breach checker is asked only when nothing else failed.

        Args:
            password: the candidate password.
            context: user-specific words (user name, email, display name).

        Raises:
            TypeError: wrong argument types.
            UnavailableError: the breach checker could not answer.
        """
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        words = [*self._service, *_context_words(context)]
        # The cap comes first: nothing below runs on an oversized input.
        if len(password) > self.max_length:
            return (PasswordReason.TOO_LONG,)
        normalized = _nfkc(password)
        reasons: list[PasswordReason] = []
        if len(normalized) > self.max_length:
            reasons.append(PasswordReason.TOO_LONG)
        elif len(normalized) < self.min_length:
            reasons.append(PasswordReason.TOO_SHORT)
        if any(unicodedata.category(ch) in _CONTROL for ch in normalized):
            # Control characters and lone surrogates cannot be typed reliably.
            return (*reasons, PasswordReason.FORBIDDEN_CHARACTER)
        folded = _fold(normalized)
        if _repetitive(folded):
            reasons.append(PasswordReason.REPETITIVE)
        if folded in _blocklist():
            reasons.append(PasswordReason.COMMON)
        if any(word in folded for word in words):
            reasons.append(PasswordReason.CONTEXT)
        if not reasons and self._breach.is_breached(password):
            reasons.append(PasswordReason.BREACHED)
        return tuple(reasons)

    def check(self, password: str, *, context: Iterable[str] = ()) -> None:
        """Accept the password or raise with the first reason.

        Args:
            password: the candidate password.
            context: user-specific words (user name, email, display name).

        Raises:
            WeakPasswordError: refused; ``reason`` is a
                :class:`~securekit.errors.PasswordReason` a UI can explain.
            UnavailableError: the breach checker could not answer.
        """
        reasons = self.evaluate(password, context=context)
        if reasons:
            raise WeakPasswordError(reasons[0])
