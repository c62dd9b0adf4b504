"""The securekit pytest plugin, loaded automatically through its entry point.

Fixtures (defined in ``securekit.testing._fixtures``):
    cheap_password_hasher: a fast, test-only ``PasswordHasher`` (t=1, m=8 KiB),
        its weakening acknowledged so ``filterwarnings = error`` suites work.
    fixed_clock: a :class:`~securekit.testing.FixedClock` at a fixed instant.
    aead_keyring, mac_keyring, signing_keyring: fresh key rings per test.
    attack_payloads: every attack corpus (:mod:`securekit.testing.payloads`).
    script_detector: one headless Chromium for the session.
    redis_server: a real ``redis-server`` on 127.0.0.1 for the whole session.
    redis_url: the URL of a freshly flushed database on that server.

Services that are missing skip their tests locally and fail them under
``CI=true``.
"""

# pytest imports entry-point plugins before pytest-cov starts measuring, so
# the lines of this module run unmeasured; the fixtures are registered from
# pytest_configure (after coverage starts) to keep their own lines measured.
from __future__ import annotations  # pragma: no cover

import pytest  # pragma: no cover

__all__ = ["pytest_configure"]  # pragma: no cover


def pytest_configure(config: pytest.Config) -> None:  # pragma: no cover
    """Register the securekit fixtures (once, even if the plugin is named twice)."""
    from securekit.testing import _fixtures  # noqa: PLC0415 - imported after coverage starts

    if not config.pluginmanager.is_registered(_fixtures):
        config.pluginmanager.register(_fixtures, "securekit-fixtures")
