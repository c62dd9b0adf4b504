"""Regression tests named after advisories that hit securekit or a peer library.

One section per securekit module; each test is named after the advisory
(CVE / GHSA id, or the vulnerability class when it has no single id) and
would fail if the guard it checks were removed.
"""

from __future__ import annotations

import time

import pytest
from argon2.low_level import hash_secret_raw

import securekit._password_formats as formats
from securekit.passwords import PasswordHasher, PasswordPolicy
from tests.test_passwords import make_cheap_hasher

# == securekit.passwords =========================================================


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object) -> bytes:
        self.calls += 1
        return hash_secret_raw(*args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "unusable",
    [
        None,  # unknown user
        "!unusable",  # Django's set_unusable_password() marker
        "",
        "argon2$garbage",
        "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
    ],
)
def test_django_cve_2024_39329_unusable_password_timing(
    monkeypatch: pytest.MonkeyPatch, unusable: str | None
) -> None:
    """CVE-2024-39329: Django's authenticate() returned fast for users with an
    unusable password, revealing which accounts exist. Every "cannot be the
    right password" path must run the same Argon2 work as a wrong password."""
    hasher = make_cheap_hasher()
    real = hasher.hash("the real password")
    counter = _Counter()
    monkeypatch.setattr(formats, "hash_secret_raw", counter)
    hasher.verify("a guess", real)
    wrong_password_work = counter.calls
    counter.calls = 0
    hasher.verify("a guess", unusable)
    assert wrong_password_work == counter.calls == 1


def test_django_cve_2021_45115_similarity_validator_dos() -> None:
    """CVE-2021-45115: UserAttributeSimilarityValidator ran SequenceMatcher
    (quadratic) over attacker-sized input. The policy caps the password first
    and only does linear work on bounded context values."""
    policy = PasswordPolicy()
    huge_password = "a" * 10_000_000
    huge_username = "ab" * 5_000_000
    start = time.perf_counter()
    assert policy.evaluate(huge_password, context=(huge_username,))
    assert policy.evaluate("q" + "ab" * 500, context=(huge_username, huge_username[::-1]))
    assert time.perf_counter() - start < 1.0


def test_bcrypt_72_byte_truncation_class() -> None:
    """bcrypt silently ignores bytes after the 72nd (e.g. the 2024 Okta cache-key
    bypass, where long user names pushed the password past byte 72). New hashes
    are Argon2id over the whole password: a different tail must not verify."""
    hasher = make_cheap_hasher()
    prefix = "u" * 72
    stored = hasher.hash(prefix + "the real password")
    assert hasher.verify(prefix + "the real password", stored)
    assert not hasher.verify(prefix + "anything else at all", stored)
    assert not hasher.verify(prefix, stored)


def test_bcrypt_72_byte_truncation_never_silent_in_default_hasher() -> None:
    """The default hasher never produces bcrypt: its hashes are Argon2id."""
    assert PasswordHasher().hash("x" * 100).startswith("$argon2id$")
