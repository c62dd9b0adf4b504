"""MemoryStore: a thread-safe, single-process store (tests, one worker)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final, TypeVar

from securekit.stores._base import AsyncLocalStore, LocalStore
from securekit.stores._core import KEEP, Step

R = TypeVar("R")

#: Expired entries are swept every this many writes (reads ignore them anyway).
SWEEP_EVERY: Final = 1024


class MemoryStore(LocalStore):
    """A thread-safe store in this process's memory.

    Use it for tests and single-process deployments only: state is lost on
    restart and is not shared between worker processes (a rate limit of 100
    becomes 100 per worker). One lock serialises every operation, which makes
    each one atomic.

    Args:
        clock: returns the current epoch seconds, for expiry (tests pass a
            fake); defaults to :func:`time.time`.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._data: dict[tuple[int, str], tuple[bytes, float | None]] = {}
        self._sets: dict[str, tuple[set[str], float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._writes = 0

    def __repr__(self) -> str:
        return f"MemoryStore(entries={len(self._data) + len(self._sets)})"

    def _live(self, ns: int, key: str, now: float) -> bytes | None:
        entry = self._data.get((ns, key))
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= now:
            del self._data[(ns, key)]
            return None
        return value

    def _read(self, ns: int, key: str) -> bytes | None:
        with self._lock:
            return self._live(ns, key, self._clock())

    def _transact(self, ns: int, keys: list[str], step: Step[R]) -> R:
        with self._lock:
            now = self._clock()
            writes, result = step([self._live(ns, k, now) for k in keys])
            for write in writes:
                slot = (ns, keys[write.index])
                if write.value is None:
                    self._data.pop(slot, None)
                    continue
                if write.ttl is KEEP:
                    old = self._data.get(slot)
                    expires = old[1] if old is not None else None
                else:
                    expires = None if write.ttl is None else now + float(write.ttl)  # type: ignore[arg-type]
                self._data[slot] = (write.value, expires)
            self._writes += len(writes)
            if self._writes >= SWEEP_EVERY:
                self._writes = 0
                self._sweep(now)
            return result

    def _sweep(self, now: float) -> None:
        dead = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for slot in dead:
            del self._data[slot]
        dead_sets = [k for k, (_, exp) in self._sets.items() if exp is not None and exp <= now]
        for key in dead_sets:
            del self._sets[key]

    def _live_set(self, key: str, now: float) -> tuple[set[str], float | None] | None:
        entry = self._sets.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= now:
            del self._sets[key]
            return None
        return entry

    def _set_add(self, key: str, member: str, ttl: float | None) -> None:
        with self._lock:
            now = self._clock()
            entry = self._live_set(key, now)
            members, expires = entry if entry is not None else (set(), None)
            members.add(member)
            self._sets[key] = (members, expires if ttl is None else now + ttl)

    def _set_remove(self, key: str, member: str) -> None:
        with self._lock:
            entry = self._live_set(key, self._clock())
            if entry is not None:
                entry[0].discard(member)
                if not entry[0]:
                    del self._sets[key]

    def _set_members(self, key: str) -> set[str]:
        with self._lock:
            entry = self._live_set(key, self._clock())
            return set() if entry is None else set(entry[0])

    def asyncio(self) -> AsyncLocalStore:
        """Return an :class:`~securekit.stores.AsyncStore` view of this store."""
        return AsyncLocalStore(self, in_thread=False)
