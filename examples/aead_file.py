"""Encrypt and decrypt a file in constant memory (C2SP chunked encryption).

Run: python examples/aead_file.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from securekit.aead import Aead
from securekit.errors import DecryptionError
from securekit.keys import KeyRing


def main() -> None:
    box = Aead(KeyRing.generate("aead"))
    context = b"backups/db-2026-01-01"

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "db.dump"
        plain.write_bytes(os.urandom(3 * 1024 * 1024 + 123))
        digest = hashlib.sha256(plain.read_bytes()).hexdigest()

        encrypted = Path(tmp) / "db.dump.skenc"
        box.encrypt_file(plain, encrypted, context=context)
        print(f"encrypted {plain.stat().st_size} bytes -> {encrypted.stat().st_size} bytes")

        restored = Path(tmp) / "restored.dump"
        box.decrypt_file(encrypted, restored, context=context)
        assert hashlib.sha256(restored.read_bytes()).hexdigest() == digest
        print("restored file matches:", digest[:16])

        # A truncated file is detected, and no partial plaintext is left behind.
        truncated = Path(tmp) / "truncated.skenc"
        truncated.write_bytes(encrypted.read_bytes()[:-20_000])
        partial = Path(tmp) / "partial.dump"
        try:
            box.decrypt_file(truncated, partial, context=context)
        except DecryptionError as exc:
            print("truncated file refused:", exc.reason.value, "| output exists:", partial.exists())
        else:
            raise SystemExit("a truncated file must not decrypt")


if __name__ == "__main__":
    main()
