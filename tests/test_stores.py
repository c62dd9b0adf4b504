"""The store contract: one behavioural suite over memory, SQLite and a real Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, StoreUnavailableError
from securekit.stores import (
    AsyncLocalStore,
    AsyncRedisStore,
    AsyncStore,
    MemoryStore,
    PenaltyRule,
    RedisStore,
    SQLiteStore,
    Store,
    _core,
)
from securekit.testing import RedisServer
from tests._leak import assert_no_leak

NOW = 1_800_000_000.0


class FakeTime:
    """Epoch seconds that only move when told to (store expiry clock)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same behavioural suite runs on every backend."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        s = SQLiteStore(tmp_path / "store.db")
        yield s
        s.close()
    else:
        url = request.getfixturevalue("redis_url")
        r = RedisStore(url)
        yield r
        r.close()


@pytest.fixture(params=["memory", "sqlite"])
def local_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, FakeTime]:
    clock = FakeTime()
    if request.param == "memory":
        return MemoryStore(clock=clock), clock
    return SQLiteStore(tmp_path / "store.db", clock=clock), clock


RULE = PenaltyRule(limit=5, free=2, base_delay=1.0, max_delay=8.0, ttl=100.0)


# ---------------------------------------------------------------- contract


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_get_set_delete(store: Store) -> None:
    assert store.get("k") is None
    store.set("k", b"v1")
    assert store.get("k") == b"v1"
    store.set("k", b"v2", ttl=60)
    assert store.get("k") == b"v2"
    assert store.delete("k") is True
    assert store.delete("k") is False
    assert store.get("k") is None


def test_binary_values_round_trip(store: Store) -> None:
    value = bytes(range(256)) * 4
    store.set("bin", value)
    assert store.get("bin") == value
    store.set("empty", b"")
    assert store.get("empty") == b""


def test_add_is_set_if_absent(store: Store) -> None:
    assert store.add("once", b"a", ttl=60) is True
    assert store.add("once", b"b", ttl=60) is False
    assert store.get("once") == b"a"


def test_compare_and_delete(store: Store) -> None:
    store.set("k", b"v")
    assert store.compare_and_delete("k", b"other") is False
    assert store.get("k") == b"v"
    assert store.compare_and_delete("k", b"v") is True
    assert store.get("k") is None
    assert store.compare_and_delete("k", b"v") is False


def test_compare_and_set(store: Store) -> None:
    assert store.compare_and_set("k", b"x", b"v") is False
    assert store.get("k") is None
    assert store.compare_and_set("k", None, b"v1", ttl=60) is True
    assert store.compare_and_set("k", None, b"v2") is False
    assert store.compare_and_set("k", b"wrong", b"v2") is False
    assert store.get("k") == b"v1"
    assert store.compare_and_set("k", b"v1", b"v2") is True
    assert store.get("k") == b"v2"


def test_incr(store: Store) -> None:
    assert store.incr("c") == 1
    assert store.incr("c", 5) == 6
    assert store.incr("c", -2, ttl=10) == 4
    assert store.get("c") == b"4"
    store.set("text", b"abc")
    with pytest.raises(ConfigurationError, match="integer"):
        store.incr("text")
    store.set("num", b"41")
    assert store.incr("num") == 42


def test_values_and_sets_are_separate_namespaces(store: Store) -> None:
    store.set("name", b"value")
    store.set_add("name", "member")
    assert store.get("name") == b"value"
    assert store.set_members("name") == {"member"}


def test_sets(store: Store) -> None:
    assert store.set_members("s") == set()
    store.set_add("s", "a", ttl=60)
    store.set_add("s", "b")
    store.set_add("s", "a")
    store.set_add("s", "ünï")
    assert store.set_members("s") == {"a", "b", "ünï"}
    store.set_remove("s", "a")
    store.set_remove("s", "missing")
    assert store.set_members("s") == {"b", "ünï"}
    store.set_remove("s", "b")
    store.set_remove("s", "ünï")
    assert store.set_members("s") == set()


def test_sliding_window_exact_in_one_window(store: Store) -> None:
    results = [store.sliding_window_hit("w", limit=3, window=60, now=NOW) for _ in range(5)]
    assert [r[0] for r in results] == [True, True, True, False, False]
    assert [r[1] for r in results] == [1, 2, 3, 3, 3]
    assert results[0][2] == 0.0
    # Denied in the middle of a fresh window: wait for it to end, then longer.
    assert 60.0 < results[3][2] <= 60.0 + 60.0


def test_sliding_window_weights_previous_window(store: Store) -> None:
    start = (NOW // 60) * 60
    for _ in range(10):
        assert store.sliding_window_hit("w", limit=10, window=60, now=start + 1)[0]
    # Half-way through the next window, half of the previous ten still count.
    allowed, count, retry = store.sliding_window_hit("w", limit=10, window=60, now=start + 90)
    assert allowed
    assert count == 6
    for _ in range(4):
        assert store.sliding_window_hit("w", limit=10, window=60, now=start + 90)[0]
    allowed, count, retry = store.sliding_window_hit("w", limit=10, window=60, now=start + 90)
    assert not allowed
    assert count == 10
    # One more hit fits once 1/10 of the previous window (6 s) has slid away.
    assert retry == pytest.approx(6.0, abs=1e-3)
    assert store.sliding_window_hit("w", limit=10, window=60, now=start + 90 + retry)[0]
    # Two windows later everything is forgotten.
    assert store.sliding_window_hit("w", limit=10, window=60, now=start + 300)[1] == 1


def test_sliding_window_clock_behind_fails_closed(store: Store) -> None:
    for _ in range(3):
        store.sliding_window_hit("w", limit=3, window=60, now=NOW)
    allowed, _, _ = store.sliding_window_hit("w", limit=3, window=60, now=NOW - 600)
    assert not allowed


def test_penalty_hit_counts_every_key_atomically(store: Store) -> None:
    keys = ["a", "b"]
    rules = [RULE, PenaltyRule(limit=3, free=3, base_delay=1.0, max_delay=1.0, ttl=50.0)]
    assert store.penalty_hit(keys, rules=rules, now=NOW) == (True, 0.0, False)
    assert store.penalty_hit(keys, rules=rules, now=NOW) == (True, 0.0, False)
    # a: 2 failures = free, so a delay of 1 s now applies.
    allowed, retry, locked = store.penalty_hit(keys, rules=rules, now=NOW + 0.5)
    assert (allowed, locked) == (False, False)
    assert retry == pytest.approx(0.5, abs=1e-3)
    assert store.penalty_hit(keys, rules=rules, now=NOW + 1)[0]
    # b reached its hard limit of 3: locked until 50 s after its last attempt.
    allowed, retry, locked = store.penalty_hit(keys, rules=rules, now=NOW + 100)
    assert allowed  # both counters' quiet periods have passed
    assert store.penalty_hit(["b"], rules=[rules[1]], now=NOW + 100)[0]
    assert store.penalty_hit(["b"], rules=[rules[1]], now=NOW + 100)[0]
    allowed, retry, locked = store.penalty_hit(["b"], rules=[rules[1]], now=NOW + 100)
    assert (allowed, locked) == (False, True)
    assert retry == pytest.approx(50.0, abs=1e-3)


def test_penalty_hit_progressive_delay_doubles_and_caps(store: Store) -> None:
    t = NOW
    delays = []
    for _ in range(5):
        allowed, retry, _ = store.penalty_hit(["k"], rules=[RULE], now=t)
        if not allowed:
            delays.append(round(retry, 3))
            t += retry
            allowed, retry, _ = store.penalty_hit(["k"], rules=[RULE], now=t)
        assert allowed
    assert delays == [1.0, 2.0, 4.0]
    allowed, retry, locked = store.penalty_hit(["k"], rules=[RULE], now=t + 20)
    assert (allowed, locked) == (False, True)


def test_penalty_hit_corrupted_counter_fails_closed(store: Store) -> None:
    store.set("k", b"garbage")
    allowed, retry, locked = store.penalty_hit(["k"], rules=[RULE], now=NOW)
    assert (allowed, locked) == (False, True)
    assert retry >= RULE.ttl


def test_sliding_window_corrupted_state_is_replaced(store: Store) -> None:
    store.set("w", b"not:a:window!")
    assert store.sliding_window_hit("w", limit=1, window=60, now=NOW)[0]
    assert not store.sliding_window_hit("w", limit=1, window=60, now=NOW)[0]


# ---------------------------------------------------------------- misuse


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get(b"bytes-key"),
        lambda s: s.set("k", "str-value"),
        lambda s: s.set("k", b"v", ttl="10"),
        lambda s: s.incr("k", 1.5),
        lambda s: s.incr("k", True),
        lambda s: s.set_add("k", b"member"),
        lambda s: s.sliding_window_hit("k", limit=1.5, window=1, now=NOW),
        lambda s: s.sliding_window_hit("k", limit=1, window="1", now=NOW),
        lambda s: s.sliding_window_hit("k", limit=1, window=1, now="now"),
        lambda s: s.penalty_hit(["k"], rules=[{"limit": 1}], now=NOW),
    ],
)
def test_wrong_types_raise_type_error(store: Store, call: Callable[[Store], object]) -> None:
    with pytest.raises(TypeError):
        call(store)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get(""),
        lambda s: s.get("k" * 1025),
        lambda s: s.get("\udc80"),
        lambda s: s.set("k", b"v", ttl=0),
        lambda s: s.set("k", b"v", ttl=-1),
        lambda s: s.set("k", b"v", ttl=float("nan")),
        lambda s: s.set("k", b"v", ttl=float("inf")),
        lambda s: s.set("k", b"x" * (1024 * 1024 + 1)),
        lambda s: s.incr("k", 2**60),
        lambda s: s.set_add("k", "m" * 1025),
        lambda s: s.set_add("k", "\udc80"),
        lambda s: s.sliding_window_hit("k", limit=0, window=1, now=NOW),
        lambda s: s.sliding_window_hit("k", limit=1, window=0, now=NOW),
        lambda s: s.sliding_window_hit("k", limit=1, window=1, now=float("nan")),
        lambda s: s.penalty_hit([], rules=[], now=NOW),
        lambda s: s.penalty_hit(["a", "a"], rules=[RULE, RULE], now=NOW),
        lambda s: s.penalty_hit(["a"], rules=[RULE, RULE], now=NOW),
    ],
)
def test_bad_arguments_raise_configuration_error(
    store: Store, call: Callable[[Store], object]
) -> None:
    with pytest.raises(ConfigurationError):
        call(store)


def test_sub_millisecond_ttl_rounds_up() -> None:
    assert _core.check_ttl(0.0000001) == 0.001


def test_parse_int_matches_redis() -> None:
    assert _core.parse_int(b"-12") == -12
    assert _core.parse_int(b"") is None
    assert _core.parse_int(b"-") is None
    assert _core.parse_int(b"1" * 20) is None
    assert _core.parse_int(b"\xff") is None
    assert repr(_core.KEEP) == "KEEP"


@settings(max_examples=60, deadline=None)
@given(state=st.binary(max_size=40) | st.none(), now=st.floats(0, 4e9))
def test_window_decide_never_crashes(state: bytes | None, now: float) -> None:
    allowed, _count, retry, new = _core.window_decide(state, limit=5, window=30.0, now=now)
    assert retry >= 0
    assert (new is not None) == allowed


@settings(max_examples=60, deadline=None)
@given(state=st.binary(max_size=40) | st.none())
def test_penalty_decide_never_crashes(state: bytes | None) -> None:
    allowed, retry, _locked, new = _core.penalty_decide([state], [RULE], NOW)
    assert retry >= 0
    assert len(new) == (1 if allowed else 0)


# ---------------------------------------------------------------- expiry


def test_local_expiry_follows_the_store_clock(local_store: tuple[Any, FakeTime]) -> None:
    s, clock = local_store
    s.set("k", b"v", ttl=10)
    s.add("a", b"v", ttl=10)
    s.incr("c", ttl=10)
    s.set_add("set", "m", ttl=10)
    clock.now += 9.9
    assert s.get("k") == b"v"
    assert s.incr("c") == 2  # the TTL was applied at creation only
    assert s.set_members("set") == {"m"}
    clock.now += 0.2
    assert s.get("k") is None
    assert s.add("a", b"w") is True
    assert s.get("c") is None
    assert s.set_members("set") == set()


def test_local_incr_and_cas_keep_or_reset_expiry(local_store: tuple[Any, FakeTime]) -> None:
    s, clock = local_store
    s.set("k", b"v", ttl=10)
    assert s.compare_and_set("k", b"v", b"w") is True  # ttl=None: persistent now
    clock.now += 100
    assert s.get("k") == b"w"
    s.set_add("set", "a", ttl=10)
    s.set_add("set", "b")  # no TTL: the set keeps its expiry
    clock.now += 11
    assert s.set_members("set") == set()


def test_local_sweep_drops_expired_entries(local_store: tuple[Any, FakeTime]) -> None:
    s, clock = local_store
    for i in range(5):
        s.set(f"old{i}", b"v", ttl=1)
    clock.now += 5
    for i in range(1100):
        s.set("churn", str(i).encode())
    assert s.get("old0") is None


@pytest.mark.redis
def test_redis_ttls_and_key_layout(redis_url: str) -> None:
    s = RedisStore(redis_url, prefix="app")
    s.set("k", b"v", ttl=30)
    s.incr("c", ttl=20)
    s.incr("c", ttl=99)
    s.set_add("s", "m", ttl=40)
    s.sliding_window_hit("w", limit=5, window=10, now=NOW)
    raw = redis_py.Redis.from_url(redis_url)
    assert sorted(raw.keys()) == [b"{app}:k:c", b"{app}:k:k", b"{app}:k:w", b"{app}:s:s"]
    assert 29_000 < raw.pttl("{app}:k:k") <= 30_000
    assert 19_000 < raw.pttl("{app}:k:c") <= 20_000
    assert 39_000 < raw.pttl("{app}:s:s") <= 40_000
    assert 19_000 < raw.pttl("{app}:k:w") <= 20_000
    assert "app" in repr(s)
    raw.close()
    s.close()


@pytest.mark.redis
def test_redis_prefixes_isolate_stores(redis_url: str) -> None:
    a, b = RedisStore(redis_url, prefix="a"), RedisStore(redis_url, prefix="b")
    a.set("k", b"1")
    assert b.get("k") is None


# ---------------------------------------------------------------- construction


def test_sqlite_refuses_memory_paths(tmp_path: Path) -> None:
    for bad in (":memory:", "", "file:x?mode=memory"):
        with pytest.raises(ConfigurationError, match="MemoryStore"):
            SQLiteStore(bad)
    with pytest.raises(ConfigurationError):
        SQLiteStore(tmp_path / "x.db", busy_timeout=0)
    with pytest.raises(TypeError):
        SQLiteStore(tmp_path / "x.db", busy_timeout="5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SQLiteStore(b"bytes.db")  # type: ignore[arg-type]


def test_sqlite_file_is_private_and_wal(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "p.db")
    s.set("k", b"v")
    assert (tmp_path / "p.db").stat().st_mode & 0o077 == 0
    conn = sqlite3.connect(tmp_path / "p.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert s.path == tmp_path / "p.db"
    assert "p.db" in repr(s)


def test_sqlite_unopenable_path_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError):
        SQLiteStore(tmp_path / "missing-dir" / "x.db")


def test_sqlite_corrupt_file_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailableError):
        SQLiteStore(path)


def test_sqlite_errors_mid_run_fail_closed(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "x.db")
    s.set("k", b"v")
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("DROP TABLE securekit_store")
    conn.commit()
    conn.close()
    with pytest.raises(StoreUnavailableError) as info:
        s.get("k")
    assert_no_leak(info.value, "securekit_store")
    with pytest.raises(StoreUnavailableError):
        s.set("k", b"v")


def test_sqlite_lock_timeout_fails_closed(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "x.db", busy_timeout=0.05)
    blocker = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError):
            s.set("k", b"v")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    s.set("k", b"v")
    assert s.get("k") == b"v"


def test_sqlite_step_exception_rolls_back(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "x.db")
    s.set("k", b"text")
    with pytest.raises(ConfigurationError):
        s.incr("k")
    s.set("k", b"1")  # the connection is usable again (no dangling transaction)
    assert s.incr("k") == 2


def test_sqlite_connection_per_thread(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "x.db")

    def work() -> None:
        for _ in range(50):
            s.incr("c")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.incr("c", 0) == 200
    s.close()
    s.close()
    assert s.get("c") == b"200"  # reopens


def test_memory_store_repr_and_threads() -> None:
    s = MemoryStore()

    def work() -> None:
        for _ in range(200):
            s.incr("c")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.get("c") == b"800"
    assert "entries=1" in repr(s)


@pytest.mark.redis
def test_redis_construction_errors(redis_url: str) -> None:
    with pytest.raises(ConfigurationError, match="redis://"):
        RedisStore("http://127.0.0.1:6379")
    for bad in ("", "x" * 65, "{a}", "é"):
        with pytest.raises(ConfigurationError, match="prefix"):
            RedisStore(redis_url, prefix=bad)
    with pytest.raises(TypeError):
        RedisStore(redis_url, prefix=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RedisStore(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="decode_responses"):
        RedisStore(redis_py.Redis.from_url(redis_url, decode_responses=True))
    with pytest.raises(ConfigurationError, match="timeout"):
        RedisStore(redis_url, timeout=0)
    with pytest.raises(TypeError):
        AsyncRedisStore(42)  # type: ignore[arg-type]
    client = redis_py.Redis.from_url(redis_url)
    s = RedisStore(client)
    s.set("k", b"v")
    assert s.get("k") == b"v"
    client.close()


@pytest.mark.redis
def test_redis_tls_url_is_accepted_without_connecting() -> None:
    s = RedisStore("rediss://user:pw@127.0.0.1:1/0", timeout=0.2)
    with pytest.raises(StoreUnavailableError) as info:
        s.get("k")
    assert_no_leak(info.value, "pw")
    assert "pw" not in repr(s)


# ---------------------------------------------------------------- faults


@pytest.mark.redis
def test_redis_outage_fails_closed_then_recovers(redis_server: RedisServer) -> None:
    redis_server.start()
    redis_server.flush()
    s = RedisStore(redis_server.url, timeout=0.5)
    s.set("k", b"v")
    for _ in range(3):
        assert s.sliding_window_hit("w", limit=3, window=60, now=NOW)[0]
    redis_server.stop()
    try:
        calls: list[Callable[[], object]] = [
            lambda: s.get("k"),
            lambda: s.set("k", b"v"),
            lambda: s.add("k", b"v"),
            lambda: s.delete("k"),
            lambda: s.compare_and_delete("k", b"v"),
            lambda: s.compare_and_set("k", None, b"v"),
            lambda: s.incr("c"),
            lambda: s.sliding_window_hit("w", limit=3, window=60, now=NOW),
            lambda: s.penalty_hit(["p"], rules=[RULE], now=NOW),
            lambda: s.set_add("s", "m"),
            lambda: s.set_remove("s", "m"),
            lambda: s.set_members("s"),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailableError):
                call()
    finally:
        redis_server.start()
    # Same store object, no restart of the application: it works again.
    redis_server.flush()
    assert s.get("k") is None
    s.set("k", b"back")
    assert s.get("k") == b"back"
    s.close()


# ---------------------------------------------------------------- async


async def _async_contract(s: AsyncStore) -> None:
    assert isinstance(s, AsyncStore)
    assert await s.get("k") is None
    await s.set("k", b"v", ttl=60)
    assert await s.get("k") == b"v"
    assert await s.add("k", b"x") is False
    assert await s.compare_and_set("k", b"v", b"w") is True
    assert await s.compare_and_delete("k", b"w") is True
    assert await s.delete("k") is False
    assert await s.incr("c", 3) == 3
    assert (await s.sliding_window_hit("w", limit=1, window=60, now=NOW))[0] is True
    assert (await s.sliding_window_hit("w", limit=1, window=60, now=NOW))[0] is False
    assert (await s.penalty_hit(["p"], rules=[RULE], now=NOW))[0] is True
    await s.set_add("s", "a", ttl=60)
    assert await s.set_members("s") == {"a"}
    await s.set_remove("s", "a")
    assert await s.set_members("s") == set()


def test_async_memory_and_sqlite(tmp_path: Path) -> None:
    asyncio.run(_async_contract(MemoryStore().asyncio()))
    asyncio.run(_async_contract(SQLiteStore(tmp_path / "a.db").asyncio()))
    assert isinstance(MemoryStore().asyncio(), AsyncLocalStore)


@pytest.mark.redis
def test_async_redis(redis_url: str) -> None:
    async def run() -> None:
        s = AsyncRedisStore(redis_url)
        await _async_contract(s)
        assert "securekit" in repr(s)
        await s.set("t", b"text")
        with pytest.raises(ConfigurationError):
            await s.incr("t")
        await s.aclose()
        client = redis_py.asyncio.Redis.from_url(redis_url)
        s2 = AsyncRedisStore(client)
        assert await s2.get("t") == b"text"
        await client.aclose()
        down = AsyncRedisStore("redis://127.0.0.1:1/0", timeout=0.2)
        with pytest.raises(StoreUnavailableError):
            await down.get("k")

    asyncio.run(run())


# ---------------------------------------------------------------- concurrency


def _hammer(kind: str, where: str, barrier: Any, hits: int, out: Any) -> None:
    s: Store = SQLiteStore(where) if kind == "sqlite" else RedisStore(where)
    barrier.wait()
    allowed = sum(
        s.sliding_window_hit("shared", limit=100, window=3600, now=NOW)[0] for _ in range(hits)
    )
    out.put(allowed)


def _run_hammer(kind: str, where: str) -> int:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(8)
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(kind, where, barrier, 20, out)) for _ in range(8)]
    for p in procs:
        p.start()
    total: int = sum(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return total


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_eight_processes_sqlite_allow_exactly_the_limit(tmp_path: Path, trial: int) -> None:
    path = str(tmp_path / f"hammer{trial}.db")
    SQLiteStore(path)  # create the schema once, like an application start-up would
    assert _run_hammer("sqlite", path) == 100


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("trial", range(3))
def test_eight_processes_redis_allow_exactly_the_limit(redis_url: str, trial: int) -> None:
    assert _run_hammer("redis", redis_url) == 100


def test_sqlite_connection_is_not_reused_after_fork(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "f.db")
    s.set("k", b"parent")
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()

    def child() -> None:
        s.set("k", b"child")
        out.put(s.get("k"))

    p = ctx.Process(target=child)
    p.start()
    assert out.get(timeout=30) == b"child"
    p.join(timeout=30)
    assert p.exitcode == 0
    assert s.get("k") == b"child"


def test_local_expired_set_starts_over(local_store: tuple[Any, FakeTime]) -> None:
    s, clock = local_store
    s.set_add("set", "old", ttl=5)
    clock.now += 6
    s.set_remove("set", "old")  # removing from an expired set is a no-op
    s.set_add("set", "new")
    assert s.set_members("set") == {"new"}
    s.set_add("other", "x", ttl=5)
    clock.now += 6
    s.set_add("other", "y", ttl=5)
    assert s.set_members("other") == {"y"}


def test_local_sweep_drops_expired_sets(local_store: tuple[Any, FakeTime]) -> None:
    s, clock = local_store
    for i in range(3):
        s.set_add(f"set{i}", "m", ttl=1)
    s.set_add("keep", "m")
    clock.now += 5
    for i in range(1100):
        s.set("churn", str(i).encode())
    if isinstance(s, MemoryStore):
        assert set(s._sets) == {"keep"}
    else:
        conn = sqlite3.connect(s.path)
        assert conn.execute("SELECT key FROM securekit_set").fetchall() == [("keep",)]
        conn.close()


def test_sqlite_set_ops_fail_closed(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "x.db", busy_timeout=0.05)
    s.set_add("set", "m")
    blocker = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError):
            s.set_add("set", "n")
    finally:
        blocker.execute("ROLLBACK")
    blocker.execute("DROP TABLE securekit_set")
    blocker.close()
    for call in (lambda: s.set_add("set", "n"), lambda: s.set_members("set")):
        with pytest.raises(StoreUnavailableError):
            call()


def test_redis_extra_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from securekit import stores

    # As if redis-py were not installed: no cached submodule, no redis package.
    monkeypatch.delitem(sys.modules, "securekit.stores._redis")
    monkeypatch.delattr(stores, "_redis")
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"securekit\[redis\]"):
        _ = stores.RedisStore
    with pytest.raises(AttributeError):
        _ = stores.NoSuchStore


def test_other_import_errors_are_not_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from securekit import stores

    monkeypatch.delitem(sys.modules, "securekit.stores._redis")
    monkeypatch.delattr(stores, "_redis")
    monkeypatch.setitem(sys.modules, "securekit.stores._base", None)
    with pytest.raises(ModuleNotFoundError):
        _ = stores.AsyncRedisStore
