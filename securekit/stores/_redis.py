"""RedisStore and AsyncRedisStore: one plan per operation, two thin executors.

Each operation is planned once (:class:`_Plan`: a Lua script or a plain
command, its keys and arguments, and how to decode the reply); the sync store
runs plans with ``redis.Redis``, the async one with ``redis.asyncio.Redis``.
The Lua scripts make every read-modify-write atomic on the server.

Keys are ``{<prefix>}:k:<key>`` (values) and ``{<prefix>}:s:<key>`` (sets):
the braces are a Redis Cluster hash tag, so every key of one store lives in
one slot and the multi-key scripts (login throttling) are valid on Cluster.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, NamedTuple, TypeVar

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from securekit.errors import ConfigurationError, StoreUnavailableError
from securekit.stores import _core
from securekit.stores._base import check_penalty_args, check_window_args
from securekit.stores._core import PenaltyRule

R = TypeVar("R")
StrSet = set[str]

#: Default key prefix (inside a Cluster hash tag).
DEFAULT_PREFIX: Final = "securekit"
#: Seconds to wait for Redis to connect or answer before failing closed.
DEFAULT_TIMEOUT: Final = 2.0
#: Retries of a failed command: one reconnect after a server restart
#: succeeds transparently; a server that stays down fails fast.
DEFAULT_RETRIES: Final = 2
_NOT_INTEGER: Final = "securekit-not-integer"
_SCHEMES: Final = ("redis://", "rediss://", "unix://")

SCRIPTS: Final[dict[str, str]] = {
    "cad": """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""",
    "cas": """
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[3])
end
return 1
""",
    "incr": """
local cur = redis.call('GET', KEYS[1])
if not cur then
  if ARGV[2] ~= '' then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  else
    redis.call('SET', KEYS[1], ARGV[1])
  end
  return ARGV[1]
end
if #cur > 20 or not string.match(cur, '^%-?%d+$') then
  return redis.error_reply('securekit-not-integer')
end
return tostring(redis.call('INCRBY', KEYS[1], ARGV[1]))
""",
    "window": """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local index = math.floor(now / window)
local current, previous = 0, 0
local state = redis.call('GET', KEYS[1])
if state then
  local a, b, c = string.match(state, '^(%d+):(%d+):(%d+)$')
  if a then
    local si, sc, sp = tonumber(a), tonumber(b), tonumber(c)
    if si == index then
      current, previous = sc, sp
    elseif si == index - 1 then
      previous = sc
    elseif si > index then
      index, current, previous = si, sc, sp
    end
  end
end
local elapsed = now - index * window
if elapsed < 0 then elapsed = 0 end
local weight = 1 - elapsed / window
if weight < 0 then weight = 0 end
local estimate = previous * weight + current
if estimate + 1 <= limit then
  current = current + 1
  redis.call('SET', KEYS[1], string.format('%d:%d:%d', index, current, previous),
             'PX', ARGV[4])
  return {1, math.floor(estimate + 1), '0'}
end
local retry
if current + 1 <= limit and previous > 0 then
  retry = (estimate + 1 - limit) * window / previous
else
  retry = window - elapsed
  if current > 0 then retry = retry + window * (1 - (limit - 1) / current) end
end
if retry < 0 then retry = 0 end
return {0, math.floor(estimate), string.format('%.17g', retry)}
""",
    "penalty": """
local now = tonumber(ARGV[1])
local retry, locked = 0, false
local counts = {}
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 5
  local limit, free = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  local bdelay, mdelay, ttl = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local count, last = 0, 0
  local raw = redis.call('GET', KEYS[i])
  if raw then
    local c, l = string.match(raw, '^(%d+):(.+)$')
    local lv = l and tonumber(l)
    if c and lv then count, last = tonumber(c), lv else count, last = -1, nil end
  end
  if last == nil then
    -- a corrupted counter counts as fully used: fail closed
    locked = true
    if ttl > retry then retry = ttl end
  else
    if count > 0 and now - last >= ttl then count = 0 end
    counts[i] = count
    if count >= limit then
      locked = true
      local r = last + ttl - now
      if r > retry then retry = r end
    elseif count >= free then
      local e = count - free
      if e > 64 then e = 64 end
      local d = bdelay * 2 ^ e
      if d > mdelay then d = mdelay end
      if now < last + d then
        local r = last + d - now
        if r > retry then retry = r end
      end
    end
  end
end
if locked or retry > 0 then
  return {0, string.format('%.17g', retry), locked and 1 or 0}
end
for i = 1, #KEYS do
  local ttl = tonumber(ARGV[1 + (i - 1) * 5 + 5])
  redis.call('SET', KEYS[i], string.format('%d:%.17g', counts[i] + 1, now),
             'PX', math.ceil(ttl * 1000))
end
return {1, '0', 0}
""",
    "sadd": """
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
""",
}


class _Plan(NamedTuple, Generic[R]):
    """One store operation as Redis will run it (a tuple: built per call, so cheap)."""

    script: str | None  # a key of SCRIPTS, or None for a plain command
    keys: tuple[str, ...]
    args: tuple[str | bytes, ...]  # ARGV of the script, or the command words
    decode: Callable[[Any], R]


def _ms(ttl: float | None) -> str:
    return "" if ttl is None else str(max(1, math.ceil(ttl * 1000)))


def _none(_raw: object) -> None:
    return None


def _bool(raw: object) -> bool:
    return bool(raw)


def _bytes_or_none(raw: object) -> bytes | None:
    return raw if isinstance(raw, bytes) else None


def _int(raw: Any) -> int:
    return int(raw)


def _members(raw: object) -> StrSet:
    return {m.decode("utf-8", "replace") for m in raw}  # type: ignore[attr-defined]


def _window(raw: Any) -> tuple[bool, int, float]:
    allowed = bool(raw[0])
    retry = 0.0 if allowed else _core.round_retry(float(raw[2]))
    return allowed, int(raw[1]), retry


def _penalty(raw: Any) -> tuple[bool, float, bool]:
    allowed = bool(raw[0])
    retry = 0.0 if allowed else _core.round_retry(float(raw[1]))
    return allowed, retry, bool(raw[2])


class _Planner:
    """Validates arguments and plans each operation (shared by sync and async)."""

    def __init__(self, prefix: str) -> None:
        if not isinstance(prefix, str):
            raise TypeError("prefix must be a str")
        if not prefix or len(prefix) > 64 or not prefix.isascii() or set("{}") & set(prefix):
            raise ConfigurationError("prefix must be 1 to 64 ASCII characters without '{' or '}'")
        self.value_prefix = f"{{{prefix}}}:k:"
        self.set_prefix = f"{{{prefix}}}:s:"

    def _k(self, key: str) -> str:
        return self.value_prefix + _core.check_key(key)

    def get(self, key: str) -> _Plan[bytes | None]:
        return _Plan(None, (), ("GET", self._k(key)), _bytes_or_none)

    def set(self, key: str, value: bytes, ttl: float | None) -> _Plan[None]:
        words: tuple[str | bytes, ...] = ("SET", self._k(key), _core.check_value(value))
        ttl = _core.check_ttl(ttl)
        if ttl is not None:
            words += ("PX", _ms(ttl))
        return _Plan(None, (), words, _none)

    def add(self, key: str, value: bytes, ttl: float | None) -> _Plan[bool]:
        words: tuple[str | bytes, ...] = ("SET", self._k(key), _core.check_value(value), "NX")
        ttl = _core.check_ttl(ttl)
        if ttl is not None:
            words += ("PX", _ms(ttl))
        return _Plan(None, (), words, _bool)

    def delete(self, key: str) -> _Plan[bool]:
        return _Plan(None, (), ("DEL", self._k(key)), _bool)

    def compare_and_delete(self, key: str, expected: bytes) -> _Plan[bool]:
        expected = _core.check_value(expected, name="expected value")
        return _Plan("cad", (self._k(key),), (expected,), _bool)

    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, ttl: float | None
    ) -> _Plan[bool]:
        if expected is not None:
            _core.check_value(expected, name="expected value")
        args = (
            "0" if expected is None else "1",
            b"" if expected is None else expected,
            _core.check_value(value),
            _ms(_core.check_ttl(ttl)),
        )
        return _Plan("cas", (self._k(key),), args, _bool)

    def incr(self, key: str, amount: int, ttl: float | None) -> _Plan[int]:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an int")
        if abs(amount) > 2**53:
            raise ConfigurationError("amount must be between -2**53 and 2**53")
        args = (str(amount), _ms(_core.check_ttl(ttl)))
        return _Plan("incr", (self._k(key),), args, _int)

    def sliding_window_hit(
        self, key: str, limit: int, window: float, now: float
    ) -> _Plan[tuple[bool, int, float]]:
        limit, window, now = check_window_args(limit, window, now)
        args = (str(limit), repr(window), repr(now), _ms(2 * window))
        return _Plan("window", (self._k(key),), args, _window)

    def penalty_hit(
        self, keys: Sequence[str], rules: Sequence[PenaltyRule], now: float
    ) -> _Plan[tuple[bool, float, bool]]:
        key_list, rule_list, now = check_penalty_args(keys, rules, now)
        args: list[str | bytes] = [repr(now)]
        for rule in rule_list:
            args.extend(rule.encode())
        redis_keys = tuple(self.value_prefix + k for k in key_list)
        return _Plan("penalty", redis_keys, tuple(args), _penalty)

    def set_add(self, key: str, member: str, ttl: float | None) -> _Plan[None]:
        args = (_core.check_member(member), _ms(_core.check_ttl(ttl)))
        return _Plan("sadd", (self.set_prefix + _core.check_key(key),), args, _none)

    def set_remove(self, key: str, member: str) -> _Plan[None]:
        words = ("SREM", self.set_prefix + _core.check_key(key), _core.check_member(member))
        return _Plan(None, (), words, _none)

    def set_members(self, key: str) -> _Plan[StrSet]:
        return _Plan(None, (), ("SMEMBERS", self.set_prefix + _core.check_key(key)), _members)


def _fail(exc: Exception) -> Exception:
    """Map a redis-py failure to the securekit error (the cause is dropped)."""
    if isinstance(exc, redis.exceptions.ResponseError) and _NOT_INTEGER in str(exc):
        return ConfigurationError("incr() on a key that does not hold an integer")
    return StoreUnavailableError()


def _check_url(url: str) -> str:
    if not url.startswith(_SCHEMES):
        raise ConfigurationError("the Redis URL must start with redis://, rediss:// or unix://")
    return url


def _check_client(client: object) -> None:
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", {})
    if kwargs.get("decode_responses"):
        raise ConfigurationError("RedisStore needs a client with decode_responses=False")


_Client = TypeVar("_Client")


def _connect(
    url_or_client: str | _Client,
    *,
    timeout: float,
    from_url: Callable[..., _Client],
    retry: Callable[[ExponentialBackoff, int], object],
    store: str,
    client_kind: str,
) -> _Client:
    """The client of a (sync or async) store: built from a URL, or checked."""
    timeout = _core.check_seconds(timeout, name="timeout")
    if isinstance(url_or_client, str):
        return from_url(
            _check_url(url_or_client),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=retry(ExponentialBackoff(cap=0.05, base=0.005), DEFAULT_RETRIES),
        )
    if hasattr(url_or_client, "register_script"):
        _check_client(url_or_client)
        return url_or_client
    raise TypeError(f"{store} needs a Redis URL or a {client_kind} client")


def _send(client: Any, scripts: dict[str, Any], plan: _Plan[Any]) -> Any:
    """Send a plan: its command, or its script (an awaitable on an async client)."""
    if plan.script is None:
        return client.execute_command(*plan.args)
    return scripts[plan.script](keys=list(plan.keys), args=list(plan.args))


class RedisStore:
    """A store on Redis (or Redis Cluster): the store for many machines.

    Every read-modify-write is one Lua script, so it is atomic on the server.
    Any connection error, timeout or server error raises
    :class:`~securekit.errors.StoreUnavailableError`: callers fail closed and
    never fall back to memory. The client reconnects by itself, so after an
    outage the same store works again.

    Args:
        url_or_client: a ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL
            (credentials as ``redis://user:password@host``), or a configured
            ``redis.Redis`` / ``redis.RedisCluster`` client.
        prefix: key prefix, used as the Cluster hash tag.
        timeout: seconds to wait for a connection or reply (URL form only).

    Raises:
        ConfigurationError: bad URL, prefix or timeout, or a client that
            decodes responses.
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._plan = _Planner(prefix)
        client: redis.Redis = _connect(
            url_or_client,
            timeout=timeout,
            from_url=redis.Redis.from_url,
            retry=Retry,
            store="RedisStore",
            client_kind="redis.Redis",
        )
        self.client = client
        self._scripts = {name: client.register_script(src) for name, src in SCRIPTS.items()}

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self._plan.value_prefix[:-3]!r})"

    def _run(self, plan: _Plan[R]) -> R:
        try:
            raw = _send(self.client, self._scripts, plan)
        except (redis.exceptions.RedisError, OSError) as exc:
            raise _fail(exc) from None
        return plan.decode(raw)

    def get(self, key: str) -> bytes | None:
        """Return the value of ``key``, or None when absent or expired."""
        return self._run(self._plan.get(key))

    def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Write ``value`` under ``key`` (replacing any value and expiry)."""
        self._run(self._plan.set(key, value, ttl))

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Set-if-absent; True if this call created the key."""
        return self._run(self._plan.add(key, value, ttl))

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""
        return self._run(self._plan.delete(key))

    def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """Delete ``key`` only if its value equals ``expected``; True if deleted."""
        return self._run(self._plan.compare_and_delete(key, expected))

    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """Write only if the value equals ``expected`` (None: key absent)."""
        return self._run(self._plan.compare_and_set(key, expected, value, ttl))

    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` to a counter; ``ttl`` applies when this creates it."""
        return self._run(self._plan.incr(key, amount, ttl))

    def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """Count one hit in a sliding window: ``(allowed, count, retry_after)``."""
        return self._run(self._plan.sliding_window_hit(key, limit, window, now))

    def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """Check and count one attempt on several failure counters atomically."""
        return self._run(self._plan.penalty_hit(keys, rules, now))

    def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """Add ``member`` to the set ``key`` (a TTL refreshes the set's expiry)."""
        self._run(self._plan.set_add(key, member, ttl))

    def set_remove(self, key: str, member: str) -> None:
        """Remove ``member`` from the set ``key``."""
        self._run(self._plan.set_remove(key, member))

    def set_members(self, key: str) -> StrSet:
        """Return the members of the set ``key`` (empty when absent)."""
        return self._run(self._plan.set_members(key))

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


class AsyncRedisStore:
    """The async twin of :class:`RedisStore`, on ``redis.asyncio``.

    It runs the same plans and scripts as :class:`RedisStore`; see there.
    """

    def __init__(
        self,
        url_or_client: str | redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._plan = _Planner(prefix)
        client: redis.asyncio.Redis = _connect(
            url_or_client,
            timeout=timeout,
            from_url=redis.asyncio.Redis.from_url,
            retry=AsyncRetry,
            store="AsyncRedisStore",
            client_kind="redis.asyncio.Redis",
        )
        self.client = client
        self._scripts = {name: client.register_script(src) for name, src in SCRIPTS.items()}

    def __repr__(self) -> str:
        return f"AsyncRedisStore(prefix={self._plan.value_prefix[:-3]!r})"

    async def _run(self, plan: _Plan[R]) -> R:
        try:
            raw = await _send(self.client, self._scripts, plan)
        except (redis.exceptions.RedisError, OSError) as exc:
            raise _fail(exc) from None
        return plan.decode(raw)

    async def get(self, key: str) -> bytes | None:
        """See :meth:`RedisStore.get`."""
        return await self._run(self._plan.get(key))

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """See :meth:`RedisStore.set`."""
        await self._run(self._plan.set(key, value, ttl))

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """See :meth:`RedisStore.add`."""
        return await self._run(self._plan.add(key, value, ttl))

    async def delete(self, key: str) -> bool:
        """See :meth:`RedisStore.delete`."""
        return await self._run(self._plan.delete(key))

    async def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """See :meth:`RedisStore.compare_and_delete`."""
        return await self._run(self._plan.compare_and_delete(key, expected))

    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """See :meth:`RedisStore.compare_and_set`."""
        return await self._run(self._plan.compare_and_set(key, expected, value, ttl))

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """See :meth:`RedisStore.incr`."""
        return await self._run(self._plan.incr(key, amount, ttl))

    async def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """See :meth:`RedisStore.sliding_window_hit`."""
        return await self._run(self._plan.sliding_window_hit(key, limit, window, now))

    async def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """See :meth:`RedisStore.penalty_hit`."""
        return await self._run(self._plan.penalty_hit(keys, rules, now))

    async def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """See :meth:`RedisStore.set_add`."""
        await self._run(self._plan.set_add(key, member, ttl))

    async def set_remove(self, key: str, member: str) -> None:
        """See :meth:`RedisStore.set_remove`."""
        await self._run(self._plan.set_remove(key, member))

    async def set_members(self, key: str) -> StrSet:
        """See :meth:`RedisStore.set_members`."""
        return await self._run(self._plan.set_members(key))

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()
