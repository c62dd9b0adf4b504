"""Test helpers for applications that use securekit.

The pytest plugin (:mod:`securekit.testing.plugin`) is loaded automatically
when securekit is installed; it provides fixtures such as ``redis_server``
and ``fixed_clock``.
"""

from __future__ import annotations

from securekit.testing._clock import FixedClock
from securekit.testing._services import RedisServer, ServiceMissingError, require_service

__all__ = ["FixedClock", "RedisServer", "ServiceMissingError", "require_service"]
