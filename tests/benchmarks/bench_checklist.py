"""Cost of the checklist helpers (sql, process, deserialize) against the raw calls.

* ``escape_like`` against the hand-written three ``str.replace`` calls (which
  is what people write, usually forgetting the escape character itself): the
  checks (type, length, NUL, encodability) may cost at most 4x of a
  sub-microsecond operation.
* ``in_list`` against ``", ".join(["?"] * n)`` for 100 values: at most 3x.
* ``process.run`` against ``subprocess.run`` of ``/bin/true`` (list argv,
  captured output): fork/exec dominates, so at most 1.5x.
* ``load_yaml`` against ``yaml.load(..., Loader=CSafeLoader)`` on a 10 KB
  configuration document: the pre-scan walks the event stream once more, so
  at most 3x.
"""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from securekit.deserialize import load_yaml
from securekit.process import run
from securekit.sql import escape_like, in_list
from tests.benchmarks._harness import QUICK, compare

TERM = "50% off_all items \\ today"
VALUES = list(range(100))
CONFIG = yaml.safe_dump(
    {
        "services": {
            f"svc{i}": {"image": f"registry/app{i}:1.{i}", "ports": [8000 + i], "env": {"A": "b"}}
            for i in range(120)
        }
    }
)
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def by_hand_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def by_hand_in(values: list[int]) -> tuple[str, tuple[int, ...]]:
    return "(" + ", ".join(["?"] * len(values)) + ")", tuple(values)


def test_escape_like_against_replace() -> None:
    assert escape_like(TERM) == by_hand_like(TERM)
    result = compare(
        "escape_like vs str.replace x3",
        {"by hand": lambda: by_hand_like(TERM), "securekit": lambda: escape_like(TERM)},
        baseline="by hand",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 4.0


def test_in_list_against_join() -> None:
    assert in_list(VALUES) == by_hand_in(VALUES)
    result = compare(
        "in_list(100) vs join",
        {"by hand": lambda: by_hand_in(VALUES), "securekit": lambda: in_list(VALUES)},
        baseline="by hand",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 3.0


def test_run_against_subprocess() -> None:
    def raw() -> object:
        return subprocess.run(["/bin/true"], capture_output=True, check=True)

    result = compare(
        "process.run vs subprocess.run (/bin/true)",
        {"subprocess.run": raw, "securekit": lambda: run(["/bin/true"])},
        baseline="subprocess.run",
        rounds=3,
    )
    if not QUICK:
        assert result.ratio("securekit") <= 1.5


def test_load_yaml_against_safe_load() -> None:
    assert 8_000 < len(CONFIG) < 14_000
    assert load_yaml(CONFIG) == yaml.load(CONFIG, Loader=LOADER)  # noqa: S506
    result = compare(
        "load_yaml(10 KB) vs yaml.load(CSafeLoader)",
        {
            "yaml CSafeLoader": lambda: yaml.load(CONFIG, Loader=LOADER),  # noqa: S506
            "securekit": lambda: load_yaml(CONFIG),
        },
        baseline="yaml CSafeLoader",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 3.0
