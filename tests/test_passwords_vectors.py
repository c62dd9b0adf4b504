"""Known-answer vectors for securekit.passwords: Argon2, bcrypt and every migration format.

Sources:
* RFC 9106 section 5.3 (Argon2id test vector, with secret and associated data).
* phc-winner-argon2 ``src/test.c`` (Argon2id v=19 PHC string for "password"/"somesalt").
* crypt_blowfish 1.3 ``wrapper.c`` test vectors by Solar Designer (as used by
  OpenBSD, PHP and passlib), including the 72-byte truncation vector.
* Django 5.2.19 ``django.contrib.auth.hashers`` (run from the PyPI wheel to make
  the vectors below; BSD licence).
* passlib 1.7.4 ``passlib.hash.pbkdf2_sha256`` (run from the PyPI wheel).
* Werkzeug, installed here: ``werkzeug.security.generate_password_hash`` is
  used live as an independent oracle, plus fixed vectors it produced.
"""

from __future__ import annotations

import pytest
from argon2.low_level import ARGON2_VERSION, Type, core, ffi, lib  # type: ignore[attr-defined]
from werkzeug.security import generate_password_hash

from securekit.passwords import PasswordHasher
from tests.test_passwords import make_cheap_hasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return make_cheap_hasher()


def _argon2id_with_secret_and_ad(
    password: bytes, salt: bytes, secret: bytes, ad: bytes, *, t: int, m: int, p: int, n: int
) -> bytes:
    out = ffi.new("uint8_t[]", n)
    buffers = [ffi.new("uint8_t[]", value) for value in (password, salt, secret, ad)]
    ctx = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": n,
            "pwd": buffers[0],
            "pwdlen": len(password),
            "salt": buffers[1],
            "saltlen": len(salt),
            "secret": buffers[2],
            "secretlen": len(secret),
            "ad": buffers[3],
            "adlen": len(ad),
            "t_cost": t,
            "m_cost": m,
            "lanes": p,
            "threads": p,
            "version": ARGON2_VERSION,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    assert core(ctx, Type.ID.value) == lib.ARGON2_OK
    return bytes(ffi.buffer(out, n))


def test_rfc_9106_section_5_3_argon2id() -> None:
    tag = _argon2id_with_secret_and_ad(
        b"\x01" * 32, b"\x02" * 16, b"\x03" * 8, b"\x04" * 12, t=3, m=32, p=4, n=32
    )
    expected = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"  # pragma: allowlist secret
    assert tag.hex() == expected


def test_phc_reference_argon2id_string_verifies() -> None:
    # phc-winner-argon2 src/test.c: t=2, m=2^16, p=1, "password", "somesalt".
    stored = (
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
    )
    hasher = PasswordHasher()
    assert hasher.verify("password", stored)
    assert not hasher.verify("passwore", stored)
    assert hasher.needs_rehash(stored)  # t=2, p=1 are not the defaults


# crypt_blowfish 1.3 wrapper.c (Solar Designer), public domain.
BCRYPT_VECTORS = [
    ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
    ("U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
    (
        (
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # pragma: allowlist secret
            "chars after 72 are ignored"
        ),
        "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
    ),
    ("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"),
]


@pytest.mark.parametrize(("password", "stored"), BCRYPT_VECTORS)
@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_bcrypt_published_vectors(
    hasher: PasswordHasher, password: str, stored: str, prefix: str
) -> None:
    variant = prefix + stored[4:]
    assert hasher.verify(password, variant)
    assert not hasher.verify(password + "x" if len(password) < 72 else "x" + password, variant)
    assert hasher.needs_rehash(variant)


def test_bcrypt_legacy_truncation_only_for_old_hashes(hasher: PasswordHasher) -> None:
    # The old hash only ever saw 72 bytes; upgrading makes the whole password count.
    password, stored = BCRYPT_VECTORS[3]
    ok, new = hasher.verify_and_update(password, stored)
    assert ok
    assert new is not None
    assert new.startswith("$argon2id$")
    assert hasher.verify(password, new)
    assert not hasher.verify(password[:72] + "something else", new)


def test_bcrypt_nul_byte_does_not_truncate(hasher: PasswordHasher) -> None:
    # C bcrypt stops at NUL; "U*U\0anything" must not match the hash of "U*U".
    assert not hasher.verify("U*U\x00anything", BCRYPT_VECTORS[0][1])


# Made with Django 5.2.19's own hashers from the PyPI wheel (see module docstring).
DJANGO_VECTORS = [
    (
        "pässword",
        "pbkdf2_sha256$1000$seasalt2024$8mDeZ7hG6O9+45rM/x6zhY0KRDoJUuIXIPYGaiMKBjk=",
    ),
    (
        "pässword",
        (
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQxNg"
            "$MELCUOV4pYrQkLieBWD3vq1+EQPinTOeqx8AfRYuOJk"
        ),
    ),
    (
        "pässword" * 20,
        "bcrypt_sha256$$2b$04$z81nyI8ts7O9LXF0bKYSiuXJstq6LOxOi/NxwHkhM0KltWrJqxjJu",
    ),
    ("pässword", "bcrypt$$2b$04$VDeMutS.3aNuEG8m4P9.IuPo8SFdirMsyxPSfGl1WzfWak9RRzSO."),
]
# passlib 1.7.4: pbkdf2_sha256.using(rounds=1000, salt=b"saltsalt0123").hash("pässword")
# and pbkdf2_sha256.using(rounds=29000).hash("hunter2 hunter2").
PASSLIB_VECTORS = [
    (
        "pässword",
        "$pbkdf2-sha256$1000$c2FsdHNhbHQwMTIz$qezwaq4Jw2I8n8l9rKV/Md7r/XRf5vuw6BugK4zuRqg",
    ),
    (
        "hunter2 hunter2",
        "$pbkdf2-sha256$29000$tPY.Z2zNOQcgREgJIaS0tg$YklqSoW6Mw0UPLr.AlkRfRHhcQBi5g.MSBFssHl2N.A",
    ),
]
# Werkzeug 3.1: generate_password_hash("pässword", "pbkdf2:sha256:1000") and "scrypt:1024:8:1".
WERKZEUG_VECTORS = [
    (
        "pässword",
        (
            "pbkdf2:sha256:1000$Uw6jE4wQ6xzWxkpP"
            "$18d6ad6cef30a67ab29cec72cbe21dafeed389e096421d02deece9c417ad35e0"
        ),
    ),
    (
        "pässword",
        (
            "scrypt:1024:8:1$PbVlnGoh8FMHJnZe$ceba999a1e2b234d6a4304d76745fef340c8fd69015f8358b380d3"
            "aa9b20ffcc6591714ecb75959775b34b74dd6b939a959fae3175c8ba4219fcf3e22d4e6391"  # pragma: allowlist secret
        ),
    ),
]
MIGRATION_VECTORS = DJANGO_VECTORS + PASSLIB_VECTORS + WERKZEUG_VECTORS


@pytest.mark.parametrize(("password", "stored"), MIGRATION_VECTORS)
def test_migration_vector_verifies_and_upgrades(
    hasher: PasswordHasher, password: str, stored: str
) -> None:
    assert hasher.verify(password, stored)
    assert not hasher.verify(password + "!", stored)
    assert not hasher.verify(password.upper(), stored)
    assert hasher.needs_rehash(stored)
    ok, new = hasher.verify_and_update(password, stored)
    assert ok
    assert new is not None
    assert new.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert hasher.verify(password, new)
    assert not hasher.needs_rehash(new)


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "scrypt:1024:8:1", "scrypt:2048:4:2"])
def test_werkzeug_live_oracle(hasher: PasswordHasher, method: str) -> None:
    stored = generate_password_hash("grüße aus köln", method=method)
    assert hasher.verify("grüße aus köln", stored)
    assert not hasher.verify("grüße aus koln", stored)


MALFORMED = [
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg",  # missing tag
    "$argon2id$v=19$m=64,t=1,p=1,m=64$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,  # duplicate
    "$argon2id$v=19$t=1,m=64,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,  # order
    "$argon2id$v=19$m=64,t=1,p=1,data=AA$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=064,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,  # leading zero
    "$argon2id$v=19$m=64,t=0,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=7,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=x,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=64,t=1,p=1,keyid=AA$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=64,t=1,p=1,keyid=*$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZh$" + "A" * 43,  # non-canonical
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 43,  # padding
    "$argon2id$v=19$m=64,t=1,p=1$MDEy$" + "A" * 43,  # salt too short
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAA",  # tag too short
    "$argon2id$v=18$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2x$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 5000,  # too long
    "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$" + "é" * 43,  # not ASCII
    "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  # buggy variant
    "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  # cost < 4
    "$2b$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  # cost > 31
    "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",  # short
    "bcrypt_sha256$$2b$05$short",
    "pbkdf2_sha256$1000$seasalt2024$notbase64!",
    "pbkdf2_sha256$1000$seasalt2024$AAAA",  # wrong length
    "pbkdf2_sha256$0$seasalt2024$8mDeZ7hG6O9+45rM/x6zhY0KRDoJUuIXIPYGaiMKBjk=",
    "pbkdf2_sha256$1000$$8mDeZ7hG6O9+45rM/x6zhY0KRDoJUuIXIPYGaiMKBjk=",
    "pbkdf2_sha256$1000$seasalt2024",
    "$pbkdf2-sha256$1000$c2FsdHNhbHQwMTIz$short",
    "$pbkdf2-sha256$1000$c2FsdHNhbHQwMTIz",
    "$pbkdf2-sha256$abc$c2FsdHNhbHQwMTIz$qezwaq4Jw2I8n8l9rKV/Md7r/XRf5vuw6BugK4zuRqg",
    "pbkdf2:sha256$Uw6jE4wQ6xzWxkpP$" + "0" * 64,  # no iteration count: ambiguous
    "pbkdf2:sha1:1000$Uw6jE4wQ6xzWxkpP$" + "0" * 40,
    "pbkdf2:sha256:1000$Uw6jE4wQ6xzWxkpP$" + "0" * 63,
    "pbkdf2:sha256:1000$Uw6jE4wQ6xzWxkpP",
    "pbkdf2:sha256:1000000000$Uw6jE4wQ6xzWxkpP$" + "0" * 64,  # over the cap
    "scrypt:1024:8$PbVlnGoh8FMHJnZe$" + "0" * 128,
    "scrypt:1000:8:1$PbVlnGoh8FMHJnZe$" + "0" * 128,  # N not a power of two
    "scrypt:1024:0:1$PbVlnGoh8FMHJnZe$" + "0" * 128,
    "scrypt:1024:8:1$PbVlnGoh8FMHJnZe$" + "G" * 128,
    "scrypt:1024:8:99$PbVlnGoh8FMHJnZe$" + "0" * 128,  # p over cap
    "plain text password",
    "$5$rounds=5000$salt$hash",
    "md5$salt$hash",
]


@pytest.mark.parametrize("stored", MALFORMED)
def test_malformed_and_unknown_hashes_are_false(hasher: PasswordHasher, stored: str) -> None:
    assert not hasher.verify("password", stored)
    assert hasher.needs_rehash(stored)
    assert hasher.verify_and_update("password", stored) == (False, None)
