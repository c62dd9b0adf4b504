"""The README's code runs as written, and its two set-up commands are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", TEXT, flags=re.DOTALL)


def test_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tour,) = _blocks("python")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme_tour"}
    # The tour creates a real Argon2id hash at the default parameters and a
    # SQLite file in the working directory (tmp_path).
    code = compile(tour, str(README), "exec", dont_inherit=True)
    exec(code, namespace)  # noqa: S102 - our own README
    assert (tmp_path / "sessions.db").exists()
    assert namespace["ok"] is True
    assert "onclick" not in str(namespace["html"])
    assert "javascript:" not in str(namespace["html"])


def test_setup_commands_are_the_ones_ci_runs() -> None:
    commands = [line for block in _blocks("sh") for line in block.splitlines()]
    assert "bash scripts/test" in commands
    assert any(line.endswith("securekit demo") and "pip install" in line for line in commands)
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test" in ci
