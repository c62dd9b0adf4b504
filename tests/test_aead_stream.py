"""securekit.aead streaming: C2SP chunked encryption in the securekit header, file helpers."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit import _chunked
from securekit.aead import ALGORITHM_BYTES, STREAM_VERSION, Aead
from securekit.errors import ConfigurationError, DecryptionError, DecryptionReason
from securekit.keys import Algorithm, Key, KeyKind, KeyRing, KeyStatus
from tests._leak import assert_no_leak

RING = KeyRing.generate("aead")
BOX = Aead(RING)
CTX = b"backups/2026-01-01.tar"
CHUNK = _chunked.CHUNK_SIZE
SEALED = _chunked.SEALED_CHUNK
#: securekit header (6) + salt (24) + commitment (32).
PREFIX = 6 + _chunked.HEADER_SIZE


def seal(data: bytes, *, box: Aead = BOX, context: bytes = CTX) -> bytes:
    out = io.BytesIO()
    assert box.encrypt_stream(io.BytesIO(data), out, context=context) == len(data)
    return out.getvalue()


def unseal(blob: bytes, *, box: Aead = BOX, context: bytes = CTX) -> bytes:
    out = io.BytesIO()
    n = box.decrypt_stream(io.BytesIO(blob), out, context=context)
    assert n == len(out.getvalue())
    return out.getvalue()


def reason_of(blob: bytes, *, context: bytes = CTX) -> DecryptionReason:
    with pytest.raises(DecryptionError) as exc:
        unseal(blob, context=context)
    return exc.value.reason


class Trickle(io.RawIOBase):
    """A reader that returns at most ``step`` bytes per read (like a socket)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._step if size < 0 else min(size, self._step)
        chunk = bytes(self._data[self._pos : self._pos + size])
        self._pos += len(chunk)
        return chunk


SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_layout(size: int) -> None:
    data = os.urandom(size)
    blob = seal(data)
    assert blob[0] == STREAM_VERSION
    assert blob[1:5] == RING.primary.id.to_bytes(4, "big")
    assert blob[5] == ALGORITHM_BYTES[RING.primary.alg]
    # One short final chunk always terminates (possibly empty): C2SP sizes.
    chunks = size // CHUNK + 1
    assert len(blob) == PREFIX + size + 16 * chunks
    assert unseal(blob) == data


def test_batch_boundaries_round_trip() -> None:
    # Sizes around the 64-chunk read batch exercise the read-ahead logic.
    batch = CHUNK * 64
    for size in (batch - 1, batch, batch + 1, 2 * batch):
        data = os.urandom(size)
        assert unseal(seal(data)) == data


def test_stream_uses_derived_key_and_c2sp_body() -> None:
    # The body after the 6-byte header is a plain C2SP ciphertext under
    # key.derive("stream") with context header || context.
    blob = seal(b"hello")
    out = io.BytesIO()
    _chunked.decrypt(RING.primary.derive("stream"), blob[:6] + CTX, io.BytesIO(blob[6:]), out)
    assert out.getvalue() == b"hello"


@pytest.mark.parametrize("alg", [Algorithm.AES_256_GCM, Algorithm.CHACHA20_POLY1305])
def test_other_key_algorithms_stream_too(alg: Algorithm) -> None:
    box = Aead(KeyRing.generate("aead", alg=alg))
    blob = seal(b"data", box=box)
    assert blob[5] == ALGORITHM_BYTES[alg]
    assert unseal(blob, box=box) == b"data"


def test_short_reads_are_handled() -> None:
    data = os.urandom(2 * CHUNK + 100)
    sealed = io.BytesIO()
    BOX.encrypt_stream(Trickle(data, 777), sealed, context=CTX)
    out = io.BytesIO()
    BOX.decrypt_stream(Trickle(sealed.getvalue(), 1000), out, context=CTX)
    assert out.getvalue() == data


def test_short_reads_across_batches() -> None:
    data = os.urandom(CHUNK * 64 + 10)
    sealed = io.BytesIO()
    BOX.encrypt_stream(Trickle(data, 50_000), sealed, context=CTX)
    out = io.BytesIO()
    BOX.decrypt_stream(Trickle(sealed.getvalue(), 70_000), out, context=CTX)
    assert out.getvalue() == data


def test_progress_reports_plaintext_bytes() -> None:
    data = os.urandom(CHUNK * 64 + 10)
    seen: list[int] = []
    sealed = io.BytesIO()
    BOX.encrypt_stream(io.BytesIO(data), sealed, context=CTX, progress=seen.append)
    assert seen[-1] == len(data)
    assert seen == sorted(seen)
    back: list[int] = []
    BOX.decrypt_stream(
        io.BytesIO(sealed.getvalue()), io.BytesIO(), context=CTX, progress=back.append
    )
    assert back[-1] == len(data)


def test_context_required_and_typed() -> None:
    with pytest.raises(TypeError):
        BOX.encrypt_stream(io.BytesIO(b""), io.BytesIO())  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        BOX.encrypt_stream(io.BytesIO(b""), io.BytesIO(), context="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BOX.decrypt_stream(io.BytesIO(b""), io.BytesIO(), context="x")  # type: ignore[arg-type]


# -- failures -------------------------------------------------------------------------


def test_wrong_context_is_rejected_by_commitment_before_any_chunk() -> None:
    blob = seal(os.urandom(3 * CHUNK))
    out = io.BytesIO()
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_stream(io.BytesIO(blob), out, context=b"other")
    assert exc.value.reason is DecryptionReason.AUTHENTICATION_FAILED
    assert out.getvalue() == b""


def test_header_failures() -> None:
    blob = seal(b"abc")
    assert reason_of(blob[:5]) is DecryptionReason.TOO_SHORT
    assert reason_of(b"\xa1" + blob[1:]) is DecryptionReason.UNSUPPORTED_VERSION
    other = seal(b"abc", box=Aead(KeyRing.generate("aead")))
    assert reason_of(other) is DecryptionReason.UNKNOWN_KEY
    bad_alg = bytearray(blob)
    bad_alg[5] = 0x02
    assert reason_of(bytes(bad_alg)) is DecryptionReason.ALGORITHM_MISMATCH
    for cut in (6, 7, 30, PREFIX - 1):
        assert reason_of(blob[:cut]) is DecryptionReason.TRUNCATED


def test_header_bytes_are_bound_into_the_key_derivation() -> None:
    # Same material under two ids: swapping the id in the header must fail
    # the commitment, because the header is part of the C2SP context.
    material = os.urandom(32)
    keys = [
        Key(id=i, kind=KeyKind.AEAD, alg=Algorithm.XAES_256_GCM, status=status, material=material)
        for i, status in ((1, KeyStatus.PRIMARY), (2, KeyStatus.RETIRED))
    ]
    box = Aead(KeyRing(keys))
    blob = bytearray(seal(b"abc", box=box))
    blob[1:5] = (2).to_bytes(4, "big")
    with pytest.raises(DecryptionError) as exc:
        unseal(bytes(blob), box=box)
    assert exc.value.reason is DecryptionReason.AUTHENTICATION_FAILED


def test_truncation_at_every_chunk_boundary() -> None:
    data = os.urandom(3 * CHUNK)  # three full chunks + empty final chunk
    blob = seal(data)
    for k in range(4):
        # Cut right after k complete chunks: the short final chunk is missing.
        cut = PREFIX + k * SEALED
        if cut >= len(blob):
            continue
        assert reason_of(blob[:cut]) in {
            DecryptionReason.TRUNCATED,
            DecryptionReason.AUTHENTICATION_FAILED,
        }
    # Dropping only the empty final chunk: a full chunk at the end = truncated.
    assert reason_of(blob[:-16]) is DecryptionReason.TRUNCATED


def test_truncation_anywhere_fails() -> None:
    blob = seal(os.urandom(CHUNK + 100))
    for cut in list(range(80)) + list(range(len(blob) - 40, len(blob))):
        with pytest.raises(DecryptionError):
            unseal(blob[:cut])


def test_extension_fails() -> None:
    data = os.urandom(CHUNK + 10)
    blob = seal(data)
    for extra in (b"\x00", os.urandom(16), os.urandom(SEALED)):
        with pytest.raises(DecryptionError):
            unseal(blob + extra)


def test_appending_a_valid_chunk_fails() -> None:
    # Re-encrypting a longer message with the same salt would give valid
    # chunks at later indices; splicing them after the real end must fail.
    data = os.urandom(2 * CHUNK + 10)
    blob = seal(data)
    longer = seal(data + os.urandom(CHUNK))
    with pytest.raises(DecryptionError):
        unseal(blob + longer[len(blob) :])


def test_reordered_and_duplicated_chunks_fail() -> None:
    blob = seal(os.urandom(3 * CHUNK + 7))
    c0 = blob[PREFIX : PREFIX + SEALED]
    c1 = blob[PREFIX + SEALED : PREFIX + 2 * SEALED]
    rest = blob[PREFIX + 2 * SEALED :]
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        BOX.decrypt_stream(io.BytesIO(blob[:PREFIX] + c1 + c0 + rest), out, context=CTX)
    assert out.getvalue() == b""
    with pytest.raises(DecryptionError):
        unseal(blob[:PREFIX] + c0 + c0 + rest)


def test_plaintext_is_released_only_after_each_chunk_authenticates() -> None:
    data = os.urandom(3 * CHUNK + 7)
    blob = bytearray(seal(data))
    blob[PREFIX + SEALED + 5] ^= 1  # corrupt chunk 1
    out = io.BytesIO()
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_stream(io.BytesIO(bytes(blob)), out, context=CTX)
    assert exc.value.reason is DecryptionReason.AUTHENTICATION_FAILED
    # At most the authenticated chunk 0, never a byte of the corrupted one.
    assert out.getvalue() in {b"", data[:CHUNK]}


def test_stream_errors_do_not_leak() -> None:
    plaintext = os.urandom(20).hex().encode()
    blob = bytearray(seal(plaintext))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError) as exc:
        unseal(bytes(blob))
    assert_no_leak(exc.value, plaintext, RING.primary.material)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=40), context=st.binary(max_size=10), pick=st.data())
def test_property_stream_round_trip_and_tamper(
    data: bytes, context: bytes, pick: st.DataObject
) -> None:
    blob = seal(data, context=context)
    assert unseal(blob, context=context) == data
    bit = pick.draw(st.integers(0, len(blob) * 8 - 1))
    flipped = bytearray(blob)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        unseal(bytes(flipped), context=context)
    cut = pick.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(DecryptionError):
        unseal(blob[:cut], context=context)
    with pytest.raises(DecryptionError):
        unseal(blob + pick.draw(st.binary(min_size=1, max_size=40)), context=context)


@settings(max_examples=15, deadline=None)
@given(size=st.integers(0, 3 * CHUNK + 20), pick=st.data())
def test_property_multi_chunk_tamper(size: int, pick: st.DataObject) -> None:
    data = bytes(size)
    blob = seal(data)
    assert unseal(blob) == data
    bit = pick.draw(st.integers(0, len(blob) * 8 - 1))
    flipped = bytearray(blob)
    flipped[bit // 8] ^= 1 << (bit % 8)
    out = io.BytesIO()
    with pytest.raises(DecryptionError):
        BOX.decrypt_stream(io.BytesIO(bytes(flipped)), out, context=CTX)
    # Whatever was released is an authentic prefix of whole chunks.
    released = out.getvalue()
    assert len(released) % CHUNK == 0
    assert released == data[: len(released)]
    cut = pick.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(DecryptionError):
        unseal(blob[:cut])


@settings(max_examples=150, deadline=None)
@given(junk=st.binary(max_size=300))
def test_property_junk_stream_raises_only_decryption_error(junk: bytes) -> None:
    with pytest.raises(DecryptionError):
        unseal(junk)
    with pytest.raises(DecryptionError):
        unseal(seal(b"")[:6] + junk)


# -- file helpers ------------------------------------------------------------------------


def test_file_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "plain.bin"
    data = os.urandom(CHUNK * 2 + 3)
    src.write_bytes(data)
    enc = tmp_path / "plain.bin.skenc"
    assert BOX.encrypt_file(src, enc, context=CTX) == len(data)
    assert (enc.stat().st_mode & 0o777) == 0o600
    dec = tmp_path / "out.bin"
    assert BOX.decrypt_file(enc, dec, context=CTX) == len(data)
    assert dec.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "plain.bin", "plain.bin.skenc"]


def test_failed_decrypt_leaves_no_output_and_no_temp_file(tmp_path: Path) -> None:
    src = tmp_path / "plain.bin"
    src.write_bytes(os.urandom(CHUNK * 3))
    enc = tmp_path / "enc"
    BOX.encrypt_file(src, enc, context=CTX)
    blob = bytearray(enc.read_bytes())
    blob[-1] ^= 1  # only the last chunk is bad: earlier chunks authenticate
    enc.write_bytes(bytes(blob))
    dec = tmp_path / "dec"
    with pytest.raises(DecryptionError):
        BOX.decrypt_file(enc, dec, context=CTX)
    assert not dec.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enc", "plain.bin"]


def test_failed_decrypt_keeps_existing_destination(tmp_path: Path) -> None:
    enc = tmp_path / "enc"
    enc.write_bytes(b"not a stream")
    dec = tmp_path / "dec"
    dec.write_bytes(b"keep me")
    with pytest.raises(DecryptionError):
        BOX.decrypt_file(enc, dec, context=CTX, overwrite=True)
    assert dec.read_bytes() == b"keep me"


def test_file_helpers_refuse_to_clobber(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_bytes(b"x")
    dst = tmp_path / "b"
    dst.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        BOX.encrypt_file(src, dst, context=b"")
    assert dst.read_bytes() == b"old"
    BOX.encrypt_file(src, dst, context=b"", overwrite=True)
    assert dst.read_bytes() != b"old"
    with pytest.raises(ConfigurationError, match="different"):
        BOX.encrypt_file(src, src, context=b"", overwrite=True)
    with pytest.raises(ConfigurationError, match="different"):
        BOX.decrypt_file(dst, tmp_path / "." / "b", context=b"", overwrite=True)


def test_missing_source_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        BOX.encrypt_file(tmp_path / "missing", tmp_path / "out", context=b"")
    assert list(tmp_path.iterdir()) == []


def test_file_helpers_type_check_context(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        BOX.encrypt_file(tmp_path / "a", tmp_path / "b", context="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        BOX.decrypt_file(tmp_path / "a", tmp_path / "b", context="x")  # type: ignore[arg-type]


# -- the private core ------------------------------------------------------------------


def test_core_rejects_wrong_key_sizes() -> None:
    for size in (0, 16, 31, 33, 64):
        with pytest.raises(_chunked.ChunkedError) as exc:
            _chunked.decrypt(bytes(size), b"", io.BytesIO(bytes(100)), io.BytesIO())
        assert exc.value.reason == "key_size"
        with pytest.raises(_chunked.ChunkedError):
            _chunked.derive(bytes(size), bytes(24), b"")


def test_core_header_only_is_truncated() -> None:
    key = os.urandom(32)
    out = io.BytesIO()
    _chunked.encrypt(key, b"", io.BytesIO(b""), out)
    with pytest.raises(_chunked.ChunkedError) as exc:
        _chunked.decrypt(key, b"", io.BytesIO(out.getvalue()[:56]), io.BytesIO())
    assert exc.value.reason == "truncated"
