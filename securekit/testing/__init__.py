"""Test helpers for applications that use securekit.

The pytest plugin (:mod:`securekit.testing.plugin`) is loaded automatically
when securekit is installed; it provides fixtures such as
``cheap_password_hasher``, ``fixed_clock``, ``signing_keyring``,
``attack_payloads``, ``script_detector`` and ``redis_server``.

Submodules: :mod:`~securekit.testing.payloads` (attack corpora),
:mod:`~securekit.testing.strategies` (hypothesis strategies; needs
hypothesis), :mod:`~securekit.testing.jwt_attacks` (JWT attack tokens),
:mod:`~securekit.testing.assertions` (``assert_no_script_runs``,
``assert_secure_headers``) and :mod:`~securekit.testing.browser`.
"""

# The plugin imports this package before pytest-cov starts measuring, so its
# top-level lines run unmeasured. Names load lazily (PEP 562) so the modules
# behind them are imported on first use, when coverage is running.
from __future__ import annotations  # pragma: no cover

import importlib  # pragma: no cover
from typing import TYPE_CHECKING, Any  # pragma: no cover

if TYPE_CHECKING:
    from securekit.testing._clock import FixedClock
    from securekit.testing._fixtures import cheap_argon2_parameters, cheap_password_hasher
    from securekit.testing._services import RedisServer, ServiceMissingError, require_service
    from securekit.testing.assertions import (
        assert_no_script_runs,
        assert_no_script_runs_in_any,
        assert_secure_headers,
    )

_EXPORTS = {  # pragma: no cover
    "FixedClock": "securekit.testing._clock",
    "RedisServer": "securekit.testing._services",
    "ServiceMissingError": "securekit.testing._services",
    "assert_no_script_runs": "securekit.testing.assertions",
    "assert_no_script_runs_in_any": "securekit.testing.assertions",
    "assert_secure_headers": "securekit.testing.assertions",
    "cheap_argon2_parameters": "securekit.testing._fixtures",
    "cheap_password_hasher": "securekit.testing._fixtures",  # pragma: allowlist secret
    "require_service": "securekit.testing._services",
}

__all__ = [  # pragma: no cover
    "FixedClock",
    "RedisServer",
    "ServiceMissingError",
    "assert_no_script_runs",
    "assert_no_script_runs_in_any",
    "assert_secure_headers",
    "cheap_argon2_parameters",
    "cheap_password_hasher",
    "require_service",
]


def __getattr__(name: str) -> Any:  # pragma: no cover
    """Import the exported names on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'securekit.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:  # pragma: no cover
    return sorted({*globals(), *__all__})
