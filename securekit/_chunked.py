"""C2SP chunked encryption, Cobblestone-256 (c2sp.org/chunked-encryption).

Private: applications use :meth:`securekit.aead.Aead.encrypt_stream`. This
module implements the construction exactly as specified, instantiated with
HKDF-Expand-SHA-512 and AES-256-GCM (the "Cobblestone-256" instantiation that
Wycheproof's ``c2sp_chunked_encryption_aes_256_gcm_test.json`` covers):

* ``key (32) || base nonce (12) || commitment (32) = HKDF-Expand-SHA-512(
  prk=input key, info="c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM" ||
  0x00 || salt (24) || context)``;
* ciphertext = ``salt || commitment || chunk_0 || ... || chunk_n``;
* plaintext chunks are 16 KiB except the last, which is always shorter (and
  may be empty), so a full final chunk means truncation;
* chunk ``i`` is AES-256-GCM with ``nonce = base nonce xor i`` (big-endian,
  counter below 2^38) and empty AAD.

The streaming functions read and write through file-like objects one chunk at
a time (plus one chunk of read-ahead when decrypting): constant memory,
whatever the size.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

#: Input key size: the AEAD key size of AES-256-GCM (c2sp.org/chunked-encryption).
KEY_SIZE: Final = 32
#: Salt size (c2sp.org/chunked-encryption, "Key derivation").
SALT_SIZE: Final = 24
#: Commitment size (c2sp.org/chunked-encryption, "Key derivation").
COMMITMENT_SIZE: Final = 32
#: Plaintext chunk size, 16 KiB (c2sp.org/chunked-encryption, "Message chunking").
CHUNK_SIZE: Final = 16384
#: AES-GCM tag size.
TAG_SIZE: Final = 16
#: Encrypted size of a full chunk.
SEALED_CHUNK: Final = CHUNK_SIZE + TAG_SIZE
#: Salt + commitment.
HEADER_SIZE: Final = SALT_SIZE + COMMITMENT_SIZE
#: The chunk counter must stay below 2^38 (c2sp.org/chunked-encryption).
MAX_CHUNKS: Final = 1 << 38
_NONCE_SIZE: Final = 12
_INFO_PREFIX: Final = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\x00"
#: Progress callbacks fire every 64 chunks (1 MiB) and at the end.
_PROGRESS_EVERY: Final = 64


class ChunkedError(Exception):
    """Raised by this module's decryption; ``reason`` names the failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Readable(Protocol):
    """The part of a binary file object the stream functions read from."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """The part of a binary file object the stream functions write to."""

    def write(self, data: bytes, /) -> object: ...


Progress = Callable[[int], None]


def derive(input_key: bytes, salt: bytes, context: bytes) -> tuple[bytes, bytes, bytes]:
    """Return ``(key, base_nonce, commitment)`` for one message.

    Raises:
        ChunkedError: ``input_key`` is not 32 bytes (reason ``key_size``).
    """
    if len(input_key) != KEY_SIZE:
        raise ChunkedError("key_size")
    okm = HKDFExpand(
        algorithm=hashes.SHA512(),
        length=KEY_SIZE + _NONCE_SIZE + COMMITMENT_SIZE,
        info=_INFO_PREFIX + salt + context,
    ).derive(input_key)
    return okm[:KEY_SIZE], okm[KEY_SIZE : KEY_SIZE + _NONCE_SIZE], okm[KEY_SIZE + _NONCE_SIZE :]


def read_full(src: Readable, size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads until EOF."""
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = src.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def encrypt(
    input_key: bytes,
    context: bytes,
    src: Readable,
    dst: Writable,
    *,
    salt: bytes | None = None,
    progress: Progress | None = None,
) -> int:
    """Encrypt ``src`` into ``dst``; return the plaintext length.

    ``salt`` is only injectable so that tests can reproduce published vectors;
    it is random otherwise.
    """
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    key, base_nonce, commitment = derive(input_key, salt, context)
    dst.write(salt + commitment)
    gcm = AESGCM(key)
    base = int.from_bytes(base_nonce, "big")
    counter = 0
    total = 0
    # One chunk at a time: 16 KiB buffers are recycled by the allocator,
    # while large (mmap-sized) buffers would page-fault on every batch.
    chunk = read_full(src, CHUNK_SIZE)
    while True:
        if counter >= MAX_CHUNKS:  # pragma: no cover - 4 PiB
            raise ValueError("message exceeds 2^38 chunks")
        dst.write(gcm.encrypt((base ^ counter).to_bytes(_NONCE_SIZE, "big"), chunk, None))
        counter += 1
        total += len(chunk)
        if len(chunk) < CHUNK_SIZE:
            # The short (possibly empty) final chunk ends the message.
            if progress is not None:
                progress(total)
            return total
        if progress is not None and counter % _PROGRESS_EVERY == 0:
            progress(total)
        chunk = read_full(src, CHUNK_SIZE)


def decrypt(
    input_key: bytes,
    context: bytes,
    src: Readable,
    dst: Writable,
    *,
    progress: Progress | None = None,
) -> int:
    """Decrypt ``src`` into ``dst``; return the plaintext length.

    Each chunk is written only after it authenticates. On failure some
    authenticated leading chunks may already have been written (the
    Wycheproof ``PartialPlaintext`` case); callers must discard ``dst``.

    Raises:
        ChunkedError: with reason ``key_size``, ``truncated`` (short header,
            missing final chunk, partial tag), ``commitment`` or ``tag``.
    """
    if len(input_key) != KEY_SIZE:
        raise ChunkedError("key_size")
    header = read_full(src, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise ChunkedError("truncated")
    salt, commitment = header[:SALT_SIZE], header[SALT_SIZE:]
    key, base_nonce, expected = derive(input_key, salt, context)
    # The spec requires the commitment check before any chunk is decrypted:
    # it rejects the wrong key or context outright (key commitment).
    if not hmac.compare_digest(commitment, expected):
        raise ChunkedError("commitment")
    return decrypt_raw(key, base_nonce, src, dst, progress=progress)


def decrypt_raw(
    key: bytes,
    base_nonce: bytes,
    src: Readable,
    dst: Writable,
    *,
    progress: Progress | None = None,
) -> int:
    """Decrypt the chunk sequence (raw mode, no salt or commitment)."""
    gcm = AESGCM(key)
    base = int.from_bytes(base_nonce, "big")
    counter = 0
    total = 0
    sealed = read_full(src, SEALED_CHUNK)
    if not sealed:
        # Only the header: not even the (possibly empty) final chunk.
        raise ChunkedError("truncated")
    while True:
        if len(sealed) < TAG_SIZE:
            raise ChunkedError("truncated")
        final = len(sealed) < SEALED_CHUNK
        following = b""
        if not final:
            # Read one chunk ahead: a full chunk at the very end means the
            # required short final chunk is missing (truncation). Bytes after
            # the real final chunk are read as one more chunk, which fails
            # its tag at that index (extension).
            following = read_full(src, SEALED_CHUNK)
            if not following:
                raise ChunkedError("truncated")
        if counter >= MAX_CHUNKS:  # pragma: no cover - 4 PiB
            raise ChunkedError("truncated")
        try:
            plain = gcm.decrypt((base ^ counter).to_bytes(_NONCE_SIZE, "big"), sealed, None)
        except InvalidTag:
            raise ChunkedError("tag") from None
        # Released only now that this chunk authenticated at its index.
        dst.write(plain)
        counter += 1
        total += len(plain)
        if final:
            if progress is not None:
                progress(total)
            return total
        if progress is not None and counter % _PROGRESS_EVERY == 0:
            progress(total)
        sealed = following
