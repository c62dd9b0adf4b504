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

from securekit.stores._base import AsyncLocalStore, AsyncStore, Store
from securekit.stores._core import PenaltyRule
from securekit.stores._memory import MemoryStore
from securekit.stores._redis import AsyncRedisStore, RedisStore
from securekit.stores._sqlite import SQLiteStore

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
