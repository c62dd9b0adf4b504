"""Sign-up and login with PasswordHasher, PasswordPolicy and enumeration-safe errors.

Run: python examples/passwords_login.py

Shows: the policy refusing weak passwords with a reason code; Argon2id hashes
with a pepper; one generic error for "no such user" and "wrong password" (and
the same work for both); upgrading a legacy bcrypt hash on login.
"""

from __future__ import annotations

import sqlite3

from securekit.errors import WeakPasswordError
from securekit.keys import KeyRing
from securekit.passwords import PasswordHasher, PasswordPolicy

# In production: KeyRing.from_env("PASSWORD_PEPPER") or from_secrets_dir(...);
# the pepper lives outside the database so a leaked table alone is useless.
PEPPER = KeyRing.generate("mac")
HASHER = PasswordHasher(pepper=PEPPER)
POLICY = PasswordPolicy(service_words=("example shop",))
LOGIN_FAILED = "invalid user name or password"  # the same message for every failure


def open_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, email TEXT, hash TEXT)")
    return db


def sign_up(db: sqlite3.Connection, name: str, email: str, password: str) -> str:
    try:
        POLICY.check(password, context=(name, email))
    except WeakPasswordError as error:
        # The reason code is safe to show: it describes the rule, not the password.
        return f"refused ({error.reason.value})"
    db.execute("INSERT INTO users VALUES (?, ?, ?)", (name, email, HASHER.hash(password)))
    return "account created"


def log_in(db: sqlite3.Connection, name: str, password: str) -> str:
    row = db.execute("SELECT hash FROM users WHERE name = ?", (name,)).fetchone()
    stored: str | None = row[0] if row else None
    # Unknown users go through the same Argon2id work (stored=None), so neither
    # the answer nor the timing says whether the account exists.
    ok, new_hash = HASHER.verify_and_update(password, stored)
    if not ok:
        return LOGIN_FAILED
    if new_hash is not None:
        db.execute("UPDATE users SET hash = ? WHERE name = ?", (new_hash, name))
        return "welcome (hash upgraded to Argon2id)"
    return "welcome"


def main() -> None:
    db = open_db()
    candidates = ("password123", "alice-in-wonderland-2024", "short", "Tr0ub4dor&3 horse staple")
    for password in candidates:
        outcome = sign_up(db, "alice", "alice@example.com", password)
        print(f"sign-up alice with {len(password):2d} chars: {outcome}")

    print("login alice, right password:", log_in(db, "alice", "Tr0ub4dor&3 horse staple"))
    print("login alice, wrong password:", log_in(db, "alice", "Tr0ub4dor&3 horse stapler"))
    print("login mallory (no account): ", log_in(db, "mallory", "anything"))

    # A user migrated from an older system with a bcrypt hash (crypt_blowfish
    # test vector for "U*U*U"): verified once, then replaced by Argon2id.
    legacy = "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"
    db.execute("INSERT INTO users VALUES ('bob', 'bob@example.com', ?)", (legacy,))
    print("login bob, legacy bcrypt:    ", log_in(db, "bob", "U*U*U"))
    print("login bob, again:            ", log_in(db, "bob", "U*U*U"))
    stored = db.execute("SELECT hash FROM users WHERE name = 'bob'").fetchone()[0]
    print("bob's hash now starts with:  ", stored.split("$", 4)[1], stored.split("$")[3])
    assert not HASHER.needs_rehash(stored)


if __name__ == "__main__":
    main()
