"""Second factors: TOTP (RFC 6238) with a replay guard, and recovery codes.

:class:`TOTP` verifies authenticator-app codes with a +/-1 step window,
constant-time comparison, a per-account failure counter in the shared store,
and refuses a time step that was already used, or any step older than the
last accepted one (RFC 6238 section 5.2).
:class:`RecoveryCodes` issues single-use backup codes that are shown once
and stored only as hashes.

Example:
    >>> from securekit.stores import MemoryStore
    >>> totp = TOTP(MemoryStore(), issuer="Example")
    >>> secret = generate_totp_secret()
    >>> uri = totp.provisioning_uri(secret, account="alice@example.com")
    >>> totp.verify(totp.code(secret), secret=secret, user="alice")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import urllib.parse
from datetime import datetime, timedelta
from typing import Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor.hotp import HOTP

from securekit._clock import Clock, resolve, system_clock
from securekit.errors import (
    ConfigurationError,
    MFAError,
    MFAReason,
    RateLimitedError,
)
from securekit.ratelimit import LoginThrottle
from securekit.stores import PenaltyRule, Store

__all__ = [
    "DEFAULT_FAILURE_LIMIT",
    "DEFAULT_RECOVERY_CODE_COUNT",
    "DEFAULT_TOTP_ALGORITHM",
    "DEFAULT_TOTP_DIGITS",
    "DEFAULT_TOTP_PERIOD",
    "DEFAULT_TOTP_SECRET_BYTES",
    "DEFAULT_TOTP_WINDOW",
    "MIN_TOTP_SECRET_BYTES",
    "TOTP",
    "RecoveryCodes",
    "generate_totp_secret",
]

Algorithm = Literal["SHA1", "SHA256", "SHA512"]

#: HMAC-SHA1: what every authenticator app supports; RFC 6238 section 1.2
#: also allows SHA-256 and SHA-512 (HOTP's HMAC-SHA1 use is not affected by
#: SHA-1 collisions, RFC 4226 appendix A.4).
DEFAULT_TOTP_ALGORITHM: Final[Algorithm] = "SHA1"
#: Six digits: the authenticator-app default (RFC 4226 section 5.3, RFC 6238).
DEFAULT_TOTP_DIGITS: Final = 6
#: Time step X = 30 seconds (RFC 6238 section 5.2 recommendation).
DEFAULT_TOTP_PERIOD: Final = timedelta(seconds=30)
#: Accept one step either side for clock drift (RFC 6238 section 5.2: "at
#: most one time step is allowed as the network delay").
DEFAULT_TOTP_WINDOW: Final = 1
#: 160-bit shared secrets (RFC 4226 section 4, R6: "RECOMMENDs a shared
#: secret length of 160 bits").
DEFAULT_TOTP_SECRET_BYTES: Final = 20
#: The shortest secret accepted: 128 bits (RFC 4226 section 4, R6 "MUST be
#: at least 128 bits"); generated secrets are 160 bits.
MIN_TOTP_SECRET_BYTES: Final = 16
#: Consecutive failed codes per account before it is refused outright until
#: the counter resets (NIST SP 800-63B-4 section 3.2.2: at most 100).
DEFAULT_FAILURE_LIMIT: Final = 10
#: Recovery codes per batch (common practice: GitHub, Google issue 10).
DEFAULT_RECOVERY_CODE_COUNT: Final = 10

# Progressive delay after a few free failures, reset a day after the last
# failure; the limit above then refuses (NIST SP 800-63B-4 section 3.2.2).
_FREE_FAILURES: Final = 3
_BASE_DELAY: Final = 1.0
_MAX_DELAY: Final = 60.0
_FAILURE_TTL: Final = 24 * 3600.0
# Bounds on untrusted input, checked before any crypto.
_MAX_CODE_INPUT: Final = 64
_MAX_SECRET_CHARS: Final = 256
_MAX_LABEL: Final = 256
# Recovery codes: 20 Crockford base32 symbols = 100 bits of entropy.
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_SYMBOLS: Final = 20
_RECOVERY_GROUP: Final = 5
_USED: Final = b"used"
_ASCII_WHITESPACE: Final = " \t\r\n"
_CAS_ATTEMPTS: Final = 8

_HASHES: Final[dict[str, type[hashes.SHA1 | hashes.SHA256 | hashes.SHA512]]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}


def generate_totp_secret(*, nbytes: int = DEFAULT_TOTP_SECRET_BYTES) -> str:
    """Return a new random TOTP secret, base32 without padding.

    Args:
        nbytes: secret length in bytes (at least 16; default 20 = 160 bits).

    Raises:
        ConfigurationError: ``nbytes`` is below 16 or above 64.
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise TypeError("nbytes must be an int")
    if not MIN_TOTP_SECRET_BYTES <= nbytes <= 64:
        raise ConfigurationError("TOTP secrets must be 16 to 64 bytes (RFC 4226 section 4)")
    return base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii").rstrip("=")


def _decode_secret(secret: str) -> bytes:
    if not isinstance(secret, str):
        raise TypeError("secret must be a base32 str")
    # ASCII first: str.upper() maps some non-ASCII letters onto ASCII ones
    # ("\u0131" -> "I"), which would let a mangled secret decode silently.
    if not secret.isascii():
        raise ConfigurationError("the TOTP secret is not a base32 string")
    # Authenticator apps show secrets in groups, lower case, without padding.
    text = secret.replace(" ", "").replace("-", "").upper()
    if not text or len(text) > _MAX_SECRET_CHARS:
        raise ConfigurationError("the TOTP secret is not a base32 string")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ConfigurationError("the TOTP secret is not a base32 string") from None
    if len(key) < MIN_TOTP_SECRET_BYTES:
        raise ConfigurationError("the TOTP secret is shorter than 128 bits (RFC 4226 section 4)")
    return key


def _label(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    if not value or len(value) > _MAX_LABEL or not value.isprintable():
        raise ConfigurationError(f"{what} must be 1 to 256 printable characters")
    return value


def _user_digest(purpose: bytes, user: str) -> str:
    if not isinstance(user, str):
        raise TypeError("user must be a str")
    if not user or len(user) > 1024:
        raise ConfigurationError("user must be 1 to 1024 characters")
    # Hashed so store keys have a bounded length and do not list user names.
    data = purpose + b"\x00" + user.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


def _namespace(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("namespace must be a str")
    if not value or len(value) > 64 or not value.isascii() or not value.isprintable():
        raise ConfigurationError("namespace must be 1 to 64 printable ASCII characters")
    return value


class TOTP:
    """Time-based one-time passwords (RFC 6238) for one application.

    Args:
        store: shared state for the replay guard and failure counters
            (memory, SQLite or Redis; all application servers must share it).
        issuer: your service's name, shown in authenticator apps.
        digits: 6 (default) or 8.
        period: the time step (default 30 seconds).
        algorithm: ``"SHA1"`` (default; every app), ``"SHA256"``, ``"SHA512"``.
        window: steps accepted either side of now: 0 or 1 (default 1).
        failure_limit: consecutive failures per account before refusing
            outright (1 to 100).
        throttle: an optional :class:`~securekit.ratelimit.LoginThrottle`
            that also counts attempts per client IP; :meth:`verify` then
            needs ``ip``.
        namespace: store key prefix.
        clock: the time source.

    Raises:
        ConfigurationError: a parameter is out of range.
    """

    __slots__ = (
        "_algorithm",
        "_clock",
        "_digits",
        "_issuer",
        "_ns",
        "_period",
        "_rule",
        "_store",
        "_throttle",
        "_window",
    )

    def __init__(
        self,
        store: Store,
        *,
        issuer: str,
        digits: int = DEFAULT_TOTP_DIGITS,
        period: timedelta = DEFAULT_TOTP_PERIOD,
        algorithm: Algorithm = DEFAULT_TOTP_ALGORITHM,
        window: int = DEFAULT_TOTP_WINDOW,
        failure_limit: int = DEFAULT_FAILURE_LIMIT,
        throttle: LoginThrottle | None = None,
        namespace: str = "totp",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, Store):
            raise TypeError("store must implement securekit.stores.Store")
        self._issuer = _label(issuer, "issuer")
        if ":" in issuer:
            # The label is "issuer:account"; a colon in the issuer is ambiguous.
            raise ConfigurationError("issuer must not contain ':' (Key URI Format label)")
        if digits not in (6, 8) or isinstance(digits, bool):
            raise ConfigurationError("digits must be 6 or 8 (RFC 4226 section 5.3)")
        if not isinstance(period, timedelta):
            raise TypeError("period must be a timedelta")
        seconds = period.total_seconds()
        if seconds != int(seconds) or not 15 <= seconds <= 120:
            raise ConfigurationError("period must be a whole number of seconds from 15 to 120")
        if algorithm not in _HASHES:
            raise ConfigurationError("algorithm must be 'SHA1', 'SHA256' or 'SHA512'")
        if window not in (0, 1) or isinstance(window, bool):
            raise ConfigurationError("window must be 0 or 1 step (RFC 6238 section 5.2)")
        if isinstance(failure_limit, bool) or not isinstance(failure_limit, int):
            raise TypeError("failure_limit must be an int")
        if not 1 <= failure_limit <= 100:
            raise ConfigurationError("failure_limit must be 1 to 100 (NIST SP 800-63B-4 3.2.2)")
        if throttle is not None and not isinstance(throttle, LoginThrottle):
            raise TypeError("throttle must be a LoginThrottle or None")
        if not callable(clock):
            raise TypeError("clock must be a callable returning an aware datetime")
        self._store = store
        self._digits = digits
        self._period = int(seconds)
        self._algorithm: Algorithm = algorithm
        self._window = window
        self._rule = PenaltyRule(
            limit=failure_limit,
            free=min(_FREE_FAILURES, failure_limit),
            base_delay=_BASE_DELAY,
            max_delay=_MAX_DELAY,
            ttl=_FAILURE_TTL,
        )
        self._throttle = throttle
        self._ns = _namespace(namespace)
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"TOTP(issuer={self._issuer!r}, digits={self._digits}, "
            f"period={self._period}, algorithm={self._algorithm!r})"
        )

    def _hotp(self, key: bytes) -> HOTP:
        return HOTP(key, self._digits, _HASHES[self._algorithm]())

    def _step(self, now: datetime | None) -> int:
        # RFC 6238 section 4.2: T = floor((Current Unix time - T0) / X), T0 = 0.
        step = math.floor(resolve(now, self._clock).timestamp()) // self._period
        if step < 0:
            # The HOTP counter is an unsigned 8-byte value (RFC 4226 section
            # 5.1): a time before T0 has no code. Only a broken clock gets here.
            raise ConfigurationError("the clock is before the Unix epoch (RFC 6238 T0)")
        return step

    def provisioning_uri(self, secret: str, *, account: str) -> str:
        """Return the ``otpauth://totp/...`` URI to show as a QR code.

        Issuer and account are percent-encoded (Key URI Format); the issuer
        appears both in the label and as a parameter, as apps expect.

        Raises:
            ConfigurationError: the secret or account is not usable.
        """
        key = _decode_secret(secret)
        account = _label(account, "account")
        label = urllib.parse.quote(f"{self._issuer}:{account}", safe="")
        query = urllib.parse.urlencode(
            {
                "secret": base64.b32encode(key).decode("ascii").rstrip("="),
                "issuer": self._issuer,
                "algorithm": self._algorithm,
                "digits": str(self._digits),
                "period": str(self._period),
            },
            quote_via=urllib.parse.quote,
        )
        return f"otpauth://totp/{label}?{query}"

    def code(self, secret: str, *, now: datetime | None = None) -> str:
        """Return the current code for ``secret`` (for tests and demos).

        Raises:
            ConfigurationError: the secret is not usable, or the time is
                before the Unix epoch.
        """
        key = _decode_secret(secret)
        return self._hotp(key).generate(self._step(now)).decode("ascii")

    def _advance_last_step(self, key: str, step: int, ttl: float) -> None:
        for _ in range(_CAS_ATTEMPTS):
            current = self._store.get(key)
            if current is not None:
                last = _parse_step(current)
                # A corrupted record counts as "everything used": fail closed.
                if last is None or last >= step:
                    raise MFAError(MFAReason.REPLAYED)
            if self._store.compare_and_set(key, current, str(step).encode("ascii"), ttl=ttl):
                return
        # Lost the race repeatedly: another verification for this user won.
        raise MFAError(MFAReason.REPLAYED)

    def verify(
        self,
        code: str,
        *,
        secret: str,
        user: str,
        ip: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Accept ``code`` once, or raise.

        Args:
            code: the code as typed (spaces between digits and ASCII
                whitespace around the code are ignored; only ASCII digits
                count).
            secret: the user's base32 secret, from your database.
            user: a stable user id; replay and failure counters are per user.
            ip: the client address; required when a ``throttle`` is set.
            now: the current time.

        Raises:
            MFAError: ``MALFORMED`` (not the right number of digits),
                ``THROTTLED`` (too many failures), ``INVALID_CODE`` or
                ``REPLAYED`` (this time step was already used).
            StoreUnavailableError: the store is down (fail closed).
            ConfigurationError: the secret is not usable, ``user`` is empty
                or over 1024 characters, the time is before the Unix epoch,
                or ``ip`` is missing while a throttle is configured.
        """
        key = _decode_secret(secret)
        user_key = _user_digest(b"totp", user)
        if self._throttle is not None and not isinstance(ip, str):
            raise ConfigurationError("pass ip= to verify(): this TOTP has a LoginThrottle")
        if not isinstance(code, str):
            raise TypeError("code must be a str")
        # Format before any counter or crypto: digits only, exact length.
        # Whitespace pasted around the code and spaces between digit groups
        # are ignored; anything else (tabs inside, Unicode digits such as
        # "\uff11", which str.isdigit() accepts) is malformed.
        candidate = (
            code.strip(_ASCII_WHITESPACE).replace(" ", "") if len(code) <= _MAX_CODE_INPUT else ""
        )
        if len(candidate) != self._digits or not (candidate.isascii() and candidate.isdigit()):
            raise MFAError(MFAReason.MALFORMED)
        step = self._step(now)
        stamp = resolve(now, self._clock)
        failures_key = f"{self._ns}:fail:{user_key}"
        allowed, _retry, _locked = self._store.penalty_hit(
            [failures_key], rules=[self._rule], now=stamp.timestamp()
        )
        if not allowed:
            raise MFAError(MFAReason.THROTTLED)
        if self._throttle is not None and ip is not None:
            try:
                self._throttle.check(username=f"totp:{user}", ip=ip, now=stamp)
            except RateLimitedError:
                raise MFAError(MFAReason.THROTTLED) from None
        hotp = self._hotp(key)
        given = candidate.encode("ascii")
        matched: int | None = None
        # Compare with every step of the window, constant-time, without
        # stopping early, so timing does not tell which step matched.
        for offset in range(-self._window, self._window + 1):
            # No step before T0 exists (the HOTP counter is unsigned).
            if step + offset >= 0 and hmac.compare_digest(hotp.generate(step + offset), given):
                matched = step + offset
        if matched is None:
            raise MFAError(MFAReason.INVALID_CODE)
        # RFC 6238 section 5.2: a code must not be accepted twice. The step
        # is remembered until it leaves every future window.
        ttl = float(self._period * (2 * self._window + 2))
        if not self._store.add(f"{self._ns}:used:{user_key}:{matched}", b"1", ttl=ttl):
            raise MFAError(MFAReason.REPLAYED)
        # Also refuse a code older than the last accepted one: once a step
        # was accepted, earlier (possibly observed) codes are dead too.
        self._advance_last_step(f"{self._ns}:last:{user_key}", matched, ttl)
        self._store.delete(failures_key)
        if self._throttle is not None and ip is not None:
            self._throttle.success(username=f"totp:{user}", ip=ip)


def _parse_step(raw: bytes) -> int | None:
    text = raw.decode("ascii", "replace")
    if not text.isdigit() or len(text) > 20:
        return None
    return int(text)


def _normalize_recovery(code: str) -> str | None:
    if not isinstance(code, str):
        raise TypeError("code must be a str")
    # ASCII first: str.upper() maps some non-ASCII letters onto ASCII ones
    # ("\u017f" -> "S", "\u0131" -> "I"), so look-alikes would be accepted.
    if len(code) > _MAX_CODE_INPUT or not code.isascii():
        return None
    text = code.strip(_ASCII_WHITESPACE).replace("-", "").replace(" ", "").upper()
    # Crockford base32 reads O as 0 and I/L as 1, so misread codes still work.
    text = text.translate(str.maketrans("OIL", "011"))
    if len(text) != _RECOVERY_SYMBOLS or any(c not in _CROCKFORD for c in text):
        return None
    return text


class RecoveryCodes:
    """Single-use recovery codes, stored only as hashes.

    Each code has 100 bits of entropy (20 Crockford base32 symbols), so a
    fast hash is enough: guessing is infeasible without a slow hash
    (OWASP Password Storage: slow hashes are for low-entropy secrets). Codes
    are hashed with SHA-256 under a per-user prefix. Use is atomic
    (``compare_and_set`` in the store), so two concurrent requests with
    the same code succeed once.

    Args:
        store: shared state.
        count: codes per batch (1 to 32, default 10).
        namespace: store key prefix.
    """

    __slots__ = ("_count", "_ns", "_store")

    def __init__(
        self,
        store: Store,
        *,
        count: int = DEFAULT_RECOVERY_CODE_COUNT,
        namespace: str = "recovery",
    ) -> None:
        if not isinstance(store, Store):
            raise TypeError("store must implement securekit.stores.Store")
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError("count must be an int")
        if not 1 <= count <= 32:
            raise ConfigurationError("count must be 1 to 32")
        self._store = store
        self._count = count
        self._ns = _namespace(namespace)

    def __repr__(self) -> str:
        return f"RecoveryCodes(count={self._count}, namespace={self._ns!r})"

    def _keys(self, user: str) -> tuple[str, str, str]:
        digest = _user_digest(b"recovery", user)
        return digest, f"{self._ns}:{digest}:gen", f"{self._ns}:{digest}:codes"

    def _code_key(self, user_digest: str, normalized: str) -> tuple[str, str]:
        hashed = hashlib.sha256(
            b"securekit/recovery/v1\x00"
            + user_digest.encode("ascii")
            + b"\x00"
            + normalized.encode("ascii")
        ).hexdigest()
        return hashed, f"{self._ns}:{user_digest}:c:{hashed}"

    def generate(self, user: str) -> list[str]:
        """Issue a new batch for ``user``, invalidating every earlier code.

        Returns:
            The codes, formatted ``XXXXX-XXXXX-XXXXX-XXXXX``. Show them once;
            they are not stored anywhere in clear.

        Raises:
            StoreUnavailableError: the store is down.
        """
        digest, gen_key, set_key = self._keys(user)
        old = self._store.set_members(set_key)
        # A new generation first: old codes stop working even if the
        # clean-up below is interrupted.
        generation = secrets.token_hex(16).encode("ascii")
        self._store.set(gen_key, generation)
        codes: list[str] = []
        for _ in range(self._count):
            raw = "".join(secrets.choice(_CROCKFORD) for _ in range(_RECOVERY_SYMBOLS))
            hashed, key = self._code_key(digest, raw)
            self._store.set(key, generation)
            self._store.set_add(set_key, hashed)
            codes.append(
                "-".join(raw[i : i + _RECOVERY_GROUP] for i in range(0, len(raw), _RECOVERY_GROUP))
            )
        for hashed in old:
            self._store.delete(f"{self._ns}:{digest}:c:{hashed}")
            self._store.set_remove(set_key, hashed)
        return codes

    def use(self, code: str, *, user: str) -> None:
        """Consume ``code`` for ``user``, or raise.

        Raises:
            MFAError: ``MALFORMED``, ``INVALID_CODE`` or ``USED_CODE``
                (already consumed: worth an alert, it may have leaked).
            StoreUnavailableError: the store is down (fail closed).
        """
        digest, gen_key, _set_key = self._keys(user)
        normalized = _normalize_recovery(code)
        if normalized is None:
            raise MFAError(MFAReason.MALFORMED)
        generation = self._store.get(gen_key)
        _hashed, key = self._code_key(digest, normalized)
        if generation is None:
            raise MFAError(MFAReason.INVALID_CODE)
        # Atomic: of concurrent uses of one code, exactly one swaps it.
        if self._store.compare_and_set(key, generation, _USED + b":" + generation):
            return
        if self._store.get(key) == _USED + b":" + generation:
            raise MFAError(MFAReason.USED_CODE)
        raise MFAError(MFAReason.INVALID_CODE)

    def remaining(self, user: str) -> int:
        """Return how many unused codes ``user`` has left."""
        digest, gen_key, set_key = self._keys(user)
        generation = self._store.get(gen_key)
        if generation is None:
            return 0
        return sum(
            1
            for hashed in self._store.set_members(set_key)
            if self._store.get(f"{self._ns}:{digest}:c:{hashed}") == generation
        )
