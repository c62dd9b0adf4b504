"""Verify tokens from another issuer, given its JWKS (as a dict, or fetched over https).

The "external issuer" here signs with `cryptography` directly (ES256), the way
any standards-compliant identity provider would.

Run: python examples/jwt_external_jwks.py
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from securekit.errors import InvalidTokenError
from securekit.jwt import JWTVerifier, RemoteJWKS
from securekit.keys import jwk_thumbprint


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ExternalIssuer:
    """Stands in for an identity provider: publishes a JWKS and signs ES256 tokens."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64(numbers.x.to_bytes(32, "big")),
            "y": b64(numbers.y.to_bytes(32, "big")),
        }
        self.kid = jwk_thumbprint(jwk)
        self.jwks: dict[str, Any] = {
            "keys": [{**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}]
        }

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        header = {"alg": "ES256", "kid": self.kid, "typ": typ}
        signing_input = ".".join(
            b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def main() -> None:
    idp = ExternalIssuer()
    # Verifier: keys from the issuer's JWKS (here a dict; see below for https).
    verifier = JWTVerifier(idp.jwks, issuer="https://idp.example", audience="api.example")

    now = int(time.time())
    claims = {
        "iss": "https://idp.example",
        "sub": "alice",
        "aud": "api.example",
        "iat": now,
        "exp": now + 300,
        "jti": "3c1d0f6e-2f7b-4b7e-9a3e-6a1c2b4d5e6f",
        "scope": "read",
    }
    verified = verifier.verify(idp.sign(claims))
    print(f"external token ok: sub={verified.subject} kid={verified.key_id}")

    for label, token in (
        ("ID token (typ JWT) as access token", idp.sign(claims, typ="JWT")),
        ("token for another audience", idp.sign({**claims, "aud": "other.example"})),
        ("ten-year token", idp.sign({**claims, "exp": now + 10 * 365 * 86400})),
        ("string exp", idp.sign({**claims, "exp": str(now + 300)})),
    ):
        try:
            verifier.verify(token)
        except InvalidTokenError as exc:
            print(f"{label}: rejected ({exc.reason})")

    # Against a live issuer, fetch its JWKS over https (cached, size-capped,
    # with a cooldown on unknown kids). The URL comes from configuration only:
    remote = RemoteJWKS("https://idp.example/.well-known/jwks.json")
    JWTVerifier(remote, issuer="https://idp.example", audience="api.example")
    print("remote JWKS verifier configured (fetches on first use)")


if __name__ == "__main__":
    main()
