"""Rate limiting and login throttling, exact under concurrency, failing closed.

Example:
    >>> from datetime import timedelta
    >>> from securekit.stores import MemoryStore
    >>> limiter = RateLimiter(MemoryStore(), limit=2, window=timedelta(minutes=1))
    >>> sum(limiter.hit("api:user-1").allowed for _ in range(3))
    2

Both recipes run one atomic store operation per request (a Lua script on
Redis, one ``BEGIN IMMEDIATE`` transaction on SQLite), so concurrent workers
can never overshoot a limit, and a store that is down raises
:class:`~securekit.errors.StoreUnavailableError` instead of letting requests
through.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import ipaddress
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from securekit._clock import Clock, resolve, system_clock
from securekit.errors import ConfigurationError, RateLimitedError, RateLimitReason
from securekit.stores import AsyncStore, PenaltyRule, Store

__all__ = [
    "DEFAULT_THROTTLE_POLICY",
    "AsyncLoginThrottle",
    "AsyncRateLimiter",
    "Decision",
    "LoginThrottle",
    "RateLimiter",
    "ThrottlePolicy",
    "TrustedProxies",
]

_NAMESPACE_RE: Final = re.compile(r"[a-z0-9_-]{1,32}")
#: Identifiers longer than this share one counter instead of being hashed
#: one by one: no real username or key is that long, and the cap keeps
#: normalisation and hashing of hostile input cheap.
_MAX_IDENTIFIER: Final = 1024
_MAX_FORWARDED: Final = 8 * 1024
_MAX_HOPS: Final = 64


def _check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not _NAMESPACE_RE.fullmatch(namespace):
        raise ConfigurationError("namespace must be 1 to 32 of a-z, 0-9, '_' and '-'")
    return namespace


def _digest(secret: bytes | None, *parts: str) -> str:
    data = b"\x00".join(p.encode("utf-8", "surrogatepass") for p in parts)
    if secret is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The outcome of one :meth:`RateLimiter.hit`.

    Attributes:
        allowed: whether the request may proceed.
        limit: the configured limit.
        remaining: hits left in the current window (estimate).
        retry_after: seconds until a hit may be allowed again (0 if allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float

    def headers(self) -> dict[str, str]:
        """HTTP headers for the response (``Retry-After`` when refused)."""
        out = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            # RFC 9110 section 10.2.3: delay-seconds is a non-negative integer.
            out["Retry-After"] = str(math.ceil(self.retry_after))
        return out


class _LimiterCore:
    """Configuration and the pure parts of a rate limiter (sync and async share it)."""

    def __init__(
        self,
        *,
        limit: int,
        window: timedelta,
        namespace: str,
        clock: Clock,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError("limit must be an int")
        if not 1 <= limit <= 2**31:
            raise ConfigurationError("limit must be between 1 and 2**31")
        if not isinstance(window, timedelta):
            raise TypeError("window must be a timedelta")
        if window.total_seconds() < 0.001:
            raise ConfigurationError("window must be at least one millisecond")
        self._limit = limit
        self._window = window.total_seconds()
        self._ns = _check_namespace(namespace)
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(limit={self._limit}, window={self._window}s,"
            f" namespace={self._ns!r})"
        )

    def _key(self, key: str) -> str:
        if not isinstance(key, str):
            raise TypeError(f"rate-limit keys are str, not {type(key).__name__}")
        if len(key) > _MAX_IDENTIFIER:
            return f"{self._ns}:overlong"
        # Hashed: keys often hold user ids or IPs, which the store need not see.
        return f"{self._ns}:{_digest(None, key)}"

    def _request(self, key: str, now: datetime | None) -> tuple[str, float]:
        return self._key(key), resolve(now, self._clock).timestamp()

    def _decision(self, result: tuple[bool, int, float]) -> Decision:
        allowed, count, retry = result
        return Decision(
            allowed=allowed,
            limit=self._limit,
            remaining=max(self._limit - count, 0),
            retry_after=retry,
        )

    @staticmethod
    def _raise_if_refused(decision: Decision) -> Decision:
        if not decision.allowed:
            raise RateLimitedError(RateLimitReason.LIMIT_EXCEEDED, retry_after=decision.retry_after)
        return decision


class RateLimiter(_LimiterCore):
    """A sliding-window-counter rate limit on any store.

    Args:
        store: the shared state (SQLite on one machine, Redis on many).
        limit: hits allowed per window.
        window: the window length.
        namespace: store key prefix (one per limiter sharing a store).
        clock: the time source.

    Raises:
        ConfigurationError: the limit or window is not positive.
    """

    def __init__(
        self,
        store: Store,
        *,
        limit: int,
        window: timedelta,
        namespace: str = "ratelimit",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, Store) or _is_async(store):
            raise TypeError("store must implement securekit.stores.Store")
        super().__init__(limit=limit, window=window, namespace=namespace, clock=clock)
        self._store = store

    def hit(self, key: str, *, now: datetime | None = None) -> Decision:
        """Count one request for ``key`` and say whether it is allowed.

        Refused requests are not counted, so a client that keeps retrying is
        allowed again once the window has slid.

        Raises:
            StoreUnavailableError: the store is down (fail closed).
        """
        store_key, stamp = self._request(key, now)
        return self._decision(
            self._store.sliding_window_hit(
                store_key, limit=self._limit, window=self._window, now=stamp
            )
        )

    def check(self, key: str, *, now: datetime | None = None) -> Decision:
        """Like :meth:`hit`, but raise when refused.

        Raises:
            RateLimitedError: ``LIMIT_EXCEEDED``, with ``retry_after``.
            StoreUnavailableError: the store is down.
        """
        return self._raise_if_refused(self.hit(key, now=now))


class AsyncRateLimiter(_LimiterCore):
    """The async twin of :class:`RateLimiter`, on an :class:`~securekit.stores.AsyncStore`.

    Same arguments, same behaviour; ``hit`` and ``check`` are awaitable.
    """

    def __init__(
        self,
        store: AsyncStore,
        *,
        limit: int,
        window: timedelta,
        namespace: str = "ratelimit",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, AsyncStore) or not _is_async(store):
            raise TypeError("store must implement securekit.stores.AsyncStore")
        super().__init__(limit=limit, window=window, namespace=namespace, clock=clock)
        self._store = store

    async def hit(self, key: str, *, now: datetime | None = None) -> Decision:
        """See :meth:`RateLimiter.hit`."""
        store_key, stamp = self._request(key, now)
        return self._decision(
            await self._store.sliding_window_hit(
                store_key, limit=self._limit, window=self._window, now=stamp
            )
        )

    async def check(self, key: str, *, now: datetime | None = None) -> Decision:
        """See :meth:`RateLimiter.check`."""
        return self._raise_if_refused(await self.hit(key, now=now))


def _is_async(store: object) -> bool:
    return inspect.iscoroutinefunction(getattr(store, "sliding_window_hit", None))


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    """Limits of :class:`LoginThrottle` (each counter: a delay, then a lock).

    A counter allows ``*_free`` failures without delay; each further failure
    doubles a delay from ``base_delay`` up to ``max_delay``; at ``*_limit``
    failures the counter locks until ``reset_after`` has passed since its
    last failure. The account counters also reset on a successful login.

    Attributes:
        account_limit: consecutive failures per account, at most 100
            (NIST SP 800-63B-4, section 3.2.2).
        account_free: failures per account before delays start.
        pair_limit: failures per (account, IP) pair.
        pair_free: failures per pair before delays start.
        ip_limit: failures per client IP (IPv6: per /64) over all accounts:
            credential stuffing from one source.
        ip_free: failures per IP before delays start.
        base_delay: the first delay.
        max_delay: the longest delay.
        reset_after: a counter with no failure for this long starts over.
    """

    account_limit: int = 100
    account_free: int = 10
    pair_limit: int = 20
    pair_free: int = 3
    ip_limit: int = 200
    ip_free: int = 20
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=1)
    reset_after: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        for name in ("account", "pair", "ip"):
            limit, free = getattr(self, f"{name}_limit"), getattr(self, f"{name}_free")
            for value in (limit, free):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"{name}_limit and {name}_free must be ints")
            if not 1 <= limit <= 1_000_000 or not 0 <= free <= limit:
                raise ConfigurationError(f"need 0 <= {name}_free <= {name}_limit, limit >= 1")
        if self.account_limit > 100:
            raise ConfigurationError(
                "account_limit must be at most 100 (NIST SP 800-63B-4 section 3.2.2)"
            )
        for name in ("base_delay", "max_delay", "reset_after"):
            if not isinstance(getattr(self, name), timedelta):
                raise TypeError(f"{name} must be a timedelta")
        if not timedelta(0) < self.base_delay <= self.max_delay <= self.reset_after:
            raise ConfigurationError("need 0 < base_delay <= max_delay <= reset_after")

    def _rules(self) -> tuple[PenaltyRule, PenaltyRule, PenaltyRule]:
        base, top = self.base_delay.total_seconds(), self.max_delay.total_seconds()
        ttl = self.reset_after.total_seconds()

        def rule(limit: int, free: int) -> PenaltyRule:
            return PenaltyRule(limit=limit, free=free, base_delay=base, max_delay=top, ttl=ttl)

        return (
            rule(self.account_limit, self.account_free),
            rule(self.pair_limit, self.pair_free),
            rule(self.ip_limit, self.ip_free),
        )


#: The default login throttle policy.
DEFAULT_THROTTLE_POLICY: Final = ThrottlePolicy()


def _ip_bucket(ip: str) -> str:
    """The counter identity of a client address: IPv6 per /64, mapped IPv4 as IPv4."""
    if not isinstance(ip, str):
        raise TypeError(f"ip must be a str, not {type(ip).__name__}")
    if len(ip) > 64:
        return "invalid"
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        # Unparseable addresses share one counter: they cannot dodge it.
        return "invalid"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One host controls a whole /64 (RFC 4291 interface identifiers).
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _account(username: str) -> str:
    if not isinstance(username, str):
        raise TypeError(f"username must be a str, not {type(username).__name__}")
    if len(username) > _MAX_IDENTIFIER:
        return "\x00overlong"
    # "Alice", "alice" and the full-width compatibility form of "alice" are one
    # account to an attacker spreading attempts over spellings: count them together.
    # Surrounding whitespace too: login forms and user lookups often strip it,
    # so "alice " must not open a fresh counter for the same account.
    return unicodedata.normalize("NFKC", username).casefold().strip()


class _ThrottleCore:
    """Configuration and the pure parts of a login throttle (sync and async share it)."""

    def __init__(
        self,
        *,
        policy: ThrottlePolicy,
        secret: bytes | None,
        namespace: str,
        clock: Clock,
    ) -> None:
        if not isinstance(policy, ThrottlePolicy):
            raise TypeError("policy must be a ThrottlePolicy")
        if secret is not None:
            if not isinstance(secret, bytes):
                raise TypeError("secret must be bytes or None")
            if len(secret) < 16:
                raise ConfigurationError("secret must be at least 16 bytes")
        self._rules = policy._rules()
        self._secret = secret
        self._ns = _check_namespace(namespace)
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(namespace={self._ns!r})"

    def _keys(self, username: str, ip: str) -> tuple[str, str, str]:
        account, bucket = _account(username), _ip_bucket(ip)
        return (
            f"{self._ns}:a:{_digest(self._secret, 'a', account)}",
            f"{self._ns}:p:{_digest(self._secret, 'p', account, bucket)}",
            f"{self._ns}:i:{_digest(self._secret, 'i', bucket)}",
        )

    def _stamp(self, now: datetime | None) -> float:
        return resolve(now, self._clock).timestamp()

    @staticmethod
    def _raise_if_refused(result: tuple[bool, float, bool]) -> None:
        allowed, retry, locked = result
        if not allowed:
            reason = RateLimitReason.ACCOUNT_LOCKED if locked else RateLimitReason.THROTTLED
            raise RateLimitedError(reason, retry_after=retry)


class LoginThrottle(_ThrottleCore):
    """Throttles password guessing per account, per (account, IP) and per IP.

    Call :meth:`check` *before* verifying the password: it counts the
    attempt as a failure in the same atomic step that checks the three
    counters, so a burst of parallel guesses cannot all pass a check that a
    later failure would have closed. Call :meth:`success` after a correct
    password: it clears the account and pair counters (never the IP
    counter, so one valid account cannot launder a stuffing run).

    Unknown usernames are counted exactly like real ones, and nothing here
    depends on whether the account exists, so responses are identical. The
    store holds only hashes of usernames and addresses.

    Args:
        store: the shared state.
        policy: the limits.
        secret: optional key for HMAC-SHA256 of the counter names (without
            it they are plain SHA-256, which hides names from casual reading
            but not from a dictionary of known usernames).
        namespace: store key prefix.
        clock: the time source.
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
        secret: bytes | None = None,
        namespace: str = "login",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, Store) or _is_async(store):
            raise TypeError("store must implement securekit.stores.Store")
        super().__init__(policy=policy, secret=secret, namespace=namespace, clock=clock)
        self._store = store

    def check(self, *, username: str, ip: str, now: datetime | None = None) -> None:
        """Count a login attempt, or refuse it; call before checking the password.

        Args:
            username: the username as submitted (existing or not).
            ip: the client address (see :class:`TrustedProxies`).
            now: the current time.

        Raises:
            RateLimitedError: ``THROTTLED`` (a progressive delay) or
                ``ACCOUNT_LOCKED`` (a hard limit), with ``retry_after``.
            StoreUnavailableError: the store is down (fail closed).
        """
        keys = self._keys(username, ip)
        self._raise_if_refused(
            self._store.penalty_hit(keys, rules=self._rules, now=self._stamp(now))
        )

    def failure(self, *, username: str, ip: str) -> None:
        """Record a failed password check.

        The attempt was already counted by :meth:`check`, so this does not
        touch the store; it exists so login code reads naturally, and it
        still validates its arguments.
        """
        self._keys(username, ip)

    def success(self, *, username: str, ip: str) -> None:
        """Reset the account and (account, IP) counters after a correct password.

        Raises:
            StoreUnavailableError: the store is down.
        """
        account_key, pair_key, _ip_key = self._keys(username, ip)
        self._store.delete(account_key)
        self._store.delete(pair_key)


class AsyncLoginThrottle(_ThrottleCore):
    """The async twin of :class:`LoginThrottle`, on an :class:`~securekit.stores.AsyncStore`.

    Same arguments and behaviour; ``check`` and ``success`` are awaitable.
    """

    def __init__(
        self,
        store: AsyncStore,
        *,
        policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
        secret: bytes | None = None,
        namespace: str = "login",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(store, AsyncStore) or not _is_async(store):
            raise TypeError("store must implement securekit.stores.AsyncStore")
        super().__init__(policy=policy, secret=secret, namespace=namespace, clock=clock)
        self._store = store

    async def check(self, *, username: str, ip: str, now: datetime | None = None) -> None:
        """See :meth:`LoginThrottle.check`."""
        keys = self._keys(username, ip)
        self._raise_if_refused(
            await self._store.penalty_hit(keys, rules=self._rules, now=self._stamp(now))
        )

    def failure(self, *, username: str, ip: str) -> None:
        """See :meth:`LoginThrottle.failure` (no store access, so not awaitable)."""
        self._keys(username, ip)

    async def success(self, *, username: str, ip: str) -> None:
        """See :meth:`LoginThrottle.success`."""
        account_key, pair_key, _ip_key = self._keys(username, ip)
        await self._store.delete(account_key)
        await self._store.delete(pair_key)


class TrustedProxies:
    """Finds the client address behind reverse proxies you configured.

    ``X-Forwarded-For`` is read right to left, skipping only addresses of
    trusted proxies; the first untrusted address is the client. Addresses
    a client wrote itself (on the left) are never believed, and a request
    that did not come from a trusted proxy uses the socket address.

    Args:
        networks: addresses or networks (``"10.0.0.0/8"``) of your proxies.

    Raises:
        ConfigurationError: an entry is not an address or network.
    """

    def __init__(self, networks: Collection[str]) -> None:
        if isinstance(networks, str) or not isinstance(networks, Collection):
            raise TypeError("networks must be a collection of strings")
        parsed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in networks:
            if not isinstance(item, str):
                raise TypeError("networks must be strings")
            try:
                parsed.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigurationError(f"not an IP address or network: {item!r}") from None
        self._networks = tuple(parsed)

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(n) for n in self._networks]!r})"

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self._networks)

    @staticmethod
    def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        text = text.strip()
        if text.startswith("["):  # "[2001:db8::1]:443"
            text = text[1:].partition("]")[0]
        elif text.count(":") == 1:  # "192.0.2.1:443"
            text = text.partition(":")[0]
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return address.ipv4_mapped
        return address

    def client_ip(self, remote_addr: str, forwarded_for: str | None = None) -> str:
        """Return the client address for throttling and logs.

        Args:
            remote_addr: the peer address of the TCP connection.
            forwarded_for: the ``X-Forwarded-For`` header, if any.
        """
        if not isinstance(remote_addr, str):
            raise TypeError("remote_addr must be a str")
        if forwarded_for is not None and not isinstance(forwarded_for, str):
            raise TypeError("forwarded_for must be a str or None")
        current = self._parse(remote_addr)
        if current is None:
            return remote_addr.strip()[:64]
        if not forwarded_for or not self._trusted(current):
            return str(current)
        # The right end is what our own proxies wrote: keep it, drop the left.
        hops = forwarded_for[-_MAX_FORWARDED:].split(",")[-_MAX_HOPS:]
        for hop in reversed(hops):
            address = self._parse(hop)
            if address is None:
                # A trusted proxy passed on garbage: stop at the last address
                # we can vouch for rather than guess.
                return str(current)
            current = address
            if not self._trusted(address):
                return str(address)
        return str(current)
