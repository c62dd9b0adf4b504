"""``securekit encrypt`` / ``securekit decrypt`` through ``securekit.cli.main``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from securekit._commands import crypt
from securekit.aead import Aead
from securekit.cli import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, main
from securekit.errors import InsecureConfigurationWarning
from securekit.keys import KeyRing, LocalKeyWrapper


@pytest.fixture
def ring_file(tmp_path: Path) -> tuple[KeyRing, Path]:
    ring = KeyRing.generate("aead")
    path = tmp_path / "ring.json"
    with pytest.warns(InsecureConfigurationWarning):
        path.write_text(ring.to_json(insecure_cleartext=True), encoding="utf-8")
    return ring, path


def test_encrypt_then_decrypt_file(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ring, path = ring_file
    src = tmp_path / "report.pdf"
    data = os.urandom(50_000)
    src.write_bytes(data)
    assert main(["encrypt", str(src), "--keyring-file", str(path), "--context", "reports"]) == 0
    enc = tmp_path / "report.pdf.skenc"
    assert enc.is_file()
    assert "encrypted" in capsys.readouterr().out
    # The output is a normal securekit stream.
    out = tmp_path / "via-api"
    Aead(ring).decrypt_file(enc, out, context=b"reports")
    assert out.read_bytes() == data
    src.unlink()
    code = main(["decrypt", str(enc), "--keyring-file", str(path), "--context", "reports"])
    assert code == EXIT_OK
    assert src.read_bytes() == data


def test_wrong_context_fails_with_exit_1_and_no_output(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    src = tmp_path / "a.txt"
    src.write_bytes(b"hello")
    assert main(["encrypt", str(src), "--keyring-file", str(path)]) == 0
    capsys.readouterr()
    code = main(
        ["decrypt", str(tmp_path / "a.txt.skenc"), "-o", str(tmp_path / "b"),
         "--keyring-file", str(path), "--context", "other"]
    )  # fmt: skip
    assert code == EXIT_VERIFICATION_FAILED
    err = capsys.readouterr().err
    assert "authentication_failed" in err
    assert not (tmp_path / "b").exists()


def test_keyring_from_env_and_json_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ring = KeyRing.generate("aead")
    with pytest.warns(InsecureConfigurationWarning):
        monkeypatch.setenv("APP_RING", ring.to_json(insecure_cleartext=True))
    monkeypatch.delenv("SECUREKIT_KEK", raising=False)
    src = tmp_path / "x"
    src.write_bytes(b"abc")
    out = tmp_path / "x.enc"
    code = main(["encrypt", str(src), "-o", str(out), "--keyring-env", "APP_RING", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"input": str(src), "output": str(out), "plaintext_bytes": 3}


def test_encrypted_keyring_with_kek(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kek = LocalKeyWrapper.new_kek()
    monkeypatch.setenv("MY_KEK", kek.reveal())
    ring = KeyRing.generate("aead")
    path = tmp_path / "ring.json"
    ring.save(path, wrapper=LocalKeyWrapper.from_env("MY_KEK"))
    src = tmp_path / "x"
    src.write_bytes(b"abc")
    args = ["--keyring-file", str(path), "--kek-env", "MY_KEK"]
    assert main(["encrypt", str(src), *args]) == 0
    src.unlink()
    assert main(["decrypt", str(tmp_path / "x.skenc"), *args]) == 0
    assert src.read_bytes() == b"abc"


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    src = tmp_path / "a"
    src.write_bytes(b"1")
    (tmp_path / "a.skenc").write_bytes(b"keep")
    assert main(["encrypt", str(src), "--keyring-file", str(path)]) == EXIT_USAGE
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "a.skenc").read_bytes() == b"keep"
    assert main(["encrypt", str(src), "--keyring-file", str(path), "--force"]) == EXIT_OK


def test_decrypt_needs_suffix_or_output(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    src = tmp_path / "plain"
    src.write_bytes(b"1")
    assert main(["decrypt", str(src), "--keyring-file", str(path)]) == EXIT_USAGE
    assert ".skenc" in capsys.readouterr().err


def test_missing_input(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    assert main(["encrypt", str(tmp_path / "nope"), "--keyring-file", str(path)]) == EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err


def test_unreadable_output_directory(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    src = tmp_path / "a"
    src.write_bytes(b"1")
    code = main(
        ["encrypt", str(src), "-o", str(tmp_path / "no" / "dir"), "--keyring-file", str(path)]
    )
    assert code == EXIT_USAGE
    assert "securekit:" in capsys.readouterr().err


def test_wrong_ring_kind_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mac.json"
    with pytest.warns(InsecureConfigurationWarning):
        path.write_text(KeyRing.generate("mac").to_json(insecure_cleartext=True))
    src = tmp_path / "a"
    src.write_bytes(b"1")
    assert main(["encrypt", str(src), "--keyring-file", str(path)]) == EXIT_USAGE
    assert "aead" in capsys.readouterr().err


def test_keyring_source_is_required(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["encrypt", str(tmp_path / "a")])
    assert exc.value.code == EXIT_USAGE


@pytest.mark.parametrize("command", ["encrypt", "decrypt"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "--keyring-file" in capsys.readouterr().out


def test_progress_bar_on_stderr(
    tmp_path: Path, ring_file: tuple[KeyRing, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = ring_file
    src = tmp_path / "big"
    src.write_bytes(os.urandom(100_000))
    assert main(["encrypt", str(src), "--keyring-file", str(path), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "encrypting 100% [" in err
    assert err.endswith("\n")
    src.unlink()
    assert (
        main(["decrypt", str(tmp_path / "big.skenc"), "--keyring-file", str(path), "--progress"])
        == 0
    )
    assert "decrypting 100% [" in capsys.readouterr().err


def test_progress_default_depends_on_size(
    tmp_path: Path,
    ring_file: tuple[KeyRing, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, path = ring_file
    src = tmp_path / "small"
    src.write_bytes(b"x" * 2000)
    assert main(["encrypt", str(src), "--keyring-file", str(path)]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(crypt, "PROGRESS_THRESHOLD", 1000)
    assert main(["encrypt", str(src), "--keyring-file", str(path), "--force"]) == 0
    assert "100%" in capsys.readouterr().err
    assert main(["encrypt", str(src), "--keyring-file", str(path), "--force", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_bar_redraws_once_per_percent() -> None:
    import io

    out = io.StringIO()
    bar = crypt._Bar("x", 1000, out)
    for done in range(0, 1001, 1):
        bar(done)
    assert out.getvalue().count("\r") == 101
    bar.close()
    silent = io.StringIO()
    crypt._Bar("x", 10, silent).close()
    assert silent.getvalue() == ""
