"""Time helpers shared by every time-dependent recipe.

Recipes take ``now: datetime | None = None`` per call or a ``clock`` callable
at construction, so tests never sleep or monkeypatch. Naive datetimes are a
programming error (their meaning depends on the server's time zone) and raise
``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def aware(value: datetime, *, name: str = "now") -> datetime:
    """Return ``value`` unchanged if timezone-aware, else raise ``TypeError``.

    Args:
        value: the datetime to check.
        name: the parameter name to cite in the error message.

    Raises:
        TypeError: ``value`` is not a datetime or is naive.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{name} must be timezone-aware (use datetime.now(UTC))")
    return value


def resolve(now: datetime | None, clock: Clock = system_clock) -> datetime:
    """Return ``now`` checked for awareness, or the clock's current time."""
    if now is None:
        return aware(clock(), name="clock()")
    return aware(now)
