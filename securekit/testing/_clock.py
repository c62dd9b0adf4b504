"""A controllable clock for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from securekit._clock import aware

#: The default instant of a new FixedClock: fixed so test output is stable.
DEFAULT_START: datetime = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class FixedClock:
    """A clock that only moves when told to; pass it as a recipe's ``clock``.

    Example:
        >>> clock = FixedClock()
        >>> clock.advance(timedelta(minutes=5))
        >>> clock().minute
        5
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = aware(start, name="start")

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or backward with a negative delta)."""
        self._now = self._now + delta

    def set(self, value: datetime) -> None:
        """Jump to an absolute, timezone-aware instant."""
        self._now = aware(value, name="value")
