"""Side-by-side benchmark harness: securekit against the raw primitive or peer.

Benchmarks are pytest files named ``bench_*.py`` (not collected by the normal
test run). Run them with::

    .venv/bin/python -m pytest tests/benchmarks -o python_files="bench_*.py" --no-cov -q -s

Each call to :func:`compare` times every candidate in the same process,
interleaving rounds so that machine noise hits all of them alike, keeps the
best round per candidate, prints a table with ratios against the baseline and
appends the result to ``.benchmarks/results.jsonl`` (for the plots in
docs/performance.md). With ``SECUREKIT_BENCH_QUICK=1`` (CI's smoke pass) each
candidate runs a handful of times only, to prove the benchmark still works.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

QUICK = os.environ.get("SECUREKIT_BENCH_QUICK", "") not in {"", "0"}
RESULTS = Path(__file__).resolve().parents[2] / ".benchmarks" / "results.jsonl"


@dataclass(frozen=True, slots=True)
class Result:
    """Best seconds per call of each candidate and ratios against the baseline."""

    name: str
    seconds: dict[str, float]
    baseline: str

    def ratio(self, candidate: str) -> float:
        """Time of ``candidate`` divided by time of the baseline."""
        return self.seconds[candidate] / self.seconds[self.baseline]

    def per_second(self, candidate: str) -> float:
        """Calls per second of ``candidate``."""
        return 1.0 / self.seconds[candidate]


def _time_once(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _calibrate(fn: Callable[[], object], target: float) -> int:
    number = 1
    while True:
        elapsed = _time_once(fn, number) * number
        if elapsed >= target or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * target / max(elapsed, 1e-9)))


def compare(
    name: str,
    candidates: dict[str, Callable[[], object]],
    *,
    baseline: str,
    rounds: int = 7,
    round_seconds: float = 0.2,
) -> Result:
    """Time each candidate, interleaved, and report ratios to ``baseline``.

    Args:
        name: the benchmark's name in the table and the results file.
        candidates: label -> zero-argument callable doing one operation.
        baseline: the label every ratio is relative to.
        rounds: interleaved rounds; the best round of each candidate counts.
        round_seconds: approximate duration of one round of one candidate.

    Returns:
        The best seconds per call of each candidate.
    """
    if baseline not in candidates:
        raise ValueError(f"baseline {baseline!r} is not one of the candidates")
    if QUICK:
        rounds, numbers = 1, dict.fromkeys(candidates, 2)
    else:
        numbers = {label: _calibrate(fn, round_seconds) for label, fn in candidates.items()}
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for label, fn in candidates.items():
            best[label] = min(best[label], _time_once(fn, numbers[label]))
    result = Result(name=name, seconds=best, baseline=baseline)
    _report(result)
    return result


def _report(result: Result) -> None:
    width = max(len(label) for label in result.seconds)
    print(f"\n== {result.name} (baseline: {result.baseline})")
    for label, seconds in result.seconds.items():
        print(
            f"  {label:<{width}}  {seconds * 1e6:12.2f} us/op  {1 / seconds:12.1f} op/s"
            f"  ratio {result.ratio(label):6.3f}"
        )
    if QUICK:
        return
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        record = {"name": result.name, "baseline": result.baseline, "seconds": result.seconds}
        out.write(json.dumps(record) + "\n")
