"""Wycheproof ``json_web_signature_test.json`` against securekit's JWS layer.

Source: C2SP/wycheproof ``testvectors_v1/json_web_signature_test.json`` (see
``../shared/vectors/wycheproof/README.md``). The payloads are not JWT claim
sets (``"foo"``), so the vectors run against the signature layer that
:meth:`securekit.jwt.JWTVerifier.verify` applies before any claim: strict
parsing, key selection by ``kid``, algorithm pinned by the key, signature.

Not applicable, by design:

* groups whose key uses an algorithm securekit does not support (RS384,
  RS512, PS384, PS512, ES512): the key is refused at construction, so every
  token for it is rejected;
* ``InvalidCharacterInserted*`` (tcId 372, 373): Wycheproof marks them valid
  for lenient base64 decoders that skip junk characters; securekit requires
  canonical base64url (RFC 7515 section 2) and rejects them on purpose;
* ``emptyPayload`` (tcId 259, 272): a JWT's payload is a JSON object
  (RFC 7519 section 7.2), never empty, so an empty segment is malformed;
* ``Figure20`` (tcId 346, 350): RFC 7520 signs with PS384 under a key whose
  JWK says ``alg: PS256``; securekit binds each key to its one algorithm
  (RFC 8725 section 3.1) and rejects the token on purpose;
* ``invalidBase64Padding*`` (tcId 367, 370) are byte-for-byte identical to the
  valid tcId 357 in this snapshot (the padding was lost upstream), so they
  verify; the padded forms are rejected, see :func:`test_padded_forms`.
"""

from __future__ import annotations

from typing import Any

import pytest

from securekit import _jwt_codec as codec
from securekit._jwks import KeySet, parse_jwk
from securekit.errors import ConfigurationError, InvalidTokenError
from tests.conftest import load_vectors

_PRIVATE = {"d", "p", "q", "dp", "dq", "qi", "oth"}
#: Valid only for lenient decoders; securekit is strict on purpose.
LENIENT_ONLY = {372, 373}
#: Refused by securekit's policy, see the module docstring.
BY_POLICY = {259, 272, 346, 350}
#: Byte-identical to a valid vector upstream, see the module docstring.
IDENTICAL_TO_VALID = {367, 370}


def _cases() -> list[Any]:
    try:
        data = load_vectors("wycheproof", "json_web_signature_test.json")
    except pytest.skip.Exception:  # pragma: no cover - vectors absent locally
        return []
    cases: list[Any] = []
    for group in data["testGroups"]:
        jwk = group.get("public") or group.get("private")
        cases.extend(
            pytest.param(jwk, test, id=f"tc{test['tcId']}-{test['comment']}")
            for test in group["tests"]
        )
    return cases


def _verify(jwk: dict[str, Any], jws: object) -> bool:
    public = {k: v for k, v in jwk.items() if k not in _PRIVATE or jwk.get("kty") == "oct"}
    try:
        keys = KeySet([parse_jwk(public)])
    except ConfigurationError:
        return False  # the key is refused: nothing can verify under it
    if not isinstance(jws, str):
        return False  # JSON serialization: securekit only takes compact tokens
    try:
        parsed = codec.parse(jws, max_size=8192)
        codec.verify_signature(parsed, keys.select(parsed.kid))
    except InvalidTokenError:
        return False
    return True


def test_vectors_are_present() -> None:
    data = load_vectors("wycheproof", "json_web_signature_test.json")
    assert data["numberOfTests"] == sum(len(g["tests"]) for g in data["testGroups"])


@pytest.mark.parametrize(("jwk", "test"), _cases())
def test_wycheproof_jws(jwk: dict[str, Any], test: dict[str, Any]) -> None:
    accepted = _verify(jwk, test["jws"])
    supported = jwk.get("alg") in codec.ALGORITHMS
    tc = test["tcId"]
    if tc in IDENTICAL_TO_VALID:
        assert accepted
    elif test["result"] == "valid" and supported and tc not in LENIENT_ONLY | BY_POLICY:
        assert accepted, "a valid signature was rejected"
    elif test["result"] == "invalid":
        assert not accepted, "an invalid JWS was accepted"
    else:
        # Unsupported algorithm or lenient-only encoding: refused by design.
        assert not accepted


def test_padded_forms() -> None:
    data = load_vectors("wycheproof", "json_web_signature_test.json")
    tests = {t["tcId"]: (g, t) for g in data["testGroups"] for t in g["tests"]}
    group, valid = tests[357]
    head, body, sig = valid["jws"].split(".")
    assert _verify(group["private"], valid["jws"])
    for padded in (f"{head}.{body}==.{sig}", f"{head}.{body}.{sig}=", f"{head}=.{body}.{sig}"):
        assert not _verify(group["private"], padded)
