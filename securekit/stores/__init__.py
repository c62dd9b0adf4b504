"""State stores: one small protocol with atomic operations, three backends.

* :class:`MemoryStore`: thread-safe, one process (tests, single worker).
* :class:`SQLiteStore`: one file, safe across threads and processes (the
  embedded default for one machine).
* :class:`RedisStore` / :class:`AsyncRedisStore`: Redis or Redis Cluster, for
  many machines.

Every backend failure raises :class:`~securekit.errors.StoreUnavailableError`;
recipes built on a store fail closed with it.

Example:
    >>> store = MemoryStore()
    >>> store.add("once", b"1", ttl=60)
    True
    >>> store.add("once", b"2", ttl=60)
    False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from securekit.stores._base import AsyncLocalStore, AsyncStore, Store
from securekit.stores._core import PenaltyRule
from securekit.stores._memory import MemoryStore
from securekit.stores._sqlite import SQLiteStore

if TYPE_CHECKING:
    from securekit.stores._redis import AsyncRedisStore, RedisStore

__all__ = [
    "AsyncLocalStore",
    "AsyncRedisStore",
    "AsyncStore",
    "MemoryStore",
    "PenaltyRule",
    "RedisStore",
    "SQLiteStore",
    "Store",
]


def __getattr__(name: str) -> Any:
    # redis-py is an optional extra (securekit[redis]): import it only when a
    # Redis store is asked for, so the embedded default works without it.
    if name in {"RedisStore", "AsyncRedisStore"}:
        try:
            from securekit.stores import _redis  # noqa: PLC0415 - optional dependency
        except ModuleNotFoundError as exc:
            if exc.name != "redis" and not str(exc.name).startswith("redis."):
                raise
            raise ImportError(f"{name} needs redis-py: pip install 'securekit[redis]'") from None
        return getattr(_redis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
