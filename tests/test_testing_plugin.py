"""The securekit pytest plugin: fixtures, auto-loading, and the cheap hasher."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import securekit.testing
from securekit.aead import Aead
from securekit.errors import InsecureConfigurationWarning
from securekit.keys import KeyKind, KeyRing
from securekit.passwords import OWASP_MINIMUM, PasswordHasher
from securekit.testing import (
    FixedClock,
    ServiceMissingError,
    _fixtures,
    _services,
    cheap_argon2_parameters,
    cheap_password_hasher,
)
from securekit.testing import plugin as plugin_module
from securekit.testing.payloads import AttackPayloads


def test_cheap_hasher_fixture_is_fast_and_real(cheap_password_hasher: PasswordHasher) -> None:
    stored = cheap_password_hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert cheap_password_hasher.verify("correct horse battery staple", stored)
    assert not cheap_password_hasher.verify("wrong", stored)


def test_cheap_hasher_warns_nothing_under_filterwarnings_error() -> None:
    """The fixture's weakening is acknowledged inside: no warning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hasher = cheap_password_hasher()
    assert hasher.parameters == cheap_argon2_parameters()


def test_cheap_parameters_are_below_the_floor_so_the_hasher_really_is_weak() -> None:
    assert cheap_argon2_parameters().memory_cost < OWASP_MINIMUM.memory_cost
    with pytest.warns(InsecureConfigurationWarning):
        PasswordHasher(parameters=cheap_argon2_parameters(), insecure_allow_weak_parameters=True)


def test_cheap_hasher_with_pepper(mac_keyring: KeyRing) -> None:
    peppered = cheap_password_hasher(pepper=mac_keyring)
    plain = cheap_password_hasher()
    stored = peppered.hash("pw-pw-pw-pw")
    assert peppered.verify("pw-pw-pw-pw", stored)
    assert not plain.verify("pw-pw-pw-pw", stored)


def test_fixed_clock_fixture(fixed_clock: FixedClock) -> None:
    start = fixed_clock()
    fixed_clock.advance(timedelta(minutes=3))
    assert fixed_clock() - start == timedelta(minutes=3)


def test_keyring_fixtures(
    aead_keyring: KeyRing, mac_keyring: KeyRing, signing_keyring: KeyRing
) -> None:
    assert aead_keyring.kind is KeyKind.AEAD
    assert mac_keyring.kind is KeyKind.MAC
    assert signing_keyring.kind is KeyKind.SIGNING
    box = Aead(aead_keyring)
    assert box.decrypt(box.encrypt(b"x", context=b"c"), context=b"c") == b"x"
    assert signing_keyring.public_jwks()["keys"][0]["kty"] == "OKP"


def test_keyrings_are_fresh_per_test(aead_keyring: KeyRing) -> None:
    again = KeyRing.generate("aead")
    assert again.primary.material != aead_keyring.primary.material


def test_attack_payloads_fixture(attack_payloads: AttackPayloads) -> None:
    assert len(attack_payloads.xss) > 200
    assert "' OR '1'='1" in attack_payloads.sql_injection


@pytest.mark.redis
def test_redis_fixtures(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("k", "v")
    assert client.get("k") == b"v"
    client.close()


def test_plugin_registers_its_fixtures_once(pytestconfig: pytest.Config) -> None:
    before = pytestconfig.pluginmanager.get_plugin("securekit-fixtures")
    assert before is not None
    plugin_module.pytest_configure(pytestconfig)
    assert pytestconfig.pluginmanager.get_plugin("securekit-fixtures") is before


def test_package_exports_load_lazily() -> None:
    assert set(securekit.testing.__all__) <= set(dir(securekit.testing))
    with pytest.raises(AttributeError, match="no attribute"):
        _ = securekit.testing.does_not_exist


@pytest.mark.slow
def test_plugin_loads_automatically_in_another_project(tmp_path: Path) -> None:
    """A project that only installed securekit gets the fixtures, warnings as errors."""
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            from hypothesis import given, settings
            from securekit.testing import strategies as attacks
            from securekit.uploads import safe_filename
            from securekit.errors import UploadRejectedError
            import pytest

            def test_fixtures(cheap_password_hasher, fixed_clock, signing_keyring,
                              attack_payloads):
                assert cheap_password_hasher.verify("pw", cheap_password_hasher.hash("pw"))
                assert fixed_clock().tzinfo is not None
                assert attack_payloads.hostile_filenames

            @settings(max_examples=20, database=None)
            @given(attacks.hostile_filenames())
            def test_strategy(name):
                with pytest.raises(UploadRejectedError):
                    safe_filename(name)
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
         "test_app.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


class _Broken:
    def start(self) -> None:
        raise ServiceMissingError("the binary is not installed")


def test_missing_service_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _fixtures._started(_Broken(), "thing")


def test_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _fixtures._started(_Broken(), "thing")


def test_missing_redis_binary_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        _fixtures._redis()


def test_fixed_clock_set_and_naive_refused(fixed_clock: FixedClock) -> None:
    target = datetime(2030, 5, 1, tzinfo=UTC)
    fixed_clock.set(target)
    assert fixed_clock() == target
    with pytest.raises(TypeError):
        fixed_clock.set(datetime(2030, 5, 1))  # noqa: DTZ001 - the naive case


@pytest.mark.redis
def test_redis_server_start_and_stop_are_idempotent(redis_server: _services.RedisServer) -> None:
    def running() -> bool:
        return redis_server.running

    redis_server.start()
    redis_server.start()  # already running: no second process
    assert running()
    redis_server.stop()
    redis_server.stop()  # already stopped: nothing to do
    assert not running()
    assert not redis_server._ping()
    redis_server.start()
    assert running()
