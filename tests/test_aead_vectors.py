"""Known-answer tests for securekit.aead and its derivations.

Sources (unmodified files in ../shared/vectors, see the READMEs there):

* C2SP XAES-256-GCM (c2sp.org/XAES-256-GCM): two fixed vectors and the
  accumulated 10,000-iteration vector in every run, the 1,000,000-iteration
  one as a slow test.
* Wycheproof ``aes_gcm_test.json`` (256-bit keys, 96-bit IVs, 128-bit tags:
  the only parameters securekit uses) through the AES-256-GCM envelope cipher
  and through the inner AES-256-GCM of XAES-256-GCM.
* Wycheproof ``chacha20_poly1305_test.json`` through the ChaCha20-Poly1305
  envelope cipher.
* Wycheproof ``c2sp_chunked_encryption_aes_256_gcm_test.json`` through the
  streaming decryptor core (and its encryptor, with the salt injected).
* Wycheproof ``hkdf_sha256_test.json`` through ``securekit.keys``' HKDF.
* Tink (test-only dependency) as an independent XAES-256-GCM oracle, both
  directions, on securekit envelope bodies.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zlib
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes

from securekit import _chunked, keys
from securekit._xaes import XAES256GCM
from securekit.aead import Aead, _cipher_for
from securekit.errors import ConfigurationError
from securekit.keys import Algorithm, Key, KeyKind, KeyRing, KeyStatus
from tests.conftest import load_vectors


def _key(material: bytes, alg: Algorithm, key_id: int = 1) -> Key:
    return Key(id=key_id, kind=KeyKind.AEAD, alg=alg, status=KeyStatus.PRIMARY, material=material)


# -- C2SP XAES-256-GCM --------------------------------------------------------------


def _xaes() -> dict[str, Any]:
    data: dict[str, Any] = load_vectors("c2sp", "xaes-256-gcm.json")
    return data


def test_xaes_fixed_vectors() -> None:
    for vec in _xaes()["fixed"]:
        cipher = XAES256GCM(bytes.fromhex(vec["key_hex"]))
        nonce = vec["nonce_ascii"].encode()
        aad = vec["aad_ascii"].encode()
        plaintext = vec["plaintext_ascii"].encode()
        sealed = cipher.encrypt(nonce, plaintext, aad)
        assert sealed.hex() == vec["ciphertext_and_tag_hex"]
        assert cipher.decrypt(nonce, sealed, aad) == plaintext
        with pytest.raises(InvalidTag):
            cipher.decrypt(nonce, sealed, aad + b"x")


def test_xaes_intermediate_values_from_the_spec() -> None:
    # c2sp.org/XAES-256-GCM lists Kx for both fixed vectors (MSB(L) = 0 and 1).
    nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX"
    kx, nx = XAES256GCM(bytes([1]) * 32).derive(nonce)
    assert kx.hex() == "c8612c9ed53fe43e8e005b828a1631a0bbcb6ab2f46514ec4f439fcfd0fa969b"
    assert nx.hex() == "4d4e4f505152535455565758"
    kx, _ = XAES256GCM(bytes([3]) * 32).derive(nonce)
    assert kx.hex() == "e9c621d4cdd9b11b00a6427ad7e559aeedd66b3857646677748f8ca796cb3fd8"


def test_xaes_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        XAES256GCM(bytes(16))
    cipher = XAES256GCM(bytes(32))
    for bad in (bytes(12), bytes(23), bytes(25)):
        with pytest.raises(ValueError, match="24 bytes"):
            cipher.encrypt(bad, b"", b"")
        with pytest.raises(ValueError, match="24 bytes"):
            cipher.decrypt(bad, bytes(16), b"")
        with pytest.raises(ValueError, match="24 bytes"):
            cipher.derive(bad)


def test_xaes_instance_works_from_other_threads() -> None:
    # Each thread builds its own cached AES context on first use.
    cipher = XAES256GCM(bytes(range(32)))
    nonce = b"ABCDEFGHIJKLMNOPQRSTUVWX"
    expected = cipher.derive(nonce)
    sealed = cipher.encrypt(nonce, b"m", b"a")
    results: list[object] = []
    for fn in (
        lambda: cipher.derive(nonce),
        lambda: cipher.encrypt(nonce, b"m", b"a"),
        lambda: cipher.decrypt(nonce, sealed, b"a"),
    ):
        worker = threading.Thread(target=lambda f=fn: results.append(f()))
        worker.start()
        worker.join()
    assert results == [expected, sealed, b"m"]


def _accumulated(iterations: int) -> str:
    # The C2SP accumulated test: a SHAKE-128 stream supplies key, nonce,
    # plaintext and AAD; a second SHAKE-128 absorbs every ciphertext.
    source = hashes.XOFHash(hashes.SHAKE128(digest_size=2**62))
    source.update(b"")
    sink = hashlib.shake_128()
    for _ in range(iterations):
        key = source.squeeze(32)
        nonce = source.squeeze(24)
        plaintext = source.squeeze(source.squeeze(1)[0])
        aad = source.squeeze(source.squeeze(1)[0])
        sink.update(XAES256GCM(key).encrypt(nonce, plaintext, aad))
    return sink.hexdigest(32)


def test_xaes_accumulated_10000() -> None:
    vec = next(v for v in _xaes()["accumulated"] if v["iterations"] == 10_000)
    assert _accumulated(10_000) == vec["sha3_shake128_32_hex"]


@pytest.mark.slow
def test_xaes_accumulated_1000000() -> None:
    vec = next(v for v in _xaes()["accumulated"] if v["iterations"] == 1_000_000)
    assert _accumulated(1_000_000) == vec["sha3_shake128_32_hex"]


def test_xaes_envelope_body_is_plain_xaes() -> None:
    # An envelope is header || nonce || XAES-256-GCM(plaintext, header || context).
    material = bytes(range(32))
    box = Aead(KeyRing([_key(material, Algorithm.XAES_256_GCM, key_id=0x0A0B0C0D)]))
    blob = box.encrypt(b"XAES-256-GCM", context=b"ctx")
    header, nonce, body = blob[:6], blob[6:30], blob[30:]
    assert XAES256GCM(material).decrypt(nonce, body, header + b"ctx") == b"XAES-256-GCM"


# -- Wycheproof AEAD ----------------------------------------------------------------------


def _aead_cases(name: str) -> list[dict[str, Any]]:
    data = load_vectors("wycheproof", name)
    cases = []
    for group in data["testGroups"]:
        # securekit only ever uses 256-bit keys, 96-bit nonces and full tags.
        if group["keySize"] == 256 and group["ivSize"] == 96 and group["tagSize"] == 128:
            cases.extend(group["tests"])
    return cases


def _check_aead(cipher: Any, case: dict[str, Any]) -> None:
    iv, aad = bytes.fromhex(case["iv"]), bytes.fromhex(case["aad"])
    msg = bytes.fromhex(case["msg"])
    sealed = bytes.fromhex(case["ct"] + case["tag"])
    if case["result"] == "valid":
        assert cipher.decrypt(iv, sealed, aad) == msg
        assert cipher.encrypt(iv, msg, aad) == sealed
    elif case["result"] == "invalid":
        with pytest.raises(InvalidTag):
            cipher.decrypt(iv, sealed, aad)
    else:  # pragma: no cover - no "acceptable" cases at these parameters
        pytest.fail(f"unexpected acceptable case {case['tcId']}")


def test_wycheproof_aes_gcm_through_the_aes_256_gcm_envelope_cipher() -> None:
    cases = _aead_cases("aes_gcm_test.json")
    assert len(cases) > 50
    for case in cases:
        # The factory Aead builds each key's cipher with (Key itself refuses
        # some of the vectors' low-entropy keys, so they cannot form a ring).
        _check_aead(_cipher_for(Algorithm.AES_256_GCM, bytes.fromhex(case["key"])), case)


def test_wycheproof_aes_gcm_through_the_inner_cipher_of_xaes() -> None:
    inner = XAES256GCM.inner
    for case in _aead_cases("aes_gcm_test.json"):
        _check_aead(inner(bytes.fromhex(case["key"])), case)


def test_wycheproof_chacha20_poly1305_through_the_envelope_cipher() -> None:
    cases = _aead_cases("chacha20_poly1305_test.json")
    assert len(cases) > 50
    for case in cases:
        _check_aead(_cipher_for(Algorithm.CHACHA20_POLY1305, bytes.fromhex(case["key"])), case)


# -- Wycheproof C2SP chunked encryption ------------------------------------------------------


def _chunked_cases() -> list[dict[str, Any]]:
    data = load_vectors("wycheproof", "c2sp_chunked_encryption_aes_256_gcm_test.json")
    return [case for group in data["testGroups"] for case in group["tests"]]


@pytest.mark.parametrize("case", _chunked_cases(), ids=lambda c: f"tc{c['tcId']}")
def test_wycheproof_chunked_through_the_stream_decryptor(case: dict[str, Any]) -> None:
    ciphertext = zlib.decompress(bytes.fromhex(case["ct"]))
    key, context = bytes.fromhex(case["key"]), bytes.fromhex(case["ctx"])
    out = io.BytesIO()
    if case["result"] == "valid":
        n = _chunked.decrypt(key, context, io.BytesIO(ciphertext), out)
        assert n == case["msgLength"]
        assert hashlib.sha512(out.getvalue()).hexdigest() == case["msgSha512"]
        # Encryption with the vector's salt reproduces the ciphertext exactly.
        again = io.BytesIO()
        _chunked.encrypt(
            key, context, io.BytesIO(out.getvalue()), again, salt=ciphertext[: _chunked.SALT_SIZE]
        )
        assert again.getvalue() == ciphertext
        return
    with pytest.raises(_chunked.ChunkedError):
        _chunked.decrypt(key, context, io.BytesIO(ciphertext), out)
    released = out.getvalue()
    if "HeaderFailure" in case["flags"]:
        assert released == b""  # rejected before any chunk
    elif "PartialPlaintext" in case["flags"]:
        # Never more than the longest valid prefix, and that prefix exactly.
        assert len(released) <= case["msgLength"]
        if released:
            expected = case["msgSha512"]
            assert len(released) == case["msgLength"]
            assert hashlib.sha512(released).hexdigest() == expected
    else:
        assert released == b""
    if "aeadKey" in case:
        # Raw mode: the chunk layer alone with the published key and nonce.
        with pytest.raises(_chunked.ChunkedError):
            _chunked.decrypt_raw(
                bytes.fromhex(case["aeadKey"]),
                bytes.fromhex(case["baseNonce"]),
                io.BytesIO(ciphertext[_chunked.HEADER_SIZE :]),
                io.BytesIO(),
            )


def test_wycheproof_chunked_raw_mode_valid() -> None:
    for case in _chunked_cases():
        if case["result"] != "valid":
            continue
        ciphertext = zlib.decompress(bytes.fromhex(case["ct"]))
        out = io.BytesIO()
        _chunked.decrypt_raw(
            bytes.fromhex(case["aeadKey"]),
            bytes.fromhex(case["baseNonce"]),
            io.BytesIO(ciphertext[_chunked.HEADER_SIZE :]),
            out,
        )
        assert hashlib.sha512(out.getvalue()).hexdigest() == case["msgSha512"]


# -- Wycheproof HKDF-SHA256 -------------------------------------------------------------------


def _hkdf_cases() -> list[dict[str, Any]]:
    data = load_vectors("wycheproof", "hkdf_sha256_test.json")
    return [case for group in data["testGroups"] for case in group["tests"]]


def test_wycheproof_hkdf_through_keys_hkdf() -> None:
    # keys._hkdf (what Key.derive calls) uses an empty salt; every vector with
    # an empty salt goes through it, the rest through the same HKDF class.
    through_private = 0
    for case in _hkdf_cases():
        ikm, salt = bytes.fromhex(case["ikm"]), bytes.fromhex(case["salt"])
        info, size = bytes.fromhex(case["info"]), case["size"]
        if case["result"] == "valid":
            if not salt:
                assert keys._hkdf(ikm, info, size).hex() == case["okm"]
                through_private += 1
            hkdf = keys.HKDF(  # type: ignore[attr-defined]  # the class keys.py uses
                algorithm=hashes.SHA256(), length=size, salt=salt, info=info
            )
            assert hkdf.derive(ikm).hex() == case["okm"]
        else:
            # The only invalid HKDF vectors ask for more than 255 * 32 bytes.
            assert size > 255 * 32
            with pytest.raises(ValueError, match=r"8160|255"):
                keys._hkdf(ikm, info, size)
    assert through_private >= 10


def test_key_derive_refuses_oversized_output() -> None:
    key = _key(os.urandom(32), Algorithm.XAES_256_GCM)
    with pytest.raises(ConfigurationError):
        key.derive("stream", length=255 * 32 + 1)


# -- Tink oracle ------------------------------------------------------------------------------


def _tink_xaes(material: bytes) -> Any:
    tink = pytest.importorskip("tink")
    from tink import aead as tink_aead
    from tink import cleartext_keyset_handle
    from tink.proto import tink_pb2, x_aes_gcm_pb2

    tink_aead.register()
    key = x_aes_gcm_pb2.XAesGcmKey(
        version=0, key_value=material, params=x_aes_gcm_pb2.XAesGcmParams(salt_size=12)
    )
    keyset = tink_pb2.Keyset(
        primary_key_id=1,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url="type.googleapis.com/google.crypto.tink.XAesGcmKey",
                    value=key.SerializeToString(),
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=1,
                # RAW: no Tink output prefix, so the body is nonce || ct || tag.
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    assert tink is not None
    return cleartext_keyset_handle.from_keyset(keyset).primitive(tink_aead.Aead)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_tink_decrypts_securekit_envelope_bodies(size: int) -> None:
    material = os.urandom(32)
    box = Aead(KeyRing([_key(material, Algorithm.XAES_256_GCM, key_id=77)]))
    oracle = _tink_xaes(material)
    plaintext = os.urandom(size)
    blob = box.encrypt(plaintext, context=b"orders.note:9")
    assert oracle.decrypt(blob[6:], blob[:6] + b"orders.note:9") == plaintext


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_securekit_decrypts_tink_xaes_output(size: int) -> None:
    material = os.urandom(32)
    box = Aead(KeyRing([_key(material, Algorithm.XAES_256_GCM, key_id=77)]))
    oracle = _tink_xaes(material)
    plaintext = os.urandom(size)
    header = box.encrypt(b"", context=b"")[:6]
    body = oracle.encrypt(plaintext, header + b"ctx")
    assert len(body) == 24 + size + 16
    assert box.decrypt(header + body, context=b"ctx") == plaintext
