"""securekit.testing.jwt_attacks: an independent oracle, run against JWTVerifier.

Every attack token must be rejected by securekit's verifier, for every key
type, while the legitimate token is accepted (so the rejections cannot be
vacuous). PyJWT, a verifier securekit did not write, accepts the legitimate
tokens (so they are standard JWS) and a deliberately careless verifier is
caught by the attacks (so the attacks detect real mistakes).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import HealthCheck, given, settings

from securekit.errors import ConfigurationError, InvalidTokenError
from securekit.jwt import JWTVerifier
from securekit.keys import KeyRing
from securekit.testing import FixedClock
from securekit.testing.jwt_attacks import (
    ATTACK_NAMES,
    JWTAttack,
    JWTTarget,
    attack_names,
    build_attack,
    jwt_attack_tokens,
    valid_token,
)
from securekit.testing.strategies import jwt_attacks
from tests._leak import assert_no_leak

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://auth.example"
AUDIENCE = "api.example"

KINDS = [("signing", None), ("signing", "ES256"), ("signing", "RS256"), ("signing", "PS256"),
         ("mac", None)]  # fmt: skip


def _setup(kind: str, alg: str | None) -> tuple[JWTTarget, JWTVerifier]:
    ring = KeyRing.generate(kind, alg=alg)
    target = JWTTarget.from_keyring(ring, issuer=ISSUER, audience=AUDIENCE)
    keys: Any = ring.public_jwks() if kind == "signing" else ring
    verifier = JWTVerifier(keys, issuer=ISSUER, audience=AUDIENCE, clock=FixedClock(NOW))
    return target, verifier


@pytest.fixture(scope="module", params=KINDS, ids=lambda k: f"{k[0]}-{k[1] or 'default'}")
def setup(request: pytest.FixtureRequest) -> tuple[JWTTarget, JWTVerifier]:
    kind, alg = request.param
    return _setup(kind, alg)


def test_valid_token_is_accepted(setup: tuple[JWTTarget, JWTVerifier]) -> None:
    target, verifier = setup
    claims = verifier.verify(valid_token(target, now=NOW, subject="alice", claims={"r": 1}))
    assert claims.subject == "alice"
    assert claims.extra["r"] == 1


def test_every_attack_token_is_rejected(setup: tuple[JWTTarget, JWTVerifier]) -> None:
    target, verifier = setup
    attacks = jwt_attack_tokens(target, now=NOW, claims={"role": "admin"})
    assert len(attacks) > 70
    accepted = []
    for attack in attacks:
        try:
            verifier.verify(attack.token)
        except InvalidTokenError as exc:
            if attack.token.strip():  # "" is in every string
                assert_no_leak(exc, attack.token.strip())
        else:
            accepted.append(attack.name)
    assert accepted == []


def test_attack_classes_are_all_present(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    categories = {a.category for a in jwt_attack_tokens(target, now=NOW)}
    assert categories == {"alg_none", "hs_confusion", "signature", "claims", "header", "malformed"}


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body = token.split(".")[:2]

    def decode(part: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return value

    return decode(head), decode(body)


def test_attack_tokens_have_the_advertised_shape(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    header, payload = _segments(build_attack("alg_none:nOnE", target, now=NOW).token)
    assert header["alg"] == "nOnE"
    assert build_attack("alg_none:none", target, now=NOW).token.endswith(".")
    header, _ = _segments(build_attack("hs_confusion:pem", target, now=NOW).token)
    assert header == {"alg": "HS256", "kid": target.kid, "typ": "at+jwt"}
    header, _ = _segments(build_attack("header:jwk", target, now=NOW).token)
    assert header["jwk"]["kty"] == "OKP"
    assert header["kid"] != target.kid
    header, _ = _segments(build_attack("header:jku_legit_kid", target, now=NOW).token)
    assert header["kid"] == target.kid
    assert header["jku"].startswith("https://attacker.invalid")
    _, payload = _segments(build_attack("claims:expired", target, now=NOW).token)
    assert payload["exp"] < NOW.timestamp()
    _, payload = _segments(build_attack("claims:missing_exp", target, now=NOW).token)
    assert "exp" not in payload
    header, _ = _segments(build_attack("typ:missing", target, now=NOW).token)
    assert "typ" not in header
    _, payload = _segments(build_attack("signature:transplant", target, now=NOW).token)
    assert payload["sub"] == "admin"


def test_claims_attacks_carry_a_valid_signature(signing_keyring: KeyRing) -> None:
    """Claim attacks are signed by the real key: only the claim check can stop them."""
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    public = signing_keyring.primary.public_key()
    token = build_attack("claims:expired", target, now=NOW).token
    decoded = pyjwt.decode(token, public, algorithms=["EdDSA"], options={"verify_exp": False},
                           audience=AUDIENCE)  # fmt: skip
    assert decoded["iss"] == ISSUER
    with pytest.raises(pyjwt.ExpiredSignatureError):
        pyjwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE)


def _careless(public: Any) -> Any:
    """A verifier that checks the signature but forgets exp and aud."""

    def verify(token: str) -> object:
        return pyjwt.decode(token, public, algorithms=["EdDSA"],
                            options={"verify_exp": False, "verify_aud": False})  # fmt: skip

    return verify


def test_the_attacks_catch_a_careless_verifier(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    verify = _careless(signing_keyring.primary.public_key())
    accepted = set()
    for attack in jwt_attack_tokens(target, now=NOW):
        try:
            verify(attack.token)
        except pyjwt.PyJWTError:
            continue
        accepted.add(attack.name)
    assert {"claims:expired", "claims:wrong_audience", "claims:audience_suffix"} <= accepted
    assert not any(name.startswith(("alg_none", "hs_confusion", "signature")) for name in accepted)


@pytest.mark.parametrize(
    ("key", "alg", "pyjwt_key"),
    [
        (ec.generate_private_key(ec.SECP384R1()), None, "ES384"),
        (ec.generate_private_key(ec.SECP521R1()), None, "ES512"),
        (ed25519.Ed25519PrivateKey.generate(), None, "EdDSA"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "PS384", "PS384"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS512", "RS512"),
        (b"k" * 48, "HS384", "HS384"),
    ],
    ids=["ES384", "ES512", "EdDSA", "PS384", "RS512", "HS384"],
)
def test_valid_tokens_are_standard_jws(key: Any, alg: str | None, pyjwt_key: str) -> None:
    """PyJWT, written by others, accepts what we build: the oracle signs correctly."""
    target = JWTTarget(issuer=ISSUER, audience=AUDIENCE, signing_key=key, kid="k1", alg=alg)
    assert target.alg == pyjwt_key
    token = valid_token(target, now=datetime.now(UTC))
    verify_key = key if isinstance(key, bytes) else key.public_key()
    claims = pyjwt.decode(token, verify_key, algorithms=[pyjwt_key], audience=AUDIENCE,
                          issuer=ISSUER)  # fmt: skip
    assert claims["sub"] == "user-1"
    assert pyjwt.get_unverified_header(token)["kid"] == "k1"
    assert len(jwt_attack_tokens(target, now=NOW)) > 60


def test_rsa_targets_get_pkcs1_confusion_and_no_raw_form() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    target = JWTTarget(issuer=ISSUER, audience=AUDIENCE, signing_key=key)
    names = attack_names(target)
    assert "hs_confusion:pkcs1" in names
    assert "hs_confusion:raw" not in names
    assert "hs_confusion:jwk" not in names
    assert "hs_confusion:empty" not in names


def test_symmetric_targets_skip_public_key_confusion(mac_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(mac_keyring, issuer=ISSUER, audience=AUDIENCE)
    assert target.symmetric
    names = attack_names(target)
    assert "hs_confusion:empty" in names
    assert "hs_confusion:pem" in names
    assert "hs_confusion:der" not in names
    no_kid = JWTTarget(issuer=ISSUER, audience=AUDIENCE, signing_key=b"s" * 32)
    assert "hs_confusion:pem" not in attack_names(no_kid)


def test_untyped_targets_get_no_typ_attacks(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(
        signing_keyring, issuer=ISSUER, audience=AUDIENCE, token_type=None
    )
    assert not any(name.startswith("typ:") for name in attack_names(target))
    header, _ = _segments(valid_token(target, now=NOW))
    assert "typ" not in header
    assert set(attack_names(target)) < set(ATTACK_NAMES)


def test_targets_without_kid_send_none() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    target = JWTTarget(issuer=ISSUER, audience=AUDIENCE, signing_key=key)
    header, _ = _segments(valid_token(target, now=NOW))
    assert header == {"alg": "EdDSA", "typ": "at+jwt"}
    verifier = JWTVerifier([key.public_key()], issuer=ISSUER, audience=AUDIENCE,
                           clock=FixedClock(NOW))  # fmt: skip
    assert verifier.verify(valid_token(target, now=NOW)).subject == "user-1"
    for attack in jwt_attack_tokens(target, now=NOW):
        with pytest.raises(InvalidTokenError):
            verifier.verify(attack.token)


def test_target_repr_hides_the_key() -> None:
    target = JWTTarget(issuer=ISSUER, audience=AUDIENCE, signing_key=b"s3cret-" * 8)
    assert "s3cret" not in repr(target)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"issuer": ""}, ConfigurationError),
        ({"audience": 3}, ConfigurationError),
        ({"signing_key": b"short"}, ConfigurationError),
        ({"signing_key": b"k" * 32, "alg": "HS512"}, ConfigurationError),
        ({"signing_key": "not bytes"}, TypeError),
        ({"alg": "EdDSA"}, ConfigurationError),
        ({"kid": 5}, TypeError),
        ({"token_type": ""}, TypeError),
        ({"token_type": 1}, TypeError),
        ({"signing_key": ec.generate_private_key(ec.SECP256K1())}, ConfigurationError),
    ],
)
def test_target_misuse(kwargs: dict[str, Any], error: type[Exception]) -> None:
    base: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, "signing_key": b"k" * 32}
    with pytest.raises(error):
        JWTTarget(**{**base, **kwargs})


def test_from_keyring_misuse(aead_keyring: KeyRing) -> None:
    with pytest.raises(ConfigurationError, match="signing"):
        JWTTarget.from_keyring(aead_keyring, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TypeError):
        JWTTarget.from_keyring("ring", issuer=ISSUER, audience=AUDIENCE)  # type: ignore[arg-type]


def test_builder_misuse(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ConfigurationError, match="unknown attack"):
        build_attack("alg_none:nope", target)
    with pytest.raises(ConfigurationError, match="unknown attack"):
        build_attack(3, target)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="subject"):
        valid_token(target, subject="")
    with pytest.raises(TypeError, match="claims"):
        valid_token(target, claims=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aware"):
        valid_token(target, now=datetime(2026, 1, 1))  # noqa: DTZ001 - the naive case
    with pytest.raises(TypeError):
        valid_token("target")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        attack_names("target")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jwt_attacks("target")  # type: ignore[arg-type]


def test_default_now_is_the_current_time(signing_keyring: KeyRing) -> None:
    target = JWTTarget.from_keyring(signing_keyring, issuer=ISSUER, audience=AUDIENCE)
    _, payload = _segments(valid_token(target))
    assert abs(payload["iat"] - datetime.now(UTC).timestamp()) < 60
    assert payload["exp"] - payload["iat"] == timedelta(minutes=5).total_seconds()


_TARGET, _VERIFIER = _setup("signing", None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jwt_attacks(_TARGET, now=NOW, claims={"role": "admin"}))
def test_strategy_attacks_are_rejected(attack: JWTAttack) -> None:
    with pytest.raises(InvalidTokenError):
        _VERIFIER.verify(attack.token)
