"""Regression tests named after JWT advisories that hit peers (PyJWT test_advisory.py style)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason
from securekit.jwt import JWTVerifier
from securekit.keys import KeyRing
from securekit.testing import FixedClock

ISS = "https://auth.example"
AUD = "api.example"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())
CLAIMS = {"iss": ISS, "sub": "admin", "aud": AUD, "iat": T0, "exp": T0 + 60, "jti": "x"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs256(secret: bytes, header: Mapping[str, object]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(CLAIMS).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _public_forms(ring: KeyRing) -> list[bytes]:
    public = ring.primary.public_key()
    forms = [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(ring.public_jwks()["keys"][0]).encode(),
    ]
    if isinstance(public, ec.EllipticCurvePublicKey):
        forms.append(
            public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
    return forms


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_cve_2022_29217_pyjwt_algorithm_confusion(alg: str) -> None:
    """PyJWT < 2.4.0 let a token pick HS256 and verified it with the public key
    (PEM or OpenSSH) as the HMAC secret. securekit binds each key to one
    algorithm, so the token's alg can only agree with the key's."""
    ring = KeyRing.generate("signing", alg=alg)
    verifier = JWTVerifier(ring.public_jwks(), issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    for secret in _public_forms(ring):
        for header in (
            {"alg": "HS256", "typ": "at+jwt"},
            {"alg": "HS256", "typ": "at+jwt", "kid": ring.primary.thumbprint()},
        ):
            with pytest.raises(InvalidTokenError) as info:
                verifier.verify(forge_hs256(secret, header))
            assert info.value.reason is TokenReason.UNSUPPORTED_ALGORITHM


def test_cve_2022_29217_public_key_is_never_an_hmac_secret() -> None:
    ring = KeyRing.generate("signing", alg="ES256")
    for secret in _public_forms(ring)[:3]:
        jwk = {"kty": "oct", "k": b64(secret)}
        with pytest.raises(ConfigurationError):
            JWTVerifier({"keys": [jwk]}, issuer=ISS, audience=AUD)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_cve_2024_33663_python_jose_algorithm_confusion(alg: str) -> None:
    """python-jose <= 3.3.0 accepted HS256 tokens signed with an ECDSA (or RSA)
    public key in PEM form when the verifier held that key. In securekit HS256
    and asymmetric keys cannot even sit in the same verifier."""
    ring = KeyRing.generate("signing", alg=alg)
    pem = ring.primary.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier = JWTVerifier([pem], issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    token = forge_hs256(pem, {"alg": "HS256", "typ": "at+jwt"})
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(token)
    assert info.value.reason is TokenReason.UNSUPPORTED_ALGORITHM
    hs = {"kty": "oct", "k": b64(bytes(range(32))), "kid": "hs"}
    with pytest.raises(ConfigurationError):
        JWTVerifier({"keys": [hs, *ring.public_jwks()["keys"]]}, issuer=ISS, audience=AUD)


N = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


@pytest.mark.parametrize(("r", "s"), [(0, 0), (N, N), (0, N), (N, 0)])
def test_cve_2022_21449_psychic_signatures(r: int, s: int) -> None:
    """Java 15-18 accepted ECDSA signatures with r = s = 0 for any message.
    securekit checks 0 < r, s < n before verifying."""
    ring = KeyRing.generate("signing", alg="ES256")
    verifier = JWTVerifier(ring.public_jwks(), issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    header = {"alg": "ES256", "typ": "at+jwt", "kid": ring.primary.thumbprint()}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(CLAIMS).encode())}"
    token = f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(token)
    assert info.value.reason is TokenReason.BAD_SIGNATURE
    # The DER form of r = s = 0 is refused by length before any arithmetic.
    der_zero = bytes.fromhex("3006020100020100")
    with pytest.raises(InvalidTokenError):
        verifier.verify(f"{signing_input}.{b64(der_zero)}")
