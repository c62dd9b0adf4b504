"""securekit.aead: one-shot envelopes, deterministic AEAD, misuse and tampering."""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.aead import (
    ALGORITHM_BYTES,
    DEFAULT_MAX_PLAINTEXT,
    DETERMINISTIC_VERSION,
    ENVELOPE_VERSION,
    STREAM_VERSION,
    Aead,
)
from securekit.errors import ConfigurationError, DecryptionError, DecryptionReason
from securekit.keys import Algorithm, Key, KeyKind, KeyRing, KeyStatus
from tests._leak import assert_no_leak

ALGS = [Algorithm.XAES_256_GCM, Algorithm.AES_256_GCM, Algorithm.CHACHA20_POLY1305]
NONCE = {Algorithm.XAES_256_GCM: 24, Algorithm.AES_256_GCM: 12, Algorithm.CHACHA20_POLY1305: 12}
CTX = b"users.ssn:42"

RING = KeyRing.generate("aead")
BOX = Aead(RING)


def make_key(
    key_id: int, alg: Algorithm = Algorithm.XAES_256_GCM, material: bytes | None = None
) -> Key:
    return Key(
        id=key_id,
        kind=KeyKind.AEAD,
        alg=alg,
        status=KeyStatus.PRIMARY,
        material=os.urandom(32) if material is None else material,
    )


def reason(exc: pytest.ExceptionInfo[DecryptionError]) -> DecryptionReason:
    return exc.value.reason


# -- round trips and format ---------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_round_trip_and_layout_per_algorithm(alg: Algorithm) -> None:
    ring = KeyRing([make_key(0x01020304, alg)])
    box = Aead(ring)
    blob = box.encrypt(b"secret", context=CTX)
    assert box.decrypt(blob, context=CTX) == b"secret"
    assert blob[0] == ENVELOPE_VERSION == 0xA1
    assert blob[1:5] == bytes.fromhex("01020304")
    assert blob[5] == ALGORITHM_BYTES[alg]
    assert len(blob) == 6 + NONCE[alg] + len(b"secret") + 16


@pytest.mark.parametrize("alg", ALGS)
def test_large_values_round_trip_and_fail_closed(alg: Algorithm) -> None:
    # Above 4 KiB decrypt passes a memoryview instead of a copy: same result.
    box = Aead(KeyRing([make_key(11, alg)]))
    data = os.urandom(100_000)
    blob = box.encrypt(data, context=CTX)
    assert box.decrypt(blob, context=CTX) == data
    bad = bytearray(blob)
    bad[50_000] ^= 0x80
    with pytest.raises(DecryptionError):
        box.decrypt(bytes(bad), context=CTX)


def test_default_algorithm_is_xaes() -> None:
    blob = BOX.encrypt(b"x", context=b"")
    assert blob[5] == ALGORITHM_BYTES[Algorithm.XAES_256_GCM]
    assert len(blob) == 6 + 24 + 1 + 16


def test_fresh_nonce_every_time() -> None:
    blobs = {BOX.encrypt(b"same", context=CTX) for _ in range(50)}
    assert len(blobs) == 50
    assert len({b[6:30] for b in blobs}) == 50


def test_empty_plaintext_and_empty_context() -> None:
    assert BOX.decrypt(BOX.encrypt(b"", context=b""), context=b"") == b""


def test_context_is_required_keyword() -> None:
    with pytest.raises(TypeError):
        BOX.encrypt(b"x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        BOX.encrypt(b"x", b"ctx")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        BOX.decrypt(BOX.encrypt(b"x", context=b""))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "call",
    [
        lambda: BOX.encrypt("text", context=b""),  # type: ignore[arg-type]
        lambda: BOX.encrypt(b"x", context="ctx"),  # type: ignore[arg-type]
        lambda: BOX.encrypt(bytearray(b"x"), context=b""),  # type: ignore[arg-type]
        lambda: BOX.decrypt("blob", context=b""),  # type: ignore[arg-type]
        lambda: BOX.decrypt(b"x" * 64, context=None),  # type: ignore[arg-type]
        lambda: BOX.reencrypt("blob", context=b""),  # type: ignore[arg-type]
        lambda: BOX.needs_reencryption("blob"),  # type: ignore[arg-type]
        lambda: BOX.encrypt_deterministic("x", context=b""),  # type: ignore[arg-type]
        lambda: BOX.encrypt_deterministic(b"x", context="c"),  # type: ignore[arg-type]
        lambda: BOX.decrypt_deterministic("x", context=b""),  # type: ignore[arg-type]
        lambda: BOX.decrypt_deterministic(b"x", context=1),  # type: ignore[arg-type]
    ],
)
def test_wrong_python_types_raise_type_error(call: object) -> None:
    with pytest.raises(TypeError):
        call()  # type: ignore[operator]


def test_bytes_subclass_is_accepted() -> None:
    class Sub(bytes):
        pass

    blob = BOX.encrypt(Sub(b"abc"), context=Sub(b"c"))
    assert BOX.decrypt(Sub(blob), context=Sub(b"c")) == b"abc"


# -- construction misuse ------------------------------------------------------


def test_rejects_non_ring() -> None:
    with pytest.raises(TypeError):
        Aead(b"k" * 32)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["mac", "signing"])
def test_rejects_ring_of_wrong_kind(kind: str) -> None:
    with pytest.raises(ConfigurationError, match="aead"):
        Aead(KeyRing.generate(kind))


@pytest.mark.parametrize("value", [0, -1, 1024 * 1024 * 1024 + 1])
def test_rejects_bad_max_plaintext(value: int) -> None:
    with pytest.raises(ConfigurationError, match="max_plaintext"):
        Aead(RING, max_plaintext=value)


@pytest.mark.parametrize("value", [True, 1.5, "10"])
def test_rejects_non_int_max_plaintext(value: object) -> None:
    with pytest.raises(TypeError):
        Aead(RING, max_plaintext=value)  # type: ignore[arg-type]


def test_default_cap_is_64_mib() -> None:
    assert DEFAULT_MAX_PLAINTEXT == 64 * 1024 * 1024


def test_one_shot_cap_points_to_streaming() -> None:
    box = Aead(RING, max_plaintext=100)
    box.encrypt(b"x" * 100, context=b"")
    with pytest.raises(ConfigurationError, match="encrypt_stream"):
        box.encrypt(b"x" * 101, context=b"")
    with pytest.raises(ConfigurationError, match="cap"):
        box.encrypt_deterministic(b"x" * 101, context=b"")


# -- decryption failures, in the documented order -------------------------------


def test_wrong_context_fails() -> None:
    blob = BOX.encrypt(b"secret", context=b"users.ssn:42")
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt(blob, context=b"users.ssn:43")
    assert reason(exc) is DecryptionReason.AUTHENTICATION_FAILED


def test_too_short() -> None:
    for size in range(34):
        with pytest.raises(DecryptionError) as exc:
            BOX.decrypt(b"\xa1" + bytes(size - 1) if size else b"", context=b"")
        assert reason(exc) is DecryptionReason.TOO_SHORT


def test_too_short_for_xaes_nonce() -> None:
    # 34..45 bytes would fit a 12-byte-nonce envelope but not a XAES one.
    blob = BOX.encrypt(b"", context=b"")[:40]
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt(blob, context=b"")
    assert reason(exc) is DecryptionReason.TOO_SHORT


def test_too_large_is_rejected_before_crypto() -> None:
    box = Aead(RING, max_plaintext=10)
    blob = Aead(RING).encrypt(b"x" * 11, context=b"")
    with pytest.raises(DecryptionError) as exc:
        box.decrypt(blob, context=b"")
    assert reason(exc) is DecryptionReason.TOO_LARGE
    assert box.decrypt(BOX.encrypt(b"x" * 10, context=b""), context=b"") == b"x" * 10


@pytest.mark.parametrize("version", [0x00, 0xA0, 0xA2, STREAM_VERSION, DETERMINISTIC_VERSION, 0xFF])
def test_unsupported_version(version: int) -> None:
    blob = bytearray(BOX.encrypt(b"secret", context=b""))
    blob[0] = version
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt(bytes(blob), context=b"")
    assert reason(exc) is DecryptionReason.UNSUPPORTED_VERSION


def test_unknown_key_id() -> None:
    blob = Aead(KeyRing.generate("aead")).encrypt(b"secret", context=b"")
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt(blob, context=b"")
    assert reason(exc) is DecryptionReason.UNKNOWN_KEY


def test_algorithm_byte_must_match_key_and_never_selects() -> None:
    material = os.urandom(32)
    xaes = Aead(KeyRing([make_key(7, Algorithm.XAES_256_GCM, material)]))
    gcm = Aead(KeyRing([make_key(7, Algorithm.AES_256_GCM, material)]))
    blob = gcm.encrypt(b"secret", context=b"")
    # Same key id and material, other algorithm: refused by the header check.
    with pytest.raises(DecryptionError) as exc:
        xaes.decrypt(blob, context=b"")
    assert reason(exc) is DecryptionReason.ALGORITHM_MISMATCH
    # Rewriting the algorithm byte does not switch the cipher either.
    forged = bytearray(blob)
    forged[5] = ALGORITHM_BYTES[Algorithm.XAES_256_GCM]
    with pytest.raises(DecryptionError):
        xaes.decrypt(bytes(forged), context=b"")


def test_header_is_authenticated() -> None:
    # Two keys with the same material but different ids: moving a ciphertext
    # to the other id must fail because the id is part of the AAD.
    material = os.urandom(32)
    retired = Key(
        id=2,
        kind=KeyKind.AEAD,
        alg=Algorithm.XAES_256_GCM,
        status=KeyStatus.RETIRED,
        material=material,
    )
    box = Aead(KeyRing([make_key(1, material=material), retired]))
    blob = bytearray(box.encrypt(b"secret", context=b""))
    blob[1:5] = (2).to_bytes(4, "big")
    with pytest.raises(DecryptionError) as exc:
        box.decrypt(bytes(blob), context=b"")
    assert reason(exc) is DecryptionReason.AUTHENTICATION_FAILED


def test_every_single_bit_flip_fails() -> None:
    blob = BOX.encrypt(b"attack at dawn", context=CTX)
    for i in range(len(blob) * 8):
        bad = bytearray(blob)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptionError):
            BOX.decrypt(bytes(bad), context=CTX)


def test_truncation_and_extension_fail() -> None:
    blob = BOX.encrypt(b"attack at dawn", context=CTX)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            BOX.decrypt(blob[:cut], context=CTX)
    with pytest.raises(DecryptionError):
        BOX.decrypt(blob + b"\x00", context=CTX)


def test_errors_do_not_leak_plaintext_context_or_key() -> None:
    plaintext = os.urandom(16).hex().encode()
    context = os.urandom(8).hex().encode()
    key = make_key(9)
    box = Aead(KeyRing([key]))
    blob = box.encrypt(plaintext, context=context + b"1")
    with pytest.raises(DecryptionError) as exc:
        box.decrypt(blob, context=context + b"2")
    assert_no_leak(exc.value, plaintext, context, key.material, blob[6:30])
    assert str(exc.value) == "the data could not be decrypted"
    with pytest.raises(DecryptionError) as exc2:
        box.decrypt(b"\x00" * 40 + plaintext, context=b"")
    assert_no_leak(exc2.value, plaintext)


# -- rotation -----------------------------------------------------------------


def test_retired_key_still_decrypts_and_removed_one_fails() -> None:
    ring = KeyRing.generate("aead")
    old_blob = Aead(ring).encrypt(b"old", context=CTX)
    rotated = ring.rotate()
    box = Aead(rotated)
    assert box.decrypt(old_blob, context=CTX) == b"old"
    new_blob = box.encrypt(b"new", context=CTX)
    assert int.from_bytes(new_blob[1:5], "big") == rotated.primary.id != ring.primary.id
    removed = Aead(rotated.remove(ring.primary.id))
    with pytest.raises(DecryptionError) as exc:
        removed.decrypt(old_blob, context=CTX)
    assert reason(exc) is DecryptionReason.UNKNOWN_KEY
    assert removed.decrypt(new_blob, context=CTX) == b"new"


def test_reencrypt_moves_to_primary() -> None:
    ring = KeyRing.generate("aead")
    old_blob = Aead(ring).encrypt(b"data", context=CTX)
    box = Aead(ring.rotate())
    assert box.needs_reencryption(old_blob)
    moved = box.reencrypt(old_blob, context=CTX)
    assert moved != old_blob
    assert not box.needs_reencryption(moved)
    assert box.decrypt(moved, context=CTX) == b"data"
    # Already under the primary: authenticated, then returned as is.
    assert box.reencrypt(moved, context=CTX) is moved
    with pytest.raises(DecryptionError):
        box.reencrypt(old_blob, context=b"other")
    with pytest.raises(DecryptionError):
        box.reencrypt(moved[:-1] + bytes([moved[-1] ^ 1]), context=CTX)


def test_needs_reencryption_reads_any_format_header() -> None:
    assert not BOX.needs_reencryption(BOX.encrypt_deterministic(b"x", context=b""))
    other = Aead(KeyRing.generate("aead")).encrypt(b"x", context=b"")
    assert BOX.needs_reencryption(other)
    with pytest.raises(DecryptionError) as exc:
        BOX.needs_reencryption(b"\xa1\x00")
    assert reason(exc) is DecryptionReason.TOO_SHORT
    with pytest.raises(DecryptionError) as exc:
        BOX.needs_reencryption(b"\x00" * 40)
    assert reason(exc) is DecryptionReason.UNSUPPORTED_VERSION


# -- deterministic ---------------------------------------------------------------


def test_deterministic_equal_plaintexts_equal_ciphertexts() -> None:
    a = BOX.encrypt_deterministic(b"alice@example.com", context=b"users.email")
    b = BOX.encrypt_deterministic(b"alice@example.com", context=b"users.email")
    c = BOX.encrypt_deterministic(b"bob@example.com", context=b"users.email")
    d = BOX.encrypt_deterministic(b"alice@example.com", context=b"admins.email")
    assert a == b
    assert a != c
    assert a != d
    assert a[0] == DETERMINISTIC_VERSION == 0xD1
    assert BOX.decrypt_deterministic(a, context=b"users.email") == b"alice@example.com"
    assert len(a) == 6 + 16 + len(b"alice@example.com")


def test_deterministic_key_is_derived_not_the_envelope_key() -> None:
    key = make_key(5)
    box = Aead(KeyRing([key]))
    blob = box.encrypt_deterministic(b"", context=b"")
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    siv = AESSIV(key.derive("siv", length=64))
    assert siv.decrypt(blob[6:], [blob[:6], b""]) == b""


def test_deterministic_and_randomized_formats_do_not_mix() -> None:
    det = BOX.encrypt_deterministic(b"value-1234567890123456789", context=b"")
    rnd = BOX.encrypt(b"value", context=b"")
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt(det, context=b"")
    assert reason(exc) is DecryptionReason.UNSUPPORTED_VERSION
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_deterministic(rnd, context=b"")
    assert reason(exc) is DecryptionReason.UNSUPPORTED_VERSION


def test_deterministic_failures() -> None:
    blob = BOX.encrypt_deterministic(b"value", context=b"c")
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_deterministic(blob[:21], context=b"c")
    assert reason(exc) is DecryptionReason.TOO_SHORT
    with pytest.raises(DecryptionError) as exc:
        Aead(RING, max_plaintext=2).decrypt_deterministic(blob, context=b"c")
    assert reason(exc) is DecryptionReason.TOO_LARGE
    with pytest.raises(DecryptionError) as exc:
        Aead(KeyRing.generate("aead")).decrypt_deterministic(blob, context=b"c")
    assert reason(exc) is DecryptionReason.UNKNOWN_KEY
    bad = bytearray(blob)
    bad[5] = 0x02
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_deterministic(bytes(bad), context=b"c")
    assert reason(exc) is DecryptionReason.ALGORITHM_MISMATCH
    with pytest.raises(DecryptionError) as exc:
        BOX.decrypt_deterministic(blob, context=b"d")
    assert reason(exc) is DecryptionReason.AUTHENTICATION_FAILED
    for i in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(DecryptionError):
            BOX.decrypt_deterministic(bytes(flipped), context=b"c")


def test_deterministic_lookup_values_cover_every_key() -> None:
    ring = KeyRing.generate("aead")
    old = Aead(ring).encrypt_deterministic(b"a@example.com", context=b"users.email")
    rotated = ring.rotate()
    box = Aead(rotated)
    values = box.deterministic_lookup_values(b"a@example.com", context=b"users.email")
    assert len(values) == len(rotated) == 2
    assert values[0] == box.encrypt_deterministic(b"a@example.com", context=b"users.email")
    assert values[1] == old
    for value in values:
        assert box.decrypt_deterministic(value, context=b"users.email") == b"a@example.com"
    assert Aead(ring).deterministic_lookup_values(b"x", context=b"") == [
        Aead(ring).encrypt_deterministic(b"x", context=b"")
    ]
    with pytest.raises(TypeError):
        box.deterministic_lookup_values("x", context=b"")  # type: ignore[arg-type]


def test_deterministic_retired_key_still_decrypts() -> None:
    ring = KeyRing.generate("aead")
    blob = Aead(ring).encrypt_deterministic(b"v", context=b"")
    box = Aead(ring.rotate())
    assert box.decrypt_deterministic(blob, context=b"") == b"v"
    assert box.encrypt_deterministic(b"v", context=b"") != blob


# -- concurrency ----------------------------------------------------------------


def test_shared_instance_is_thread_safe() -> None:
    box = Aead(KeyRing.generate("aead"))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                data = f"{n}-{i}".encode()
                if box.decrypt(box.encrypt(data, context=b"t"), context=b"t") != data:
                    errors.append(AssertionError(data))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- properties -------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=300), context=st.binary(max_size=50), alg=st.sampled_from(ALGS))
def test_property_round_trip(plaintext: bytes, context: bytes, alg: Algorithm) -> None:
    box = Aead(KeyRing([make_key(3, alg)]))
    assert box.decrypt(box.encrypt(plaintext, context=context), context=context) == plaintext
    det = box.encrypt_deterministic(plaintext, context=context)
    assert box.decrypt_deterministic(det, context=context) == plaintext


@settings(max_examples=100, deadline=None)
@given(plaintext=st.binary(max_size=64), context=st.binary(max_size=16), data=st.data())
def test_property_any_modification_fails(
    plaintext: bytes, context: bytes, data: st.DataObject
) -> None:
    blob = BOX.encrypt(plaintext, context=context)
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    flipped = bytearray(blob)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        BOX.decrypt(bytes(flipped), context=context)
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(DecryptionError):
        BOX.decrypt(blob[:cut], context=context)
    extra = data.draw(st.binary(min_size=1, max_size=20))
    with pytest.raises(DecryptionError):
        BOX.decrypt(blob + extra, context=context)
    other = data.draw(st.binary(max_size=16).filter(lambda c: c != context))
    with pytest.raises(DecryptionError):
        BOX.decrypt(blob, context=other)


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=200), context=st.binary(max_size=8))
def test_property_junk_raises_only_decryption_error(junk: bytes, context: bytes) -> None:
    for fn in (BOX.decrypt, BOX.decrypt_deterministic, BOX.reencrypt):
        with pytest.raises(DecryptionError):
            fn(junk, context=context)


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=120), context=st.binary(max_size=8))
def test_property_junk_with_valid_header_raises_only_decryption_error(
    tail: bytes, context: bytes
) -> None:
    header = BOX.encrypt(b"", context=b"")[:6]
    det_header = BOX.encrypt_deterministic(b"", context=b"")[:6]
    with pytest.raises(DecryptionError):
        BOX.decrypt(header + tail, context=context)
    with pytest.raises(DecryptionError):
        BOX.decrypt_deterministic(det_header + tail, context=context)
