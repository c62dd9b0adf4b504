"""Encrypt a database column with Aead, bound to its table, column and row.

Run: python examples/aead_field.py
"""

from __future__ import annotations

import sqlite3

from securekit.aead import Aead
from securekit.errors import DecryptionError
from securekit.keys import KeyRing


def main() -> None:
    # In production: KeyRing.from_env("APP_AEAD_KEYRING", wrapper=...) or from a
    # secrets mount. The same ring serves every encrypted column.
    box = Aead(KeyRing.generate("aead"))

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, ssn BLOB)")

    def context(user_id: int) -> bytes:
        # Binds each ciphertext to its cell: a value copied to another row or
        # column no longer decrypts.
        return f"users.ssn:{user_id}".encode()

    for user_id, name, ssn in [(1, "alice", "123-45-6789"), (2, "bob", "987-65-4321")]:
        blob = box.encrypt(ssn.encode(), context=context(user_id))
        db.execute("INSERT INTO users VALUES (?, ?, ?)", (user_id, name, blob))

    for user_id, name, blob in db.execute("SELECT id, name, ssn FROM users ORDER BY id"):
        ssn = box.decrypt(blob, context=context(user_id)).decode()
        print(f"{name}: {len(blob)}-byte envelope -> {ssn}")

    # An attacker with write access swaps alice's and bob's ciphertexts:
    bob_blob = db.execute("SELECT ssn FROM users WHERE id = 2").fetchone()[0]
    try:
        box.decrypt(bob_blob, context=context(1))
    except DecryptionError as exc:
        print("swapped ciphertext refused:", exc.reason.value)
    else:
        raise SystemExit("a swapped ciphertext must not decrypt")


if __name__ == "__main__":
    main()
