"""Second-factor and OAuth costs against the raw primitives.

* ``TOTP.verify`` (format check, failure counter, three HOTP computations
  compared in constant time, replay record in the store) against the same
  +/-1 window computed with ``cryptography``'s ``TOTP`` by hand with no
  replay guard or throttle: the two store round trips on the in-memory store
  may cost at most 6x (both stay in the tens of microseconds).
* ``AuthorizationCodeFlow.verify_id_token`` against ``jwt.decode`` with the
  same checks PyJWT offers (signature, iss, aud, exp) plus a nonce compare:
  at most 1.5x (securekit's parser is stricter but pre-parses keys).
* ``Policy.check`` against a hand-written role-table lookup: at most 15x
  of a sub-microsecond operation.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import time
from datetime import UTC, datetime

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor import totp as raw_totp

from securekit.authz import Policy
from securekit.keys import KeyRing
from securekit.mfa import TOTP, generate_totp_secret
from securekit.oauth import AuthorizationCodeFlow
from securekit.stores import MemoryStore
from tests.benchmarks._harness import QUICK, compare


def test_totp_verify_against_raw_cryptography() -> None:
    totp = TOTP(MemoryStore(), issuer="Bench")
    secret = generate_totp_secret()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    # SHA-1 is what authenticator apps use (RFC 6238); HOTP is not affected by collisions.
    raw = raw_totp.TOTP(key, 6, hashes.SHA1(), 30)  # noqa: S303
    users = itertools.count()

    def securekit_verify() -> None:
        now = datetime.now(UTC)
        totp.verify(totp.code(secret, now=now), secret=secret, user=f"u{next(users)}", now=now)

    def raw_verify() -> None:
        now = time.time()
        code = raw.generate(int(now))
        ok = False
        for offset in (-30, 0, 30):
            ok |= hmac.compare_digest(raw.generate(int(now) + offset), code)
        if not ok:
            raise AssertionError

    result = compare(
        "TOTP.verify (+ replay guard, memory store) vs cryptography TOTP window",
        {"cryptography": raw_verify, "securekit": securekit_verify},
        baseline="cryptography",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 6


ISSUER = "https://id.example"
RING = KeyRing.generate("signing")


class _NoReplayMarker(MemoryStore):
    """Accepts every replay marker, so one ID token can be verified in a loop.

    The baseline (PyJWT + a nonce compare) keeps no replay state either; the
    single-use marker is one MemoryStore.add, tested in tests/test_oauth.py.
    """

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        return True


def test_verify_id_token_against_pyjwt() -> None:
    flow = AuthorizationCodeFlow(
        store=_NoReplayMarker(),
        issuer=ISSUER,
        client_id="client",
        authorization_endpoint=f"{ISSUER}/authorize",
        token_endpoint=f"{ISSUER}/token",
        redirect_uris=["https://app.example/cb"],
        keys=RING.public_jwks(),
    )
    pending = flow.start().pending
    now = int(time.time())
    key = RING.primary
    token = pyjwt.encode(
        {
            "iss": ISSUER,
            "sub": "u",
            "aud": "client",
            "iat": now,
            "exp": now + 3600,
            "nonce": pending.nonce,
        },
        key.private_key(),
        algorithm="EdDSA",
        headers={"kid": key.thumbprint(), "typ": "JWT"},
    )
    public = key.private_key().public_key()

    def raw() -> None:
        claims = pyjwt.decode(token, public, algorithms=["EdDSA"], audience="client", issuer=ISSUER)
        if not hmac.compare_digest(claims["nonce"], pending.nonce):
            raise AssertionError

    result = compare(
        "verify_id_token vs jwt.decode + nonce",
        {"pyjwt": raw, "securekit": lambda: flow.verify_id_token(token, pending=pending)},
        baseline="pyjwt",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 1.5


def test_policy_check_against_hand_written_lookup() -> None:
    table = {f"role{i}": {f"res{j}:read" for j in range(i, i + 5)} for i in range(20)}
    actions = set().union(*table.values())
    policy = Policy(table, actions=actions)
    subject = policy.subject("alice", roles=["role3", "role7"])
    held = ["role3", "role7"]

    def raw() -> bool:
        return any("res9:read" in table[r] for r in held)

    result = compare(
        "Policy.check vs hand-written role lookup",
        {"dict lookup": raw, "securekit": lambda: policy.check(subject, "res9:read")},
        baseline="dict lookup",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 15
