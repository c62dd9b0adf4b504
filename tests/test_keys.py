"""Keys and key rings: generation, evolution, storage, weak-key refusal, no leaks."""

from __future__ import annotations

import base64
import json
import pickle
import stat
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, DecryptionError, InsecureConfigurationWarning
from securekit.keys import (
    Algorithm,
    Key,
    KeyKind,
    KeyRing,
    KeyStatus,
    KeyWrapper,
    LocalKeyWrapper,
    Secret,
    _hkdf,
    jwk_thumbprint,
)
from tests._leak import assert_no_leak
from tests.conftest import load_vectors

_RING = KeyRing.generate("aead")

INSECURE_CALLS = {
    "securekit.keys.KeyRing.to_json:insecure_cleartext": lambda: _RING.to_json(
        insecure_cleartext=True
    ),
    "securekit.keys.KeyRing.save:insecure_cleartext": lambda: _RING.save(
        Path(tempfile.mkdtemp()) / "ring.json", insecure_cleartext=True
    ),
}


def _der(
    private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
) -> bytes:
    return private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cleartext(ring: KeyRing) -> str:
    with pytest.warns(InsecureConfigurationWarning):
        return ring.to_json(insecure_cleartext=True)


RANDOM_32 = bytes(range(100, 132))


# -- generation and lookup ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "alg", "expected"),
    [
        ("aead", None, Algorithm.XAES_256_GCM),
        ("aead", "AES-256-GCM", Algorithm.AES_256_GCM),
        ("aead", "ChaCha20-Poly1305", Algorithm.CHACHA20_POLY1305),
        ("mac", None, Algorithm.HS256),
        ("signing", None, Algorithm.EDDSA),
        ("signing", "ES256", Algorithm.ES256),
        ("signing", "PS256", Algorithm.PS256),
    ],
)
def test_generate_defaults(kind: str, alg: str | None, expected: Algorithm) -> None:
    ring = KeyRing.generate(kind, alg=alg)
    assert ring.kind is KeyKind(kind)
    assert ring.primary.alg is expected
    assert ring.primary.status is KeyStatus.PRIMARY
    assert 1 <= ring.primary.id <= 0xFFFFFFFF
    assert len(ring) == 1
    assert ring.get(ring.primary.id) is ring.primary
    assert ring.get(ring.primary.id ^ 1) is None
    assert ring.primary.id in ring
    assert list(ring) == [ring.primary]


def test_generated_keys_differ() -> None:
    a, b = KeyRing.generate("aead"), KeyRing.generate("aead")
    assert a.primary.material != b.primary.material
    assert len(a.primary.material) == 32


def test_rsa_generation_uses_3072_bits() -> None:
    ring = KeyRing.generate("signing", alg="RS256")
    private = ring.primary.private_key()
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 3072


def test_wrong_algorithm_for_kind_is_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not for aead keys"):
        KeyRing.generate("aead", alg="HS256")
    with pytest.raises(ConfigurationError, match="unknown key kind"):
        KeyRing.generate("symmetric")
    with pytest.raises(ConfigurationError, match="unknown alg"):
        KeyRing.generate("signing", alg="none")


# -- evolution ----------------------------------------------------------------


def test_rotate_keeps_old_key_retired() -> None:
    ring = KeyRing.generate("aead")
    rotated = ring.rotate()
    assert rotated is not ring
    assert len(ring) == 1, "rings are immutable"
    assert len(rotated) == 2
    assert rotated.primary.id != ring.primary.id
    old = rotated.get(ring.primary.id)
    assert old is not None
    assert old.status is KeyStatus.RETIRED
    assert old.material == ring.primary.material
    assert rotated.keys[0] is rotated.primary


def test_rotate_can_change_algorithm() -> None:
    ring = KeyRing.generate("signing").rotate(alg="ES256")
    assert ring.primary.alg is Algorithm.ES256
    assert {key.alg for key in ring} == {Algorithm.ES256, Algorithm.EDDSA}


def test_promote_retire_remove() -> None:
    ring = KeyRing.generate("mac")
    first = ring.primary.id
    ring = ring.rotate()
    second = ring.primary.id
    back = ring.promote(first)
    assert back.primary.id == first
    assert back.get(second).status is KeyStatus.RETIRED  # type: ignore[union-attr]
    assert ring.retire(first) == ring
    with pytest.raises(ConfigurationError, match="cannot retire the primary"):
        ring.retire(second)
    removed = ring.remove(first)
    assert first not in removed
    assert len(removed) == 1
    with pytest.raises(ConfigurationError, match="cannot remove the primary"):
        ring.remove(second)
    with pytest.raises(ConfigurationError, match="no key with that id"):
        ring.remove(12345)
    with pytest.raises(ConfigurationError, match="no key with that id"):
        ring.promote(12345)


def test_ring_invariants() -> None:
    key = Key(
        id=7,
        kind=KeyKind.AEAD,
        alg=Algorithm.XAES_256_GCM,
        status=KeyStatus.PRIMARY,
        material=RANDOM_32,
    )
    with pytest.raises(ConfigurationError, match="at least one key"):
        KeyRing([])
    with pytest.raises(ConfigurationError, match="exactly one primary"):
        KeyRing(
            [
                key,
                key.__class__(
                    id=8, kind=key.kind, alg=key.alg, status=KeyStatus.PRIMARY, material=RANDOM_32
                ),
            ]
        )
    with pytest.raises(ConfigurationError, match="exactly one primary"):
        KeyRing(
            [Key(id=8, kind=key.kind, alg=key.alg, status=KeyStatus.RETIRED, material=RANDOM_32)]
        )
    with pytest.raises(ConfigurationError, match="unique"):
        KeyRing(
            [
                key,
                Key(id=7, kind=key.kind, alg=key.alg, status=KeyStatus.RETIRED, material=RANDOM_32),
            ]
        )
    mac = Key(
        id=9, kind=KeyKind.MAC, alg=Algorithm.HS256, status=KeyStatus.RETIRED, material=RANDOM_32
    )
    with pytest.raises(ConfigurationError, match="one kind"):
        KeyRing([key, mac])
    with pytest.raises(TypeError):
        KeyRing(["not a key"])  # type: ignore[list-item]


def test_key_id_bounds_and_types() -> None:
    for bad in (0, -1, 2**32):
        with pytest.raises(ConfigurationError, match="32-bit"):
            Key(
                id=bad,
                kind=KeyKind.AEAD,
                alg=Algorithm.XAES_256_GCM,
                status=KeyStatus.PRIMARY,
                material=RANDOM_32,
            )
    with pytest.raises(TypeError):
        Key(
            id=True,
            kind=KeyKind.AEAD,
            alg=Algorithm.XAES_256_GCM,
            status=KeyStatus.PRIMARY,
            material=RANDOM_32,
        )
    with pytest.raises(TypeError):
        Key(
            id=1,
            kind=KeyKind.AEAD,
            alg=Algorithm.XAES_256_GCM,
            status=KeyStatus.PRIMARY,
            material="x" * 32,  # type: ignore[arg-type]
        )


def test_ring_equality_and_hash() -> None:
    ring = KeyRing.generate("aead")
    same = KeyRing(ring.keys)
    assert ring == same
    assert hash(ring) == hash(same)
    assert ring != ring.rotate()
    assert ring.__eq__("ring") is NotImplemented


# -- weak keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "alg", "material", "match"),
    [
        (KeyKind.AEAD, Algorithm.XAES_256_GCM, b"\x00" * 32, "not random"),
        (KeyKind.AEAD, Algorithm.XAES_256_GCM, b"ab" * 16, "not random"),
        (KeyKind.AEAD, Algorithm.XAES_256_GCM, RANDOM_32[:16], "exactly 32 bytes"),
        (KeyKind.AEAD, Algorithm.XAES_256_GCM, RANDOM_32 + b"x", "exactly 32 bytes"),
        (KeyKind.MAC, Algorithm.HS256, RANDOM_32[:31], "32 to 64 bytes"),
        (KeyKind.MAC, Algorithm.HS256, bytes(range(65)), "32 to 64 bytes"),
        (KeyKind.MAC, Algorithm.HS256, b"my-super-secret-key-1234567890ab", "placeholder"),
        (KeyKind.MAC, Algorithm.HS256, b"ChangeMe!ChangeMe!0123456789abcd", "placeholder"),
        (KeyKind.MAC, Algorithm.HS256, b"correct horse battery password!!", "placeholder"),
        (KeyKind.SIGNING, Algorithm.EDDSA, RANDOM_32, "PKCS#8"),
    ],
)
def test_weak_or_wrong_material_refused(
    kind: KeyKind, alg: Algorithm, material: bytes, match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match) as info:
        Key(id=1, kind=kind, alg=alg, status=KeyStatus.PRIMARY, material=material)
    assert_no_leak(info.value, material.hex())
    if material.isascii():
        assert_no_leak(info.value, material.decode())


def test_random_printable_mac_secret_is_accepted() -> None:
    text = base64.urlsafe_b64encode(RANDOM_32).rstrip(b"=")
    key = Key(id=1, kind=KeyKind.MAC, alg=Algorithm.HS256, status=KeyStatus.PRIMARY, material=text)
    assert key.material == text


@pytest.mark.parametrize(
    ("alg", "private", "match"),
    [
        (Algorithm.EDDSA, ec.generate_private_key(ec.SECP256R1()), "Ed25519"),
        (Algorithm.ES256, ec.generate_private_key(ec.SECP384R1()), "P-256"),
        (Algorithm.ES256, ed25519.Ed25519PrivateKey.generate(), "P-256"),
        (Algorithm.RS256, ed25519.Ed25519PrivateKey.generate(), "RSA private key"),
        (Algorithm.PS256, rsa.generate_private_key(public_exponent=65537, key_size=1024), "2048"),
    ],
)
def test_signing_key_must_match_algorithm(alg: Algorithm, private: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Key(id=1, kind=KeyKind.SIGNING, alg=alg, status=KeyStatus.PRIMARY, material=_der(private))  # type: ignore[arg-type]


def test_unsupported_private_key_type_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed448

    der = ed448.Ed448PrivateKey.generate().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigurationError, match="Ed25519, EC P-256 or RSA"):
        Key(id=1, kind=KeyKind.SIGNING, alg=Algorithm.EDDSA, status=KeyStatus.PRIMARY, material=der)


# -- derivation -----------------------------------------------------------------


def test_derive_is_hkdf_sha256_with_securekit_info() -> None:
    key = KeyRing.generate("aead").primary
    expected = _hkdf(key.material, b"securekit/v1/stream", 32)
    assert key.derive("stream") == expected
    assert key.derive("stream") != key.derive("csrf")
    assert len(key.derive("siv", length=64)) == 64
    with pytest.raises(ConfigurationError, match="non-empty"):
        key.derive("")
    with pytest.raises(ConfigurationError, match="length"):
        key.derive("x", length=0)
    with pytest.raises(ConfigurationError, match="cannot derive"):
        KeyRing.generate("signing").primary.derive("x")


def test_ring_derive_keeps_ids_and_statuses() -> None:
    ring = KeyRing.generate("mac").rotate()
    sub = ring.derive("csrf")
    assert [(k.id, k.status) for k in sub] == [(k.id, k.status) for k in ring]
    assert all(a.material != b.material for a, b in zip(sub, ring, strict=True))
    assert sub.primary.material == ring.primary.derive("csrf")


def test_wycheproof_hkdf_sha256() -> None:
    data = load_vectors("wycheproof", "hkdf_sha256_test.json")
    checked = 0
    for group in data["testGroups"]:
        for case in group["tests"]:
            ikm, salt, info = (bytes.fromhex(case[n]) for n in ("ikm", "salt", "info"))
            size = case["size"]
            if salt or not 1 <= size <= 255 * 32:
                continue  # securekit derives with an empty salt (RFC 5869 2.2 default)
            okm = _hkdf(ikm, info, size)
            assert (okm.hex() == case["okm"]) == (case["result"] == "valid"), case["tcId"]
            checked += 1
    assert checked > 0


def test_wycheproof_hmac_sha256_through_cryptography() -> None:
    # securekit's mac keys are HMAC-SHA256 keys; this pins the primitive and
    # the truncation semantics the vectors use.
    data = load_vectors("wycheproof", "hmac_sha256_test.json")
    checked = 0
    for group in data["testGroups"]:
        tag_bytes = group["tagSize"] // 8
        for case in group["tests"]:
            h = hmac.HMAC(bytes.fromhex(case["key"]), hashes.SHA256())
            h.update(bytes.fromhex(case["msg"]))
            ok = h.finalize()[:tag_bytes].hex() == case["tag"]
            assert ok == (case["result"] == "valid"), case["tcId"]
            checked += 1
    assert checked > 100


# -- JWKS -----------------------------------------------------------------------


def test_rfc7638_thumbprint_example() -> None:
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    with pytest.raises(ConfigurationError, match="kty"):
        jwk_thumbprint({"kty": "oct", "k": "abc"})
    with pytest.raises(ConfigurationError, match="missing"):
        jwk_thumbprint({"kty": "EC", "crv": "P-256", "x": "a"})


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "PS256"])
def test_public_jwks(alg: str) -> None:
    ring = KeyRing.generate("signing", alg=alg)
    jwks = ring.public_jwks()
    (jwk,) = jwks["keys"]
    assert jwk["alg"] == alg
    assert jwk["use"] == "sig"
    assert jwk["kid"] == jwk_thumbprint(jwk) == ring.primary.thumbprint()
    assert "d" not in jwk, "no private members"
    assert "p" not in jwk
    dumped = json.dumps(jwks)
    assert base64.urlsafe_b64encode(ring.primary.material).decode()[:20] not in dumped


def test_public_jwks_refused_for_secret_keys() -> None:
    with pytest.raises(ConfigurationError, match="no public JWKS"):
        KeyRing.generate("mac").public_jwks()
    with pytest.raises(ConfigurationError, match="no private key"):
        KeyRing.generate("aead").primary.private_key()


# -- serialization ----------------------------------------------------------------


def test_cleartext_json_contract_shape() -> None:
    ring = KeyRing.generate("aead").rotate()
    document = json.loads(_cleartext(ring))
    assert document["version"] == 1
    assert [k["status"] for k in document["keys"]] == ["primary", "retired"]
    entry = document["keys"][0]
    assert set(entry) == {"id", "kind", "alg", "status", "material"}
    assert entry["kind"] == "aead"
    assert entry["alg"] == "XAES-256-GCM"
    assert "=" not in entry["material"]
    assert KeyRing.from_json(_cleartext(ring)) == ring


def test_to_json_needs_a_wrapper_or_explicit_cleartext() -> None:
    with pytest.raises(ConfigurationError, match="wrapper="):
        KeyRing.generate("aead").to_json()


@pytest.mark.parametrize("kind", ["aead", "mac", "signing"])
def test_encrypted_round_trip(kind: str) -> None:
    ring = KeyRing.generate(kind).rotate()
    wrapper = LocalKeyWrapper.generate()
    text = ring.to_json(wrapper=wrapper)
    assert base64.urlsafe_b64encode(ring.primary.material).rstrip(b"=").decode() not in text
    assert KeyRing.from_json(text, wrapper=wrapper) == ring


def test_encrypted_ring_refuses_wrong_or_missing_kek() -> None:
    ring = KeyRing.generate("aead")
    text = ring.to_json(wrapper=LocalKeyWrapper.generate())
    with pytest.raises(ConfigurationError, match="pass wrapper="):
        KeyRing.from_json(text)
    with pytest.raises(ConfigurationError, match="different key-encryption key"):
        KeyRing.from_json(text, wrapper=LocalKeyWrapper.generate())


def test_tampered_encrypted_ring_is_refused() -> None:
    wrapper = LocalKeyWrapper.generate()
    document = json.loads(KeyRing.generate("aead").to_json(wrapper=wrapper))
    ciphertext = bytearray(base64.urlsafe_b64decode(document["encrypted"]["ciphertext"] + "=="))
    ciphertext[0] ^= 1
    document["encrypted"]["ciphertext"] = (
        base64.urlsafe_b64encode(bytes(ciphertext)).rstrip(b"=").decode()
    )
    with pytest.raises(ConfigurationError, match="could not decrypt"):
        KeyRing.from_json(json.dumps(document), wrapper=wrapper)


class _FakeKms:
    """A KeyWrapper implemented outside securekit, as a KMS adapter would be."""

    name = "fake-kms"
    key_id = "projects/x/keys/1"

    def __init__(self) -> None:
        self.inner = LocalKeyWrapper.generate()

    def wrap(self, data_key: bytes, *, context: bytes) -> bytes:
        return self.inner.wrap(data_key, context=context)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        return self.inner.unwrap(wrapped, context=context)


def test_custom_key_wrapper_protocol() -> None:
    kms = _FakeKms()
    assert isinstance(kms, KeyWrapper)
    ring = KeyRing.generate("mac")
    text = ring.to_json(wrapper=kms)
    assert json.loads(text)["encrypted"]["wrapper"] == "fake-kms"
    assert KeyRing.from_json(text, wrapper=kms) == ring


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[]", "JSON object"),
        ("{", "not valid JSON"),
        ('{"version": 2, "keys": []}', "unsupported version"),
        ('{"version": true, "keys": []}', "unsupported version"),
        ('{"version": 1, "keys": [], "keys": []}', "duplicate"),
        ('{"version": 1, "keys": NaN}', "NaN"),
        ('{"version": 1}', "'version' and 'keys'"),
        ('{"version": 1, "keys": [1]}', "exactly id"),
        (
            '{"version": 1, "keys": [{"id": "1", "kind": "aead", "alg": "XAES-256-GCM", "status": "primary", "material": ""}]}',
            "integers",
        ),
        (
            '{"version": 1, "keys": [{"id": 1, "kind": "aead", "alg": "XAES-256-GCM", "status": "primary", "material": "a+b/"}]}',
            "base64url",
        ),
        (
            '{"version": 1, "keys": [{"id": 1, "kind": "aead", "alg": "XAES-256-GCM", "status": "primary", "material": "AB="}]}',
            "base64url",
        ),
        (
            '{"version": 1, "keys": [{"id": 1, "kind": "aead", "alg": "XAES-256-GCM", "status": "primary", "material": "AB"}]}',
            "canonical",
        ),
        (
            '{"version": 1, "keys": [{"id": 1, "kind": "aead", "alg": "XAES-256-GCM", "status": "primary", "material": "A"}]}',
            "base64url",
        ),
        ('{"version": 1, "encrypted": {}}', "wrapper, kek_id"),
        ('{"version": 1, "encrypted": 3}', "'version' and 'encrypted'"),
        ("[" * 100_000, "not valid JSON"),
        (" " * (1024 * 1024 + 1), "larger than 1 MiB"),
    ],
)
def test_malformed_ring_json(text: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        KeyRing.from_json(text)


def test_bad_nonce_length_in_encrypted_ring() -> None:
    wrapper = LocalKeyWrapper.generate()
    document = json.loads(KeyRing.generate("aead").to_json(wrapper=wrapper))
    document["encrypted"]["nonce"] = "AAAA"
    with pytest.raises(ConfigurationError, match="12 bytes"):
        KeyRing.from_json(json.dumps(document), wrapper=wrapper)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_from_json_junk_raises_only_configuration_error(text: str) -> None:
    try:
        KeyRing.from_json(text)
    except ConfigurationError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_from_json_junk_documents(value: object) -> None:
    for document in (value, {"version": 1, "keys": value}, {"version": 1, "keys": [value]}):
        try:
            KeyRing.from_json(json.dumps(document))
        except ConfigurationError:
            pass


def test_errors_never_print_material() -> None:
    ring = KeyRing.generate("mac")
    text = _cleartext(ring)
    material = json.loads(text)["keys"][0]["material"]
    broken = text.replace('"status":"primary"', '"status":"bogus"')
    with pytest.raises(ConfigurationError) as info:
        KeyRing.from_json(broken)
    assert_no_leak(info.value, material)
    assert material not in repr(ring)
    assert material not in repr(ring.primary)
    assert ring.primary.material.hex() not in repr(ring.primary)


# -- loading from the environment and files ---------------------------------------


def test_from_env_file_and_secrets_dir(tmp_path: Path) -> None:
    ring = KeyRing.generate("aead")
    wrapper = LocalKeyWrapper.generate()
    text = ring.to_json(wrapper=wrapper)
    assert KeyRing.from_env("RING", wrapper=wrapper, environ={"RING": text}) == ring
    with pytest.raises(ConfigurationError, match="RING is not set"):
        KeyRing.from_env("RING", environ={})
    path = tmp_path / "ring.json"
    ring.save(path, wrapper=wrapper)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.from_file(path, wrapper=wrapper) == ring
    assert KeyRing.from_secrets_dir("ring.json", directory=tmp_path, wrapper=wrapper) == ring
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_save_cleartext_and_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    path.write_text("old")
    ring = KeyRing.generate("mac")
    with pytest.warns(InsecureConfigurationWarning):
        ring.save(path, insecure_cleartext=True)
    assert KeyRing.from_file(path) == ring
    with pytest.raises(ConfigurationError, match="wrapper="):
        ring.save(path)
    assert KeyRing.from_file(path) == ring, "a failed save leaves the old file"


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        KeyRing.from_file(tmp_path / "missing.json")
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigurationError, match="UTF-8"):
        KeyRing.from_file(tmp_path / "binary")
    with pytest.raises(ConfigurationError, match="cannot read"):
        KeyRing.from_file(tmp_path)
    for name in ("../etc/passwd", "a/b", "", ".hidden", "x" * 200):
        with pytest.raises(ConfigurationError, match="secret names"):
            KeyRing.from_secrets_dir(name, directory=tmp_path)


def test_save_failure_cleans_up(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        KeyRing.generate("aead").save(
            tmp_path / "no-such-dir" / "ring.json", wrapper=LocalKeyWrapper.generate()
        )
    assert list(tmp_path.iterdir()) == []


def test_save_cleans_temp_file_when_replace_fails(tmp_path: Path) -> None:
    target = tmp_path / "is-a-dir"
    target.mkdir()
    (target / "child").write_text("x")
    with pytest.raises(OSError):
        KeyRing.generate("aead").save(target, wrapper=LocalKeyWrapper.generate())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["is-a-dir"]


# -- LocalKeyWrapper ------------------------------------------------------------------


def test_local_wrapper() -> None:
    kek = LocalKeyWrapper.new_kek()
    wrapper = LocalKeyWrapper.from_env("KEK", environ={"KEK": kek.reveal()})
    again = LocalKeyWrapper.from_secret(kek)
    assert wrapper.key_id == again.key_id
    assert wrapper.name == "local"
    wrapped = wrapper.wrap(b"k" * 32, context=b"ctx")
    assert again.unwrap(wrapped, context=b"ctx") == b"k" * 32
    with pytest.raises(DecryptionError):
        again.unwrap(wrapped, context=b"other")
    with pytest.raises(DecryptionError):
        again.unwrap(wrapped[:20], context=b"ctx")
    assert kek.reveal() not in repr(wrapper)
    with pytest.raises(ConfigurationError, match="32 bytes"):
        LocalKeyWrapper(b"short")
    with pytest.raises(ConfigurationError, match="not random"):
        LocalKeyWrapper(b"\x00" * 32)
    with pytest.raises(TypeError):
        LocalKeyWrapper("x" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LocalKeyWrapper.from_secret("x")  # type: ignore[arg-type]


# -- Secret ---------------------------------------------------------------------------


def test_secret_is_redacted_and_compares_in_constant_time(tmp_path: Path) -> None:
    value = "sk_live_0123456789abcdef"  # pragma: allowlist secret
    secret = Secret(value)
    assert value not in repr(secret)
    assert value not in str(secret)
    assert value not in f"{secret}"
    assert value not in f"{secret!r}"
    assert secret.reveal() == value
    assert secret == Secret(value)
    assert secret == value
    assert secret != "other"
    assert secret.__eq__(3) is NotImplemented
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
    (tmp_path / "api_key").write_text(value + "\n")
    assert Secret.from_file(tmp_path / "api_key") == value
    assert Secret.from_secrets_dir("api_key", directory=tmp_path) == value
    assert Secret.from_env("K", environ={"K": value}) == value
    with pytest.raises(ConfigurationError, match="not set or empty"):
        Secret.from_env("K", environ={"K": ""})


# --- review regressions -------------------------------------------------------------


def test_ring_json_with_a_huge_integer_is_a_configuration_error() -> None:
    # json.loads raised a bare ValueError (int digit limit) before the review.
    text = '{"version": 1, "keys": [{"id": ' + "1" * 5000 + "}]}"
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        KeyRing.from_json(text)


@pytest.mark.parametrize("version", ["1.0", "true", '"1"'])
def test_ring_version_must_be_the_integer_one(version: str) -> None:
    ring = KeyRing.generate("aead")
    with pytest.warns(InsecureConfigurationWarning):
        document = json.loads(ring.to_json(insecure_cleartext=True))
    text = json.dumps(document).replace('"version": 1', '"version": ' + version)
    with pytest.raises(ConfigurationError, match="unsupported version"):
        KeyRing.from_json(text)


def test_invalid_ring_json_does_not_keep_the_document_as_context() -> None:
    # JSONDecodeError.doc holds the whole text, key material included.
    ring = KeyRing.generate("mac")
    with pytest.warns(InsecureConfigurationWarning):
        text = ring.to_json(insecure_cleartext=True)
    material = json.loads(text)["keys"][0]["material"]
    with pytest.raises(ConfigurationError) as info:
        KeyRing.from_json(text + "}")
    assert info.value.__context__ is None
    assert_no_leak(info.value, material)


def test_paths_with_nul_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="NUL"):
        KeyRing.from_file(str(tmp_path) + "/ring\x00.json")
    with pytest.raises(ConfigurationError, match="NUL"):
        Secret.from_file(str(tmp_path) + "/\x00")
    with pytest.raises(ConfigurationError, match="NUL"):
        KeyRing.from_secrets_dir("ring", directory=str(tmp_path) + "/\x00")
    with pytest.raises(ConfigurationError, match="NUL"):
        KeyRing.generate("aead").save(str(tmp_path) + "/\x00", wrapper=LocalKeyWrapper.generate())
    assert list(tmp_path.iterdir()) == []


def test_secret_with_a_lone_surrogate_compares_without_raising() -> None:
    assert Secret("\ud800") != "x"
    assert Secret("\ud800") == "\ud800"
    assert Secret("a") != Secret("\udfff")


def test_derive_refuses_unencodable_purpose_and_bool_length() -> None:
    key = KeyRing.generate("mac").primary
    with pytest.raises(ConfigurationError, match="UTF-8"):
        key.derive("\ud800")
    with pytest.raises(ConfigurationError, match="length"):
        key.derive("csrf", length=True)


@pytest.mark.parametrize("key_id", [[1], {"a": 1}, "1", True, 1.0, None])
def test_lookup_with_a_non_id_is_a_miss(key_id: object) -> None:
    ring = KeyRing.generate("aead")
    assert key_id not in ring
    assert ring.get(key_id) is None  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        ring.remove(key_id)  # type: ignore[arg-type]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
RING_MEMBERS = st.sampled_from(["version", "keys", "encrypted", "id", "kind", "alg", "material"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(RING_MEMBERS, JSON_VALUES, max_size=4))
def test_from_json_json_shaped_junk_raises_only_configuration_error(doc: dict[str, object]) -> None:
    doc.setdefault("version", 1)
    with pytest.raises(ConfigurationError):
        KeyRing.from_json(json.dumps(doc))


def test_encrypted_ring_with_non_utf8_plaintext_is_a_configuration_error() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    wrapper = LocalKeyWrapper.generate()
    data_key, nonce = bytes(range(32)), bytes(12)
    ad = b"securekit/v1/keyring"

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    document = {
        "version": 1,
        "encrypted": {
            "wrapper": wrapper.name,
            "kek_id": wrapper.key_id,
            "wrapped_key": b64(wrapper.wrap(data_key, context=ad)),
            "nonce": b64(nonce),
            "ciphertext": b64(AESGCM(data_key).encrypt(nonce, b"\xff\xfe", ad)),
        },
    }
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        KeyRing.from_json(json.dumps(document), wrapper=wrapper)


def test_from_json_wrong_type() -> None:
    with pytest.raises(TypeError):
        KeyRing.from_json(b"{}")  # type: ignore[arg-type]
