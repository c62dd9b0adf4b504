"""Server-side sessions: hashed ids, idle and absolute timeouts, rotation.

Example:
    >>> from securekit.stores import MemoryStore
    >>> sessions = SessionManager(MemoryStore())
    >>> token, session = sessions.create(user_id="user-1", data={"theme": "dark"})
    >>> sessions.get(token).user_id
    'user-1'

The token goes to the client (in the cookie built by :class:`SessionCookie`);
the store keeps only ``SHA-256(token)``, so a copy of the store (a backup, a
read-only Redis replica, a leaked SQLite file) cannot be replayed as cookies.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
import secrets
import time
import warnings
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, TypeVar

from securekit._clock import Clock, resolve, system_clock
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    SessionError,
    SessionReason,
)
from securekit.stores import AsyncStore, Store

__all__ = [
    "DEFAULT_ABSOLUTE_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_DATA_BYTES",
    "TOKEN_BYTES",
    "AsyncSessionManager",
    "Session",
    "SessionCookie",
    "SessionManager",
]

#: Random bytes per session id: 256 bits from ``secrets`` (OWASP Session
#: Management Cheat Sheet asks for at least 64 bits of entropy).
TOKEN_BYTES: Final = 32
#: Idle timeout (OWASP Session Management Cheat Sheet: 15-30 minutes for
#: common applications).
DEFAULT_IDLE_TIMEOUT: Final = timedelta(minutes=30)
#: Absolute timeout, however active the session (OWASP Session Management
#: Cheat Sheet; NIST SP 800-63B-4 section 2.2.3 allows 12 hours at AAL2).
DEFAULT_ABSOLUTE_TIMEOUT: Final = timedelta(hours=12)
#: Largest JSON encoding of session data (sessions are for small state).
DEFAULT_MAX_DATA_BYTES: Final = 16 * 1024
#: Last-seen is written at most this often, so a busy session is not one
#: store write per request; the idle timeout is exact to within this.
DEFAULT_TOUCH_INTERVAL: Final = timedelta(seconds=60)

_TOKEN_LENGTH: Final = 43  # base64url of 32 bytes, unpadded
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_USER_ID: Final = 256
_MAX_RETRIES: Final = 4
_COOKIE_NAME_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")

_T = TypeVar("_T")
#: One store call asked for by the shared session steps: the Store method's
#: name, its positional arguments and its keyword arguments.
_Call = tuple[str, tuple[Any, ...], dict[str, Any]]
#: Session logic written once: yields store calls, receives their results.
_Steps = Generator[_Call, Any, _T]
_NO_KW: Final[dict[str, Any]] = {}  # never mutated: ``**`` unpacks a copy


# Not frozen: a frozen dataclass pays one object.__setattr__ per field, which
# was a measurable share of a SQLite get(). Assigning to a Session changes
# nothing in the store either way; SessionManager.update() does.
@dataclass(slots=True, kw_only=True)
class Session:
    """A valid session, as read from the store (a snapshot: edits are not saved).

    Attributes:
        user_id: the user the session belongs to.
        data: the session's JSON data (a fresh copy; save changes with
            :meth:`SessionManager.update`).
        created: when the session (chain of rotations) started, epoch seconds.
        last_seen: when the session was last used, epoch seconds.
        idle_timeout: the manager's idle timeout, seconds.
        absolute_timeout: the manager's absolute timeout, seconds.
    """

    user_id: str
    data: dict[str, Any]
    created: float
    last_seen: float
    idle_timeout: float
    absolute_timeout: float

    # Datetimes are computed on access: most requests never look at them.
    @property
    def created_at(self) -> datetime:
        """When the session (chain of rotations) started."""
        return datetime.fromtimestamp(self.created, UTC)

    @property
    def last_seen_at(self) -> datetime:
        """When the session was last used."""
        return datetime.fromtimestamp(self.last_seen, UTC)

    @property
    def idle_expires_at(self) -> datetime:
        """When the session expires without further use."""
        return datetime.fromtimestamp(self.last_seen + self.idle_timeout, UTC)

    @property
    def absolute_expires_at(self) -> datetime:
        """When the session expires however active it is."""
        return datetime.fromtimestamp(self.created + self.absolute_timeout, UTC)


class _Record(NamedTuple):
    """The stored form of a session (a tuple: built on every request, so cheap)."""

    user_id: str
    data: dict[str, Any]
    created: float
    seen: float

    def encode(self) -> bytes:
        body = {"v": 1, "u": self.user_id, "d": self.data, "c": self.created, "s": self.seen}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_DECODE: Final = json.JSONDecoder().decode
_NUMBER: Final = (int, float)


def _decode_record(raw: bytes) -> _Record | None:
    """Parse a stored record; anything unexpected reads as no session."""
    try:
        body = _DECODE(raw.decode("utf-8"))
        version, user, data, created, seen = body["v"], body["u"], body["d"], body["c"], body["s"]
    except (ValueError, RecursionError, KeyError, TypeError):
        # ValueError covers UnicodeDecodeError and JSONDecodeError; TypeError a
        # body that is not an object.
        return None
    # Exact types: bool is not a timestamp, and no subclass can sneak in.
    if version != 1 or type(user) is not str or type(data) is not dict:
        return None
    if type(created) not in _NUMBER or type(seen) not in _NUMBER:
        return None
    if not (math.isfinite(created) and math.isfinite(seen)):
        return None
    return _Record(user, data, float(created), float(seen))


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_token(token: str) -> str:
    if not isinstance(token, str):
        raise TypeError(f"session tokens are str, not {type(token).__name__}")
    # Format first, before any hashing or store access.
    if len(token) != _TOKEN_LENGTH or not _TOKEN_RE.fullmatch(token):
        raise SessionError(SessionReason.MALFORMED)
    return token


def _check_timeout(value: timedelta, name: str) -> float:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta")
    seconds = value.total_seconds()
    if seconds <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return seconds


def _is_async(store: object) -> bool:
    return inspect.iscoroutinefunction(getattr(store, "get", None))


class _SessionCore:
    """Configuration and session logic, written once (sync and async share it)."""

    _store: object

    def __init__(
        self,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
        max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
        namespace: str = "session",
        clock: Clock = system_clock,
    ) -> None:
        self._idle = _check_timeout(idle_timeout, "idle_timeout")
        self._absolute = _check_timeout(absolute_timeout, "absolute_timeout")
        if self._idle > self._absolute:
            raise ConfigurationError("idle_timeout must not exceed absolute_timeout")
        if isinstance(max_data_bytes, bool) or not isinstance(max_data_bytes, int):
            raise TypeError("max_data_bytes must be an int")
        if not 2 <= max_data_bytes <= 512 * 1024:
            raise ConfigurationError("max_data_bytes must be between 2 and 524288")
        if not isinstance(namespace, str) or not re.fullmatch(r"[a-z0-9_-]{1,32}", namespace):
            raise ConfigurationError("namespace must be 1 to 32 of a-z, 0-9, '_' and '-'")
        self._max_data = max_data_bytes
        self._ns = namespace
        self._clock = clock
        self._touch = min(DEFAULT_TOUCH_INTERVAL.total_seconds(), self._idle / 10)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store={self._store!r}, namespace={self._ns!r})"

    # ------------------------------------------------------------ helpers

    def _key(self, token: str) -> str:
        # Only SHA-256(token) reaches the store: 256 random bits make a
        # salt or slow hash unnecessary, and a dumped store cannot be replayed.
        return f"{self._ns}:id:{_hash(token)}"

    def _index(self, user_id: str) -> str:
        return f"{self._ns}:user:{_hash(user_id)}"

    def _now(self, now: datetime | None) -> float:
        if now is None and self._clock is system_clock:
            return time.time()  # the same instant, without building a datetime
        return resolve(now, self._clock).timestamp()

    def _check_user(self, user_id: str) -> str:
        if not isinstance(user_id, str):
            raise TypeError(f"user_id must be a str, not {type(user_id).__name__}")
        if not user_id or len(user_id) > _MAX_USER_ID:
            raise ConfigurationError(f"user_id must be 1 to {_MAX_USER_ID} characters")
        try:
            user_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError("user_id must be encodable as UTF-8") from None
        return user_id

    def _check_data(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        if data is None or (isinstance(data, dict) and not data):
            return {}
        if not isinstance(data, Mapping):
            raise TypeError("session data must be a mapping with str keys")
        try:
            # allow_nan=False: NaN/Infinity are not JSON; never pickle.
            encoded = json.dumps(dict(data), allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            raise ConfigurationError(
                "session data must be JSON-serializable (str keys, no NaN, no cycles)"
            ) from None
        if len(encoded.encode("utf-8", "surrogatepass")) > self._max_data:
            raise SessionError(SessionReason.TOO_LARGE)
        try:
            encoded.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError("session data must be encodable as UTF-8") from None
        loaded: dict[str, Any] = json.loads(encoded)
        return loaded

    def _ttl(self, record: _Record, now: float) -> float:
        end = min(record.seen + self._idle, record.created + self._absolute)
        return max(end - now, 1.0)

    def _session(self, record: _Record) -> Session:
        # record.data is always freshly decoded JSON, never shared: no copy needed.
        return Session(
            user_id=record.user_id,
            data=record.data,
            created=record.created,
            last_seen=record.seen,
            idle_timeout=self._idle,
            absolute_timeout=self._absolute,
        )

    def _check_record(self, raw: bytes, now: float) -> tuple[_Record, SessionReason | None]:
        """Decode a stored record and say whether it has expired."""
        record = _decode_record(raw)
        if record is None:
            raise SessionError(SessionReason.UNKNOWN)
        if now >= record.created + self._absolute:
            return record, SessionReason.EXPIRED_ABSOLUTE
        if now >= record.seen + self._idle:
            return record, SessionReason.EXPIRED_IDLE
        return record, None

    # ------------------------------------------------------------ steps
    #
    # The session logic is written once, as generators that yield the store
    # calls they need (_Call) and receive each result; SessionManager runs
    # them against a Store, AsyncSessionManager awaits them on an AsyncStore.
    # So both managers make the same calls in the same order by construction.

    def _load(self, key: str, now: float) -> _Steps[tuple[bytes, _Record]]:
        """Read and check a record; expired records are removed."""
        raw: bytes | None = yield "get", (key,), _NO_KW
        return (yield from self._checked(key, raw, now))

    def _checked(self, key: str, raw: bytes | None, now: float) -> _Steps[tuple[bytes, _Record]]:
        """Check a record as read; expired records are removed."""
        if raw is None:
            raise SessionError(SessionReason.UNKNOWN)
        record, expired = self._check_record(raw, now)
        if expired is not None:
            yield "compare_and_delete", (key, raw), _NO_KW
            yield "set_remove", (self._index(record.user_id), key), _NO_KW
            raise SessionError(expired)
        return raw, record

    def _reload(self, key: str, now: float) -> _Steps[tuple[bytes, _Record]]:
        """Re-read after a lost compare-and-set: gone means revoked."""
        try:
            return (yield from self._load(key, now))
        except SessionError as exc:
            if exc.reason is SessionReason.UNKNOWN:
                raise SessionError(SessionReason.REVOKED) from None
            raise

    def _create(
        self, user_id: str, data: Mapping[str, Any] | None, now: datetime | None
    ) -> _Steps[tuple[str, Session]]:
        user_id = self._check_user(user_id)
        body = self._check_data(data)
        stamp = self._now(now)
        return (yield from self._insert(_Record(user_id, body, stamp, stamp), stamp))

    def _insert(self, record: _Record, stamp: float) -> _Steps[tuple[str, Session]]:
        """Store ``record`` under a fresh id and return ``(token, session)``."""
        index = self._index(record.user_id)
        while True:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            key = self._key(token)
            # Index first: destroy_all() can then never miss a live session.
            yield "set_add", (index, key), {"ttl": self._absolute}
            if (yield "add", (key, record.encode()), {"ttl": self._ttl(record, stamp)}):
                return token, self._session(record)
            # A 256-bit collision: practically impossible; never reuse an id.
            yield "set_remove", (index, key), _NO_KW  # pragma: no cover

    def _begin(self, token: str, now: datetime | None) -> tuple[str, float]:
        """Check the token (format first, before any store access); key and time."""
        return self._key(_check_token(token)), self._now(now)

    def _fresh(self, raw: bytes | None, stamp: float) -> Session | None:
        """The common case of get(), read once: a live session with no write due.

        None means get() must go on with :meth:`_get` (expired, or last-seen
        is due a write). Pure, so both managers call it straight after their
        one read: most requests then never start the step machinery.
        """
        if raw is None:
            raise SessionError(SessionReason.UNKNOWN)
        record, expired = self._check_record(raw, stamp)
        if expired is None and stamp - record.seen < self._touch:
            return self._session(record)
        return None

    def _touch_now(self, token: str, now: datetime | None) -> _Steps[Session]:
        key, stamp = self._begin(token, now)
        raw: bytes | None = yield "get", (key,), _NO_KW
        return (yield from self._get(key, stamp, raw, force_touch=True))

    def _get(
        self, key: str, stamp: float, raw: bytes | None, *, force_touch: bool
    ) -> _Steps[Session]:
        """Check the record read as ``raw`` and write last-seen when due."""
        raw, record = yield from self._checked(key, raw, stamp)
        for _ in range(_MAX_RETRIES):
            if not force_touch and stamp - record.seen < self._touch:
                return self._session(record)
            new = _Record(record.user_id, record.data, record.created, max(stamp, record.seen))
            # Compare-and-set: a session destroyed meanwhile is never recreated.
            if (yield "compare_and_set", (key, raw, new.encode()), {"ttl": self._ttl(new, stamp)}):
                return self._session(new)
            raw, record = yield from self._reload(key, stamp)
            force_touch = False
        return self._session(record)

    def _update(self, token: str, data: Mapping[str, Any], now: datetime | None) -> _Steps[Session]:
        key = self._key(_check_token(token))
        body = self._check_data(data)
        stamp = self._now(now)
        raw, record = yield from self._load(key, stamp)
        for _ in range(_MAX_RETRIES):
            new = _Record(record.user_id, body, record.created, max(stamp, record.seen))
            if (yield "compare_and_set", (key, raw, new.encode()), {"ttl": self._ttl(new, stamp)}):
                return self._session(new)
            raw, record = yield from self._reload(key, stamp)
        raise SessionError(SessionReason.REVOKED)

    def _rotate(
        self,
        token: str,
        user_id: str | None,
        data: Mapping[str, Any] | None,
        now: datetime | None,
    ) -> _Steps[tuple[str, Session]]:
        key = self._key(_check_token(token))
        new_user = None if user_id is None else self._check_user(user_id)
        body = None if data is None else self._check_data(data)
        stamp = self._now(now)
        raw, record = yield from self._load(key, stamp)
        for _ in range(_MAX_RETRIES):
            if (yield "compare_and_delete", (key, raw), _NO_KW):
                break
            raw, record = yield from self._reload(key, stamp)
        else:
            raise SessionError(SessionReason.REVOKED)
        yield "set_remove", (self._index(record.user_id), key), _NO_KW
        owner = record.user_id if new_user is None else new_user
        created = record.created if owner == record.user_id else stamp
        fresh = _Record(owner, record.data if body is None else body, created, stamp)
        return (yield from self._insert(fresh, stamp))

    def _destroy(self, token: str) -> _Steps[bool]:
        try:
            key = self._key(_check_token(token))
        except SessionError:
            return False
        raw: bytes | None = yield "get", (key,), _NO_KW
        if raw is None:
            return False
        deleted: bool = yield "delete", (key,), _NO_KW
        record = _decode_record(raw)
        if record is not None:
            yield "set_remove", (self._index(record.user_id), key), _NO_KW
        return deleted

    def _destroy_all(self, user_id: str) -> _Steps[int]:
        index = self._index(self._check_user(user_id))
        ended = 0
        members: set[str] = yield "set_members", (index,), _NO_KW
        for key in sorted(members):
            if key.startswith(f"{self._ns}:id:"):
                ended += yield "delete", (key,), _NO_KW
            yield "set_remove", (index, key), _NO_KW
        return ended


class SessionManager(_SessionCore):
    """Create, read, rotate and revoke server-side sessions.

    Args:
        store: where sessions live (:class:`~securekit.stores.SQLiteStore` on
            one machine, :class:`~securekit.stores.RedisStore` for many).
        idle_timeout: a session unused this long is invalid.
        absolute_timeout: a session this old is invalid, however active.
        max_data_bytes: cap on the JSON encoding of session data.
        namespace: store key prefix (several managers may share a store).
        clock: the time source (tests pass a ``FixedClock``).

    Raises:
        ConfigurationError: a timeout is not positive, the idle timeout
            exceeds the absolute one, or a cap or namespace is unusable.
    """

    _store: Store

    def __init__(
        self,
        store: Store,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
        max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
        namespace: str = "session",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, Store) or _is_async(store):
            raise TypeError("store must implement securekit.stores.Store")
        super().__init__(
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            max_data_bytes=max_data_bytes,
            namespace=namespace,
            clock=clock,
        )
        self._store = store

    def _run(self, steps: _Steps[_T]) -> _T:
        """Run shared session steps, making each store call they ask for."""
        store = self._store
        value: Any = None
        while True:
            try:
                name, args, kwargs = steps.send(value)
            except StopIteration as done:
                result: _T = done.value
                return result
            value = getattr(store, name)(*args, **kwargs)

    # ------------------------------------------------------------ API

    def create(
        self,
        *,
        user_id: str,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> tuple[str, Session]:
        """Start a new session for ``user_id``.

        Args:
            user_id: the authenticated user (1 to 256 characters).
            data: JSON-serializable session data.
            now: the current time (default: the manager's clock).

        Returns:
            ``(token, session)``: put the token in the cookie; it is never
            stored server-side.

        Raises:
            SessionError: ``TOO_LARGE`` when the data exceeds the cap.
            ConfigurationError: the data is not JSON-serializable.
            StoreUnavailableError: the store is down.
        """
        return self._run(self._create(user_id, data, now))

    def get(self, token: str, *, now: datetime | None = None) -> Session:
        """Return the session of ``token``, refreshing its idle timeout.

        Raises:
            SessionError: ``MALFORMED``, ``UNKNOWN``, ``EXPIRED_IDLE``,
                ``EXPIRED_ABSOLUTE`` or ``REVOKED``.
            StoreUnavailableError: the store is down (no session is valid).
        """
        key, stamp = self._begin(token, now)
        raw = self._store.get(key)
        session = self._fresh(raw, stamp)
        if session is not None:
            return session  # the common case: one read, no write
        return self._run(self._get(key, stamp, raw, force_touch=False))

    def touch(self, token: str, *, now: datetime | None = None) -> Session:
        """Like :meth:`get`, but always record this moment as last use."""
        return self._run(self._touch_now(token, now))

    def update(
        self, token: str, data: Mapping[str, Any], *, now: datetime | None = None
    ) -> Session:
        """Replace the session's data (and record this moment as last use).

        The write is a compare-and-set against the stored record: a session
        destroyed or rotated by a concurrent request is never resurrected.

        Raises:
            SessionError: as :meth:`get`, or ``TOO_LARGE``.
        """
        return self._run(self._update(token, data, now))

    def rotate(
        self,
        token: str,
        *,
        user_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> tuple[str, Session]:
        """Replace the session's id (call on login and any privilege change).

        The old id stops working in the same atomic step that claims the
        session (compare-and-delete), so of two concurrent rotations exactly
        one succeeds and exactly one new id is valid; the other raises
        ``REVOKED``. A new ``user_id`` also restarts the absolute timeout.

        Args:
            token: the current session token.
            user_id: the new user (e.g. after login); default unchanged.
            data: new session data; default unchanged.
            now: the current time.

        Returns:
            ``(new_token, session)``.

        Raises:
            SessionError: as :meth:`get`, or ``REVOKED`` when a concurrent
                request rotated or destroyed the session first.
        """
        return self._run(self._rotate(token, user_id, data, now))

    def destroy(self, token: str) -> bool:
        """End the session of ``token`` (logout); True if it existed.

        A malformed token simply does not exist (returns False).
        """
        return self._run(self._destroy(token))

    def destroy_all(self, user_id: str) -> int:
        """End every session of ``user_id`` (password change, "log out everywhere").

        Returns:
            How many live sessions were ended.
        """
        return self._run(self._destroy_all(user_id))


class AsyncSessionManager(_SessionCore):
    """The async twin of :class:`SessionManager`, on an :class:`~securekit.stores.AsyncStore`.

    Same arguments and behaviour: both managers run the same session steps
    (checks, record format, store calls and atomic steps exist once); every
    method that touches the store is awaitable.
    """

    _store: AsyncStore

    def __init__(
        self,
        store: AsyncStore,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
        max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
        namespace: str = "session",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, AsyncStore) or not _is_async(store):
            raise TypeError("store must implement securekit.stores.AsyncStore")
        super().__init__(
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            max_data_bytes=max_data_bytes,
            namespace=namespace,
            clock=clock,
        )
        self._store = store

    async def _run(self, steps: _Steps[_T]) -> _T:
        """Run shared session steps, awaiting each store call they ask for."""
        store = self._store
        value: Any = None
        while True:
            try:
                name, args, kwargs = steps.send(value)
            except StopIteration as done:
                result: _T = done.value
                return result
            value = await getattr(store, name)(*args, **kwargs)

    # ------------------------------------------------------------ API

    async def create(
        self,
        *,
        user_id: str,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> tuple[str, Session]:
        """Start a new session for ``user_id``.

        See :meth:`SessionManager.create`.
        """
        return await self._run(self._create(user_id, data, now))

    async def get(self, token: str, *, now: datetime | None = None) -> Session:
        """Return the session of ``token``, refreshing its idle timeout.

        See :meth:`SessionManager.get`.
        """
        key, stamp = self._begin(token, now)
        raw = await self._store.get(key)
        session = self._fresh(raw, stamp)
        if session is not None:
            return session  # the common case: one read, no write
        return await self._run(self._get(key, stamp, raw, force_touch=False))

    async def touch(self, token: str, *, now: datetime | None = None) -> Session:
        """Like :meth:`get`, but always record this moment as last use.

        See :meth:`SessionManager.touch`.
        """
        return await self._run(self._touch_now(token, now))

    async def update(
        self, token: str, data: Mapping[str, Any], *, now: datetime | None = None
    ) -> Session:
        """Replace the session's data (and record this moment as last use).

        See :meth:`SessionManager.update`.
        """
        return await self._run(self._update(token, data, now))

    async def rotate(
        self,
        token: str,
        *,
        user_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> tuple[str, Session]:
        """Replace the session's id (call on login and any privilege change).

        See :meth:`SessionManager.rotate`.
        """
        return await self._run(self._rotate(token, user_id, data, now))

    async def destroy(self, token: str) -> bool:
        """End the session of ``token`` (logout); True if it existed.

        See :meth:`SessionManager.destroy`.
        """
        return await self._run(self._destroy(token))

    async def destroy_all(self, user_id: str) -> int:
        """End every session of ``user_id`` (password change, "log out everywhere").

        See :meth:`SessionManager.destroy_all`.
        """
        return await self._run(self._destroy_all(user_id))


_SAME_SITE: Final = {"lax": "Lax", "strict": "Strict"}


class SessionCookie:
    """Builds and reads the session cookie with the safe attributes.

    Defaults: the ``__Host-`` name prefix (the browser then insists on
    ``Secure``, ``Path=/`` and no ``Domain``, so a sibling subdomain cannot
    set or shadow the cookie; RFC 6265bis section 4.1.3.2), ``Secure``,
    ``HttpOnly`` (no JavaScript access), ``SameSite=Lax`` (``Strict``
    available), ``Path=/`` and no ``Domain``. Without ``max_age`` the cookie
    ends with the browser session; the server-side timeouts apply either way.

    Args:
        name: the cookie name without the prefix.
        same_site: ``"Lax"`` or ``"Strict"``.
        max_age: optional cookie lifetime.
        insecure_no_host_prefix: drop the ``__Host-`` prefix.
        insecure_allow_http: drop ``Secure`` (plain-HTTP development only).
        insecure_javascript_access: drop ``HttpOnly``.
        insecure_same_site_none: send ``SameSite=None`` (cross-site requests
            carry the cookie; CSRF protection then rests on tokens alone).

    Danger:
        Each ``insecure_*`` switch removes a browser-enforced protection
        against session theft or fixation; each emits
        ``InsecureConfigurationWarning``.
    """

    def __init__(
        self,
        *,
        name: str = "session",
        same_site: str = "Lax",
        max_age: timedelta | None = None,
        insecure_no_host_prefix: bool = False,
        insecure_allow_http: bool = False,
        insecure_javascript_access: bool = False,
        insecure_same_site_none: bool = False,
    ) -> None:
        if not isinstance(name, str) or not _COOKIE_NAME_RE.fullmatch(name):
            raise ConfigurationError("cookie name must be 1 to 64 RFC 6265 token characters")
        if not isinstance(same_site, str):
            raise TypeError("same_site must be a str")
        if same_site.lower() not in _SAME_SITE:
            raise ConfigurationError(
                "same_site must be 'Lax' or 'Strict' (None needs insecure_same_site_none=True)"
            )
        if max_age is not None:
            if not isinstance(max_age, timedelta):
                raise TypeError("max_age must be a timedelta or None")
            if max_age.total_seconds() < 1:
                raise ConfigurationError("max_age must be at least one second")
        for flag, what in (
            (insecure_no_host_prefix, "the __Host- cookie prefix is disabled"),
            (insecure_allow_http, "the session cookie is sent over plain HTTP"),
            (insecure_javascript_access, "the session cookie is readable by JavaScript"),
            (insecure_same_site_none, "the session cookie is sent on cross-site requests"),
        ):
            if flag:
                warnings.warn(what, InsecureConfigurationWarning, stacklevel=2)
        secure = not insecure_allow_http
        if insecure_same_site_none and not secure:
            raise ConfigurationError("SameSite=None requires Secure (browsers reject it)")
        self.secure = secure
        self.http_only = not insecure_javascript_access
        self.same_site = "None" if insecure_same_site_none else _SAME_SITE[same_site.lower()]
        # __Host- cookies must be Secure: browsers drop them otherwise.
        prefix = "" if insecure_no_host_prefix or not secure else "__Host-"
        self.name = prefix + name
        self.max_age = None if max_age is None else int(max_age.total_seconds())

    def __repr__(self) -> str:
        return f"SessionCookie(name={self.name!r}, same_site={self.same_site!r})"

    def _attributes(self, max_age: int | None) -> str:
        parts = ["Path=/"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.same_site}")
        return "; ".join(parts)

    def header(self, token: str) -> str:
        """Return the ``Set-Cookie`` header value carrying ``token``.

        Raises:
            SessionError: ``MALFORMED`` if ``token`` is not a session token
                (so nothing can be injected into the header).
        """
        return f"{self.name}={_check_token(token)}; {self._attributes(self.max_age)}"

    def clear(self) -> str:
        """Return the ``Set-Cookie`` header value that deletes the cookie."""
        return f"{self.name}=; {self._attributes(0)}"

    def read(self, cookie_header: str | None) -> str | None:
        """Return the session token from a ``Cookie`` request header, if any.

        Returns None when the cookie is absent, malformed, or present more
        than once (an ambiguous header is refused, not guessed at).
        """
        if cookie_header is None:
            return None
        if not isinstance(cookie_header, str):
            raise TypeError("cookie_header must be a str or None")
        if len(cookie_header) > 16 * 1024:
            return None
        found = [
            value.strip()
            for name, sep, value in (part.partition("=") for part in cookie_header.split(";"))
            if sep and name.strip() == self.name
        ]
        if len(found) != 1:
            return None
        token = found[0]
        if len(token) != _TOKEN_LENGTH or not _TOKEN_RE.fullmatch(token):
            return None
        return token
