"""``securekit calibrate`` and ``securekit hash-password`` through ``securekit.cli.main``."""

from __future__ import annotations

import io
import json

import pytest

from securekit.cli import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, main
from securekit.passwords import MAX_PASSWORD_LENGTH, PasswordHasher


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_hash_password_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["hash-password", "--json"]) == EXIT_OK
    captured = capsys.readouterr()
    stored = json.loads(captured.out)["hash"]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify("correct horse battery staple", stored)
    assert "correct horse" not in captured.out + captured.err


def test_hash_password_prompts_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTTY())
    monkeypatch.setattr("getpass.getpass", lambda _prompt: "from the prompt")
    assert main(["hash-password"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("$argon2id$")


def test_hash_password_refuses_oversized_and_takes_no_argv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("x" * (MAX_PASSWORD_LENGTH + 1) + "\n"))
    assert main(["hash-password"]) == EXIT_VERIFICATION_FAILED
    assert "too_long" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["hash-password", "secret-on-the-command-line"])
    assert info.value.code == EXIT_USAGE


def test_calibrate_json(capsys: pytest.CaptureFixture[str]) -> None:
    # A 1 ms target returns the floor after one real measurement.
    assert main(["calibrate", "--target-ms", "1", "--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["time_cost"] == 3
    assert result["memory_cost"] == 65536
    assert result["parallelism"] == 4
    assert result["measured_ms"] > 0


def test_calibrate_text_and_misuse(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--target-ms", "1", "--parallelism", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "parallelism=2" in out
    assert "PasswordHasher(parameters=Argon2Parameters(" in out
    assert main(["calibrate", "--max-memory-mib", "1"]) == EXIT_USAGE
    for bad in ("0", "abc"):
        with pytest.raises(SystemExit) as info:
            main(["calibrate", "--target-ms", bad])
        assert info.value.code == EXIT_USAGE


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("calibrate", "hash-password"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
    assert "standard input" in capsys.readouterr().out
