"""Signed, expiring, purpose-bound tokens: password reset, email verification, invitations.

:class:`TokenSigner` does the itsdangerous job with the pieces itsdangerous
leaves to the caller: every token carries a key id, an issue time and a
mandatory expiry; the MAC key is derived per purpose, so a token minted for
email verification never verifies as a password-reset token; and tokens can be
made single-use through the shared store.

Example:
    >>> from datetime import timedelta
    >>> from securekit.keys import KeyRing
    >>> signer = TokenSigner(
    ...     KeyRing.generate("mac"), purpose="password-reset", max_age=timedelta(hours=1)
    ... )
    >>> token = signer.sign({"user": "42"})
    >>> signer.verify(token).payload
    {'user': '42'}

Token format (then unpadded, canonical base64url)::

    version (0x01) | key id (u32 BE) | issued at (u64 BE, Unix seconds)
    | expires at (u64 BE) | token id (16 random bytes) | payload (canonical JSON)
    | HMAC-SHA256 tag (32)

The tag covers ``"securekit/v1/signing" 0x00 purpose 0x00`` followed by every
byte before the tag, under ``HKDF-SHA256(mac key, "securekit/v1/signing/" +
purpose)``. Verification runs: length -> encoding -> version -> key id ->
MAC -> expiry -> payload -> single use; each failure is an
:class:`~securekit.errors.InvalidTokenError` with its reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, cast

from securekit._clock import Clock, resolve, system_clock
from securekit.errors import (
    ConfigurationError,
    InvalidTokenError,
    SecurekitError,
    TokenReason,
)
from securekit.keys import KeyKind, KeyRing
from securekit.stores import AsyncStore, Store
from securekit.validation import load_json

__all__ = [
    "CLOCK_SKEW",
    "MAX_LIFETIME",
    "MAX_PAYLOAD_BYTES",
    "MAX_TOKEN_CHARS",
    "TOKEN_VERSION",
    "TokenSigner",
    "VerifiedToken",
]

#: Format byte of version-1 signed tokens.
TOKEN_VERSION: Final = 0x01
#: Longest payload (canonical JSON, UTF-8) a token may carry: tokens travel in
#: URLs, and RFC 9110 section 4.1 recommends supporting at least 8000 octets.
MAX_PAYLOAD_BYTES: Final = 2048
#: Longest accepted token, checked before decoding anything.
MAX_TOKEN_CHARS: Final = 4 * math.ceil((69 + MAX_PAYLOAD_BYTES) / 3)
#: Longest allowed lifetime: link tokens are bearer credentials
#: (OWASP Forgot Password Cheat Sheet: reset tokens should expire "after an
#: appropriate period"); a month bounds even invitation links.
MAX_LIFETIME: Final = timedelta(days=30)
#: Tolerated clock difference between servers for the issue time.
CLOCK_SKEW: Final = timedelta(seconds=60)

_PURPOSE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
_TAG_SIZE: Final = 32
_ID_SIZE: Final = 16
#: version + key id + issued + expires + token id.
_FIXED: Final = 1 + 4 + 8 + 8 + _ID_SIZE
_MIN_BYTES: Final = _FIXED + 2 + _TAG_SIZE  # the smallest payload is "{}"
_MIN_CHARS: Final = math.ceil(_MIN_BYTES * 4 / 3)
_MAC_DOMAIN: Final = b"securekit/v1/signing\x00"
#: 9999-12-31T23:59:59Z, the last instant a ``datetime`` can represent.
_MAX_TIMESTAMP: Final = 253402300799


def _mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104); the known-answer tests call this directly."""
    return hmac.new(key, data, hashlib.sha256).digest()


def _mac_ok(key: bytes, data: bytes, tag: bytes) -> bool:
    """Constant-time check of a full-length tag (truncated tags never verify)."""
    return len(tag) == _TAG_SIZE and hmac.compare_digest(_mac(key, data), tag)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _invalid(reason: TokenReason) -> InvalidTokenError:
    return InvalidTokenError(reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedToken:
    """A token that passed every check.

    Attributes:
        payload: the JSON object signed into the token.
        purpose: the signer's purpose.
        token_id: 32 hex characters, unique per token (the single-use key).
        key_id: id of the MAC key that signed it.
        issued_at: issue time (UTC, whole seconds).
        expires_at: expiry time (UTC, whole seconds).
    """

    payload: dict[str, object]
    purpose: str
    token_id: str
    key_id: int
    issued_at: datetime
    expires_at: datetime


class TokenSigner:
    """Signs and verifies expiring tokens for one purpose.

    Args:
        keyring: a ``KeyRing`` of kind ``mac``. The primary key signs; retired
            keys still verify until removed from the ring.
        purpose: what the tokens are for, e.g. ``"password-reset"``: lower-case
            ASCII letters, digits, ``.``, ``_``, ``-`` (1 to 64). Each purpose
            gets its own derived key.
        max_age: lifetime of new tokens and the longest lifetime accepted;
            mandatory, whole seconds, at most :data:`MAX_LIFETIME`.
        store: a :class:`~securekit.stores.Store` for single-use tokens
            (:meth:`consume`), or an :class:`~securekit.stores.AsyncStore`
            (such as ``MemoryStore().asyncio()`` or ``AsyncRedisStore``) for
            :meth:`averify` / :meth:`aconsume`. Without one, tokens can be
            verified any number of times until they expire.
        clock: returns the current aware datetime (tests pass a ``FixedClock``).

    Raises:
        TypeError: wrong argument types.
        ConfigurationError: a ring of the wrong kind, a bad purpose or max_age.
    """

    __slots__ = (
        "_clock",
        "_is_async",
        "_keys",
        "_max_age",
        "_prefix",
        "_primary_id",
        "_purpose",
        "_store",
    )

    def __init__(
        self,
        keyring: KeyRing,
        *,
        purpose: str,
        max_age: timedelta,
        store: Store | AsyncStore | None = None,
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(keyring, KeyRing):
            raise TypeError(f"keyring must be a KeyRing, not {type(keyring).__name__}")
        if keyring.kind is not KeyKind.MAC:
            raise ConfigurationError(
                f"TokenSigner needs a key ring of kind 'mac', not {keyring.kind.value!r}"
                " (KeyRing.generate('mac'))"
            )
        if not isinstance(purpose, str):
            raise TypeError("purpose must be a str")
        if not _PURPOSE.fullmatch(purpose):
            raise ConfigurationError(
                "purpose must be 1 to 64 characters of a-z, 0-9, '.', '_', '-'"
                " starting with a letter or digit, e.g. 'password-reset'"
            )
        if not isinstance(max_age, timedelta):
            raise TypeError("max_age must be a timedelta")
        seconds = max_age.total_seconds()
        if seconds < 1 or seconds != int(seconds) or max_age > MAX_LIFETIME:
            raise ConfigurationError(
                f"max_age must be whole seconds between 1 second and {MAX_LIFETIME.days} days"
            )
        if not callable(clock):
            raise TypeError("clock must be callable")
        if store is not None and not (
            callable(getattr(store, "get", None)) and callable(getattr(store, "add", None))
        ):
            raise TypeError("store must be a securekit store (get and add)")
        # An async store's methods return coroutines: the sync methods must
        # refuse it rather than mistake a coroutine object for "already used".
        self._is_async = store is not None and inspect.iscoroutinefunction(store.get)
        self._purpose = purpose
        self._max_age = int(seconds)
        self._store = store
        self._clock = clock
        derived = keyring.derive("signing/" + purpose)
        self._keys = {key.id: key.material for key in derived}
        self._primary_id = derived.primary.id
        self._prefix = _MAC_DOMAIN + purpose.encode("ascii") + b"\x00"

    @property
    def purpose(self) -> str:
        """The purpose every token of this signer is bound to."""
        return self._purpose

    def sign(
        self, payload: Mapping[str, object] | None = None, *, now: datetime | None = None
    ) -> str:
        """Mint a token carrying ``payload`` that expires after ``max_age``.

        Args:
            payload: a JSON-serializable mapping with ``str`` keys, such as
                ``{"user": "42"}`` (default: empty). It is signed, not
                encrypted: do not put secrets in it.
            now: the issue time (default: the clock).

        Returns:
            The token, unpadded base64url (safe in URLs).

        Raises:
            TypeError: ``payload`` is not a mapping or not JSON-serializable.
            ConfigurationError: ``payload`` holds NaN, Infinity or a huge
                integer, or is over :data:`MAX_PAYLOAD_BYTES`.
        """
        if payload is None:
            payload = {}
        if not isinstance(payload, Mapping):
            raise TypeError("payload must be a mapping (a JSON object)")
        if not all(isinstance(k, str) for k in payload):
            raise TypeError("payload keys must be str")
        try:
            body = json.dumps(
                dict(payload),
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
                allow_nan=False,
            ).encode("utf-8")
        except ValueError:
            # allow_nan=False, or an int over Python's 4300-digit str limit.
            raise ConfigurationError(
                "payload must be plain JSON: no NaN, Infinity or integers over 4300 digits"
            ) from None
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ConfigurationError(
                f"payload is over {MAX_PAYLOAD_BYTES} bytes of JSON; store the data"
                " server-side and sign only its id"
            )
        issued = int(resolve(now, self._clock).timestamp())
        expires = issued + self._max_age
        if not 0 <= issued <= expires <= _MAX_TIMESTAMP:
            raise ConfigurationError("the clock must be between 1970 and 9999")
        signed = (
            bytes([TOKEN_VERSION])
            + self._primary_id.to_bytes(4, "big")
            + issued.to_bytes(8, "big")
            + expires.to_bytes(8, "big")
            + os.urandom(_ID_SIZE)
            + body
        )
        return _b64e(signed + _mac(self._keys[self._primary_id], self._prefix + signed))

    def verify(self, token: str, *, now: datetime | None = None) -> VerifiedToken:
        """Check ``token`` and return what it carries.

        Order: length, encoding, version, key id, MAC, expiry, payload, and
        (with a store) that it was not consumed yet. Nothing from the token is
        trusted or parsed as JSON before the MAC checks out.

        Args:
            token: the token as received (e.g. from a link's query string).
            now: the verification time (default: the clock).

        Returns:
            The verified token.

        Raises:
            ConfigurationError: the signer has an async store (use
                :meth:`averify`).
            TypeError: ``token`` is not a ``str``.
            InvalidTokenError: with reason ``too_large``, ``malformed``,
                ``bad_encoding``, ``unsupported_version``, ``unknown_key``,
                ``bad_signature``, ``expired``, ``issued_in_future``,
                ``lifetime_too_long``, ``bad_claim`` or ``reused``.
            StoreUnavailableError: the store is down (fail closed).
        """
        if self._is_async:
            raise ConfigurationError("this signer has an async store: use averify() / aconsume()")
        verified = self._check(token, now)
        store = cast(Store | None, self._store)
        if store is not None and store.get(self._used_key(verified)) is not None:
            raise _invalid(TokenReason.REUSED)
        return verified

    async def averify(self, token: str, *, now: datetime | None = None) -> VerifiedToken:
        """:meth:`verify` for async code; works with an async or a sync store."""
        verified = self._check(token, now)
        if self._store is not None:
            key = self._used_key(verified)
            if self._is_async:
                used = await cast(AsyncStore, self._store).get(key)
            else:
                used = cast(Store, self._store).get(key)
            if used is not None:
                raise _invalid(TokenReason.REUSED)
        return verified

    def consume(self, token: str, *, now: datetime | None = None) -> VerifiedToken:
        """Verify ``token`` and mark it used, atomically: it never verifies again.

        Use it where the token's action happens (e.g. when the new password
        is saved). Of concurrent calls with the same token, exactly one wins.

        Raises:
            ConfigurationError: the signer has no store, or an async one
                (use :meth:`aconsume`).
            TypeError: ``token`` is not a ``str``.
            InvalidTokenError: as :meth:`verify`; reason ``reused`` if the
                token was consumed before.
            StoreUnavailableError: the store is down (fail closed).
        """
        store = self._sync_store()
        current = resolve(now, self._clock)
        verified = self._check(token, current)
        if not store.add(self._used_key(verified), b"1", ttl=self._used_ttl(verified, current)):
            raise _invalid(TokenReason.REUSED)
        return verified

    async def aconsume(self, token: str, *, now: datetime | None = None) -> VerifiedToken:
        """:meth:`consume` for async code; works with an async or a sync store."""
        if self._store is None:
            raise ConfigurationError("aconsume() needs a store: TokenSigner(..., store=...)")
        current = resolve(now, self._clock)
        verified = self._check(token, current)
        key, ttl = self._used_key(verified), self._used_ttl(verified, current)
        if self._is_async:
            created = await cast(AsyncStore, self._store).add(key, b"1", ttl=ttl)
        else:
            created = cast(Store, self._store).add(key, b"1", ttl=ttl)
        if not created:
            raise _invalid(TokenReason.REUSED)
        return verified

    def _sync_store(self) -> Store:
        if self._store is None:
            raise ConfigurationError("consume() needs a store: TokenSigner(..., store=...)")
        if self._is_async:
            raise ConfigurationError("this signer has an async store: use averify() / aconsume()")
        return cast(Store, self._store)

    @staticmethod
    def _used_ttl(verified: VerifiedToken, current: datetime) -> float:
        # Remember the id until the token expires anyway (plus the skew margin).
        return max(1.0, (verified.expires_at - current + CLOCK_SKEW).total_seconds())

    def _used_key(self, verified: VerifiedToken) -> str:
        return f"securekit:signing:{self._purpose}:used:{verified.token_id}"

    def _check(self, token: str, now: datetime | None) -> VerifiedToken:
        if not isinstance(token, str):
            raise TypeError(f"token must be a str, not {type(token).__name__}")
        current = resolve(now, self._clock)
        # 1. Length, before looking at any character.
        if len(token) > MAX_TOKEN_CHARS:
            raise _invalid(TokenReason.TOO_LARGE)
        if len(token) < _MIN_CHARS:
            raise _invalid(TokenReason.MALFORMED)
        # 2. Encoding: canonical unpadded base64url only, so each token has
        #    exactly one spelling.
        if not _B64URL.fullmatch(token) or len(token) % 4 == 1:
            raise _invalid(TokenReason.BAD_ENCODING)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):  # pragma: no cover - excluded by the checks above
            raise _invalid(TokenReason.BAD_ENCODING) from None
        if _b64e(raw) != token:
            raise _invalid(TokenReason.BAD_ENCODING)
        # 3. Version.
        if raw[0] != TOKEN_VERSION:
            raise _invalid(TokenReason.UNSUPPORTED_VERSION)
        # 4. Key id: looked up, never tried in turn.
        key_id = int.from_bytes(raw[1:5], "big")
        key = self._keys.get(key_id)
        if key is None:
            raise _invalid(TokenReason.UNKNOWN_KEY)
        # 5. MAC over everything before the tag.
        signed, tag = raw[:-_TAG_SIZE], raw[-_TAG_SIZE:]
        if not _mac_ok(key, self._prefix + signed, tag):
            raise _invalid(TokenReason.BAD_SIGNATURE)
        # 6. Expiry (mandatory) and lifetime.
        issued = int.from_bytes(raw[5:13], "big")
        expires = int.from_bytes(raw[13:21], "big")
        now_s = current.timestamp()
        if not issued < expires <= _MAX_TIMESTAMP:
            raise _invalid(TokenReason.BAD_CLAIM)
        if now_s >= expires:
            raise _invalid(TokenReason.EXPIRED)
        if issued > now_s + CLOCK_SKEW.total_seconds():
            raise _invalid(TokenReason.ISSUED_IN_FUTURE)
        if expires - issued > self._max_age:
            raise _invalid(TokenReason.LIFETIME_TOO_LONG)
        # 7. Payload, parsed strictly only now that it is authentic.
        try:
            payload = load_json(signed[_FIXED:], max_bytes=MAX_PAYLOAD_BYTES)
        except SecurekitError:
            raise _invalid(TokenReason.MALFORMED) from None
        if not isinstance(payload, dict):
            raise _invalid(TokenReason.MALFORMED)
        return VerifiedToken(
            payload=payload,
            purpose=self._purpose,
            token_id=raw[21:_FIXED].hex(),
            key_id=key_id,
            issued_at=datetime.fromtimestamp(issued, UTC),
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
