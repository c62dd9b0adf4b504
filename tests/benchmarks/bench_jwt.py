"""JWT verify throughput against PyJWT (parsed key, equivalent options), and issue throughput.

PyJWT is called as a careful user would: a parsed key object, one allowed
algorithm, audience, issuer, leeway and the same required claims. securekit
does more (typ, strict JSON, canonical base64url, lifetime cap) and must stay
within 1.15x of it (issue 5).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest

from securekit.jwt import JWTIssuer, JWTVerifier
from securekit.keys import KeyRing
from tests.benchmarks._harness import QUICK, compare

ISS = "https://auth.example"
AUD = "api.example"
TARGET = 1.15

CASES = [("EdDSA", "signing"), ("ES256", "signing"), ("RS256", "signing"), ("HS256", "mac")]


@pytest.mark.parametrize(("alg", "kind"), CASES, ids=[c[0] for c in CASES])
def test_verify_throughput(alg: str, kind: str) -> None:
    ring = KeyRing.generate(kind, alg=alg)
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD)
    token = issuer.issue(subject="user-1", claims={"scope": "read"})
    verifier = JWTVerifier(
        ring if kind == "mac" else ring.public_jwks(),
        issuer=ISS,
        audience=AUD,
        leeway=timedelta(seconds=30),
    )
    key: Any = ring.primary.material if kind == "mac" else ring.primary.public_key()
    options: Any = {"require": ["exp", "iat", "iss", "aud", "sub", "jti"]}

    def peer() -> object:
        return pyjwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUD,
            issuer=ISS,
            leeway=30,
            options=options,
        )

    def ours() -> object:
        return verifier.verify(token)

    assert ours() is not None
    assert peer() is not None
    result = compare(
        f"jwt verify {alg}", {"pyjwt.decode": peer, "securekit": ours}, baseline="pyjwt.decode"
    )
    if not QUICK:
        assert result.ratio("securekit") <= TARGET


@pytest.mark.parametrize(("alg", "kind"), CASES, ids=[c[0] for c in CASES])
def test_issue_throughput(alg: str, kind: str) -> None:
    ring = KeyRing.generate(kind, alg=alg)
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD)
    key: Any = ring.primary.material if kind == "mac" else ring.primary.private_key()
    kid = issuer.issue(subject="u").split(".")[0]

    def peer() -> object:
        return pyjwt.encode(
            {"iss": ISS, "sub": "user-1", "aud": AUD, "scope": "read"},
            key,
            algorithm=alg,
            headers={"kid": kid, "typ": "at+jwt"},
        )

    def ours() -> object:
        return issuer.issue(subject="user-1", claims={"scope": "read"})

    compare(f"jwt issue {alg}", {"pyjwt.encode": peer, "securekit": ours}, baseline="pyjwt.encode")
