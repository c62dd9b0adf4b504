"""securekit: secure-by-default drop-in helpers for Python web applications.

Import recipes from their modules (``securekit.passwords``, ``securekit.aead``,
...); this package only re-exports the error families and the version.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    SecurekitError,
    UnavailableError,
    VerificationError,
)

try:
    __version__ = version("securekit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ConfigurationError",
    "InsecureConfigurationWarning",
    "SecurekitError",
    "UnavailableError",
    "VerificationError",
    "__version__",
]
