"""scripts/plot_benchmarks.py: reads the harness's results file, writes PNGs."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "plot_benchmarks.py"


@pytest.fixture(scope="module")
def plot() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("plot_benchmarks", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules["plot_benchmarks"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("plot_benchmarks", None)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_latest_valid_record_wins_and_junk_is_skipped(plot: ModuleType, tmp_path: Path) -> None:
    old = {
        "name": "jwt verify EdDSA",
        "baseline": "pyjwt",
        "seconds": {"pyjwt": 2.0, "securekit": 4.0},
    }
    new = {
        "name": "jwt verify EdDSA",
        "baseline": "pyjwt",
        "seconds": {"pyjwt": 2.0, "securekit": 1.0},
    }
    other = {
        "name": "aead encrypt 64 B",
        "baseline": "raw",
        "seconds": {"raw": 1e-6, "securekit Aead": 3e-6},
    }
    results = _write(tmp_path / "r.jsonl", [
        json.dumps(old), json.dumps(new), '{"name": "cut', json.dumps({"name": "x"}),
        json.dumps({"name": "y", "baseline": "missing", "seconds": {"a": 1.0}}),
        json.dumps(other),
    ])  # fmt: skip
    records = plot.load(results)
    assert [r.name for r in records] == ["aead encrypt 64 B", "jwt verify EdDSA"]
    assert records[1].ratio == 0.5
    assert records[0].securekit_label == "securekit Aead"
    assert records[0].ratio == pytest.approx(3.0)


def test_groups(plot: ModuleType) -> None:
    assert plot.group_of("stream encrypt 1024 MiB") == "aead"
    assert plot.group_of("load_json(bytes, 10 KB) vs json.loads") == "validation"
    assert plot.group_of("passwords: hash vs argon2-cffi") == "passwords"
    assert plot.group_of("Brand-New thing") == "brand_new"


def test_main_writes_one_png_per_group_and_the_ratio_chart(
    plot: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        {"name": "jwt verify EdDSA", "baseline": "pyjwt", "seconds": {"pyjwt": 1e-4, "securekit": 9e-5}},
        {"name": "html.sanitize 20KB post", "baseline": "nh3", "seconds": {"nh3": 1e-3, "securekit.sanitize": 1e-3}},
    ]  # fmt: skip
    results = _write(tmp_path / "r.jsonl", [json.dumps(r) for r in records])
    out = tmp_path / "img"
    assert plot.main(["--results", str(results), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["bench_html.png", "bench_jwt.png", "bench_ratios.png"]
    assert (out / "bench_jwt.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "bench_ratios.png" in capsys.readouterr().out


def test_main_without_results(plot: ModuleType, tmp_path: Path) -> None:
    assert plot.main(["--results", str(tmp_path / "none.jsonl")]) == 1
    empty = _write(tmp_path / "empty.jsonl", ["not json"])
    assert plot.main(["--results", str(empty), "--out", str(tmp_path)]) == 1
