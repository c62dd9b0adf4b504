"""Migrate a user table from Django, Werkzeug, passlib and bcrypt hashes to Argon2id.

Run: python examples/passwords_migration.py

Each imported hash verifies as it is; the first successful login replaces it
with an Argon2id hash (verify_and_update). Unknown formats are refused, never
guessed, and over-capped hashes are unusable without costing extra time.
"""

from __future__ import annotations

from securekit.passwords import PasswordHasher

WERKZEUG_SCRYPT = (
    "scrypt:1024:8:1$PbVlnGoh8FMHJnZe$"
    "ceba999a1e2b234d6a4304d76745fef340c8fd69015f8358b380d3"  # pragma: allowlist secret
    "aa9b20ffcc6591714ecb75959775b34b74dd6b939a959fae3175c8"  # pragma: allowlist secret
    "ba4219fcf3e22d4e6391"  # pragma: allowlist secret
)
# Hashes as other systems stored them (published or tool-generated vectors).
IMPORTED: dict[str, tuple[str, str]] = {
    "django-pbkdf2": (
        "pässword",
        "pbkdf2_sha256$1000$seasalt2024$8mDeZ7hG6O9+45rM/x6zhY0KRDoJUuIXIPYGaiMKBjk=",
    ),
    "django-bcrypt_sha256": (
        "pässword" * 20,
        "bcrypt_sha256$$2b$04$z81nyI8ts7O9LXF0bKYSiuXJstq6LOxOi/NxwHkhM0KltWrJqxjJu",
    ),
    "werkzeug-scrypt": (
        "pässword",
        WERKZEUG_SCRYPT,
    ),
    "passlib-pbkdf2": (
        "hunter2 hunter2",
        "$pbkdf2-sha256$29000$tPY.Z2zNOQcgREgJIaS0tg$YklqSoW6Mw0UPLr.AlkRfRHhcQBi5g.MSBFssHl2N.A",
    ),
    "bcrypt": ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    "md5-crypt (unknown)": ("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"),
    "argon2 claiming 4 GiB": (
        "password",
        "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
    ),
}


def main() -> None:
    hasher = PasswordHasher()
    for name, (password, stored) in IMPORTED.items():
        ok, new_hash = hasher.verify_and_update(password, stored)
        if not ok:
            print(f"{name:24} refused (unknown format or unusable); ask for a password reset")
            continue
        assert new_hash is not None
        assert hasher.verify(password, new_hash)
        print(f"{name:24} verified; store the upgrade: {new_hash[:34]}...")
        assert not hasher.needs_rehash(new_hash)


if __name__ == "__main__":
    main()
