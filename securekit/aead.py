"""Authenticated encryption: one-shot envelopes, streams and deterministic lookups.

:class:`Aead` replaces direct use of ``AESGCM``, Fernet/MultiFernet and
hand-rolled file encryption. Callers never choose or see a nonce; every
ciphertext names the key that made it, so key rotation is a ring update.

Example:
    >>> from securekit.keys import KeyRing
    >>> box = Aead(KeyRing.generate("aead"))
    >>> blob = box.encrypt(b"123-45-6789", context=b"users.ssn:42")
    >>> box.decrypt(blob, context=b"users.ssn:42")
    b'123-45-6789'

Formats (all big-endian; the 6-byte header is authenticated with ``context``):

* one-shot: ``0xA1 | key id (u32) | alg byte | nonce | ciphertext | tag (16)``,
  nonce 24 bytes for XAES-256-GCM, 12 for AES-256-GCM and ChaCha20-Poly1305,
  associated data ``header || context``;
* stream: ``0xB1 | key id (u32) | alg byte | C2SP chunked ciphertext``
  (c2sp.org/chunked-encryption, Cobblestone-256) under
  ``key.derive("stream")`` with context ``header || context``;
* deterministic: ``0xD1 | key id (u32) | alg byte | AES-SIV output`` under
  ``key.derive("siv", length=64)`` with the associated-data vector
  ``[header, context]``.

The algorithm byte records the key's algorithm; it must equal the algorithm
of the key found by id and never selects one.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, NoReturn, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV, ChaCha20Poly1305

from securekit import _chunked
from securekit._xaes import XAES256GCM
from securekit.errors import ConfigurationError, DecryptionError, DecryptionReason
from securekit.keys import Algorithm, Key, KeyKind, KeyRing

__all__ = [
    "ALGORITHM_BYTES",
    "DEFAULT_MAX_PLAINTEXT",
    "DETERMINISTIC_VERSION",
    "ENVELOPE_VERSION",
    "STREAM_VERSION",
    "Aead",
    "Progress",
    "Readable",
    "Writable",
]

#: Format byte of one-shot envelopes (DESIGN.md, "AEAD").
ENVELOPE_VERSION: Final = 0xA1
#: Format byte of streams (C2SP chunked encryption inside the securekit header).
STREAM_VERSION: Final = 0xB1
#: Format byte of deterministic (AES-SIV) ciphertexts: deliberately far from
#: 0xA1 so a deterministic value is never mistaken for a randomized one.
DETERMINISTIC_VERSION: Final = 0xD1
#: Algorithm byte per key algorithm; identifies the key, never selects a cipher.
ALGORITHM_BYTES: Final[Mapping[Algorithm, int]] = MappingProxyType(
    {
        Algorithm.XAES_256_GCM: 0x01,
        Algorithm.AES_256_GCM: 0x02,
        Algorithm.CHACHA20_POLY1305: 0x03,
    }
)
#: One-shot plaintext cap, 64 MiB: one-shot calls hold the whole message (and
#: its ciphertext) in memory; larger data belongs in ``encrypt_stream``.
DEFAULT_MAX_PLAINTEXT: Final = 64 * 1024 * 1024
#: Upper bound for ``max_plaintext``: 1 GiB keeps one-shot messages far below
#: the AES-GCM per-message limit of 2^39 - 256 bits (NIST SP 800-38D, 5.2.1.1).
_MAX_PLAINTEXT_LIMIT: Final = 1024 * 1024 * 1024
_HEADER_SIZE: Final = 6
_TAG_SIZE: Final = 16
_SIV_TAG_SIZE: Final = 16
#: Nonce sizes: 24 bytes for XAES-256-GCM (c2sp.org/XAES-256-GCM), 12 bytes for
#: AES-256-GCM (NIST SP 800-38D, 8.2.2) and ChaCha20-Poly1305 (RFC 8439, 2.8).
_NONCE_SIZES: Final = {
    Algorithm.XAES_256_GCM: 24,
    Algorithm.AES_256_GCM: 12,
    Algorithm.CHACHA20_POLY1305: 12,
}
_STREAM_PURPOSE: Final = "stream"
_SIV_PURPOSE: Final = "siv"
_SIV_KEY_SIZE: Final = 64
#: Above this size decrypt passes a memoryview instead of a copied slice.
_COPY_LIMIT: Final = 4096

Readable = _chunked.Readable
Writable = _chunked.Writable
#: Called with the number of plaintext bytes processed so far.
Progress = Callable[[int], None]

_CHUNKED_REASONS: Final = {
    "truncated": DecryptionReason.TRUNCATED,
    "commitment": DecryptionReason.AUTHENTICATION_FAILED,
    "tag": DecryptionReason.AUTHENTICATION_FAILED,
    "key_size": DecryptionReason.AUTHENTICATION_FAILED,
}


class _Cipher(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes, /) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes, /) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _KeyState:
    """Everything derived once per key, so that small messages stay fast."""

    key: Key
    alg_byte: int
    nonce_size: int
    nonce_end: int
    min_size: int
    header: bytes
    cipher: _Cipher


def _cipher_for(alg: Algorithm, material: bytes) -> _Cipher:
    """The envelope cipher of one key (the known-answer tests call this too)."""
    if alg is Algorithm.XAES_256_GCM:
        return XAES256GCM(material)
    if alg is Algorithm.AES_256_GCM:
        return AESGCM(material)
    return ChaCha20Poly1305(material)


def _fail(reason: DecryptionReason) -> DecryptionError:
    return DecryptionError(reason)


def _require_bytes(value: object, name: str) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


class Aead:
    """Authenticated encryption with a key ring: envelopes, streams, deterministic.

    Args:
        keyring: a ``KeyRing`` of kind ``aead``. The primary key encrypts;
            every key in the ring (primary or retired) decrypts what it made.
        max_plaintext: the one-shot cap in bytes (default 64 MiB); larger data
            must go through :meth:`encrypt_stream`.

    Raises:
        TypeError: ``keyring`` is not a ``KeyRing``.
        ConfigurationError: the ring is not an ``aead`` ring or
            ``max_plaintext`` is out of range.
    """

    __slots__ = (
        "_by_header",
        "_max_blob",
        "_max_plaintext",
        "_primary",
        "_siv",
        "_states",
        "_streams",
    )

    def __init__(self, keyring: KeyRing, *, max_plaintext: int = DEFAULT_MAX_PLAINTEXT) -> None:
        if not isinstance(keyring, KeyRing):
            raise TypeError(f"keyring must be a KeyRing, not {type(keyring).__name__}")
        if keyring.kind is not KeyKind.AEAD:
            raise ConfigurationError(
                f"Aead needs a key ring of kind 'aead', not {keyring.kind.value!r}"
                " (KeyRing.generate('aead'))"
            )
        if isinstance(max_plaintext, bool) or not isinstance(max_plaintext, int):
            raise TypeError("max_plaintext must be an int")
        if not 1 <= max_plaintext <= _MAX_PLAINTEXT_LIMIT:
            raise ConfigurationError(
                f"max_plaintext must be 1 to {_MAX_PLAINTEXT_LIMIT} bytes;"
                " use encrypt_stream for larger data"
            )
        self._max_plaintext = max_plaintext
        self._max_blob = max_plaintext + _HEADER_SIZE + 24 + _TAG_SIZE
        states: dict[int, _KeyState] = {}
        for key in keyring:
            alg_byte = ALGORITHM_BYTES[key.alg]
            states[key.id] = _KeyState(
                key=key,
                alg_byte=alg_byte,
                nonce_size=_NONCE_SIZES[key.alg],
                nonce_end=_HEADER_SIZE + _NONCE_SIZES[key.alg],
                min_size=_HEADER_SIZE + _NONCE_SIZES[key.alg] + _TAG_SIZE,
                header=bytes([ENVELOPE_VERSION]) + key.id.to_bytes(4, "big") + bytes([alg_byte]),
                cipher=_cipher_for(key.alg, key.material),
            )
        self._states = states
        self._by_header = {state.header: state for state in states.values()}
        self._primary = states[keyring.primary.id]
        # Derived stream and SIV keys, filled lazily per key id (one HKDF call
        # per key for the life of this object).
        self._streams: dict[int, bytes] = {}
        self._siv: dict[int, AESSIV] = {}

    # -- one-shot ------------------------------------------------------------

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt ``plaintext`` under the primary key with a fresh random nonce.

        Args:
            plaintext: the data to protect (at most ``max_plaintext`` bytes).
            context: associated data binding the ciphertext to where it
                belongs (table/column/row, purpose). Required; pass ``b""``
                explicitly when there is none. The same context must be given
                to :meth:`decrypt`.

        Returns:
            The envelope ``0xA1 | key id | alg | nonce | ciphertext | tag``.

        Raises:
            TypeError: ``plaintext`` or ``context`` is not ``bytes``.
            ConfigurationError: ``plaintext`` is over the one-shot cap.
        """
        # Inline type checks: this is the hot path for small field values.
        if type(plaintext) is not bytes or type(context) is not bytes:
            _require_bytes(plaintext, "plaintext")
            _require_bytes(context, "context")
        if len(plaintext) > self._max_plaintext:
            raise ConfigurationError(
                f"plaintext is over the one-shot cap of {self._max_plaintext} bytes;"
                " use Aead.encrypt_stream / encrypt_file for large data"
            )
        state = self._primary
        nonce = os.urandom(state.nonce_size)
        header = state.header
        return header + nonce + state.cipher.encrypt(nonce, plaintext, header + context)

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        """Authenticate and decrypt an envelope made by :meth:`encrypt`.

        Checks run in this order, before any cryptography: length, version
        byte, key id (a retired key still decrypts; a removed one fails),
        algorithm byte, then the AEAD tag over header, context and ciphertext.

        Args:
            blob: the envelope.
            context: the same associated data given to :meth:`encrypt`.

        Returns:
            The plaintext.

        Raises:
            TypeError: ``blob`` or ``context`` is not ``bytes``.
            DecryptionError: for every other failure, with a ``reason``.
        """
        if type(blob) is not bytes or type(context) is not bytes:
            _require_bytes(blob, "blob")
            _require_bytes(context, "context")
        # Hot path: the whole 6-byte header (version, key id, algorithm) is the
        # lookup key, so one dict lookup checks all three; any miss or bad
        # length goes to _reject, which finds the reason in the documented order.
        size = len(blob)
        state = self._by_header.get(blob[:_HEADER_SIZE])
        if state is None or size < state.min_size or size > self._max_blob:
            self._reject(blob)
        nonce_end = state.nonce_end
        # A memoryview avoids copying large ciphertexts; small ones are
        # cheaper to slice.
        body = memoryview(blob)[nonce_end:] if size > _COPY_LIMIT else blob[nonce_end:]
        try:
            return state.cipher.decrypt(
                blob[_HEADER_SIZE:nonce_end],
                body,  # type: ignore[arg-type]  # any bytes-like object
                state.header + context,
            )
        except InvalidTag:
            raise _fail(DecryptionReason.AUTHENTICATION_FAILED) from None

    def _reject(self, blob: bytes) -> NoReturn:
        """Raise the first failing check: length, version, key id, algorithm."""
        size = len(blob)
        if size < _HEADER_SIZE + 12 + _TAG_SIZE:
            raise _fail(DecryptionReason.TOO_SHORT)
        if size > self._max_blob:
            raise _fail(DecryptionReason.TOO_LARGE)
        self._state_for(blob, ENVELOPE_VERSION)
        raise _fail(DecryptionReason.TOO_SHORT)

    def _state_for(self, header: bytes, version: int) -> _KeyState:
        """Check a header's version byte, key id and algorithm byte, in that order.

        ``header`` holds at least ``_HEADER_SIZE`` bytes (callers check the
        length first). Every format shares this order, so the reason for a
        bad header is the same whichever entry point saw it.
        """
        if header[0] != version:
            raise _fail(DecryptionReason.UNSUPPORTED_VERSION)
        state = self._states.get(int.from_bytes(header[1:5], "big"))
        if state is None:
            raise _fail(DecryptionReason.UNKNOWN_KEY)
        if header[5] != state.alg_byte:
            raise _fail(DecryptionReason.ALGORITHM_MISMATCH)
        return state

    def reencrypt(self, blob: bytes, *, context: bytes) -> bytes:
        """Move an envelope to the primary key (for key rotation).

        The envelope is always authenticated first. One already under the
        primary key is returned unchanged; any other is decrypted and
        encrypted again under the primary key with a fresh nonce.

        Raises:
            TypeError: ``blob`` or ``context`` is not ``bytes``.
            DecryptionError: ``blob`` does not decrypt under ``context``.
        """
        plaintext = self.decrypt(blob, context=context)
        if blob[1:5] == self._primary.header[1:5]:
            return blob
        return self.encrypt(plaintext, context=context)

    def needs_reencryption(self, blob: bytes) -> bool:
        """Return True if ``blob``'s header names a key other than the primary.

        This reads the header *without authenticating* the envelope: use it
        to select rows for a re-encryption job, then call :meth:`reencrypt`,
        which does authenticate. Works for one-shot, stream headers and
        deterministic values alike.

        Raises:
            TypeError: ``blob`` is not ``bytes``.
            DecryptionError: ``blob`` is too short or has an unknown format byte.
        """
        _require_bytes(blob, "blob")
        if len(blob) < _HEADER_SIZE:
            raise _fail(DecryptionReason.TOO_SHORT)
        if blob[0] not in {ENVELOPE_VERSION, STREAM_VERSION, DETERMINISTIC_VERSION}:
            raise _fail(DecryptionReason.UNSUPPORTED_VERSION)
        return blob[1:5] != self._primary.header[1:5]

    # -- deterministic -------------------------------------------------------

    def _siv_for(self, state: _KeyState) -> AESSIV:
        siv = self._siv.get(state.key.id)
        if siv is None:
            siv = AESSIV(state.key.derive(_SIV_PURPOSE, length=_SIV_KEY_SIZE))
            self._siv[state.key.id] = siv
        return siv

    def encrypt_deterministic(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt so that equal plaintexts give equal ciphertexts (AES-SIV).

        Danger:
            Deterministic encryption leaks equality: anyone who sees two
            ciphertexts made under the same key and context learns whether
            the plaintexts are equal (and can count repeats). Use it only
            where that is the point, such as an encrypted email column with a
            unique index or an equality lookup; use :meth:`encrypt` for
            everything else. Equality holds per key: after rotation, look
            values up with :meth:`deterministic_lookup_values` or
            re-encrypt first.

        Args:
            plaintext: the value (at most ``max_plaintext`` bytes).
            context: associated data, e.g. ``b"users.email"``.

        Returns:
            ``0xD1 | key id | alg | SIV tag (16) | ciphertext``.

        Raises:
            TypeError: ``plaintext`` or ``context`` is not ``bytes``.
            ConfigurationError: ``plaintext`` is over the one-shot cap.
        """
        _require_bytes(plaintext, "plaintext")
        _require_bytes(context, "context")
        if len(plaintext) > self._max_plaintext:
            raise ConfigurationError(
                f"plaintext is over the one-shot cap of {self._max_plaintext} bytes"
            )
        return self._deterministic(self._primary, plaintext, context)

    def _deterministic(self, state: _KeyState, plaintext: bytes, context: bytes) -> bytes:
        header = bytes([DETERMINISTIC_VERSION]) + state.header[1:]
        return header + self._siv_for(state).encrypt(plaintext, [header, context])

    def deterministic_lookup_values(self, plaintext: bytes, *, context: bytes) -> list[bytes]:
        """Return ``plaintext``'s deterministic ciphertext under every key, primary first.

        During a key rotation a column holds values under old and new keys;
        query with ``WHERE col IN (...)`` over these values until the column
        has been re-encrypted under the primary key.

        Raises:
            TypeError: ``plaintext`` or ``context`` is not ``bytes``.
            ConfigurationError: ``plaintext`` is over the one-shot cap.
        """
        first = self.encrypt_deterministic(plaintext, context=context)
        values = [first]
        for state in self._states.values():
            if state is self._primary:
                continue
            values.append(self._deterministic(state, plaintext, context))
        return values

    def decrypt_deterministic(self, blob: bytes, *, context: bytes) -> bytes:
        """Authenticate and decrypt a value made by :meth:`encrypt_deterministic`.

        Raises:
            TypeError: ``blob`` or ``context`` is not ``bytes``.
            DecryptionError: for every other failure, with a ``reason``.
        """
        _require_bytes(blob, "blob")
        _require_bytes(context, "context")
        size = len(blob)
        if size < _HEADER_SIZE + _SIV_TAG_SIZE:
            raise _fail(DecryptionReason.TOO_SHORT)
        if size > self._max_plaintext + _HEADER_SIZE + _SIV_TAG_SIZE:
            raise _fail(DecryptionReason.TOO_LARGE)
        state = self._state_for(blob, DETERMINISTIC_VERSION)
        try:
            return self._siv_for(state).decrypt(blob[_HEADER_SIZE:], [blob[:_HEADER_SIZE], context])
        except InvalidTag:
            raise _fail(DecryptionReason.AUTHENTICATION_FAILED) from None

    # -- streaming -----------------------------------------------------------

    def _stream_key(self, state: _KeyState) -> bytes:
        key = self._streams.get(state.key.id)
        if key is None:
            key = state.key.derive(_STREAM_PURPOSE)
            self._streams[state.key.id] = key
        return key

    def encrypt_stream(
        self,
        src: Readable,
        dst: Writable,
        *,
        context: bytes,
        progress: Progress | None = None,
    ) -> int:
        """Encrypt everything read from ``src`` into ``dst``, in constant memory.

        The output is ``0xB1 | key id | alg`` followed by a C2SP chunked
        ciphertext (16 KiB AES-256-GCM chunks, key commitment, authenticated
        end of message) under a key derived from the primary key.

        Args:
            src: a binary file object to read plaintext from.
            dst: a binary file object to write the ciphertext to.
            context: associated data, required (``b""`` explicitly if none).
            progress: optional callback given the plaintext bytes done so far.

        Returns:
            The number of plaintext bytes encrypted.

        Raises:
            TypeError: ``context`` is not ``bytes``.
        """
        _require_bytes(context, "context")
        state = self._primary
        header = bytes([STREAM_VERSION]) + state.header[1:]
        dst.write(header)
        return _chunked.encrypt(
            self._stream_key(state), header + context, src, dst, progress=progress
        )

    def decrypt_stream(
        self,
        src: Readable,
        dst: Writable,
        *,
        context: bytes,
        progress: Progress | None = None,
    ) -> int:
        """Decrypt a stream made by :meth:`encrypt_stream`, chunk by chunk.

        The key commitment is checked before any chunk; each 16 KiB chunk is
        written to ``dst`` only after it authenticates; truncation, reordered
        or duplicated chunks and appended data all fail.

        Danger:
            When this raises, ``dst`` may already hold some authenticated
            leading chunks: discard it. :meth:`decrypt_file` does that for
            you (it writes to a temporary file and renames only on success).

        Returns:
            The number of plaintext bytes written.

        Raises:
            TypeError: ``context`` is not ``bytes``.
            DecryptionError: for every failure, with a ``reason``.
        """
        _require_bytes(context, "context")
        header = _chunked.read_full(src, _HEADER_SIZE)
        if len(header) < _HEADER_SIZE:
            raise _fail(DecryptionReason.TOO_SHORT)
        state = self._state_for(header, STREAM_VERSION)
        try:
            return _chunked.decrypt(
                self._stream_key(state), header + context, src, dst, progress=progress
            )
        except _chunked.ChunkedError as exc:
            raise _fail(_CHUNKED_REASONS[exc.reason]) from None

    def encrypt_file(
        self,
        src: str | os.PathLike[str],
        dst: str | os.PathLike[str],
        *,
        context: bytes,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Encrypt the file ``src`` into ``dst`` (see :meth:`encrypt_stream`).

        The output goes to a temporary file in ``dst``'s directory (mode
        0600), which is renamed to ``dst`` only when encryption finished.

        Raises:
            FileExistsError: ``dst`` exists and ``overwrite`` is False.
            ConfigurationError: ``src`` and ``dst`` are the same path.
        """
        _require_bytes(context, "context")
        return _via_temp(
            src,
            dst,
            overwrite=overwrite,
            work=functools.partial(self.encrypt_stream, context=context, progress=progress),
        )

    def decrypt_file(
        self,
        src: str | os.PathLike[str],
        dst: str | os.PathLike[str],
        *,
        context: bytes,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Decrypt the file ``src`` into ``dst`` (see :meth:`decrypt_stream`).

        Plaintext goes to a temporary file in ``dst``'s directory (mode 0600)
        which is renamed to ``dst`` only after the whole stream authenticated;
        on any failure it is deleted and ``dst`` is left untouched.

        Raises:
            FileExistsError: ``dst`` exists and ``overwrite`` is False.
            ConfigurationError: ``src`` and ``dst`` are the same path.
            DecryptionError: the stream does not authenticate.
        """
        _require_bytes(context, "context")
        return _via_temp(
            src,
            dst,
            overwrite=overwrite,
            work=functools.partial(self.decrypt_stream, context=context, progress=progress),
        )


def _via_temp(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool,
    work: Callable[[Readable, Writable], int],
) -> int:
    source, target = Path(src), Path(dst)
    if source.resolve() == target.resolve():
        raise ConfigurationError("source and destination must be different files")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists (pass overwrite=True to replace it)")
    # mkstemp creates the file with mode 0600 in the target's directory, so
    # the final rename is atomic (same file system) and no other user can read
    # partial plaintext.
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent or Path(), prefix=f".{target.name}.", suffix=".tmp"
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fout:
            with source.open("rb") as fin:
                total = work(fin, fout)
            fout.flush()
            os.fsync(fout.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return total
