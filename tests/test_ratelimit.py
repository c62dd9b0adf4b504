"""Rate limiting and login throttling: exact, atomic, fail closed."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    RateLimitedError,
    RateLimitReason,
    StoreUnavailableError,
)
from securekit.ratelimit import (
    DEFAULT_THROTTLE_POLICY,
    Decision,
    LoginThrottle,
    RateLimiter,
    ThrottlePolicy,
    TrustedProxies,
)
from securekit.stores import MemoryStore, RedisStore, SQLiteStore, Store
from securekit.testing import FixedClock, RedisServer
from tests._leak import assert_no_leak

MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SQLiteStore(tmp_path / "rl.db")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"))
        yield s
        s.close()


# ---------------------------------------------------------------- RateLimiter


def test_limiter_allows_exactly_the_limit(store: Store) -> None:
    clock = FixedClock()
    limiter = RateLimiter(store, limit=5, window=MINUTE, clock=clock)
    decisions = [limiter.hit("api:user-1") for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[5].retry_after > 0
    assert limiter.hit("api:user-2").allowed  # keys are independent
    clock.advance(timedelta(minutes=2))
    assert limiter.hit("api:user-1").allowed


def test_limiter_retry_after_is_honest(store: Store) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC))
    limiter = RateLimiter(store, limit=2, window=MINUTE, clock=clock)
    limiter.hit("k")
    limiter.hit("k")
    refused = limiter.hit("k")
    assert not refused.allowed
    clock.advance(timedelta(seconds=refused.retry_after) - timedelta(seconds=0.5))
    assert not limiter.hit("k").allowed
    clock.advance(timedelta(seconds=1))
    assert limiter.hit("k").allowed


def test_limiter_check_raises(store: Store) -> None:
    limiter = RateLimiter(store, limit=1, window=MINUTE, clock=FixedClock())
    assert limiter.check("k").allowed
    with pytest.raises(RateLimitedError) as info:
        limiter.check("k")
    assert info.value.reason is RateLimitReason.LIMIT_EXCEEDED
    assert info.value.retry_after > 0
    assert_no_leak(info.value, "ratelimit:")


@pytest.mark.redis
def test_limiter_hashes_keys(redis_url: str) -> None:
    limiter = RateLimiter(RedisStore(redis_url), limit=3, window=MINUTE)
    limiter.hit("user:alice@example.com")
    raw = redis_py.Redis.from_url(redis_url)
    keys = b"".join(raw.scan_iter())
    raw.close()
    assert b"alice" not in keys
    assert b"ratelimit:" in keys


def test_limiter_overlong_keys_share_a_counter() -> None:
    limiter = RateLimiter(MemoryStore(), limit=1, window=MINUTE, clock=FixedClock())
    assert limiter.hit("a" * 5000).allowed
    assert not limiter.hit("b" * 5000).allowed


def test_decision_headers() -> None:
    ok = Decision(allowed=True, limit=10, remaining=3, retry_after=0.0)
    assert ok.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "3"}
    no = Decision(allowed=False, limit=10, remaining=0, retry_after=1.2)
    assert no.headers()["Retry-After"] == "2"


def test_limiter_configuration() -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(MemoryStore(), limit=0, window=MINUTE)
    with pytest.raises(ConfigurationError):
        RateLimiter(MemoryStore(), limit=1, window=timedelta(0))
    with pytest.raises(ConfigurationError):
        RateLimiter(MemoryStore(), limit=1, window=MINUTE, namespace="Bad!")
    with pytest.raises(TypeError):
        RateLimiter(MemoryStore(), limit=1.0, window=MINUTE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RateLimiter(MemoryStore(), limit=1, window=60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RateLimiter(object(), limit=1, window=MINUTE)  # type: ignore[arg-type]
    limiter = RateLimiter(MemoryStore(), limit=1, window=MINUTE)
    with pytest.raises(TypeError):
        limiter.hit(b"k")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        limiter.hit("k", now=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    assert "limit=1" in repr(limiter)


@settings(max_examples=60, deadline=None)
@given(key=st.text(max_size=60))
def test_any_key_works(key: str) -> None:
    limiter = RateLimiter(MemoryStore(), limit=1, window=MINUTE, clock=FixedClock())
    assert limiter.hit(key).allowed
    assert not limiter.hit(key).allowed


def _limiter_worker(kind: str, where: str, barrier: Any, out: Any) -> None:
    store: Store = SQLiteStore(where) if kind == "sqlite" else RedisStore(where)
    limiter = RateLimiter(store, limit=100, window=timedelta(hours=1))
    at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    barrier.wait()
    out.put(sum(limiter.hit("api:shared", now=at).allowed for _ in range(20)))


def _hammer(kind: str, where: str) -> int:
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(target=_limiter_worker, args=(kind, where, barrier, out)) for _ in range(8)
    ]
    for p in procs:
        p.start()
    total: int = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    return total


@pytest.mark.slow
def test_limiter_eight_processes_sqlite(tmp_path: Path) -> None:
    path = str(tmp_path / "hammer.db")
    SQLiteStore(path)
    assert _hammer("sqlite", path) == 100


@pytest.mark.slow
@pytest.mark.redis
def test_limiter_eight_processes_redis(redis_url: str) -> None:
    assert _hammer("redis", redis_url) == 100


@pytest.mark.redis
def test_outage_fails_closed_and_recovers(redis_server: RedisServer) -> None:
    redis_server.start()
    redis_server.flush()
    store = RedisStore(redis_server.url, timeout=0.5)
    limiter = RateLimiter(store, limit=100, window=MINUTE)
    throttle = LoginThrottle(store)
    assert limiter.hit("k").allowed
    redis_server.stop()
    try:
        with pytest.raises(StoreUnavailableError):
            limiter.hit("k")
        with pytest.raises(StoreUnavailableError):
            throttle.check(username="alice", ip="192.0.2.1")
        with pytest.raises(StoreUnavailableError):
            throttle.success(username="alice", ip="192.0.2.1")
    finally:
        redis_server.start()
    assert limiter.hit("k").allowed
    throttle.check(username="alice", ip="192.0.2.1")


# ---------------------------------------------------------------- LoginThrottle

SMALL = ThrottlePolicy(
    account_limit=6,
    account_free=4,
    pair_limit=5,
    pair_free=2,
    ip_limit=8,
    ip_free=6,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(seconds=4),
    reset_after=timedelta(hours=1),
)


def refused(throttle: LoginThrottle, user: str, ip: str) -> RateLimitedError | None:
    try:
        throttle.check(username=user, ip=ip)
    except RateLimitedError as exc:
        return exc
    return None


def test_pair_delay_then_progressive(store: Store) -> None:
    clock = FixedClock()
    throttle = LoginThrottle(store, policy=SMALL, clock=clock)
    assert refused(throttle, "alice", "192.0.2.1") is None
    assert refused(throttle, "alice", "192.0.2.1") is None
    exc = refused(throttle, "alice", "192.0.2.1")
    assert exc is not None
    assert exc.reason is RateLimitReason.THROTTLED
    assert exc.retry_after == pytest.approx(1.0, abs=1e-3)
    clock.advance(timedelta(seconds=1))
    assert refused(throttle, "alice", "192.0.2.1") is None
    exc = refused(throttle, "alice", "192.0.2.1")
    assert exc is not None
    assert exc.retry_after == pytest.approx(2.0, abs=1e-3)


def test_account_lock_across_many_ips(store: Store) -> None:
    clock = FixedClock()
    throttle = LoginThrottle(store, policy=SMALL, clock=clock)
    outcomes = []
    for i in range(12):
        exc = refused(throttle, "alice", f"198.51.100.{i}")
        while exc is not None and exc.reason is RateLimitReason.THROTTLED:
            clock.advance(timedelta(seconds=exc.retry_after))
            exc = refused(throttle, "alice", f"198.51.100.{i}")
        outcomes.append(None if exc is None else exc.reason)
    assert outcomes[:6] == [None] * 6
    assert set(outcomes[6:]) == {RateLimitReason.ACCOUNT_LOCKED}
    # Another account from the same addresses is unaffected.
    assert refused(throttle, "bob", "198.51.100.1") is None


def test_default_policy_caps_an_account_at_100_failures() -> None:
    clock = FixedClock()
    throttle = LoginThrottle(MemoryStore(), clock=clock)
    allowed = 0
    for i in range(130):
        exc = refused(throttle, "alice", f"10.0.{i // 200}.{i % 200}")
        if exc is not None and exc.reason is RateLimitReason.THROTTLED:
            clock.advance(timedelta(seconds=exc.retry_after))
            exc = refused(throttle, "alice", f"10.0.{i // 200}.{i % 200}")
        allowed += exc is None
    assert allowed == DEFAULT_THROTTLE_POLICY.account_limit == 100
    exc = refused(throttle, "alice", "203.0.113.9")
    assert exc is not None
    assert exc.reason is RateLimitReason.ACCOUNT_LOCKED
    # The lock ends a full reset period after the last counted failure.
    clock.advance(timedelta(hours=24))
    assert refused(throttle, "alice", "203.0.113.9") is None


def test_ip_counter_catches_stuffing(store: Store) -> None:
    clock = FixedClock()
    throttle = LoginThrottle(store, policy=SMALL, clock=clock)
    results = [refused(throttle, f"user{i}", "192.0.2.7") for i in range(7)]
    assert results[:6] == [None] * 6
    assert results[6] is not None
    assert results[6].reason is RateLimitReason.THROTTLED


def test_success_resets_account_but_never_ip(store: Store) -> None:
    clock = FixedClock()
    throttle = LoginThrottle(store, policy=SMALL, clock=clock)
    for i in range(6):
        assert refused(throttle, f"victim{i}", "192.0.2.7") is None
    throttle.failure(username="victim0", ip="192.0.2.7")
    # The attacker logs into their own account from the same IP ...
    throttle.success(username="attacker", ip="192.0.2.7")
    # ... but the IP counter still stands.
    exc = refused(throttle, "victim9", "192.0.2.7")
    assert exc is not None
    # And the account counters do reset on success.
    assert refused(throttle, "carol", "192.0.2.50") is None
    assert refused(throttle, "carol", "192.0.2.50") is None
    assert refused(throttle, "carol", "192.0.2.50") is not None
    throttle.success(username="carol", ip="192.0.2.50")
    assert refused(throttle, "carol", "192.0.2.50") is None


def test_failure_does_not_double_count() -> None:
    clock = FixedClock()
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=clock)
    for _ in range(2):
        throttle.check(username="alice", ip="192.0.2.1")
        throttle.failure(username="alice", ip="192.0.2.1")
    clock.advance(timedelta(seconds=1))
    throttle.check(username="alice", ip="192.0.2.1")  # 3rd attempt, after one delay
    with pytest.raises(TypeError):
        throttle.failure(username=1, ip="192.0.2.1")  # type: ignore[arg-type]


def test_unknown_and_known_usernames_behave_identically() -> None:
    def run(user: str) -> list[tuple[str | None, float]]:
        clock = FixedClock()
        throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=clock)
        out: list[tuple[str | None, float]] = []
        for _ in range(10):
            exc = refused(throttle, user, "192.0.2.1")
            out.append((None, 0.0) if exc is None else (exc.reason.value, exc.retry_after))
            clock.advance(timedelta(seconds=0.5))
        return out

    assert run("real-user") == run("no-such-user-xyz")


def test_username_spellings_share_a_counter() -> None:
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    throttle.check(username="Alice", ip="192.0.2.1")
    throttle.check(username="ALICE", ip="192.0.2.1")
    with pytest.raises(RateLimitedError):
        throttle.check(username="\uff41lice", ip="192.0.2.1")  # full-width a
    with pytest.raises(RateLimitedError):
        throttle.check(username=" alice\t", ip="192.0.2.1")


def test_ipv6_counts_per_slash_64_and_mapped_ipv4() -> None:
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    throttle.check(username="alice", ip="2001:db8:1:2::1")
    throttle.check(username="alice", ip="2001:db8:1:2:ffff::9")
    with pytest.raises(RateLimitedError):
        throttle.check(username="alice", ip="2001:db8:1:2::abcd")
    throttle.check(username="bob", ip="::ffff:192.0.2.1")
    throttle.check(username="bob", ip="192.0.2.1")
    with pytest.raises(RateLimitedError):
        throttle.check(username="bob", ip="192.0.2.1")


def test_invalid_ips_share_one_counter() -> None:
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    throttle.check(username="alice", ip="garbage")
    throttle.check(username="alice", ip="x" * 100)
    with pytest.raises(RateLimitedError):
        throttle.check(username="alice", ip="other garbage")


@pytest.mark.redis
def test_store_holds_no_raw_usernames(redis_url: str) -> None:
    throttle = LoginThrottle(RedisStore(redis_url), secret=b"k" * 32)
    throttle.check(username="alice.secret-name", ip="192.0.2.99")
    raw = redis_py.Redis.from_url(redis_url)
    blob = b"".join(k + (raw.get(k) or b"") for k in raw.scan_iter())
    raw.close()
    assert b"alice" not in blob
    assert b"192.0.2.99" not in blob
    assert blob.count(b"login:") == 3


def test_concurrent_attempts_cannot_overshoot(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.db")
    throttle = LoginThrottle(store, policy=SMALL, clock=FixedClock())
    barrier = threading.Barrier(12)
    passed: list[bool] = []

    def attempt() -> None:
        barrier.wait()
        passed.append(refused(throttle, "alice", "192.0.2.1") is None)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert passed.count(True) == SMALL.pair_free


@settings(max_examples=80, deadline=None)
@given(user=st.text(max_size=40), ip=st.text(max_size=40))
def test_junk_raises_only_rate_limited(user: str, ip: str) -> None:
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    for _ in range(4):
        try:
            throttle.check(username=user, ip=ip)
        except RateLimitedError:
            pass
    throttle.success(username=user, ip=ip)


def test_throttle_error_does_not_leak() -> None:
    import secrets

    name = secrets.token_hex(8)
    address = f"2001:db8:{secrets.randbelow(60000):x}::{secrets.randbelow(60000):x}"
    throttle = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    throttle.check(username=name, ip=address)
    throttle.check(username=name, ip=address)
    with pytest.raises(RateLimitedError) as info:
        throttle.check(username=name, ip=address)
    assert_no_leak(info.value, name, address)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"account_limit": 101},
        {"account_limit": 0},
        {"pair_free": 30},
        {"ip_free": -1},
        {"base_delay": timedelta(0)},
        {"max_delay": timedelta(days=2)},
    ],
)
def test_policy_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        ThrottlePolicy(**kwargs)


def test_throttle_type_errors() -> None:
    with pytest.raises(TypeError):
        ThrottlePolicy(account_limit=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ThrottlePolicy(base_delay=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LoginThrottle(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LoginThrottle(MemoryStore(), policy={})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LoginThrottle(MemoryStore(), secret="s" * 32)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        LoginThrottle(MemoryStore(), secret=b"short")
    throttle = LoginThrottle(MemoryStore())
    with pytest.raises(TypeError):
        throttle.check(username="a", ip=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        throttle.check(username=None, ip="1.2.3.4")  # type: ignore[arg-type]
    assert "login" in repr(throttle)
    overlong = LoginThrottle(MemoryStore(), policy=SMALL, clock=FixedClock())
    overlong.check(username="a" * 5000, ip="192.0.2.1")
    overlong.check(username="b" * 5000, ip="192.0.2.1")
    with pytest.raises(RateLimitedError):
        overlong.check(username="c" * 5000, ip="192.0.2.1")


# ---------------------------------------------------------------- TrustedProxies


def test_trusted_proxies() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "2001:db8::/32"])
    # Not from a proxy: the header is the client's own invention.
    assert proxies.client_ip("203.0.113.5", "1.2.3.4") == "203.0.113.5"
    assert proxies.client_ip("203.0.113.5") == "203.0.113.5"
    # From a proxy: the rightmost untrusted hop is the client.
    assert proxies.client_ip("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2") == "198.51.100.7"
    assert proxies.client_ip("10.0.0.1", "198.51.100.7:4711") == "198.51.100.7"
    assert proxies.client_ip("10.0.0.1", "[2001:db9::1]:443") == "2001:db9::1"
    assert proxies.client_ip("10.0.0.1", "::ffff:198.51.100.7") == "198.51.100.7"
    # All hops trusted: the leftmost is the best we know.
    assert proxies.client_ip("10.0.0.1", "10.1.1.1") == "10.1.1.1"
    # Garbage from a trusted proxy: stop at the last address we can vouch for.
    assert proxies.client_ip("10.0.0.1", "1.2.3.4, garbage, 10.0.0.9") == "10.0.0.9"
    assert proxies.client_ip("10.0.0.1", "") == "10.0.0.1"
    assert proxies.client_ip("not-an-ip", "1.2.3.4") == "not-an-ip"
    assert "10.0.0.0/8" in repr(proxies)
    many = ", ".join(["10.0.0.3"] * 1000)
    assert proxies.client_ip("10.0.0.1", "9.9.9.9, " + many) == "10.0.0.3"


def test_trusted_proxies_errors() -> None:
    with pytest.raises(ConfigurationError):
        TrustedProxies(["not a network"])
    with pytest.raises(TypeError):
        TrustedProxies("10.0.0.0/8")
    with pytest.raises(TypeError):
        TrustedProxies([1])  # type: ignore[list-item]
    proxies = TrustedProxies([])
    with pytest.raises(TypeError):
        proxies.client_ip(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        proxies.client_ip("1.2.3.4", b"x")  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(remote=st.text(max_size=40), header=st.text(max_size=80) | st.none())
def test_client_ip_never_crashes(remote: str, header: str | None) -> None:
    assert isinstance(TrustedProxies(["0.0.0.0/0"]).client_ip(remote, header), str)


# ---------------------------------------------------------------- async twins


@pytest.mark.redis
def test_async_limiter_and_throttle_on_memory_and_redis(redis_url: str, tmp_path: Path) -> None:
    import asyncio

    from securekit.ratelimit import AsyncLoginThrottle, AsyncRateLimiter
    from securekit.stores import AsyncRedisStore

    async def run(store: Any) -> None:
        clock = FixedClock()
        limiter = AsyncRateLimiter(store, limit=2, window=MINUTE, clock=clock)
        assert (await limiter.hit("k")).allowed
        assert (await limiter.check("k")).remaining == 0
        with pytest.raises(RateLimitedError) as info:
            await limiter.check("k")
        assert info.value.reason is RateLimitReason.LIMIT_EXCEEDED
        throttle = AsyncLoginThrottle(store, policy=SMALL, clock=clock)
        await throttle.check(username="alice", ip="192.0.2.1")
        throttle.failure(username="alice", ip="192.0.2.1")
        await throttle.check(username="alice", ip="192.0.2.1")
        with pytest.raises(RateLimitedError):
            await throttle.check(username="alice", ip="192.0.2.1")
        await throttle.success(username="alice", ip="192.0.2.1")
        await throttle.check(username="alice", ip="192.0.2.1")
        assert "AsyncLoginThrottle" in repr(throttle)
        assert "AsyncRateLimiter" in repr(limiter)

    asyncio.run(run(MemoryStore().asyncio()))
    asyncio.run(run(SQLiteStore(tmp_path / "a.db").asyncio()))

    async def on_redis() -> None:
        store = AsyncRedisStore(redis_url)
        await run(store)
        await store.aclose()

    asyncio.run(on_redis())


def test_sync_and_async_stores_are_not_mixed_up() -> None:
    from securekit.ratelimit import AsyncLoginThrottle, AsyncRateLimiter

    with pytest.raises(TypeError):
        AsyncRateLimiter(MemoryStore(), limit=1, window=MINUTE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AsyncLoginThrottle(MemoryStore())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RateLimiter(MemoryStore().asyncio(), limit=1, window=MINUTE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LoginThrottle(MemoryStore().asyncio())  # type: ignore[arg-type]
