"""Create, store, load and rotate a key ring without ever writing a key in clear.

Run: python examples/keys_rotation.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from securekit.keys import KeyRing, LocalKeyWrapper, Secret


def main() -> None:
    # The key-encryption key (KEK) lives apart from the key files: here an
    # environment-style mapping; in production a secret mount or a KMS.
    kek = LocalKeyWrapper.new_kek()
    environ = {"SECUREKIT_KEK": kek.reveal()}
    wrapper = LocalKeyWrapper.from_env("SECUREKIT_KEK", environ=environ)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aead-ring.json"

        ring = KeyRing.generate("aead")
        ring.save(path, wrapper=wrapper)  # encrypted, mode 0600, atomic
        print("saved", ring)

        loaded = KeyRing.from_file(path, wrapper=wrapper)
        assert loaded == ring

        # Rotation: a new primary encrypts new data; the old key is retired
        # and still opens old data until it is removed.
        rotated = loaded.rotate()
        rotated.save(path, wrapper=wrapper)
        print("rotated", rotated)
        old_id = ring.primary.id
        assert rotated.get(old_id) is not None

        # Once everything is re-encrypted under the new primary:
        final = rotated.remove(old_id)
        print("removed the old key", final)

        # Per-purpose subkeys: one configured ring, no key serving two jobs.
        csrf_keys = final.derive("csrf")
        assert csrf_keys.primary.material != final.primary.material

        # Public keys of a signing ring are safe to publish (RFC 7517 JWKS).
        signing = KeyRing.generate("signing")
        print("JWKS kid:", signing.public_jwks()["keys"][0]["kid"])

        # Secrets print as stars.
        api_key = Secret("sk_test_not_a_real_key_0123456789")  # pragma: allowlist secret
        print("configured API key:", api_key)


if __name__ == "__main__":
    main()
