"""``securekit jwt inspect`` and ``securekit jwt verify`` through securekit.cli.main."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from securekit.cli import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, main
from securekit.errors import InsecureConfigurationWarning
from securekit.jwt import JWTIssuer
from securekit.keys import KeyRing

ISS = "https://auth.example"
AUD = "api.example"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate("signing")


@pytest.fixture
def token(ring: KeyRing) -> str:
    return JWTIssuer(ring, issuer=ISS, audience=AUD).issue(subject="user-1", claims={"r": [1]})


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_inspect_is_labelled_unverified(
    token: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["jwt", "inspect"], monkeypatch, token + "\n") == EXIT_OK
    out, err = capsys.readouterr()
    assert "UNVERIFIED" in err
    assert "header (UNVERIFIED)" in out
    assert '"sub": "user-1"' in out
    assert run(["jwt", "inspect", "--json"], monkeypatch, token) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["verified"] is False
    assert document["header"]["typ"] == "at+jwt"
    assert document["payload"]["sub"] == "user-1"


def test_inspect_non_json_payload_and_junk(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = "eyJhbGciOiJub25lIn0.Zm9v."
    assert run(["jwt", "inspect"], monkeypatch, odd) == EXIT_OK
    assert "<not JSON>" in capsys.readouterr().out
    assert run(["jwt", "inspect"], monkeypatch, "junk") == EXIT_VERIFICATION_FAILED
    assert "malformed" in capsys.readouterr().err


def test_verify_with_jwks_and_keyring(
    ring: KeyRing,
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(ring.public_jwks()))
    base = ["jwt", "verify", "--issuer", ISS, "--audience", AUD]
    assert run([*base, "--jwks", str(jwks), "--json"], monkeypatch, token) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["verified"] is True
    assert document["sub"] == "user-1"
    assert document["claims"] == {"r": [1]}
    token_file = tmp_path / "token.txt"
    token_file.write_text(token + "\n")
    assert run([*base, "--jwks", str(jwks), "--token-file", str(token_file)], monkeypatch) == 0
    assert "valid token" in capsys.readouterr().out
    ring_file = tmp_path / "ring.json"
    with pytest.warns(InsecureConfigurationWarning):
        ring_file.write_text(ring.to_json(insecure_cleartext=True))
    assert run([*base, "--keyring", str(ring_file)], monkeypatch, token) == EXIT_OK
    capsys.readouterr()
    wrong = ["jwt", "verify", "--issuer", "evil", "--audience", AUD, "--jwks", str(jwks)]
    assert run(wrong, monkeypatch, token) == EXIT_VERIFICATION_FAILED
    err = capsys.readouterr().err
    assert "wrong_issuer" in err
    assert token not in err
    assert run([*base, "--jwks", str(jwks)], monkeypatch, "") == EXIT_VERIFICATION_FAILED


def test_verify_configuration_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["jwt", "verify", "--issuer", ISS, "--audience", AUD]
    missing = tmp_path / "missing.json"
    assert run([*base, "--jwks", str(missing)], monkeypatch, "x") == EXIT_USAGE
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert run([*base, "--jwks", str(listed)], monkeypatch, "x") == EXIT_USAGE
    assert run([*base, "--jwks", str(listed), "--token-file", str(missing)], monkeypatch) == 2
    assert "configuration error" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["jwt", "verify", "--issuer", ISS, "--audience", AUD])
    assert info.value.code == 2


def test_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["jwt"], monkeypatch) == EXIT_USAGE
    assert "inspect" in capsys.readouterr().out
    for argv in (["jwt", "--help"], ["jwt", "inspect", "--help"], ["jwt", "verify", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    assert "UNVERIFIED" in capsys.readouterr().out


def test_inspect_unreadable_token_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.txt"
    assert run(["jwt", "inspect", "--token-file", str(missing)], monkeypatch) == EXIT_USAGE
    assert "could not read the token" in capsys.readouterr().err
