"""``securekit keys``: generate, rotate, inspect, jwks, new-kek."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from securekit.cli import EXIT_USAGE, main
from securekit.keys import KeyRing, LocalKeyWrapper


@pytest.fixture
def kek(monkeypatch: pytest.MonkeyPatch) -> LocalKeyWrapper:
    value = LocalKeyWrapper.new_kek().reveal()
    monkeypatch.setenv("SECUREKIT_KEK", value)
    return LocalKeyWrapper.from_env("SECUREKIT_KEK")


def test_generate_rotate_inspect(
    tmp_path: Path, kek: LocalKeyWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ring.json"
    assert main(["keys", "generate", "aead", "--out", str(path)]) == 0
    ring = KeyRing.from_file(path, wrapper=kek)
    assert main(["keys", "rotate", str(path)]) == 0
    rotated = KeyRing.from_file(path, wrapper=kek)
    assert rotated.get(ring.primary.id) is not None
    assert rotated.primary.id != ring.primary.id
    capsys.readouterr()
    assert main(["keys", "inspect", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [k["status"] for k in report["keys"]] == ["primary", "retired"]
    assert main(["keys", "inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert str(rotated.primary.id) in out
    for key in rotated:
        assert key.material.hex() not in out
    assert main(["keys", "generate", "aead", "--out", str(path)]) == EXIT_USAGE


def test_jwks_and_cleartext(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "signing.json"
    assert (
        main(
            [
                "keys",
                "generate",
                "signing",
                "--alg",
                "ES256",
                "--out",
                str(path),
                "--insecure-cleartext",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["keys", "jwks", str(path), "--insecure-cleartext"]) == 0
    jwks = json.loads(capsys.readouterr().out)
    assert jwks["keys"][0]["alg"] == "ES256"
    assert "d" not in jwks["keys"][0]


def test_missing_kek_is_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SECUREKIT_KEK", raising=False)
    assert main(["keys", "generate", "mac", "--out", str(tmp_path / "x.json")]) == EXIT_USAGE
    assert "SECUREKIT_KEK" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_jwks_of_secret_ring_is_refused(
    tmp_path: Path, kek: LocalKeyWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mac.json"
    assert main(["keys", "generate", "mac", "--out", str(path)]) == 0
    assert main(["keys", "jwks", str(path)]) == EXIT_USAGE
    assert "no public JWKS" in capsys.readouterr().err


def test_new_kek_is_usable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new-kek"]) == 0
    value = capsys.readouterr().out.strip()
    assert len(value) == 43
    LocalKeyWrapper.from_env("K", environ={"K": value})


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    assert "usage: securekit" in capsys.readouterr().out
