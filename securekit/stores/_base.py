"""The store protocols and the shared body of the local (memory, SQLite) stores."""

from __future__ import annotations

import abc
import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from securekit.errors import ConfigurationError
from securekit.stores import _core
from securekit.stores._core import NS_VALUE, PenaltyRule, Step

R = TypeVar("R")
StrSet = set[str]


@runtime_checkable
class Store(Protocol):
    """The store contract every recipe codes against.

    Keys are ``str``, values ``bytes``, ``ttl`` is seconds (``None``: no
    expiry). Every operation is atomic on its own. Any backend failure raises
    :class:`~securekit.errors.StoreUnavailableError`: callers fail closed.
    """

    def get(self, key: str) -> bytes | None:
        """Return the value of ``key``, or None when absent or expired."""

    def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Write ``value`` under ``key`` (replacing any value and expiry)."""

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Set-if-absent; True if this call created the key."""

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""

    def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """Delete ``key`` only if its value equals ``expected``; True if deleted."""

    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """Write only if the value equals ``expected`` (None: key absent)."""

    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` to a counter; ``ttl`` applies when this creates it."""

    def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """Count one hit in a sliding window: ``(allowed, count, retry_after)``."""

    def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """Check and count one attempt on several failure counters atomically.

        Returns ``(allowed, retry_after, locked)``.
        """

    def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """Add ``member`` to the set ``key`` (a TTL refreshes the set's expiry)."""

    def set_remove(self, key: str, member: str) -> None:
        """Remove ``member`` from the set ``key``."""

    def set_members(self, key: str) -> StrSet:
        """Return the members of the set ``key`` (empty when absent)."""


@runtime_checkable
class AsyncStore(Protocol):
    """The async twin of :class:`Store`: the same methods, awaitable."""

    async def get(self, key: str) -> bytes | None:
        """See :meth:`Store.get`."""

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """See :meth:`Store.set`."""

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """See :meth:`Store.add`."""

    async def delete(self, key: str) -> bool:
        """See :meth:`Store.delete`."""

    async def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """See :meth:`Store.compare_and_delete`."""

    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """See :meth:`Store.compare_and_set`."""

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """See :meth:`Store.incr`."""

    async def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """See :meth:`Store.sliding_window_hit`."""

    async def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """See :meth:`Store.penalty_hit`."""

    async def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """See :meth:`Store.set_add`."""

    async def set_remove(self, key: str, member: str) -> None:
        """See :meth:`Store.set_remove`."""

    async def set_members(self, key: str) -> StrSet:
        """See :meth:`Store.set_members`."""


def check_window_args(limit: int, window: float, now: float) -> tuple[int, float, float]:
    """Validate the arguments of ``sliding_window_hit``."""
    return (
        _core.check_int(limit, name="limit", minimum=1),
        _core.check_seconds(window, name="window"),
        _core.check_now(now),
    )


def check_penalty_args(
    keys: Sequence[str], rules: Sequence[PenaltyRule], now: float
) -> tuple[list[str], list[PenaltyRule], float]:
    """Validate the arguments of ``penalty_hit``."""
    key_list = [_core.check_key(k) for k in keys]
    rule_list = list(rules)
    if not key_list or len(key_list) != len(rule_list) or len(set(key_list)) != len(key_list):
        raise ConfigurationError("penalty_hit needs distinct keys, one rule per key")
    for rule in rule_list:
        if not isinstance(rule, PenaltyRule):
            raise TypeError("rules must be PenaltyRule instances")
    return key_list, rule_list, _core.check_now(now)


class LocalStore(abc.ABC):
    """Operations of the local stores, written once over ``_transact``.

    A subclass provides ``_read`` (one value, honouring expiry),
    ``_transact`` (read keys, run a pure transition, apply its writes, all
    under one lock or transaction) and the three set primitives.
    """

    @abc.abstractmethod
    def _read(self, ns: int, key: str) -> bytes | None:
        """Return the live value of ``(ns, key)``."""

    @abc.abstractmethod
    def _transact(self, ns: int, keys: list[str], step: Step[R]) -> R:
        """Run ``step`` atomically on the current values of ``keys``."""

    def get(self, key: str) -> bytes | None:
        """Return the value of ``key``, or None when absent or expired."""
        return self._read(NS_VALUE, _core.check_key(key))

    def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Write ``value`` under ``key`` (replacing any value and expiry)."""
        step = _core.step_set(_core.check_value(value), _core.check_ttl(ttl))
        self._transact(NS_VALUE, [_core.check_key(key)], step)

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Set-if-absent; True if this call created the key."""
        step = _core.step_add(_core.check_value(value), _core.check_ttl(ttl))
        return self._transact(NS_VALUE, [_core.check_key(key)], step)

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""
        return self._transact(NS_VALUE, [_core.check_key(key)], _core.step_delete)

    def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """Delete ``key`` only if its value equals ``expected``; True if deleted."""
        step = _core.step_compare_and_delete(_core.check_value(expected, name="expected value"))
        return self._transact(NS_VALUE, [_core.check_key(key)], step)

    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """Write only if the value equals ``expected`` (None: key absent)."""
        if expected is not None:
            _core.check_value(expected, name="expected value")
        step = _core.step_compare_and_set(expected, _core.check_value(value), _core.check_ttl(ttl))
        return self._transact(NS_VALUE, [_core.check_key(key)], step)

    def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add ``amount`` to a counter; ``ttl`` applies when this creates it."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an int")
        if abs(amount) > 2**53:
            raise ConfigurationError("amount must be between -2**53 and 2**53")
        step = _core.step_incr(amount, _core.check_ttl(ttl))
        return self._transact(NS_VALUE, [_core.check_key(key)], step)

    def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """Count one hit in a sliding window: ``(allowed, count, retry_after)``."""
        limit, window, now = check_window_args(limit, window, now)
        step = _core.step_window(limit, window, now)
        return self._transact(NS_VALUE, [_core.check_key(key)], step)

    def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """Check and count one attempt on several failure counters atomically."""
        key_list, rule_list, now = check_penalty_args(keys, rules, now)
        return self._transact(NS_VALUE, key_list, _core.step_penalty(rule_list, now))

    @abc.abstractmethod
    def _set_add(self, key: str, member: str, ttl: float | None) -> None:
        """Add a member atomically (a TTL refreshes the set's expiry)."""

    @abc.abstractmethod
    def _set_remove(self, key: str, member: str) -> None:
        """Remove a member atomically (an emptied set disappears)."""

    @abc.abstractmethod
    def _set_members(self, key: str) -> StrSet:
        """Return the live members."""

    def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """Add ``member`` to the set ``key`` (a TTL refreshes the set's expiry)."""
        self._set_add(_core.check_key(key), _core.check_member(member), _core.check_ttl(ttl))

    def set_remove(self, key: str, member: str) -> None:
        """Remove ``member`` from the set ``key``."""
        self._set_remove(_core.check_key(key), _core.check_member(member))

    def set_members(self, key: str) -> StrSet:
        """Return the members of the set ``key`` (empty when absent)."""
        return self._set_members(_core.check_key(key))


class AsyncLocalStore:
    """An :class:`AsyncStore` over a local store.

    The memory store answers without blocking, so its calls run inline; the
    SQLite store may wait on a file lock, so its calls run in a worker thread
    (each thread has its own connection).
    """

    def __init__(self, store: LocalStore, *, in_thread: bool) -> None:
        self._store = store
        self._in_thread = in_thread

    async def _call(self, fn: Callable[[], R]) -> R:
        if self._in_thread:
            return await asyncio.to_thread(fn)
        return fn()

    async def get(self, key: str) -> bytes | None:
        """See :meth:`Store.get`."""
        return await self._call(functools.partial(self._store.get, key))

    async def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """See :meth:`Store.set`."""
        await self._call(functools.partial(self._store.set, key, value, ttl=ttl))

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """See :meth:`Store.add`."""
        return await self._call(functools.partial(self._store.add, key, value, ttl=ttl))

    async def delete(self, key: str) -> bool:
        """See :meth:`Store.delete`."""
        return await self._call(functools.partial(self._store.delete, key))

    async def compare_and_delete(self, key: str, expected: bytes) -> bool:
        """See :meth:`Store.compare_and_delete`."""
        return await self._call(functools.partial(self._store.compare_and_delete, key, expected))

    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """See :meth:`Store.compare_and_set`."""
        fn = functools.partial(self._store.compare_and_set, key, expected, value, ttl=ttl)
        return await self._call(fn)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """See :meth:`Store.incr`."""
        return await self._call(functools.partial(self._store.incr, key, amount, ttl=ttl))

    async def sliding_window_hit(
        self, key: str, *, limit: int, window: float, now: float
    ) -> tuple[bool, int, float]:
        """See :meth:`Store.sliding_window_hit`."""
        fn = functools.partial(
            self._store.sliding_window_hit, key, limit=limit, window=window, now=now
        )
        return await self._call(fn)

    async def penalty_hit(
        self, keys: Sequence[str], *, rules: Sequence[PenaltyRule], now: float
    ) -> tuple[bool, float, bool]:
        """See :meth:`Store.penalty_hit`."""
        fn = functools.partial(self._store.penalty_hit, keys, rules=rules, now=now)
        return await self._call(fn)

    async def set_add(self, key: str, member: str, *, ttl: float | None = None) -> None:
        """See :meth:`Store.set_add`."""
        await self._call(functools.partial(self._store.set_add, key, member, ttl=ttl))

    async def set_remove(self, key: str, member: str) -> None:
        """See :meth:`Store.set_remove`."""
        await self._call(functools.partial(self._store.set_remove, key, member))

    async def set_members(self, key: str) -> StrSet:
        """See :meth:`Store.set_members`."""
        return await self._call(functools.partial(self._store.set_members, key))
