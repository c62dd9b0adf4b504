"""The store core: argument checks and the pure state transitions.

Every atomic operation of the store contract is written once here, as a pure
function from the current stored bytes to the bytes to write and the result.
:class:`~securekit.stores.MemoryStore` and :class:`~securekit.stores.SQLiteStore`
run these functions inside their lock or ``BEGIN IMMEDIATE`` transaction;
:class:`~securekit.stores.RedisStore` runs the same transitions as Lua scripts
(``_redis_scripts.py``), whose encodings match byte for byte, so a value
written by one operation reads back the same on every backend.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from securekit.errors import ConfigurationError

#: Longest store key accepted. Recipes hash untrusted parts of their keys, so a
#: longer key is a programming error rather than hostile input.
MAX_KEY_LENGTH: Final = 1024
#: Largest value accepted (1 MiB): far above any session or counter, far below
#: Redis's 512 MB string limit, so a runaway caller fails loudly.
MAX_VALUE_BYTES: Final = 1024 * 1024
#: Longest set member accepted.
MAX_MEMBER_LENGTH: Final = 1024
#: Namespaces: values and sets live apart, so a set and a value may share a name.
NS_VALUE: Final = 0
#: The local stores keep each set's expiry as a row in this namespace.
NS_SET: Final = 1
#: Retry hints are rounded up to this resolution (seconds), so that retrying
#: after exactly ``retry_after`` seconds is allowed despite float rounding.
RETRY_RESOLUTION: Final = 0.001


def round_retry(seconds: float) -> float:
    """Round a retry hint up to the next millisecond (exact values stay exact)."""
    return math.ceil(max(seconds, 0.0) / RETRY_RESOLUTION - 1e-6) * RETRY_RESOLUTION


class _Keep:
    """Sentinel: keep the current expiry when writing a value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True, slots=True)
class Write:
    """One write of a transition: index into the keys read, value or delete."""

    index: int
    value: bytes | None
    #: Seconds from now until expiry, None for no expiry, KEEP for unchanged.
    ttl: float | _Keep | None = None


R = TypeVar("R")
#: A transition reads the current values of its keys and returns writes + result.
Step = Callable[[list[bytes | None]], tuple[list[Write], R]]


def check_key(key: str) -> str:
    """Return ``key`` if it is a usable store key, else raise.

    Raises:
        TypeError: ``key`` is not a ``str``.
        ConfigurationError: empty, too long or not encodable as UTF-8.
    """
    if not isinstance(key, str):
        raise TypeError(f"store keys are str, not {type(key).__name__}")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ConfigurationError(f"store keys must be 1 to {MAX_KEY_LENGTH} characters long")
    if not key.isascii() and not _utf8(key):
        raise ConfigurationError("store keys must be encodable as UTF-8 (no lone surrogates)")
    return key


def check_member(member: str) -> str:
    """Return ``member`` if it is a usable set member, else raise."""
    if not isinstance(member, str):
        raise TypeError(f"set members are str, not {type(member).__name__}")
    if len(member) > MAX_MEMBER_LENGTH:
        raise ConfigurationError(f"set members must be at most {MAX_MEMBER_LENGTH} characters")
    if not member.isascii() and not _utf8(member):
        raise ConfigurationError("set members must be encodable as UTF-8 (no lone surrogates)")
    return member


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_value(value: bytes, *, name: str = "value") -> bytes:
    """Return ``value`` if it is storable bytes, else raise."""
    if not isinstance(value, bytes):
        raise TypeError(f"store {name}s are bytes, not {type(value).__name__}")
    if len(value) > MAX_VALUE_BYTES:
        raise ConfigurationError(f"store {name}s are capped at {MAX_VALUE_BYTES} bytes")
    return value


def check_ttl(ttl: float | None) -> float | None:
    """Return ``ttl`` (seconds) if it is None or a positive finite number."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise TypeError(f"ttl is a number of seconds or None, not {type(ttl).__name__}")
    if not math.isfinite(ttl) or ttl <= 0:
        raise ConfigurationError("ttl must be a positive, finite number of seconds")
    # Sub-millisecond TTLs round up to Redis's 1 ms resolution on every backend.
    return max(float(ttl), 0.001)


def check_int(value: int, *, name: str, minimum: int) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum or value > 2**53:
        raise ConfigurationError(f"{name} must be an int between {minimum} and 2**53")
    return value


def check_seconds(value: float, *, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is a finite (positive) number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"{name} must be a positive, finite number of seconds")
    return float(value)


def check_now(now: float) -> float:
    """Return ``now`` (epoch seconds) if it is a finite, non-negative number."""
    if isinstance(now, bool) or not isinstance(now, int | float):
        raise TypeError(f"now must be epoch seconds as a number, not {type(now).__name__}")
    if not math.isfinite(now) or now < 0:
        raise ConfigurationError("now must be finite, non-negative epoch seconds")
    return float(now)


# ---------------------------------------------------------------- transitions


def step_set(value: bytes, ttl: float | None) -> Step[None]:
    """Unconditional write."""
    return lambda _cur: ([Write(0, value, ttl)], None)


def step_add(value: bytes, ttl: float | None) -> Step[bool]:
    """Set-if-absent."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], bool]:
        if cur[0] is not None:
            return [], False
        return [Write(0, value, ttl)], True

    return step


def step_delete(cur: list[bytes | None]) -> tuple[list[Write], bool]:
    """Delete; True if something was there."""
    if cur[0] is None:
        return [], False
    return [Write(0, None)], True


def _same(current: bytes | None, expected: bytes) -> bool:
    # Constant-time: expected values are often session records or token hashes.
    return current is not None and hmac.compare_digest(current, expected)


def step_compare_and_delete(expected: bytes) -> Step[bool]:
    """Delete only if the current value equals ``expected``."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], bool]:
        if not _same(cur[0], expected):
            return [], False
        return [Write(0, None)], True

    return step


def step_compare_and_set(expected: bytes | None, value: bytes, ttl: float | None) -> Step[bool]:
    """Write only if the current value equals ``expected`` (None: absent)."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], bool]:
        ok = cur[0] is None if expected is None else _same(cur[0], expected)
        if not ok:
            return [], False
        return [Write(0, value, ttl)], True

    return step


def parse_int(raw: bytes) -> int | None:
    """Parse a counter the way Redis does (ASCII decimal, optional minus)."""
    text = raw.decode("ascii", "replace")
    body = text[1:] if text.startswith("-") else text
    if not body or len(body) > 19 or not body.isdigit() or not body.isascii():
        return None
    return int(text)


def step_incr(amount: int, ttl: float | None) -> Step[int]:
    """Increment a counter; the TTL is applied only when this creates it."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], int]:
        if cur[0] is None:
            return [Write(0, str(amount).encode(), ttl)], amount
        current = parse_int(cur[0])
        if current is None:
            raise ConfigurationError("incr() on a key that does not hold an integer")
        new = current + amount
        return [Write(0, str(new).encode(), KEEP)], new

    return step


def window_decide(
    state: bytes | None, *, limit: int, window: float, now: float
) -> tuple[bool, int, float, bytes | None]:
    """One sliding-window-counter hit: ``(allowed, count, retry_after, new_state)``.

    The window counter (as in Cloudflare's and Redis's published designs)
    keeps the count of the current fixed window and of the previous one, and
    estimates the count over the last ``window`` seconds as
    ``previous * (1 - elapsed / window) + current``. A hit is allowed, and
    counted, only while that estimate plus one stays within ``limit``;
    refused hits are not counted, so a flood cannot extend its own block.

    State is ASCII ``"<window index>:<current>:<previous>"``.
    """
    index = math.floor(now / window)
    current = previous = 0
    if state is not None:
        parts = state.split(b":")
        parsed = [parse_int(p) for p in parts] if len(parts) == 3 else []
        if len(parsed) == 3 and all(p is not None and p >= 0 for p in parsed):
            s_index, s_current, s_previous = (p or 0 for p in parsed)
            if s_index == index:
                current, previous = s_current, s_previous
            elif s_index == index - 1:
                previous = s_current
            elif s_index > index:
                # The caller's clock is behind the stored window (clock skew
                # between servers): keep every stored count, fail closed.
                index, current, previous = s_index, s_current, s_previous
    elapsed = max(0.0, now - index * window)
    weight = max(0.0, 1.0 - elapsed / window)
    estimate = previous * weight + current
    if estimate + 1 <= limit:
        current += 1
        new_state = f"{index}:{current}:{previous}".encode()
        return True, math.floor(estimate + 1), 0.0, new_state
    if current + 1 <= limit and previous > 0:
        # Wait until the previous window's weighted share has shrunk enough.
        retry = (estimate + 1 - limit) * window / previous
    else:
        # Wait for this window to end, then for its share of the next to shrink.
        retry = (window - elapsed) + (window * (1 - (limit - 1) / current) if current else 0.0)
    return False, math.floor(estimate), round_retry(retry), None


def step_window(limit: int, window: float, now: float) -> Step[tuple[bool, int, float]]:
    """Sliding-window hit as a transition (state expires after two windows)."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], tuple[bool, int, float]]:
        allowed, count, retry, new_state = window_decide(
            cur[0], limit=limit, window=window, now=now
        )
        writes = [] if new_state is None else [Write(0, new_state, 2 * window)]
        return writes, (allowed, count, retry)

    return step


@dataclass(frozen=True, slots=True, kw_only=True)
class PenaltyRule:
    """Limits of one failure counter of :meth:`Store.penalty_hit`.

    Attributes:
        limit: attempts refused outright once the count reaches this.
        free: attempts before the progressive delay starts.
        base_delay: seconds of delay at ``free`` failures; doubles per failure.
        max_delay: cap on the progressive delay, in seconds.
        ttl: seconds after the last counted attempt when the counter resets.
    """

    limit: int
    free: int
    base_delay: float
    max_delay: float
    ttl: float

    def encode(self) -> list[str]:
        """The rule as Lua script arguments."""
        return [
            str(self.limit),
            str(self.free),
            repr(self.base_delay),
            repr(self.max_delay),
            repr(self.ttl),
        ]


def _parse_penalty(raw: bytes | None) -> tuple[int, float]:
    if raw is None:
        return 0, 0.0
    count_text, _, last_text = raw.partition(b":")
    count = parse_int(count_text)
    try:
        last = float(last_text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        last = math.nan
    if count is None or count < 0 or not math.isfinite(last):
        # A corrupted counter counts as fully used: fail closed.
        return 2**31, math.inf
    return count, last


def penalty_decide(
    states: Sequence[bytes | None], rules: Sequence[PenaltyRule], now: float
) -> tuple[bool, float, bool, list[bytes]]:
    """Check and count one attempt against several failure counters at once.

    Returns ``(allowed, retry_after, locked, new_states)``. The attempt is
    allowed only if no counter is at its hard limit and no counter is inside
    its progressive delay; then every counter is incremented (the attempt is
    counted as a failure up front, so parallel attempts cannot all pass a
    check that only a later failure would have closed). ``locked`` says that
    a hard limit (not a delay) refused the attempt.
    """
    retry = 0.0
    locked = False
    counts: list[int] = []
    for raw, rule in zip(states, rules, strict=True):
        count, last = _parse_penalty(raw)
        if count and now - last >= rule.ttl:
            count = 0  # the counter's quiet period passed (its TTL, in caller time)
        counts.append(count)
        if count >= rule.limit:
            locked = True
            retry = max(retry, last + rule.ttl - now if math.isfinite(last) else rule.ttl)
        elif count >= rule.free:
            delay = min(rule.base_delay * 2.0 ** min(count - rule.free, 64), rule.max_delay)
            if now < last + delay:
                retry = max(retry, last + delay - now)
    if locked or retry > 0:
        return False, round_retry(retry), locked, []
    return True, 0.0, False, [f"{c + 1}:{now!r}".encode() for c in counts]


def step_penalty(rules: Sequence[PenaltyRule], now: float) -> Step[tuple[bool, float, bool]]:
    """:func:`penalty_decide` as a transition over several keys."""

    def step(cur: list[bytes | None]) -> tuple[list[Write], tuple[bool, float, bool]]:
        allowed, retry, locked, states = penalty_decide(cur, rules, now)
        writes = [Write(i, s, rules[i].ttl) for i, s in enumerate(states)]
        return writes, (allowed, retry, locked)

    return step
