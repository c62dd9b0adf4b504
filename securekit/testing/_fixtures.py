"""The fixtures of the securekit pytest plugin (registered by ``plugin.py``).

They live here, not in ``plugin.py``, because pytest imports entry-point
plugins before coverage starts: this module is registered from
``pytest_configure``, after coverage has started, so its lines are measured.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

import pytest

from securekit.errors import InsecureConfigurationWarning
from securekit.testing._clock import FixedClock
from securekit.testing._services import RedisServer, ServiceMissingError, require_service

if TYPE_CHECKING:
    from securekit.keys import KeyRing
    from securekit.passwords import Argon2Parameters, PasswordHasher
    from securekit.testing.browser import ScriptDetector
    from securekit.testing.payloads import AttackPayloads


class _Startable(Protocol):
    def start(self) -> None: ...


_Service = TypeVar("_Service", bound=_Startable)

__all__ = ["cheap_argon2_parameters", "cheap_password_hasher"]

#: Argon2id cost for tests only: one pass over 8 KiB with one lane, the
#: smallest RFC 9106 section 3.1 allows (m >= 8 * p). A hash takes well under
#: a millisecond instead of ~100 ms; the format and code paths are the real ones.
_CHEAP_TIME_COST: Final = 1
_CHEAP_MEMORY_KIB: Final = 8
_CHEAP_LANES: Final = 1


def cheap_argon2_parameters() -> Argon2Parameters:
    """Return the test-only Argon2id parameters (t=1, m=8 KiB, p=1)."""
    from securekit.passwords import Argon2Parameters  # noqa: PLC0415 - keep the plugin light

    return Argon2Parameters(
        time_cost=_CHEAP_TIME_COST, memory_cost=_CHEAP_MEMORY_KIB, parallelism=_CHEAP_LANES
    )


def cheap_password_hasher(*, pepper: KeyRing | None = None) -> PasswordHasher:
    """Return a :class:`~securekit.passwords.PasswordHasher` that is fast and weak.

    For tests only. The weakening (``insecure_allow_weak_parameters=True``)
    is acknowledged here, so test suites running with
    ``filterwarnings = error`` are not broken by it; everything else (PHC
    format, pepper, verify, upgrade on login) is the real code.

    Danger:
        Never use it outside tests: these parameters make offline guessing
        of leaked hashes about a thousand times cheaper than the default.

    Args:
        pepper: an optional ``mac`` key ring, as for ``PasswordHasher``.
    """
    from securekit.passwords import PasswordHasher  # noqa: PLC0415 - keep the plugin light

    with warnings.catch_warnings():
        # The one intended weakening, acknowledged for the caller.
        warnings.filterwarnings("ignore", category=InsecureConfigurationWarning)
        return PasswordHasher(
            parameters=cheap_argon2_parameters(),
            pepper=pepper,
            insecure_allow_weak_parameters=True,
        )


@pytest.fixture(name="cheap_password_hasher", scope="session")
def _cheap_password_hasher_fixture() -> PasswordHasher:
    """A fast, test-only PasswordHasher (t=1, m=8 KiB); see ``cheap_password_hasher()``."""
    return cheap_password_hasher()


@pytest.fixture
def fixed_clock() -> FixedClock:
    """A clock that moves only when the test calls ``advance``."""
    return FixedClock()


@pytest.fixture
def aead_keyring() -> KeyRing:
    """A fresh ``aead`` key ring (XAES-256-GCM) for this test."""
    from securekit.keys import KeyRing  # noqa: PLC0415 - keep the plugin light

    return KeyRing.generate("aead")


@pytest.fixture
def mac_keyring() -> KeyRing:
    """A fresh ``mac`` key ring (HMAC-SHA256, JWT HS256) for this test."""
    from securekit.keys import KeyRing  # noqa: PLC0415 - keep the plugin light

    return KeyRing.generate("mac")


@pytest.fixture
def signing_keyring() -> KeyRing:
    """A fresh ``signing`` key ring (Ed25519 / EdDSA) for this test."""
    from securekit.keys import KeyRing  # noqa: PLC0415 - keep the plugin light

    return KeyRing.generate("signing")


@pytest.fixture(scope="session")
def attack_payloads() -> AttackPayloads:
    """Every attack corpus (XSS, SQL/NoSQL, traversal, filenames, redirects, JSON).

    Open redirects target ``example.com``; call
    ``securekit.testing.payloads.open_redirects(host)`` for your own host.
    """
    from securekit.testing.payloads import all_payloads  # noqa: PLC0415 - keep the plugin light

    return all_payloads()


def _started(service: _Service, what: str) -> _Service:
    """Start ``service``; a missing one skips locally and fails under ``CI=true``."""
    try:
        service.start()
    except ServiceMissingError as exc:
        require_service(what, str(exc))
    return service


@pytest.fixture(scope="session")
def script_detector() -> Iterator[ScriptDetector]:
    """One headless Chromium for the session (skips locally, fails under CI when missing)."""
    from securekit.testing.browser import ScriptDetector  # noqa: PLC0415 - optional parts

    detector = _started(ScriptDetector(), "headless Chromium")
    try:
        yield detector
    finally:
        detector.close()


def _redis() -> RedisServer:
    try:
        return RedisServer()
    except ServiceMissingError as exc:
        require_service("redis-server", str(exc))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free port of 127.0.0.1, for the whole session."""
    server = _started(_redis(), "redis-server")
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
