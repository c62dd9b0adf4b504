"""Benchmarks for securekit.passwords (run on demand, see _harness).

1. Equal cost: verify for an existing user with a wrong password, an unknown
   user (``None``), an unusable hash and an over-capped hash, side by side; the
   ratios must sit within 0.9 to 1.1 (Django CVE-2024-39329).
2. Overhead: hash and verify against raw argon2-cffi at the same parameters
   (ratio <= 1.05).
"""

from __future__ import annotations

import argon2

from securekit.passwords import DEFAULT_PARAMETERS, PasswordHasher
from tests.benchmarks._harness import QUICK, compare

PASSWORD = "correct horse battery staple"  # pragma: allowlist secret


def test_verify_equal_cost() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    hasher.verify("warm-up", None)  # the dummy hash is made once, lazily
    over_cap = "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43
    result = compare(
        "passwords: verify cost by case (default parameters)",
        {
            "existing user, wrong password": lambda: hasher.verify("wrong password", stored),
            "unknown user (None)": lambda: hasher.verify("wrong password", None),
            "unusable hash (Django '!')": lambda: hasher.verify("wrong password", "!unusable"),
            "over-capped hash (4 GiB)": lambda: hasher.verify("wrong password", over_cap),
        },
        baseline="existing user, wrong password",
        rounds=25,
        round_seconds=0.05,
    )
    if not QUICK:
        for label in result.seconds:
            assert 0.9 <= result.ratio(label) <= 1.1, (label, result.ratio(label))


def test_overhead_against_raw_argon2_cffi() -> None:
    p = DEFAULT_PARAMETERS
    ours = PasswordHasher()
    raw = argon2.PasswordHasher(
        time_cost=p.time_cost,
        memory_cost=p.memory_cost,
        parallelism=p.parallelism,
        hash_len=p.hash_len,
        salt_len=p.salt_len,
    )
    hashed = compare(
        "passwords: hash vs argon2-cffi",
        {"argon2-cffi": lambda: raw.hash(PASSWORD), "securekit": lambda: ours.hash(PASSWORD)},
        baseline="argon2-cffi",
        rounds=25,
        round_seconds=0.05,
    )
    ours_stored, raw_stored = ours.hash(PASSWORD), raw.hash(PASSWORD)
    verified = compare(
        "passwords: verify vs argon2-cffi",
        {
            "argon2-cffi": lambda: raw.verify(raw_stored, PASSWORD),
            "securekit": lambda: ours.verify(PASSWORD, ours_stored),
        },
        baseline="argon2-cffi",
        rounds=25,
        round_seconds=0.05,
    )
    if not QUICK:
        assert hashed.ratio("securekit") <= 1.05
        assert verified.ratio("securekit") <= 1.05
