"""XAES-256-GCM (c2sp.org/XAES-256-GCM) built from ``cryptography``'s AES-256 and AES-256-GCM.

Private: applications use :class:`securekit.aead.Aead`. This module only
implements the extended-nonce AEAD of the C2SP specification:

1. ``L = AES-256_K(0^128)``; ``K1 = L << 1``, xor ``0x87`` into the last byte
   when the most significant bit of ``L`` is set (NIST SP 800-38B, 6.1).
2. ``M1 = 0x00 0x01 'X' 0x00 || N[:12]`` and ``M2 = 0x00 0x02 'X' 0x00 || N[:12]``
   (NIST SP 800-108r1 counter KDF, section 4.1, CMAC-AES-256 as the PRF).
3. ``Kx = AES-256_K(M1 xor K1) || AES-256_K(M2 xor K1)``, ``Nx = N[12:]``.
4. AES-256-GCM with ``Kx`` and ``Nx``.

Steps 1 and 2's ``K1`` and the AES-256 key schedule depend on the key only,
so they are computed once per key and cached on the instance: a small message
costs one extra two-block AES call over plain AES-256-GCM.
"""

from __future__ import annotations

import threading
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Key size of XAES-256-GCM in bytes (c2sp.org/XAES-256-GCM, "Inputs").
KEY_SIZE: Final = 32
#: Nonce size of XAES-256-GCM in bytes (192 bits, c2sp.org/XAES-256-GCM).
NONCE_SIZE: Final = 24
#: GCM tag size in bytes (NIST SP 800-38D, full-length tag).
TAG_SIZE: Final = 16

_MASK128: Final = (1 << 128) - 1
#: The CMAC subkey constant for 128-bit blocks (NIST SP 800-38B, 5.3: R128).
_RB: Final = 0x87
#: The first four bytes of M1 and M2: 0x00, the counter i (1 or 2), 'X', 0x00.
_PREFIX1: Final = b"\x00\x01X\x00"
_PREFIX2: Final = b"\x00\x02X\x00"


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


class XAES256GCM:
    """XAES-256-GCM with the per-key CMAC subkey and AES key schedule cached.

    Instances are safe to share between threads: each thread gets its own
    cached AES-ECB context (cheaper than a lock on every message, and the
    context object does not promise concurrent use).
    """

    __slots__ = ("_k1_low", "_key", "_local", "_p1", "_p2")

    #: The inner AEAD: AES-256-GCM keyed with ``Kx`` (tests run the Wycheproof
    #: AES-GCM vectors through exactly this factory).
    inner = AESGCM

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("XAES-256-GCM keys are 32 bytes")
        # ECB here is the raw AES-256 block function the C2SP KDF is defined
        # with (one block per call), not a mode used to encrypt data.
        self._key = key
        self._local = threading.local()
        big_l = int.from_bytes(self._ecb().update(bytes(16)), "big")
        k1_int = (big_l << 1) & _MASK128
        if big_l >> 127:
            k1_int ^= _RB
        k1 = k1_int.to_bytes(16, "big")
        # M xor K1 splits into (prefix xor K1[:4]) || (N[:12] xor K1[4:]); the
        # first part is constant per key, so only 12 bytes are xored per call.
        self._p1 = _xor(_PREFIX1, k1[:4])
        self._p2 = _xor(_PREFIX2, k1[:4])
        self._k1_low = int.from_bytes(k1[4:], "big")

    def _ecb(self) -> CipherContext:
        # This thread's AES-256 block-function context, built on first use.
        ecb = Cipher(algorithms.AES256(self._key), modes.ECB()).encryptor()  # noqa: S305
        self._local.ecb = ecb
        return ecb

    def _subkey(self, nonce: bytes) -> bytes:
        """The AES-256-GCM key ``Kx`` for ``nonce`` (the per-message hot path)."""
        if len(nonce) != NONCE_SIZE:
            raise ValueError("XAES-256-GCM nonces are 24 bytes")
        low = (int.from_bytes(nonce[:12], "big") ^ self._k1_low).to_bytes(12, "big")
        try:
            ecb: CipherContext = self._local.ecb
        except AttributeError:
            ecb = self._ecb()
        return ecb.update(self._p1 + low + self._p2 + low)

    def derive(self, nonce: bytes) -> tuple[bytes, bytes]:
        """Return the AES-256-GCM key ``Kx`` and 12-byte nonce ``Nx`` for ``nonce``."""
        return self._subkey(nonce), nonce[12:]

    def encrypt(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt; returns ciphertext followed by the 16-byte tag."""
        return self.inner(self._subkey(nonce)).encrypt(nonce[12:], plaintext, aad)

    def decrypt(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Decrypt and authenticate; raises ``cryptography``'s ``InvalidTag``."""
        return self.inner(self._subkey(nonce)).decrypt(nonce[12:], ciphertext, aad)
