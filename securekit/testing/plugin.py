"""The securekit pytest plugin, loaded automatically through its entry point.

Fixtures:
    fixed_clock: a :class:`~securekit.testing.FixedClock` at a fixed instant.
    redis_server: a real ``redis-server`` on 127.0.0.1 for the whole session
        (skips locally, fails under ``CI=true`` when redis-server is missing).
    redis_url: the URL of a freshly flushed database on that server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from securekit.testing._clock import FixedClock
from securekit.testing._services import RedisServer, ServiceMissingError, require_service

__all__ = ["fixed_clock", "redis_server", "redis_url"]


@pytest.fixture
def fixed_clock() -> FixedClock:
    """A clock that moves only when the test calls ``advance``."""
    return FixedClock()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free port of 127.0.0.1, for the whole session."""
    try:
        server = RedisServer()
        server.start()
    except ServiceMissingError as exc:
        require_service("redis-server", str(exc))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, running and flushed for this test."""
    redis_server.start()
    redis_server.flush()
    return redis_server.url
