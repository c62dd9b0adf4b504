"""The demo's keys: generated on first run, stored encrypted, loaded afterwards.

Three key rings live in ``<data dir>/keys/`` as JSON files whose key material
is wrapped (AES-256-GCM) by a key-encryption key (KEK):

- ``aead.json``: encrypts notes and TOTP secrets at rest (XAES-256-GCM);
- ``mac.json``: HMAC key for CSRF tokens and the login throttle's key hashing;
- ``signing.json``: EdDSA key for the API's access and refresh tokens.

The KEK comes from the ``SECUREKIT_DEMO_KEK`` environment variable when it is
set (base64url, 32 bytes), otherwise from ``<data dir>/kek.secret`` (mode
0600, created on first run). A real deployment keeps the KEK apart from the
data it protects: a secret manager, a KMS (``securekit.keys.KeyWrapper``) or
at least an environment variable, never the same directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from securekit.keys import KeyRing, LocalKeyWrapper, Secret

__all__ = ["KEK_ENV", "DemoKeys", "load_or_create_keys"]

#: Environment variable that, when set, holds the base64url key-encryption key.
KEK_ENV: Final = "SECUREKIT_DEMO_KEK"
_KEK_FILE: Final = "kek.secret"
_RINGS: Final = ("aead", "mac", "signing")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoKeys:
    """The demo's key rings (immutable; rotation would build a new bundle)."""

    aead: KeyRing
    mac: KeyRing
    signing: KeyRing


def _private_write(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600, refusing to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")


def _wrapper(data_dir: Path, environ: Mapping[str, str]) -> LocalKeyWrapper:
    if environ.get(KEK_ENV):
        return LocalKeyWrapper.from_env(KEK_ENV, environ=environ)
    kek_file = data_dir / _KEK_FILE
    if not kek_file.exists():
        _private_write(kek_file, LocalKeyWrapper.new_kek().reveal())
    return LocalKeyWrapper.from_secret(Secret.from_file(kek_file))


def load_or_create_keys(data_dir: Path, *, environ: Mapping[str, str] | None = None) -> DemoKeys:
    """Load the demo's key rings from ``data_dir``, generating them on first run.

    Args:
        data_dir: the demo's data directory (created by the caller).
        environ: where to look for ``SECUREKIT_DEMO_KEK`` (default ``os.environ``).

    Returns:
        The three key rings.

    Raises:
        ConfigurationError: a key file exists but cannot be unwrapped with the
            KEK (wrong KEK, or a damaged file): the demo refuses to start
            rather than silently generating new keys and losing the data.
    """
    env = os.environ if environ is None else environ
    wrapper = _wrapper(data_dir, env)
    key_dir = data_dir / "keys"
    key_dir.mkdir(mode=0o700, exist_ok=True)
    rings: dict[str, KeyRing] = {}
    for kind in _RINGS:
        path = key_dir / f"{kind}.json"
        if path.exists():
            rings[kind] = KeyRing.from_file(path, wrapper=wrapper)
        else:
            ring = KeyRing.generate(kind)
            ring.save(path, wrapper=wrapper)
            rings[kind] = ring
    return DemoKeys(aead=rings["aead"], mac=rings["mac"], signing=rings["signing"])
