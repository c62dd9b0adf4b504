"""``securekit check-upload``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from securekit.cli import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, main

FILES = Path(__file__).resolve().parent / "corpora" / "uploads" / "files"


def test_accepts_a_genuine_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-upload", str(FILES / "pillow.jpg")]) == EXIT_OK
    assert capsys.readouterr().out.startswith("accepted: image/jpeg")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["check-upload", str(FILES / "pillow.jpg"), "--json", "--declared-type", "image/jpeg"])
        == EXIT_OK
    )
    result = json.loads(capsys.readouterr().out)
    assert result["accepted"] is True
    assert result["mime"] == "image/jpeg"
    assert result["storage_name"].endswith(".jpg")


def test_rejection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-upload", str(FILES / "gifar.gif")]) == EXIT_VERIFICATION_FAILED
    assert "trailing_data" in capsys.readouterr().err
    assert main(["check-upload", str(FILES / "gifar.gif"), "--json"]) == EXIT_VERIFICATION_FAILED
    assert json.loads(capsys.readouterr().out) == {"accepted": False, "reason": "trailing_data"}


def test_filename_and_allow_options(capsys: pytest.CaptureFixture[str]) -> None:
    notes = FILES / "notes.txt"
    assert main(["check-upload", str(notes)]) == EXIT_VERIFICATION_FAILED
    assert main(["check-upload", str(notes), "--allow", "txt"]) == EXIT_OK
    args = ["check-upload", str(notes), "--allow", "txt", "--filename", "../x.txt"]
    assert main(args) == EXIT_VERIFICATION_FAILED
    assert "bad_filename" in capsys.readouterr().err
    assert (
        main(["check-upload", str(notes), "--allow", "txt", "--max-bytes", "3"])
        == EXIT_VERIFICATION_FAILED
    )


def test_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check-upload", str(tmp_path / "missing.png")]) == EXIT_USAGE
    assert main(["check-upload", str(FILES / "pillow.jpg"), "--allow", "svg"]) == EXIT_USAGE
    assert "configuration error" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["check-upload", "--help"])
    assert info.value.code == 0
