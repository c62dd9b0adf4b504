"""Rotate the encryption key and re-encrypt stored values under the new one.

Run: python examples/aead_rotate_key.py
"""

from __future__ import annotations

from securekit.aead import Aead
from securekit.errors import DecryptionError
from securekit.keys import KeyRing


def main() -> None:
    ring = KeyRing.generate("aead")
    rows = {
        row: Aead(ring).encrypt(f"secret {row}".encode(), context=f"notes:{row}".encode())
        for row in range(5)
    }

    # 1. Rotate: the new primary encrypts; the old key is retired but decrypts.
    ring = ring.rotate()
    box = Aead(ring)
    print("primary is now", ring.primary.id, "| keys:", [k.id for k in ring])
    assert box.decrypt(rows[0], context=b"notes:0") == b"secret 0"

    # 2. Re-encrypt in batches: needs_reencryption reads only the header, and
    #    reencrypt authenticates before it re-encrypts.
    moved = 0
    for row, blob in rows.items():
        if box.needs_reencryption(blob):
            rows[row] = box.reencrypt(blob, context=f"notes:{row}".encode())
            moved += 1
    print("re-encrypted", moved, "rows")

    # 3. Remove the old key once nothing uses it.
    old_id = next(key.id for key in ring if key.id != ring.primary.id)
    final = Aead(ring.remove(old_id))
    for row, blob in rows.items():
        assert final.decrypt(blob, context=f"notes:{row}".encode()) == f"secret {row}".encode()
    print("all rows decrypt without the removed key")

    stale = Aead(KeyRing.generate("aead")).encrypt(b"x", context=b"")
    try:
        final.decrypt(stale, context=b"")
    except DecryptionError as exc:
        print("ciphertext under an unknown key:", exc.reason.value)


if __name__ == "__main__":
    main()
