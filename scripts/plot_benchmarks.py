"""Plot the benchmark results as PNG charts for docs/performance.md.

Reads ``.benchmarks/results.jsonl`` (one JSON object per line, appended by
``tests/benchmarks/_harness.py``: ``{"name", "baseline", "seconds": {label:
seconds per call}}``), keeps the latest record of each benchmark, and writes:

* ``docs/img/bench_ratios.png``: securekit's time divided by the baseline's,
  for every benchmark (the number the issue targets are stated in);
* ``docs/img/bench_<group>.png``: time per call of every candidate, per
  module (jwt, aead, passwords, ...), on a log scale.

Usage::

    /work/venv/bin/python -m pytest tests/benchmarks -o python_files="bench_*.py" --no-cov -q -s
    /work/venv/bin/python scripts/plot_benchmarks.py [--results FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib as mpl

mpl.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS: Final = ROOT / ".benchmarks" / "results.jsonl"
DEFAULT_OUT: Final = ROOT / "docs" / "img"

#: First word of a benchmark name -> the module whose chart it belongs to.
_GROUPS: Final = {
    "aead": "aead",
    "stream": "aead",
    "jwt": "jwt",
    "verify_id_token": "jwt",
    "passwords": "passwords",  # pragma: allowlist secret - a chart name
    "html": "html",
    "load_json": "validation",
    "securemodel": "validation",
    "validate_username": "validation",
    "load_yaml": "deserialize",
    "escape_like": "sql",
    "in_list": "sql",
    "logging": "safe_errors",
    "problem_response": "safe_errors",
    "redact": "safe_errors",
    "sessions": "stores",
    "ratelimit": "stores",
    "uploads": "uploads",
    "process": "process",
    "asgi": "integrations",
    "wsgi": "integrations",
    "policy": "authz",
    "rate-limit": "ratelimit",
    "totp": "mfa",
}
#: PNG metadata left out so that re-running on the same data gives the same bytes.
_METADATA: Final = {"Software": None}


@dataclass(frozen=True, slots=True)
class Record:
    """One benchmark result: seconds per call for each candidate."""

    name: str
    baseline: str
    seconds: dict[str, float]

    @property
    def securekit_label(self) -> str:
        """The candidate that is securekit (by label), else the first non-baseline one."""
        labels = [label for label in self.seconds if label != self.baseline]
        for label in labels:
            if "securekit" in label.lower() or label.lower().startswith("sk"):
                return label
        return labels[0] if labels else self.baseline

    @property
    def ratio(self) -> float:
        """securekit's time divided by the baseline's."""
        return self.seconds[self.securekit_label] / self.seconds[self.baseline]


def group_of(name: str) -> str:
    """The chart a benchmark belongs to, from the first word of its name."""
    first = re.split(r"[\s.(:]", name.strip(), maxsplit=1)[0].lower()
    return _GROUPS.get(first, re.sub(r"[^a-z0-9]+", "_", first).strip("_") or "other")


def load(path: Path) -> list[Record]:
    """Read the results file and keep the latest valid record of each benchmark.

    Lines that are not complete records (a run killed mid-write) are skipped.
    """
    latest: dict[str, Record] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
            record = Record(
                name=str(data["name"]),
                baseline=str(data["baseline"]),
                seconds={str(k): float(v) for k, v in data["seconds"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if record.baseline in record.seconds and all(v > 0 for v in record.seconds.values()):
            latest[record.name] = record
    return sorted(latest.values(), key=lambda r: (group_of(r.name), r.name))


def _human(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _shorten(label: str, limit: int = 90) -> str:
    return label if len(label) <= limit else label[: limit - 3] + "..."


def plot_ratios(records: list[Record], out: Path) -> Path:
    """One bar per benchmark: securekit time / baseline time (1.0 = same speed)."""
    height = max(3.0, 0.32 * len(records) + 1.2)
    fig, ax = plt.subplots(figsize=(13.0, height))
    names = [_shorten(f"{r.name}  [{r.securekit_label} / {r.baseline}]") for r in records]
    ratios = [r.ratio for r in records]
    # One colour: each benchmark has its own target (docs/performance.md), so
    # no single threshold could colour pass/fail honestly.
    ax.barh(range(len(records)), ratios, color="#1f5fa8")
    ax.set_xlim(min(0.5, min(ratios) / 1.5), max(ratios) * 3)
    ax.set_yticks(range(len(records)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time relative to the baseline (log scale; 1.0 = same speed, lower is faster)")
    ax.set_title("securekit vs the raw primitive or peer library")
    for index, value in enumerate(ratios):
        ax.text(value, index, f" {value:.2f}", va="center", fontsize=7)
    fig.tight_layout()
    target = out / "bench_ratios.png"
    fig.savefig(target, dpi=110, metadata=_METADATA)
    plt.close(fig)
    return target


def plot_group(group: str, records: list[Record], out: Path) -> Path:
    """Time per call of every candidate of every benchmark of one module."""
    rows = [(r.name, label, seconds) for r in records for label, seconds in r.seconds.items()]
    height = max(2.5, 0.28 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(12.0, height))
    labels = [_shorten(f"{name}: {label}") for name, label, _ in rows]
    values = [seconds for _, _, seconds in rows]
    colors = ["#1f5fa8" if "securekit" in label.lower() else "#9a9a9a" for _, label, _ in rows]
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 4)
    ax.set_xlabel("seconds per call (log scale; lower is faster)")
    ax.set_title(f"{group}: securekit (blue) and baselines (grey)")
    for index, value in enumerate(values):
        ax.text(value, index, f" {_human(value)}", va="center", fontsize=7)
    fig.tight_layout()
    target = out / f"bench_{group}.png"
    fig.savefig(target, dpi=110, metadata=_METADATA)
    plt.close(fig)
    return target


def plot_all(records: Iterable[Record], out: Path) -> list[Path]:
    """Write the ratio chart and one chart per module; return the files."""
    items = list(records)
    out.mkdir(parents=True, exist_ok=True)
    written = [plot_ratios(items, out)]
    groups: dict[str, list[Record]] = {}
    for record in items:
        groups.setdefault(group_of(record.name), []).append(record)
    for group, members in sorted(groups.items()):
        written.append(plot_group(group, members, out))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.results.is_file():
        print(f"no results at {args.results}: run the benchmarks first", file=sys.stderr)
        return 1
    records = load(args.results)
    if not records:
        print(f"no complete records in {args.results}", file=sys.stderr)
        return 1
    for path in plot_all(records, args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
