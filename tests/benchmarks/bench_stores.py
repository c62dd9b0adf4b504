"""Sessions and rate limits: securekit against raw redis-py / sqlite3 and `limits`.

The raw candidates do the same round trips by hand (same commands or SQL
statements, same token generation, hashing and JSON), so the ratio is the
cost of securekit's checks and abstractions, not of a different design.

Run:
    .venv/bin/python -m pytest tests/benchmarks/bench_stores.py -o python_files="bench_*.py" \
        --no-cov -q -s
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_py

from securekit.ratelimit import RateLimiter
from securekit.sessions import SessionManager
from securekit.stores import MemoryStore, RedisStore, SQLiteStore
from securekit.stores._redis import SCRIPTS
from securekit.testing import RedisServer
from tests.benchmarks._harness import QUICK, compare

#: Overhead target of the issue: securekit at most 1.3x the raw round trips.
TARGET = 1.3
#: Regression guard for the rate-limit comparison with `limits` (no issue target).
LIMITS_GUARD = 2.5
#: Redis runs in its own process on a shared 2-core machine: many short
#: interleaved rounds give the best-of-N a fair chance on both sides.
ROUNDS: dict[str, Any] = {"rounds": 21, "round_seconds": 0.1}
IDLE, ABSOLUTE = 1800.0, 43200.0


def _record(user: str, now: float) -> bytes:
    body = {"v": 1, "u": user, "d": {}, "c": now, "s": now}
    return json.dumps(body, separators=(",", ":")).encode()


class RawRedisSessions:
    """Hand-written sessions on redis-py: the same commands securekit sends."""

    def __init__(self, client: redis_py.Redis) -> None:
        self.r = client
        self.cad = client.register_script(SCRIPTS["cad"])
        self.sadd = client.register_script(SCRIPTS["sadd"])

    def create(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        key = "{raw}:k:session:id:" + hashlib.sha256(token.encode()).hexdigest()
        index = "{raw}:s:user:" + hashlib.sha256(user.encode()).hexdigest()
        self.sadd(keys=[index], args=[key, "43200000"])
        self.r.set(key, _record(user, time.time()), nx=True, px=1_800_000)
        return token

    def get(self, token: str) -> dict[str, Any]:
        key = "{raw}:k:session:id:" + hashlib.sha256(token.encode()).hexdigest()
        raw = self.r.get(key)
        assert raw is not None
        record: dict[str, Any] = json.loads(raw)
        now = time.time()
        assert now < record["c"] + ABSOLUTE
        assert now < record["s"] + IDLE
        return record

    def rotate(self, token: str) -> str:
        key = "{raw}:k:session:id:" + hashlib.sha256(token.encode()).hexdigest()
        raw = self.r.get(key)
        assert raw is not None
        record = json.loads(raw)
        self.cad(keys=[key], args=[raw])
        index = "{raw}:s:user:" + hashlib.sha256(record["u"].encode()).hexdigest()
        self.r.srem(index, key)
        new = secrets.token_urlsafe(32)
        new_key = "{raw}:k:session:id:" + hashlib.sha256(new.encode()).hexdigest()
        self.sadd(keys=[index], args=[new_key, "43200000"])
        self.r.set(new_key, _record(record["u"], time.time()), nx=True, px=1_800_000)
        return new


class RawSQLiteSessions:
    """Hand-written sessions on sqlite3: the same schema and SQL as SQLiteStore."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS kv (ns INTEGER NOT NULL, key TEXT NOT NULL,"
            " value BLOB NOT NULL, expires REAL, PRIMARY KEY (ns, key)) WITHOUT ROWID"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS members (key TEXT NOT NULL, member TEXT NOT NULL,"
            " PRIMARY KEY (key, member)) WITHOUT ROWID"
        )

    def _put(self, key: str, value: bytes | None, expires: float) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT value, expires FROM kv WHERE ns = 0 AND key = ?", (key,)).fetchone()
        if value is None:
            db.execute("DELETE FROM kv WHERE ns = 0 AND key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO kv VALUES (0, ?, ?, ?)", (key, value, expires))
        db.execute("COMMIT")

    def _member(self, index: str, member: str, *, add: bool, expires: float) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT expires FROM kv WHERE ns = 1 AND key = ?", (index,)).fetchone()
        if add:
            db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (index, member))
            db.execute("INSERT OR REPLACE INTO kv VALUES (1, ?, ?, ?)", (index, b"", expires))
        else:
            db.execute("DELETE FROM members WHERE key = ? AND member = ?", (index, member))
            db.execute("SELECT 1 FROM members WHERE key = ? LIMIT 1", (index,)).fetchone()
        db.execute("COMMIT")

    def create(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
        index = "session:user:" + hashlib.sha256(user.encode()).hexdigest()
        now = time.time()
        self._member(index, key, add=True, expires=now + ABSOLUTE)
        self._put(key, _record(user, now), now + IDLE)
        return token

    def get(self, token: str) -> dict[str, Any]:
        key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
        row = self.db.execute(
            "SELECT value, expires FROM kv WHERE ns = 0 AND key = ?", (key,)
        ).fetchone()
        now = time.time()
        assert row is not None
        assert row[1] > now
        record: dict[str, Any] = json.loads(row[0])
        # The two timeouts every hand-written session store must check too.
        assert now < record["c"] + ABSOLUTE
        assert now < record["s"] + IDLE
        return record

    def rotate(self, token: str) -> str:
        key = "session:id:" + hashlib.sha256(token.encode()).hexdigest()
        record = self.get(token)
        now = time.time()
        self._put(key, None, 0)
        index = "session:user:" + hashlib.sha256(record["u"].encode()).hexdigest()
        self._member(index, key, add=False, expires=0)
        new = secrets.token_urlsafe(32)
        new_key = "session:id:" + hashlib.sha256(new.encode()).hexdigest()
        self._member(index, new_key, add=True, expires=now + ABSOLUTE)
        self._put(new_key, _record(record["u"], now), now + IDLE)
        return new


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    srv = RedisServer()
    srv.start()
    yield srv
    srv.close()


def _session_ops(
    create: Callable[[str], str], get: Callable[[str], object], rotate: Callable[[str], str]
) -> dict[str, Callable[[], object]]:
    token = create("bench-user")
    state = {"rot": create("bench-user")}

    def do_rotate() -> None:
        state["rot"] = rotate(state["rot"])

    return {
        "create": lambda: create("bench-user"),
        "get": lambda: get(token),
        "rotate": do_rotate,
    }


def _check(results: list[Any], target: float) -> None:
    """Assert the ratio target after every result of the test was printed."""
    over = [f"{r.name}: {r.ratio('securekit'):.2f}x" for r in results]
    print("  ratios:", ", ".join(over))
    if not QUICK:
        bad = [r.name for r in results if r.ratio("securekit") > target]
        assert not bad, f"overhead above {target}x: {bad}"


def test_sessions_redis(server: RedisServer) -> None:
    client = redis_py.Redis.from_url(server.url)
    manager = SessionManager(RedisStore(server.url))
    raw = RawRedisSessions(client)
    ours = _session_ops(
        lambda u: manager.create(user_id=u)[0], manager.get, lambda t: manager.rotate(t)[0]
    )
    theirs = _session_ops(raw.create, raw.get, raw.rotate)
    results = [
        compare(
            f"sessions.{op} on Redis",
            {"raw redis-py": theirs[op], "securekit": ours[op]},
            baseline="raw redis-py",
            **ROUNDS,
        )
        for op in ("create", "get", "rotate")
    ]
    client.close()
    _check(results, TARGET)


def test_sessions_sqlite(tmp_path: Path) -> None:
    manager = SessionManager(SQLiteStore(tmp_path / "ours.db"))
    raw = RawSQLiteSessions(tmp_path / "raw.db")
    ours = _session_ops(
        lambda u: manager.create(user_id=u)[0], manager.get, lambda t: manager.rotate(t)[0]
    )
    theirs = _session_ops(raw.create, raw.get, raw.rotate)
    results = [
        compare(
            f"sessions.{op} on SQLite",
            {"raw sqlite3": theirs[op], "securekit": ours[op]},
            baseline="raw sqlite3",
            **ROUNDS,
        )
        for op in ("create", "get", "rotate")
    ]
    _check(results, TARGET)


def test_sessions_memory() -> None:
    manager = SessionManager(MemoryStore())
    ours = _session_ops(
        lambda u: manager.create(user_id=u)[0], manager.get, lambda t: manager.rotate(t)[0]
    )
    # No raw peer for an in-process dict: absolute numbers only.
    result = compare(
        "sessions on MemoryStore",
        {f"securekit {op}": fn for op, fn in ours.items()},
        baseline="securekit get",
    )
    assert result.per_second("securekit get") > 0


def test_ratelimit_vs_limits(server: RedisServer) -> None:
    from limits import RateLimitItemPerMinute
    from limits.storage import RedisStorage
    from limits.strategies import SlidingWindowCounterRateLimiter

    storage = RedisStorage(server.url)
    theirs = SlidingWindowCounterRateLimiter(storage)
    item = RateLimitItemPerMinute(10**9)
    ours = RateLimiter(RedisStore(server.url), limit=10**9, window=timedelta(minutes=1))
    result = compare(
        "rate-limit hit on Redis",
        {
            "limits (sliding window counter)": lambda: theirs.hit(item, "bench", "user-1"),
            "securekit": lambda: ours.hit("bench:user-1"),
        },
        baseline="limits (sliding window counter)",
        **ROUNDS,
    )
    # No target in the issue: recorded for comparison. A regression guard only.
    _check([result], LIMITS_GUARD)
