"""Sessions: hashed ids, timeouts, atomic rotation, revocation, cookies."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    SessionError,
    SessionReason,
    StoreUnavailableError,
)
from securekit.sessions import (
    DEFAULT_ABSOLUTE_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    SessionCookie,
    SessionManager,
)
from securekit.stores import MemoryStore, RedisStore, SQLiteStore, Store
from securekit.testing import FixedClock, RedisServer
from tests._leak import assert_no_leak

INSECURE_CALLS: dict[str, Callable[[], object]] = {
    "securekit.sessions.SessionCookie.__init__:insecure_no_host_prefix": lambda: SessionCookie(
        insecure_no_host_prefix=True
    ),
    "securekit.sessions.SessionCookie.__init__:insecure_allow_http": lambda: SessionCookie(
        insecure_allow_http=True
    ),
    "securekit.sessions.SessionCookie.__init__:insecure_javascript_access": lambda: SessionCookie(
        insecure_javascript_access=True
    ),
    "securekit.sessions.SessionCookie.__init__:insecure_same_site_none": lambda: SessionCookie(
        insecure_same_site_none=True
    ),
}


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SQLiteStore(tmp_path / "sessions.db")
    else:
        s = RedisStore(request.getfixturevalue("redis_url"))
        yield s
        s.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def sessions(store: Store, clock: FixedClock) -> SessionManager:
    return SessionManager(store, clock=clock)


def reason(exc: pytest.ExceptionInfo[SessionError]) -> SessionReason:
    return exc.value.reason


# ---------------------------------------------------------------- basics


def test_create_and_get(sessions: SessionManager, clock: FixedClock) -> None:
    token, session = sessions.create(user_id="user-1", data={"cart": [1, 2], "n": None})
    assert len(token) == 43
    assert session.user_id == "user-1"
    assert session.data == {"cart": [1, 2], "n": None}
    assert session.created_at == clock()
    assert session.idle_expires_at == clock() + DEFAULT_IDLE_TIMEOUT
    assert session.absolute_expires_at == clock() + DEFAULT_ABSOLUTE_TIMEOUT
    got = sessions.get(token)
    assert got == session
    got.data["cart"].append(3)  # a copy: not saved
    assert sessions.get(token).data == {"cart": [1, 2], "n": None}


def test_tokens_are_unique(sessions: SessionManager) -> None:
    tokens = {sessions.create(user_id="u")[0] for _ in range(50)}
    assert len(tokens) == 50


def test_idle_timeout(sessions: SessionManager, clock: FixedClock) -> None:
    token, _ = sessions.create(user_id="u")
    clock.advance(timedelta(minutes=29))
    sessions.get(token)  # activity refreshes the idle timer
    clock.advance(timedelta(minutes=29))
    assert sessions.get(token).user_id == "u"
    clock.advance(timedelta(minutes=30))
    with pytest.raises(SessionError) as info:
        sessions.get(token)
    assert reason(info) is SessionReason.EXPIRED_IDLE
    with pytest.raises(SessionError) as info:
        sessions.get(token)
    assert reason(info) is SessionReason.UNKNOWN  # the expired record was removed


def test_touch_interval_limits_writes(sessions: SessionManager, clock: FixedClock) -> None:
    token, first = sessions.create(user_id="u")
    clock.advance(timedelta(seconds=30))
    assert sessions.get(token).last_seen_at == first.last_seen_at
    assert sessions.touch(token).last_seen_at == clock()
    clock.advance(timedelta(seconds=61))
    assert sessions.get(token).last_seen_at == clock()


def test_absolute_timeout_despite_activity(sessions: SessionManager, clock: FixedClock) -> None:
    token, _ = sessions.create(user_id="u")
    for _ in range(12 * 4 - 1):
        clock.advance(timedelta(minutes=15))
        sessions.get(token)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(SessionError) as info:
        sessions.get(token)
    assert reason(info) is SessionReason.EXPIRED_ABSOLUTE


def test_update_replaces_data(sessions: SessionManager) -> None:
    token, _ = sessions.create(user_id="u", data={"a": 1})
    assert sessions.update(token, {"b": 2}).data == {"b": 2}
    assert sessions.get(token).data == {"b": 2}


def test_destroy(sessions: SessionManager) -> None:
    token, _ = sessions.create(user_id="u")
    assert sessions.destroy(token) is True
    assert sessions.destroy(token) is False
    assert sessions.destroy("not a token") is False
    with pytest.raises(SessionError) as info:
        sessions.get(token)
    assert reason(info) is SessionReason.UNKNOWN


def test_destroy_all(sessions: SessionManager) -> None:
    mine = [sessions.create(user_id="alice")[0] for _ in range(3)]
    other, _ = sessions.create(user_id="bob")
    sessions.destroy(mine[0])
    assert sessions.destroy_all("alice") == 2
    for token in mine:
        with pytest.raises(SessionError):
            sessions.get(token)
    assert sessions.get(other).user_id == "bob"
    assert sessions.destroy_all("alice") == 0


# ---------------------------------------------------------------- rotation


def test_rotate(sessions: SessionManager, clock: FixedClock) -> None:
    token, first = sessions.create(user_id="anon", data={"x": 1})
    clock.advance(timedelta(minutes=1))
    same_user, s2 = sessions.rotate(token)
    assert same_user != token
    assert s2.created_at == first.created_at  # the absolute timeout is not extended
    assert s2.data == {"x": 1}
    with pytest.raises(SessionError) as info:
        sessions.get(token)
    assert reason(info) is SessionReason.UNKNOWN
    new, s3 = sessions.rotate(same_user, user_id="user-1", data={"role": "admin"})
    assert s3.user_id == "user-1"
    assert s3.created_at == clock()  # a new user starts a new session chain
    assert s3.data == {"role": "admin"}
    assert sessions.destroy_all("user-1") == 1
    assert sessions.destroy_all("anon") == 0
    with pytest.raises(SessionError):
        sessions.get(new)


class GateStore:
    """Wraps a store; the first ``get`` calls of two threads meet at a barrier."""

    def __init__(self, inner: Store, parties: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(parties, timeout=10)
        self.armed = True
        self.lock = threading.Lock()
        self.waiting = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, key: str) -> bytes | None:
        value = self.inner.get(key)
        with self.lock:
            wait = self.armed and key.startswith("session:id:") and self.waiting < 2
            self.waiting += wait
        if wait:
            # Both rotations have read the same record before either writes.
            self.barrier.wait()
        return value


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_rotations_leave_exactly_one_valid_id(store: Store, trial: int) -> None:
    gate = GateStore(store, 2)
    manager = SessionManager(gate, clock=FixedClock())
    gate.armed = False
    token, _ = manager.create(user_id="u")
    gate.armed = True
    results: list[str] = []
    errors: list[SessionError] = []

    def rotate() -> None:
        try:
            results.append(manager.rotate(token)[0])
        except SessionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gate.armed = False
    assert len(results) == 1
    assert [e.reason for e in errors] == [SessionReason.REVOKED]
    valid = [t for t in [token, *results] if _valid(manager, t)]
    assert valid == results


def _valid(manager: SessionManager, token: str) -> bool:
    try:
        manager.get(token)
    except SessionError:
        return False
    return True


class HookStore:
    """Runs ``hook`` once, right after the first read of a session record."""

    def __init__(self, inner: Store, hook: Callable[[], None]) -> None:
        self.inner = inner
        self.hook: Callable[[], None] | None = hook

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, key: str) -> bytes | None:
        value = self.inner.get(key)
        hook, self.hook = self.hook, None
        if hook is not None and key.startswith("session:id:"):
            hook()
        return value


def test_no_resurrection_by_a_concurrent_update(store: Store, clock: FixedClock) -> None:
    plain = SessionManager(store, clock=clock)
    token, _ = plain.create(user_id="u")
    hooked = SessionManager(HookStore(store, lambda: plain.destroy(token)), clock=clock)  # type: ignore[arg-type]
    with pytest.raises(SessionError) as info:
        hooked.update(token, {"late": True})
    assert reason(info) is SessionReason.REVOKED
    with pytest.raises(SessionError):
        plain.get(token)


def test_no_resurrection_by_a_concurrent_touch(store: Store, clock: FixedClock) -> None:
    plain = SessionManager(store, clock=clock)
    token, _ = plain.create(user_id="u")
    hooked = SessionManager(HookStore(store, lambda: plain.destroy(token)), clock=clock)  # type: ignore[arg-type]
    with pytest.raises(SessionError) as info:
        hooked.touch(token)
    assert reason(info) is SessionReason.REVOKED
    assert plain.destroy(token) is False


def test_rotation_after_concurrent_destroy_is_revoked(store: Store, clock: FixedClock) -> None:
    plain = SessionManager(store, clock=clock)
    token, _ = plain.create(user_id="u")
    hooked = SessionManager(HookStore(store, lambda: plain.destroy(token)), clock=clock)  # type: ignore[arg-type]
    with pytest.raises(SessionError) as info:
        hooked.rotate(token)
    assert reason(info) is SessionReason.REVOKED
    assert plain.destroy_all("u") == 0


def test_concurrent_touch_is_retried_not_lost(store: Store, clock: FixedClock) -> None:
    plain = SessionManager(store, clock=clock)
    token, _ = plain.create(user_id="u", data={"v": 1})
    hooked = SessionManager(
        HookStore(store, lambda: plain.update(token, {"v": 2})),  # type: ignore[arg-type]
        clock=clock,
    )
    # The stored record changed between read and write: the update retries.
    assert hooked.update(token, {"v": 3}).data == {"v": 3}
    plain2 = SessionManager(store, clock=clock)
    hooked2 = SessionManager(
        HookStore(store, lambda: plain2.update(token, {"v": 4})),  # type: ignore[arg-type]
        clock=clock,
    )
    assert hooked2.touch(token).data == {"v": 4}
    hooked3 = SessionManager(
        HookStore(store, lambda: plain2.update(token, {"v": 5})),  # type: ignore[arg-type]
        clock=clock,
    )
    new, session = hooked3.rotate(token)
    assert session.data == {"v": 5}
    assert _valid(plain2, new)
    assert not _valid(plain2, token)


# ---------------------------------------------------------------- storage


def test_raw_token_never_in_memory_store(clock: FixedClock) -> None:
    store = MemoryStore()
    token, _ = SessionManager(store, clock=clock).create(user_id="u")
    dump = repr(store._data)
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_raw_token_never_in_sqlite_file(tmp_path: Path, clock: FixedClock) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    manager = SessionManager(store, clock=clock)
    tokens = [manager.create(user_id="u", data={"k": "v"})[0] for _ in range(5)]
    rotated, _ = manager.rotate(tokens[0])
    tokens.append(rotated)
    blobs = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("PRAGMA wal_checkpoint(FULL)")
    conn.close()
    blobs += (tmp_path / "s.db").read_bytes()
    for token in tokens:
        assert token.encode() not in blobs
    assert hashlib.sha256(tokens[1].encode()).hexdigest().encode() in blobs


@pytest.mark.redis
def test_raw_token_never_in_redis(redis_url: str, clock: FixedClock) -> None:
    manager = SessionManager(RedisStore(redis_url), clock=clock)
    tokens = [manager.create(user_id="u")[0] for _ in range(3)]
    tokens.append(manager.rotate(tokens[0])[0])
    raw = redis_py.Redis.from_url(redis_url)
    everything = b""
    for key in raw.scan_iter():
        everything += key
        everything += raw.dump(key) or b""
    raw.close()
    assert everything
    for token in tokens:
        assert token.encode() not in everything


def test_corrupted_record_reads_as_unknown(clock: FixedClock) -> None:
    store = MemoryStore()
    manager = SessionManager(store, clock=clock)
    token, _ = manager.create(user_id="u")
    key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
    for junk in [
        b"\xff",
        b"[]",
        b'{"v": 2}',
        b'{"v": 1, "u": 1, "d": {}, "c": 0, "s": 0}',
        b'{"v": 1, "u": "u", "d": {}, "c": true, "s": 0}',
        b'{"v": 1, "u": "u", "d": {}, "c": 1e999, "s": 0}',
        b"[" * 100000,
    ]:
        store.set(key, junk)
        with pytest.raises(SessionError) as info:
            manager.get(token)
        assert reason(info) is SessionReason.UNKNOWN
    assert manager.destroy(token) is True


@pytest.mark.redis
def test_store_outage_fails_closed(redis_server: RedisServer) -> None:
    redis_server.start()
    redis_server.flush()
    manager = SessionManager(RedisStore(redis_server.url, timeout=0.5))
    token, _ = manager.create(user_id="u")
    redis_server.stop()
    try:
        for call in (
            lambda: manager.get(token),
            lambda: manager.create(user_id="u"),
            lambda: manager.rotate(token),
            lambda: manager.destroy(token),
            lambda: manager.destroy_all("u"),
        ):
            with pytest.raises(StoreUnavailableError):
                call()
    finally:
        redis_server.start()
    redis_server.flush()
    again, _ = manager.create(user_id="u")
    assert manager.get(again).user_id == "u"


# ---------------------------------------------------------------- misuse


@settings(max_examples=100, deadline=None)
@given(junk=st.text(max_size=80))
def test_junk_tokens_raise_only_session_error(junk: str) -> None:
    manager = SessionManager(MemoryStore())
    with pytest.raises(SessionError) as info:
        manager.get(junk)
    assert info.value.reason in {SessionReason.MALFORMED, SessionReason.UNKNOWN}


def test_errors_do_not_leak_the_token(clock: FixedClock) -> None:
    manager = SessionManager(MemoryStore(), clock=clock)
    token, _ = manager.create(user_id="u")
    clock.advance(timedelta(hours=1))
    with pytest.raises(SessionError) as info:
        manager.get(token)
    assert_no_leak(info.value, token)
    assert "expired_idle" in repr(info.value)


def test_wrong_types() -> None:
    manager = SessionManager(MemoryStore())
    with pytest.raises(TypeError):
        manager.get(b"x" * 43)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        manager.create(user_id=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        manager.create(user_id="u", data=[1])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SessionManager({})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SessionManager(MemoryStore(), idle_timeout=60)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SessionManager(MemoryStore(), max_data_bytes="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        manager.get("x" * 43, now=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose


@pytest.mark.parametrize(
    "kwargs",
    [
        {"idle_timeout": timedelta(0)},
        {"absolute_timeout": timedelta(seconds=-1)},
        {"idle_timeout": timedelta(hours=2), "absolute_timeout": timedelta(hours=1)},
        {"max_data_bytes": 1},
        {"namespace": "Bad Space"},
    ],
)
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        SessionManager(MemoryStore(), **kwargs)


def test_data_checks(clock: FixedClock) -> None:
    manager = SessionManager(MemoryStore(), clock=clock, max_data_bytes=100)
    with pytest.raises(SessionError) as info:
        manager.create(user_id="u", data={"x": "y" * 200})
    assert reason(info) is SessionReason.TOO_LARGE
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    for bad in ({"nan": float("nan")}, {"obj": object()}, cyclic, {"s": "\udc80"}):
        with pytest.raises(ConfigurationError):
            manager.create(user_id="u", data=bad)
    for user in ("", "u" * 257, "\udc80"):
        with pytest.raises(ConfigurationError):
            manager.create(user_id=user)
    assert "namespace='session'" in repr(manager)


def test_now_argument_overrides_clock() -> None:
    manager = SessionManager(MemoryStore(), clock=FixedClock())
    at = datetime(2030, 5, 1, tzinfo=UTC)
    _, session = manager.create(user_id="u", now=at)
    assert session.created_at == at


# ---------------------------------------------------------------- cookie


def test_cookie_defaults() -> None:
    cookie = SessionCookie()
    token = "A" * 43
    header = cookie.header(token)
    assert header == f"__Host-session={token}; Path=/; Secure; HttpOnly; SameSite=Lax"
    assert "Domain" not in header
    assert cookie.clear() == "__Host-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
    strict = SessionCookie(same_site="strict", max_age=timedelta(hours=1), name="sid")
    assert strict.header(token).endswith("Max-Age=3600; Secure; HttpOnly; SameSite=Strict")
    assert strict.name == "__Host-sid"
    assert "__Host-sid" in repr(strict)


def test_cookie_refuses_header_injection() -> None:
    with pytest.raises(SessionError):
        SessionCookie().header("x\r\nSet-Cookie: evil=1")
    with pytest.raises(TypeError):
        SessionCookie().header(None)  # type: ignore[arg-type]


def test_cookie_read() -> None:
    cookie = SessionCookie()
    token = "B" * 43
    assert cookie.read(f"a=1; __Host-session={token}; b=2") == token
    assert cookie.read(None) is None
    assert cookie.read("session=" + token) is None  # the unprefixed name is not ours
    assert cookie.read(f"__Host-session={token}; __Host-session={'C' * 43}") is None
    assert cookie.read("__Host-session=short") is None
    assert cookie.read("x" * 20000) is None
    with pytest.raises(TypeError):
        cookie.read(b"x")  # type: ignore[arg-type]


def test_cookie_insecure_switches() -> None:
    token = "A" * 43
    with pytest.warns(InsecureConfigurationWarning):
        assert SessionCookie(insecure_allow_http=True).header(token) == (
            f"session={token}; Path=/; HttpOnly; SameSite=Lax"
        )
    with pytest.warns(InsecureConfigurationWarning):
        assert "HttpOnly" not in SessionCookie(insecure_javascript_access=True).header(token)
    with pytest.warns(InsecureConfigurationWarning):
        assert SessionCookie(insecure_no_host_prefix=True).name == "session"
    with pytest.warns(InsecureConfigurationWarning):
        assert "SameSite=None; " not in SessionCookie(insecure_same_site_none=True).header(token)
    with pytest.warns(InsecureConfigurationWarning):
        assert SessionCookie(insecure_same_site_none=True).header(token).endswith("SameSite=None")
    with (
        pytest.warns(InsecureConfigurationWarning),
        pytest.raises(ConfigurationError, match="Secure"),
    ):
        SessionCookie(insecure_same_site_none=True, insecure_allow_http=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "bad name"},
        {"name": ""},
        {"same_site": "None"},
        {"same_site": "lenient"},
        {"max_age": timedelta(0)},
    ],
)
def test_cookie_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        SessionCookie(**kwargs)


def test_cookie_type_errors() -> None:
    with pytest.raises(TypeError):
        SessionCookie(same_site=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SessionCookie(max_age=60)  # type: ignore[arg-type]


class ContendedStore:
    """Every compare-and-set / compare-and-delete loses to another writer."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def compare_and_set(self, *args: Any, **kwargs: Any) -> bool:
        return False

    def compare_and_delete(self, *args: Any, **kwargs: Any) -> bool:
        return False


def test_endless_contention_fails_closed(clock: FixedClock) -> None:
    store = MemoryStore()
    token, _ = SessionManager(store, clock=clock).create(user_id="u", data={"a": 1})
    contended = SessionManager(ContendedStore(store), clock=clock)
    with pytest.raises(SessionError) as info:
        contended.update(token, {"b": 2})
    assert reason(info) is SessionReason.REVOKED
    with pytest.raises(SessionError) as info:
        contended.rotate(token)
    assert reason(info) is SessionReason.REVOKED
    # A touch that keeps losing still answers with the (valid) stored session.
    assert contended.touch(token).data == {"a": 1}
    assert SessionManager(store, clock=clock).get(token).data == {"a": 1}


def test_record_expiring_during_a_retry_keeps_its_reason(clock: FixedClock) -> None:
    store = MemoryStore()
    plain = SessionManager(store, clock=clock)
    token, _ = plain.create(user_id="u")
    key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
    stale = b'{"v":1,"u":"u","d":{},"c":%d,"s":%d}' % (
        clock().timestamp() - 3600,
        clock().timestamp() - 3600,
    )
    hooked = SessionManager(HookStore(store, lambda: store.set(key, stale)), clock=clock)
    with pytest.raises(SessionError) as info:
        hooked.update(token, {"x": 1})
    assert reason(info) is SessionReason.EXPIRED_IDLE


# ---------------------------------------------------------------- async twin


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def async_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    from securekit.stores import AsyncRedisStore

    if request.param == "memory":
        return MemoryStore().asyncio()
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "async.db").asyncio()
    return AsyncRedisStore(request.getfixturevalue("redis_url"))


def test_async_manager_behaves_like_the_sync_one(async_store: Any) -> None:
    import asyncio

    from securekit.sessions import AsyncSessionManager

    async def run() -> None:
        clock = FixedClock()
        sessions = AsyncSessionManager(async_store, clock=clock)
        assert "AsyncSessionManager" in repr(sessions)
        token, _session = await sessions.create(user_id="u", data={"a": 1})
        assert (await sessions.get(token)).data == {"a": 1}
        clock.advance(timedelta(minutes=2))
        assert (await sessions.get(token)).last_seen_at == clock()
        assert (await sessions.touch(token)).last_seen_at == clock()
        assert (await sessions.update(token, {"b": 2})).data == {"b": 2}
        new, rotated = await sessions.rotate(token, user_id="v")
        assert rotated.user_id == "v"
        with pytest.raises(SessionError) as info:
            await sessions.get(token)
        assert info.value.reason is SessionReason.UNKNOWN
        # Two concurrent rotations: exactly one wins.
        results = await asyncio.gather(
            sessions.rotate(new), sessions.rotate(new), return_exceptions=True
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, SessionError) for r in results if r not in winners)
        fresh = winners[0][0]
        assert await sessions.destroy(fresh) is True
        assert await sessions.destroy(fresh) is False
        assert await sessions.destroy("junk") is False
        for _ in range(2):
            await sessions.create(user_id="w")
        assert await sessions.destroy_all("w") == 2
        idle, _ = await sessions.create(user_id="x")
        clock.advance(timedelta(minutes=31))
        with pytest.raises(SessionError) as info:
            await sessions.get(idle)
        assert info.value.reason is SessionReason.EXPIRED_IDLE
        with pytest.raises(SessionError):
            await sessions.update(idle, {})
        if hasattr(async_store, "aclose"):
            await async_store.aclose()

    asyncio.run(run())


class AsyncHookStore:
    """Async twin of HookStore."""

    def __init__(self, inner: Any, hook: Any) -> None:
        self.inner = inner
        self.hook = hook

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self.inner.get(key)
        hook, self.hook = self.hook, None
        if hook is not None:
            await hook()
        return value


class AsyncContendedStore:
    """Async twin of ContendedStore."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self.inner.get(key)
        return value

    async def compare_and_set(self, *args: Any, **kwargs: Any) -> bool:
        return False

    async def compare_and_delete(self, *args: Any, **kwargs: Any) -> bool:
        return False


def test_async_races_and_contention() -> None:
    import asyncio

    from securekit.sessions import AsyncSessionManager

    async def run() -> None:
        clock = FixedClock()
        store = MemoryStore().asyncio()
        plain = AsyncSessionManager(store, clock=clock)
        token, _ = await plain.create(user_id="u", data={"v": 1})

        async def destroy() -> None:
            await plain.destroy(token)

        hooked = AsyncSessionManager(AsyncHookStore(store, destroy), clock=clock)
        with pytest.raises(SessionError) as info:
            await hooked.update(token, {"late": True})
        assert info.value.reason is SessionReason.REVOKED

        token, _ = await plain.create(user_id="u", data={"v": 1})

        async def change() -> None:
            await plain.update(token, {"v": 2})

        hooked = AsyncSessionManager(AsyncHookStore(store, change), clock=clock)
        assert (await hooked.touch(token)).data == {"v": 2}
        key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
        stale = b'{"v":1,"u":"u","d":{},"c":0,"s":0}'

        async def expire() -> None:
            await store.set(key, stale)

        hooked = AsyncSessionManager(AsyncHookStore(store, expire), clock=clock)
        with pytest.raises(SessionError) as info:
            await hooked.update(token, {"x": 1})
        assert info.value.reason is SessionReason.EXPIRED_ABSOLUTE

        token, _ = await plain.create(user_id="u", data={"a": 1})
        contended = AsyncSessionManager(AsyncContendedStore(store), clock=clock)
        with pytest.raises(SessionError):
            await contended.update(token, {"b": 2})
        with pytest.raises(SessionError):
            await contended.rotate(token)
        assert (await contended.touch(token)).data == {"a": 1}
        await store.set(key, b"\xff")
        assert await plain.destroy(token) is True

    asyncio.run(run())


def test_async_manager_refuses_sync_stores() -> None:
    from securekit.sessions import AsyncSessionManager

    with pytest.raises(TypeError):
        AsyncSessionManager(MemoryStore())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SessionManager(MemoryStore().asyncio())  # type: ignore[arg-type]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(data=st.dictionaries(st.text(max_size=10), JSON, max_size=5))
def test_data_round_trips(data: dict[str, Any]) -> None:
    manager = SessionManager(MemoryStore(), clock=FixedClock())
    token, created = manager.create(user_id="u", data=data)
    assert created.data == data
    assert manager.get(token).data == data
    assert manager.update(token, data).data == data
