"""Project-wide fixtures for securekit's own tests.

Application-facing fixtures (``fixed_clock``, ``redis_server``, ...) come from
the securekit pytest plugin, loaded through its entry point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from securekit.testing import require_service

ROOT = Path(__file__).resolve().parent.parent
#: ../shared beside the checkout holds published, unmodified test vectors.
VECTORS = ROOT.parent / "shared" / "vectors"


def load_vectors(*parts: str) -> Any:
    """Load a JSON vector file from ``../shared/vectors``.

    Skips with a clear message when the folder is absent; under ``CI=true``
    its absence fails the test instead (DESIGN.md, test vectors).
    """
    path = VECTORS.joinpath(*parts)
    if not path.is_file():
        require_service("published test vectors", f"{path} does not exist")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The ``../shared/vectors`` folder (skip locally / fail in CI when absent)."""
    if not VECTORS.is_dir():
        require_service("published test vectors", f"{VECTORS} does not exist")
    return VECTORS
