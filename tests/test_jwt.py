"""securekit.jwt: issuing, verifying, and every attack class of issue 5."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason
from securekit.jwt import (
    ACCESS_TOKEN_TYPE,
    JWTIssuer,
    JWTVerifier,
    unverified_header,
)
from securekit.keys import Key, KeyKind, KeyRing, KeyStatus
from securekit.testing import FixedClock
from tests._leak import assert_no_leak

ISS = "https://auth.example"
AUD = "api.example"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())

# RSA key generation is the slow part; one ring per algorithm per session.
_RINGS: dict[str, KeyRing] = {}


def ring_for(alg: str) -> KeyRing:
    if alg not in _RINGS:
        kind = "mac" if alg == "HS256" else "signing"
        _RINGS[alg] = KeyRing.generate(kind, alg=alg)
    return _RINGS[alg]


ALGS = ["EdDSA", "ES256", "RS256", "PS256", "HS256"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enc_json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": "user-1",
        "aud": AUD,
        "iat": T0,
        "nbf": T0,
        "exp": T0 + 600,
        "jti": "jti-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


def raw_sign(alg: str, signing_input: bytes, key: Any) -> bytes:
    """An independent signer: cryptography directly, no securekit, no PyJWT."""
    if alg == "HS256":
        return hmac.new(key, signing_input, hashlib.sha256).digest()
    if alg == "EdDSA":
        return bytes(key.sign(signing_input))
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "RS256":
        return bytes(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return bytes(key.sign(signing_input, pss, hashes.SHA256()))


def make_token(
    alg: str = "EdDSA",
    payload: dict[str, Any] | None = None,
    *,
    header: dict[str, Any] | None = None,
    ring: KeyRing | None = None,
    sign_alg: str | None = None,
    key: Any = None,
) -> str:
    ring = ring or ring_for(alg)
    primary = ring.primary
    if header is None:
        kid = primary.thumbprint() if ring.kind is KeyKind.SIGNING else f"hs256-{primary.id:08x}"
        header = {"alg": alg, "kid": kid, "typ": "at+jwt"}
    signing_input = f"{enc_json(header)}.{enc_json(payload or claims())}".encode()
    if key is None:
        key = primary.private_key() if ring.kind is KeyKind.SIGNING else primary.material
    sig = raw_sign(sign_alg or alg, signing_input, key)
    return signing_input.decode() + "." + b64(sig)


def verifier_for(alg: str = "EdDSA", **policy: Any) -> JWTVerifier:
    ring = ring_for(alg)
    keys: Any = ring if alg == "HS256" else ring.public_jwks()
    policy.setdefault("clock", FixedClock(NOW))
    return JWTVerifier(keys, issuer=ISS, audience=AUD, **policy)


def reason_of(fn: Callable[[], object]) -> TokenReason:
    with pytest.raises(InvalidTokenError) as info:
        fn()
    return info.value.reason


# --- round trips ------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_issue_verify_round_trip(alg: str) -> None:
    ring = ring_for(alg)
    clock = FixedClock(NOW)
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD, clock=clock)
    token = issuer.issue(subject="user-1", claims={"scope": "read", "roles": ["a", "b"]})
    header = unverified_header(token)
    assert header["alg"] == alg
    assert header["typ"] == ACCESS_TOKEN_TYPE
    expected_kid = ring.primary.thumbprint() if alg != "HS256" else f"hs256-{ring.primary.id:08x}"
    assert header["kid"] == expected_kid
    result = verifier_for(alg).verify(token)
    assert result.subject == "user-1"
    assert result.issuer == ISS
    assert result.audience == (AUD,)
    assert result.get("scope") == "read"
    assert result.get("roles") == ("a", "b")
    assert result.get("missing", 7) == 7
    assert result.expires_at - result.issued_at == timedelta(minutes=15)
    assert result.not_before == NOW
    assert result.key_id == expected_kid
    assert result.token_type == "at+jwt"
    assert len(result.jwt_id) >= 22
    with pytest.raises(TypeError):
        result.extra["scope"] = "write"  # type: ignore[index]


def test_issued_claims_are_complete() -> None:
    issuer = JWTIssuer(ring_for("EdDSA"), issuer=ISS, audience=[AUD, "other"])
    token = issuer.issue(subject="s", now=NOW)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(payload) == {"iss", "sub", "aud", "iat", "nbf", "exp", "jti"}
    assert payload["aud"] == sorted([AUD, "other"])
    assert payload["exp"] - payload["iat"] == 900
    two = issuer.issue(subject="s", now=NOW)
    assert json.loads(base64.urlsafe_b64decode(two.split(".")[1] + "=="))["jti"] != payload["jti"]


@pytest.mark.parametrize("alg", ALGS)
def test_independent_signer_is_accepted(alg: str) -> None:
    assert verifier_for(alg).verify(make_token(alg)).subject == "user-1"


def test_independent_signer_with_pem_and_key_objects() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    pem = p256.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = claims()
    for alg, private, public in (("EdDSA", ed, ed.public_key()), ("ES256", p256, pem)):
        header = {"alg": alg, "typ": "at+jwt"}
        token = make_token(alg, payload, header=header, key=private)
        verifier = JWTVerifier([public], issuer=ISS, audience=AUD, clock=FixedClock(NOW))
        assert verifier.verify(token).subject == "user-1"


def test_multiple_keys_need_a_known_kid() -> None:
    a = ed25519.Ed25519PrivateKey.generate()
    b = ed25519.Ed25519PrivateKey.generate()
    verifier = JWTVerifier(
        [a.public_key(), b.public_key()], issuer=ISS, audience=AUD, clock=FixedClock(NOW)
    )
    no_kid = make_token("EdDSA", header={"alg": "EdDSA", "typ": "at+jwt"}, key=a)
    assert reason_of(lambda: verifier.verify(no_kid)) is TokenReason.UNKNOWN_KEY
    jwk = {"kty": "OKP", "crv": "Ed25519"}
    raw = a.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    from securekit.keys import jwk_thumbprint

    kid = jwk_thumbprint({**jwk, "x": b64(raw)})
    good = make_token("EdDSA", header={"alg": "EdDSA", "typ": "at+jwt", "kid": kid}, key=a)
    assert verifier.verify(good).subject == "user-1"


def test_rotation_retired_keys_still_verify_until_removed() -> None:
    ring = KeyRing.generate("signing")
    old_token = JWTIssuer(ring, issuer=ISS, audience=AUD).issue(subject="u", now=NOW)
    rotated = ring.rotate()
    new_token = JWTIssuer(rotated, issuer=ISS, audience=AUD).issue(subject="u", now=NOW)
    assert unverified_header(new_token)["kid"] == rotated.primary.thumbprint()
    verifier = JWTVerifier(rotated.public_jwks(), issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    assert verifier.verify(old_token).subject == "u"
    assert verifier.verify(new_token).subject == "u"
    removed = rotated.remove(ring.primary.id)
    strict = JWTVerifier(removed.public_jwks(), issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    # One key left: the token's kid is explicit in the JWKS and must match.
    assert reason_of(lambda: strict.verify(old_token)) is TokenReason.UNKNOWN_KEY


# --- algorithm attacks ------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "none ", "", "HS512", "ES384"])
@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_alg_none_and_unknown_algorithms(alg: str, signature: str) -> None:
    token = f"{enc_json({'alg': alg, 'typ': 'at+jwt'})}.{enc_json(claims())}.{signature}"
    reason = reason_of(lambda: verifier_for().verify(token))
    expected = {TokenReason.UNSUPPORTED_ALGORITHM, TokenReason.BAD_ENCODING}
    if not signature:
        expected = {TokenReason.BAD_ENCODING}
    assert reason in expected


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256", "PS256"])
def test_alg_must_match_the_key(alg: str) -> None:
    other = "ES256" if alg != "ES256" else "EdDSA"
    token = make_token(other, ring=ring_for(other))
    header = {"alg": other, "kid": ring_for(alg).primary.thumbprint(), "typ": "at+jwt"}
    token = make_token(other, header=header, ring=ring_for(other))
    assert reason_of(lambda: verifier_for(alg).verify(token)) is TokenReason.UNSUPPORTED_ALGORITHM


def _public_encodings(public: rsa.RSAPublicKey) -> list[bytes]:
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return [
        pem,
        pem.strip(),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        json.dumps(ring_for("RS256").public_jwks()["keys"][0]).encode(),
    ]


@pytest.mark.parametrize("index", range(7))
def test_hs_rs_key_confusion_in_every_encoding(index: int) -> None:
    ring = ring_for("RS256")
    secret = _public_encodings(ring.primary.public_key())[index]  # type: ignore[arg-type]
    header = {"alg": "HS256", "kid": ring.primary.thumbprint(), "typ": "at+jwt"}
    token = make_token("HS256", header=header, key=secret, ring=ring)
    verifier = verifier_for("RS256")
    assert reason_of(lambda: verifier.verify(token)) is TokenReason.UNSUPPORTED_ALGORITHM
    # ... and a public key can never become an HS256 secret of a verifier.
    jwk = {"kty": "oct", "k": b64(secret), "alg": "HS256"}
    with pytest.raises(ConfigurationError):
        JWTVerifier({"keys": [jwk]}, issuer=ISS, audience=AUD)


@pytest.mark.parametrize("alg", ALGS)
def test_empty_stripped_and_modified_signatures(alg: str) -> None:
    token = make_token(alg)
    head, body, sig = token.split(".")
    verifier = verifier_for(alg)
    assert reason_of(lambda: verifier.verify(f"{head}.{body}.")) is TokenReason.BAD_ENCODING
    assert reason_of(lambda: verifier.verify(f"{head}.{body}")) is TokenReason.MALFORMED
    raw = base64.urlsafe_b64decode(sig + "==")
    flipped = b64(bytes([raw[0] ^ 1]) + raw[1:])
    assert reason_of(lambda: verifier.verify(f"{head}.{body}.{flipped}")) is (
        TokenReason.BAD_SIGNATURE
    )
    for bad in (raw[:-1], raw + b"\x00", raw[: len(raw) // 2]):
        bad_token = f"{head}.{body}.{b64(bad)}"
        with pytest.raises(InvalidTokenError) as info:
            verifier.verify(bad_token)
        assert info.value.reason is TokenReason.BAD_SIGNATURE
    assert reason_of(lambda: verifier.verify(f"{head}.{body}.{sig}=")) is (TokenReason.BAD_ENCODING)


def test_es256_der_signature_rejected() -> None:
    ring = ring_for("ES256")
    header = {"alg": "ES256", "kid": ring.primary.thumbprint(), "typ": "at+jwt"}
    signing_input = f"{enc_json(header)}.{enc_json(claims())}".encode()
    private = ring.primary.private_key()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der = private.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    token = signing_input.decode() + "." + b64(der)
    assert reason_of(lambda: verifier_for("ES256").verify(token)) is TokenReason.BAD_SIGNATURE


N = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


@pytest.mark.parametrize(
    ("r", "s"), [(0, 0), (0, 1), (1, 0), (N, 1), (1, N), (N, N), (N + 1, 1), (2**256 - 1, 1)]
)
def test_ecdsa_psychic_signatures_cve_2022_21449(r: int, s: int) -> None:
    ring = ring_for("ES256")
    header = {"alg": "ES256", "kid": ring.primary.thumbprint(), "typ": "at+jwt"}
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    token = f"{enc_json(header)}.{enc_json(claims())}.{b64(sig)}"
    assert reason_of(lambda: verifier_for("ES256").verify(token)) is TokenReason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "kid",
    ["../../../../dev/null", "' OR '1'='1", "x'; DROP TABLE keys;--", "/etc/passwd", "a" * 256],
)
def test_kid_injection_is_only_a_lookup(kid: str) -> None:
    ring = ring_for("EdDSA")
    two = ring.rotate()
    verifier = JWTVerifier(two.public_jwks(), issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    token = make_token("EdDSA", header={"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}, ring=ring)
    assert reason_of(lambda: verifier.verify(token)) is TokenReason.UNKNOWN_KEY


@pytest.mark.parametrize("kid", [1, None, "", "a" * 257, ["x"]])
def test_kid_must_be_a_short_string(kid: object) -> None:
    header: dict[str, Any] = {"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}
    if kid is None:
        header["kid"] = None
    token = make_token("EdDSA", header=header)
    reason = reason_of(lambda: verifier_for().verify(token))
    assert reason in {TokenReason.BAD_HEADER, TokenReason.UNKNOWN_KEY}
    if kid is not None:
        assert reason is TokenReason.BAD_HEADER


def test_embedded_jwk_jku_x5u_x5c_are_ignored() -> None:
    attacker = ed25519.Ed25519PrivateKey.generate()
    raw = attacker.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    header = {
        "alg": "EdDSA",
        "kid": ring_for("EdDSA").primary.thumbprint(),
        "typ": "at+jwt",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)},
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }
    token = make_token("EdDSA", header=header, key=attacker)
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_SIGNATURE
    # The same headers on a genuinely signed token change nothing.
    genuine = make_token("EdDSA", header=header)
    assert verifier_for().verify(genuine).subject == "user-1"


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp"]},
        {"crit": []},
        {"b64": False, "crit": ["b64"]},
        {"b64": False},
        {"cty": "JWT"},
        {"enc": "A256GCM"},
        {"zip": "DEF"},
    ],
)
def test_crit_b64_nested_and_jwe_headers(extra: dict[str, Any]) -> None:
    ring = ring_for("EdDSA")
    header = {"alg": "EdDSA", "kid": ring.primary.thumbprint(), "typ": "at+jwt", **extra}
    token = make_token("EdDSA", header=header)
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_HEADER


def test_jwe_and_unsecured_and_nested_shapes() -> None:
    verifier = verifier_for()
    jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"
    assert reason_of(lambda: verifier.verify(jwe)) is TokenReason.MALFORMED
    unsecured = f"{enc_json({'alg': 'none'})}.{enc_json(claims())}."
    assert reason_of(lambda: verifier.verify(unsecured)) is TokenReason.BAD_ENCODING
    inner = make_token("EdDSA")
    nested_payload = b64(inner.encode())
    header = {"alg": "EdDSA", "kid": ring_for("EdDSA").primary.thumbprint(), "typ": "at+jwt"}
    signing_input = f"{enc_json(header)}.{nested_payload}".encode()
    sig = ring_for("EdDSA").primary.private_key().sign(signing_input)  # type: ignore[call-arg]
    nested = signing_input.decode() + "." + b64(sig)
    assert reason_of(lambda: verifier.verify(nested)) is TokenReason.MALFORMED


@pytest.mark.parametrize("header", [[], "x", 1, None])
def test_header_must_be_an_object(header: object) -> None:
    token = f"{enc_json(header)}.{enc_json(claims())}.AAAA"
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.MALFORMED


@pytest.mark.parametrize("alg", [None, 1, ["EdDSA"]])
def test_header_alg_must_be_a_string(alg: object) -> None:
    header = {"typ": "at+jwt"} if alg is None else {"alg": alg, "typ": "at+jwt"}
    token = f"{enc_json(header)}.{enc_json(claims())}.AAAA"
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_HEADER


# --- encoding ---------------------------------------------------------------


def test_non_canonical_base64_rejected() -> None:
    token = make_token("EdDSA")
    head, body, sig = token.split(".")
    verifier = verifier_for()
    assert verifier.verify(token).subject == "user-1"
    cases = [
        f"{head}=.{body}.{sig}",
        f"{head}.{body}==.{sig}",
        f"{head}.{body}.{sig} ",
        f" {token}",
        f"{head}.{body}.{sig}\n",
        f"{head}.{body.replace('-', '+')}.{sig}" if "-" in body else f"{head}.{body}+.{sig}",
    ]
    for case in cases:
        with pytest.raises(InvalidTokenError) as info:
            verifier.verify(case)
        assert info.value.reason in {
            TokenReason.BAD_ENCODING,
            TokenReason.MALFORMED,
        }


def test_unused_bits_must_be_zero() -> None:
    # "Zm9v" is b"foo"; "Zg" is b"f" and "Zh" decodes to b"f" too with
    # non-zero unused bits: two encodings of one byte string are refused.
    token = make_token("EdDSA")
    head, body, sig = token.split(".")
    verifier = verifier_for()
    last = sig[-1]
    index = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(last)
    assert len(sig) % 4 == 2  # 64-byte signature: 86 characters, 4 unused bits
    tweaked = (
        sig[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[index | 1]
    )
    assert reason_of(lambda: verifier.verify(f"{head}.{body}.{tweaked}")) is (
        TokenReason.BAD_ENCODING
    )
    bad3 = f"{head}.{body}.{sig[:-2]}"  # 84 % 4 == 0 fine length but wrong size
    assert reason_of(lambda: verifier.verify(bad3)) is TokenReason.BAD_SIGNATURE
    one_extra = f"{head}.{body}.{sig}AAA"  # length % 4 == 1: not whole bytes
    assert reason_of(lambda: verifier.verify(one_extra)) is TokenReason.BAD_ENCODING


def test_three_unused_bit_case() -> None:
    verifier = verifier_for()
    # Payload of length % 3 == 2 has 2 unused bits in its last character.
    payload = claims(pad="xy")
    for extra in range(3):
        payload = claims(pad="x" * extra)
        body = enc_json(payload)
        if len(body) % 4 == 3:
            break
    token = make_token("EdDSA", payload)
    head, body, sig = token.split(".")
    assert len(body) % 4 == 3
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    tweaked = body[:-1] + alphabet[alphabet.index(body[-1]) | 1]
    assert reason_of(lambda: verifier.verify(f"{head}.{tweaked}.{sig}")) is (
        TokenReason.BAD_ENCODING
    )


@pytest.mark.parametrize(
    "payload_json",
    [
        b'{"sub":"a","sub":"b"}',
        b'{"exp":NaN}',
        b'{"exp":Infinity}',
        b'{"exp":1e400}',
        b"[1,2]",
        b'"text"',
        b"\xff\xfe{}",
        b'{"a":' * 40 + b"1" + b"}" * 40,
        b'{"a":"\\ud800"}',
        b"{" + b'"n":' + b"9" * 5000 + b"}",
    ],
)
def test_strict_json_in_claims(payload_json: bytes) -> None:
    ring = ring_for("EdDSA")
    header = {"alg": "EdDSA", "kid": ring.primary.thumbprint(), "typ": "at+jwt"}
    signing_input = f"{enc_json(header)}.{b64(payload_json)}".encode()
    sig = ring.primary.private_key().sign(signing_input)  # type: ignore[call-arg]
    token = signing_input.decode() + "." + b64(sig)
    reason = reason_of(lambda: verifier_for(max_token_bytes=16384).verify(token))
    assert reason in {TokenReason.MALFORMED, TokenReason.TOO_LARGE}


def test_duplicate_keys_in_header() -> None:
    header_json = b'{"alg":"EdDSA","alg":"HS256","typ":"at+jwt"}'
    token = f"{b64(header_json)}.{enc_json(claims())}.AAAA"
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.MALFORMED


def test_huge_tokens_rejected_before_parsing() -> None:
    verifier = verifier_for()
    huge = "A" * 9000
    assert reason_of(lambda: verifier.verify(huge)) is TokenReason.TOO_LARGE
    big = make_token("EdDSA", claims(pad="x" * 9000))
    assert reason_of(lambda: verifier.verify(big)) is TokenReason.TOO_LARGE
    deep = "[" * 5000
    deep_token = f"{b64(deep.encode())}.e30.AAAA"
    assert reason_of(lambda: verifier_for(max_token_bytes=65536).verify(deep_token)) is (
        TokenReason.MALFORMED
    )


@pytest.mark.parametrize("junk", ["", ".", "..", "...", "a.b.c", "é.é.é", "\x00.\x00.\x00"])
def test_junk_tokens(junk: str) -> None:
    reason = reason_of(lambda: verifier_for().verify(junk))
    assert reason in {TokenReason.MALFORMED, TokenReason.BAD_ENCODING}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_invalid_token(junk: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier_for().verify(junk)


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=400))
def test_arbitrary_base64ish_raises_only_invalid_token(junk: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier_for().verify(junk)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
            max_leaves=8,
        ),
        max_size=6,
    )
)
def test_signed_junk_claims_raise_only_invalid_token(payload: dict[str, Any]) -> None:
    ring = ring_for("HS256")
    header = {"alg": "HS256", "kid": f"hs256-{ring.primary.id:08x}", "typ": "at+jwt"}
    signing_input = f"{enc_json(header)}.{b64(json.dumps(payload).encode())}".encode()
    sig = hmac.new(ring.primary.material, signing_input, hashlib.sha256).digest()
    with pytest.raises(InvalidTokenError):
        verifier_for("HS256").verify(signing_input.decode() + "." + b64(sig))


@settings(max_examples=30, deadline=None)
@given(
    st.text(min_size=1, max_size=40),
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: (
                k not in {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "fam"}
                and k not in {"auth_time", "ext", "typ"}
            )
        ),
        st.integers(-(2**60), 2**60) | st.text(max_size=10) | st.booleans(),
        max_size=4,
    ),
)
def test_round_trip_property(subject: str, extra: dict[str, Any]) -> None:
    issuer = JWTIssuer(ring_for("HS256"), issuer=ISS, audience=AUD)
    token = issuer.issue(subject=subject, claims=extra, now=NOW)
    result = verifier_for("HS256").verify(token)
    assert result.subject == subject
    assert dict(result.extra) == extra


# --- claims -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["exp", "iat", "iss", "aud", "sub", "jti"])
def test_required_claims(name: str) -> None:
    token = make_token("EdDSA", claims(**{name: _DROP}))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.MISSING_CLAIM


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", ["1767268800", True, False, None, [T0], {"t": T0}, -1, 2**70])
def test_numeric_dates_are_json_numbers(name: str, value: object) -> None:
    token = make_token("EdDSA", claims(**{name: value}))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_CLAIM


def test_float_dates_are_accepted() -> None:
    token = make_token("EdDSA", claims(iat=T0 + 0.5, exp=T0 + 600.25))
    assert verifier_for().verify(token).expires_at.microsecond == 250000


@pytest.mark.parametrize("name", ["iss", "sub", "jti"])
@pytest.mark.parametrize("value", ["", 1, None, ["x"], True, "x" * 1025])
def test_string_claims(name: str, value: object) -> None:
    token = make_token("EdDSA", claims(**{name: value}))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_CLAIM


@pytest.mark.parametrize("aud", [1, [], [1], None, {"a": 1}, [AUD, 2]])
def test_audience_type(aud: object) -> None:
    token = make_token("EdDSA", claims(aud=aud))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.BAD_CLAIM


@pytest.mark.parametrize("aud", ["API.example", "api.example ", "other", ["other", "x"]])
def test_wrong_audience(aud: object) -> None:
    token = make_token("EdDSA", claims(aud=aud))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.WRONG_AUDIENCE


def test_audience_list_and_set() -> None:
    token = make_token("EdDSA", claims(aud=["other", AUD]))
    assert verifier_for().verify(token).audience == ("other", AUD)
    ring = ring_for("EdDSA")
    multi = JWTVerifier(
        ring.public_jwks(), issuer=ISS, audience={"x", "other"}, clock=FixedClock(NOW)
    )
    assert multi.verify(token).subject == "user-1"


@pytest.mark.parametrize("iss", ["https://auth.example/", "HTTPS://auth.example", "evil"])
def test_wrong_issuer(iss: str) -> None:
    token = make_token("EdDSA", claims(iss=iss))
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.WRONG_ISSUER


def test_expiry_and_leeway() -> None:
    token = make_token("EdDSA")
    verifier = verifier_for()
    assert verifier.verify(token, now=NOW + timedelta(seconds=600 + 29)).subject == "user-1"
    late = NOW + timedelta(seconds=630)
    assert reason_of(lambda: verifier.verify(token, now=late)) is TokenReason.EXPIRED
    strict = verifier_for(leeway=timedelta(0))
    at_exp = NOW + timedelta(seconds=600)
    assert reason_of(lambda: strict.verify(token, now=at_exp)) is TokenReason.EXPIRED


def test_not_yet_valid_and_future_iat() -> None:
    verifier = verifier_for()
    future_nbf = make_token("EdDSA", claims(nbf=T0 + 31))
    assert reason_of(lambda: verifier.verify(future_nbf)) is TokenReason.NOT_YET_VALID
    assert verifier.verify(make_token("EdDSA", claims(nbf=T0 + 30))).subject == "user-1"
    future_iat = make_token("EdDSA", claims(iat=T0 + 31, nbf=_DROP, exp=T0 + 300))
    assert reason_of(lambda: verifier.verify(future_iat)) is TokenReason.ISSUED_IN_FUTURE


def test_lifetime_cap() -> None:
    ten_years = make_token("EdDSA", claims(exp=T0 + 10 * 365 * 86400))
    assert reason_of(lambda: verifier_for().verify(ten_years)) is TokenReason.LIFETIME_TOO_LONG
    just_over = make_token("EdDSA", claims(exp=T0 + 901))
    assert reason_of(lambda: verifier_for().verify(just_over)) is TokenReason.LIFETIME_TOO_LONG
    backwards = make_token("EdDSA", claims(exp=T0 - 1, iat=T0, nbf=_DROP))
    reason = reason_of(lambda: verifier_for().verify(backwards, now=NOW - timedelta(seconds=20)))
    assert reason is TokenReason.BAD_CLAIM
    longer = verifier_for(max_lifetime=timedelta(hours=1))
    assert longer.verify(make_token("EdDSA", claims(exp=T0 + 3600))).subject == "user-1"


@pytest.mark.parametrize("typ", ["JWT", "rt+jwt", "id_token", "", None, 1, "application/jwt"])
def test_type_confusion(typ: object) -> None:
    header: dict[str, Any] = {"alg": "EdDSA", "kid": ring_for("EdDSA").primary.thumbprint()}
    if typ is not None:
        header["typ"] = typ
    token = make_token("EdDSA", header=header)
    assert reason_of(lambda: verifier_for().verify(token)) is TokenReason.WRONG_TYPE


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_typ_media_type_forms(typ: str) -> None:
    header = {"alg": "EdDSA", "kid": ring_for("EdDSA").primary.thumbprint(), "typ": typ}
    assert verifier_for().verify(make_token("EdDSA", header=header)).subject == "user-1"


def test_typ_is_compared_as_ascii_only() -> None:
    # U+212A KELVIN SIGN lower-cases to "k": "\u212ayc+jwt" must not match "kyc+jwt".
    kid = ring_for("EdDSA").primary.thumbprint()
    verifier = verifier_for(token_type="kyc+jwt")
    good = make_token("EdDSA", header={"alg": "EdDSA", "kid": kid, "typ": "KYC+JWT"})
    assert verifier.verify(good).token_type == "kyc+jwt"
    kelvin = make_token("EdDSA", header={"alg": "EdDSA", "kid": kid, "typ": "\u212ayc+jwt"})
    assert reason_of(lambda: verifier.verify(kelvin)) is TokenReason.WRONG_TYPE


def test_id_token_verifier_type() -> None:
    header = {"alg": "EdDSA", "kid": ring_for("EdDSA").primary.thumbprint(), "typ": "JWT"}
    token = make_token("EdDSA", header=header)
    assert verifier_for(token_type="JWT").verify(token).token_type == "jwt"


def test_signature_errors_come_before_claim_errors() -> None:
    token = make_token("EdDSA", claims(exp=T0 - 10_000, iss="evil", aud="x"))
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    assert reason_of(lambda: verifier_for().verify(forged)) is TokenReason.BAD_SIGNATURE
    wrong_type = make_token("EdDSA", claims(exp=T0 - 10_000), header={"alg": "EdDSA", "typ": "JWT"})
    assert reason_of(lambda: verifier_for().verify(wrong_type)) is TokenReason.WRONG_TYPE


def test_revoked_jti() -> None:
    revoked = {"jti-1"}
    verifier = verifier_for(is_revoked=revoked.__contains__)
    assert reason_of(lambda: verifier.verify(make_token("EdDSA"))) is TokenReason.REVOKED
    other = make_token("EdDSA", claims(jti="jti-2"))
    assert verifier.verify(other).jwt_id == "jti-2"


def test_errors_do_not_leak_the_token() -> None:
    token = make_token("EdDSA", claims(exp=T0 - 5000, secret_claim="s3cr3t-value"))
    with pytest.raises(InvalidTokenError) as info:
        verifier_for().verify(token)
    assert_no_leak(info.value, token, "s3cr3t-value", token.split(".")[1])
    assert repr(info.value) == "InvalidTokenError(reason='expired')"
    head, body, _ = token.split(".")
    with pytest.raises(InvalidTokenError) as bad:
        verifier_for().verify(f"{head}.{body}.{'A' * 86}")
    assert_no_leak(bad.value, token, body)


# --- misuse -----------------------------------------------------------------


def test_verify_misuse() -> None:
    verifier = verifier_for()
    with pytest.raises(TypeError):
        verifier.verify(b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verifier.verify(make_token("EdDSA"), now=datetime(2026, 1, 1))  # noqa: DTZ001
    assert "JWTVerifier" in repr(verifier)


def test_verifier_configuration_errors() -> None:
    jwks = ring_for("EdDSA").public_jwks()
    bad: list[dict[str, Any]] = [
        {"leeway": timedelta(seconds=301)},
        {"leeway": timedelta(seconds=-1)},
        {"max_lifetime": timedelta(0)},
        {"max_lifetime": timedelta(days=2)},
        {"token_type": "rt+jwt"},
        {"token_type": ""},
        {"max_token_bytes": 10},
        {"audience": []},
        {"audience": ""},
        {"issuer": ""},
    ]
    for policy in bad:
        kwargs: dict[str, Any] = {"issuer": ISS, "audience": AUD, **policy}
        with pytest.raises(ConfigurationError):
            JWTVerifier(jwks, **kwargs)
    for policy in (
        {"is_revoked": "nope"},
        {"leeway": 30},
        {"clock": "now"},
        {"max_token_bytes": True},
        {"issuer": 1},
        {"audience": 5},
    ):
        kwargs = {"issuer": ISS, "audience": AUD, **policy}
        with pytest.raises(TypeError):
            JWTVerifier(jwks, **kwargs)


def test_key_configuration_errors() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    hs_jwk = {"kty": "oct", "k": b64(b"k" * 16 + bytes(range(16))), "alg": "HS256"}
    ed_jwk = ring_for("EdDSA").public_jwks()["keys"][0]
    bad_inputs: list[Any] = [
        [],
        [ed],  # a private key
        [weak_rsa.public_key()],
        [p384.public_key()],
        [b"-----BEGIN PRIVATE KEY-----\n..."],
        [b"not a pem"],
        {"keys": "x"},
        {"keys": [{"kty": "oct", "k": b64(b"short"), "alg": "HS256"}]},
        {"keys": [hs_jwk, ed_jwk]},  # mixing HS256 with asymmetric keys
        {"keys": [ed_jwk, ed_jwk]},  # duplicate kid
        {"keys": [{**ed_jwk, "use": "enc"}]},
        {"keys": [{**ed_jwk, "key_ops": ["sign"]}]},
        {"keys": [{**ed_jwk, "alg": "ES256"}]},
        {"keys": [{**ed_jwk, "alg": 5}]},
        {"keys": [{**ed_jwk, "kid": ""}]},
        {"keys": [{**ed_jwk, "d": "AAAA"}]},
        {"keys": [{**ed_jwk, "crv": "Ed448"}]},
        {"keys": [{**ed_jwk, "x": "AAAA"}]},
        {"keys": [{**ed_jwk, "x": "A+A/"}]},
        {"keys": [{**ed_jwk, "x": ed_jwk["x"][:-1] + "B"}]},
        {"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]},
        {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 32), "y": b64(b"\x02" * 32)}]},
        {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 31), "y": b64(b"\x02" * 32)}]},
        {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]},
        {"keys": [{"kty": "RSA", "n": b64(b"\xff" * 256), "e": "AA"}]},
        {"keys": [{"kty": "XYZ"}]},
        {"keys": [{"kty": "oct", "k": b64(bytes(range(40))), "alg": "HS512"}]},
        KeyRing.generate("aead"),
    ]
    for keys in bad_inputs:
        with pytest.raises(ConfigurationError):
            JWTVerifier(keys, issuer=ISS, audience=AUD)
    for wrong in ("pem text", b"x", 5, ["not a key"], [5], [{"kty": "OKP"}, 1]):
        with pytest.raises((TypeError, ConfigurationError)):
            JWTVerifier(wrong, issuer=ISS, audience=AUD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        JWTVerifier(["not a key"], issuer=ISS, audience=AUD)
    with pytest.raises(TypeError):
        JWTVerifier({"keys": ["x"]}, issuer=ISS, audience=AUD)


def test_rsa_and_ec_key_alg_binding_from_objects() -> None:
    rsa_pub = ring_for("RS256").primary.public_key()
    with pytest.raises(ConfigurationError):
        JWTVerifier(
            [{**ring_for("RS256").public_jwks()["keys"][0], "alg": "HS256"}],
            issuer=ISS,
            audience=AUD,
        )
    ps_jwk = ring_for("PS256").public_jwks()["keys"][0]
    del ps_jwk["kid"]
    ps = JWTVerifier([ps_jwk], issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    header = {"alg": "PS256", "typ": "at+jwt"}
    assert ps.verify(make_token("PS256", header=header)).subject == "user-1"
    rs = JWTVerifier([rsa_pub], issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    assert rs.verify(make_token("RS256", header={"alg": "RS256", "typ": "at+jwt"})).subject
    ec_jwk = {**ring_for("ES256").public_jwks()["keys"][0], "alg": "EdDSA"}
    with pytest.raises(ConfigurationError):
        JWTVerifier([ec_jwk], issuer=ISS, audience=AUD)
    hs = {"kty": "oct", "k": b64(bytes(range(32)))}
    single = JWTVerifier({"keys": [hs]}, issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    token = make_token("HS256", header={"alg": "HS256", "typ": "at+jwt"}, key=bytes(range(32)))
    assert single.verify(token).subject == "user-1"


def test_mac_ring_and_hs256_kid() -> None:
    key = Key(
        id=0x01020304,
        kind=KeyKind.MAC,
        alg="HS256",  # type: ignore[arg-type]
        status=KeyStatus.PRIMARY,
        material=bytes(range(1, 33)),
    )
    ring = KeyRing([key])
    token = JWTIssuer(ring, issuer=ISS, audience=AUD).issue(subject="u", now=NOW)
    assert unverified_header(token)["kid"] == "hs256-01020304"
    verifier = JWTVerifier(ring, issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    assert verifier.verify(token).subject == "u"
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD)
    with pytest.raises(ConfigurationError):
        issuer.public_jwks()


def test_issuer_misuse() -> None:
    ring = ring_for("EdDSA")
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD)
    assert issuer.public_jwks() == ring.public_jwks()
    assert issuer.issuer == ISS
    assert issuer.access_lifetime == timedelta(minutes=15)
    assert "JWTIssuer" in repr(issuer)
    for name in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "fam"):
        with pytest.raises(ConfigurationError):
            issuer.issue(subject="u", claims={name: "x"})
    for value in (
        float("nan"),
        float("inf"),
        object(),
        {1: "x"},
        b"bytes",
        [[[[[[[[[[[[[[[1]]]]]]]]]]]]]]],
    ):
        with pytest.raises(ConfigurationError):
            issuer.issue(subject="u", claims={"c": value})
    assert issuer.issue(subject="u", claims={"t": (1, 2.5, None, True, {"k": "v"})})
    with pytest.raises(ConfigurationError):
        issuer.issue(subject="u", claims={"pad": "x" * 9000})
    with pytest.raises(ConfigurationError):
        issuer.issue(subject="")
    with pytest.raises(TypeError):
        issuer.issue(subject=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        issuer.issue(subject="u", claims=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        issuer.issue(subject="u", now=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(TypeError):
        JWTIssuer(ring.public_jwks(), issuer=ISS, audience=AUD)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        JWTIssuer(KeyRing.generate("aead"), issuer=ISS, audience=AUD)
    with pytest.raises(ConfigurationError):
        JWTIssuer(ring, issuer=ISS, audience=AUD, access_lifetime=timedelta(days=2))
    with pytest.raises(TypeError):
        JWTIssuer(ring, issuer=ISS, audience=AUD, clock="now")  # type: ignore[arg-type]
    verifier = issuer.verifier(clock=FixedClock(NOW))
    assert verifier.verify(issuer.issue(subject="u", now=NOW)).subject == "u"


def test_unverified_header() -> None:
    token = make_token("EdDSA")
    assert unverified_header(token)["alg"] == "EdDSA"
    none_token = f"{enc_json({'alg': 'none', 'x': 1})}.{enc_json(claims())}."
    assert unverified_header(none_token) == {"alg": "none", "x": 1}
    for bad in ("", "a", "a.b", "!!!.b.c", "a" * 9000, f"{b64(b'[1]')}.x.y"):
        with pytest.raises(InvalidTokenError):
            unverified_header(bad)
    with pytest.raises(TypeError):
        unverified_header(None)  # type: ignore[arg-type]


def test_private_key_set_helpers_never_show_secrets() -> None:
    from securekit import _jwt_codec as codec
    from securekit._jwks import KeySet, keys_from_ring

    ring = ring_for("HS256")
    key_set = KeySet(keys_from_ring(ring))
    assert len(key_set) == 1
    assert key_set.keys[0].alg == "HS256"
    assert "hs256-" in repr(key_set)
    shown = repr(key_set.keys[0])
    assert ring.primary.material.hex() not in shown
    assert repr(ring.primary.material) not in shown
    with pytest.raises(TypeError):
        codec.signature_length("RS256", b"secret")
    # A backend failure inside PyJWT is a failed verification, not a crash.
    broken = codec.VerifyKey("k", "EdDSA", b"not-a-key", 64)
    parsed = codec.parse(make_token("EdDSA"), max_size=8192)
    with pytest.raises(InvalidTokenError) as info:
        codec.verify_signature(parsed, broken)
    assert info.value.reason is TokenReason.BAD_SIGNATURE


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "b64", "jwk", "jku", "cty", "x"]),
        _JSON_VALUES | st.sampled_from(["EdDSA", "HS256", "none", "at+jwt"]),
        max_size=6,
    ),
    st.binary(max_size=80),
)
def test_arbitrary_headers_raise_only_invalid_token(header: dict[str, Any], sig: bytes) -> None:
    token = f"{enc_json(header)}.{enc_json(claims())}.{b64(sig)}"
    with pytest.raises(InvalidTokenError):
        verifier_for().verify(token)


def test_claims_are_readable_by_their_jwt_names() -> None:
    from securekit.jwt import JWTIssuer, JWTVerifier
    from securekit.keys import KeyRing as _KeyRing

    ring = _KeyRing.generate("signing")
    token = JWTIssuer(ring, issuer="https://auth.example", audience="api.example").issue(
        subject="user-1", claims={"scope": "read"}
    )
    claims = JWTVerifier(ring, issuer="https://auth.example", audience="api.example").verify(token)
    assert claims["sub"] == "user-1"
    assert claims["iss"] == "https://auth.example"
    assert claims["aud"] == "api.example"
    assert claims["scope"] == "read"
    assert claims["exp"] == int(claims.expires_at.timestamp())
    assert claims["jti"] == claims.jwt_id
    assert "scope" in claims
    assert "nbf" in claims
    assert "missing" not in claims
    assert claims.get("sub") == "user-1"
    assert claims.get("missing", 7) == 7
    with pytest.raises(KeyError):
        claims["missing"]
