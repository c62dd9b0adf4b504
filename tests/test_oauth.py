"""securekit.oauth: PKCE, state/nonce, exact redirect URIs, ID-token validation.

Also covers the ID-token options of :class:`securekit.jwt.JWTVerifier`
(``require_type`` / ``require_jti``), added for OpenID Connect.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    InvalidTokenError,
    StoreUnavailableError,
    TokenReason,
)
from securekit.jwt import JWTIssuer, JWTVerifier
from securekit.keys import KeyRing
from securekit.oauth import (
    AuthorizationCodeFlow,
    PendingAuthorization,
    pkce_challenge,
    pkce_verifier,
    redirect_uri_matches,
)
from securekit.stores import MemoryStore, SQLiteStore
from securekit.testing import FixedClock
from tests._leak import assert_no_leak

NOW = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
ISSUER = "https://id.example"
CLIENT = "client-123"
REDIRECT = "https://app.example/callback"
RING = KeyRing.generate("signing")
OTHER_RING = KeyRing.generate("signing")


def id_token(
    ring: KeyRing = RING,
    *,
    typ: str | None = "JWT",
    omit: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-42",
        "aud": CLIENT,
        "iat": int(NOW.timestamp()) - 5,
        "exp": int(NOW.timestamp()) + 3600,
        **claims,
    }
    for name in omit:
        payload.pop(name, None)
    key = ring.primary
    headers: dict[str, Any] = {"kid": key.thumbprint(), "typ": typ}
    return pyjwt.encode(payload, key.private_key(), algorithm="EdDSA", headers=headers)


def make_flow(**kwargs: Any) -> AuthorizationCodeFlow:
    args: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": CLIENT,
        "authorization_endpoint": "https://id.example/authorize",
        "token_endpoint": "https://id.example/token",
        "redirect_uris": [REDIRECT, "https://app.example/cb2"],
        "keys": RING.public_jwks(),
        "clock": FixedClock(NOW),
        **kwargs,
    }
    return AuthorizationCodeFlow(**args)


# --- PKCE ---------------------------------------------------------------------


def test_rfc7636_appendix_b_vector() -> None:
    # RFC 7636 appendix B: the S256 example.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_verifier_is_random_and_valid() -> None:
    first, second = pkce_verifier(), pkce_verifier()
    assert first != second
    assert len(first) == 43
    assert len(pkce_challenge(first)) == 43


@pytest.mark.parametrize(
    "bad", ["", "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + "é", "a" * 42 + " "]
)
def test_pkce_challenge_refuses_bad_verifiers(bad: str) -> None:
    with pytest.raises(InvalidTokenError) as info:
        pkce_challenge(bad)
    assert info.value.reason is TokenReason.MALFORMED
    assert_no_leak(info.value, bad) if bad else None


def test_pkce_challenge_type() -> None:
    with pytest.raises(TypeError):
        pkce_challenge(b"x" * 43)  # type: ignore[arg-type]


# --- redirect URIs --------------------------------------------------------------


@pytest.mark.parametrize(
    "candidate",
    [
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
        "https://app.example/Callback",
        "https://APP.example/callback",
        "https://app.example:443/callback",
        "https://app.example/callback#frag",
        "https://app.example/callback/../callback",
        "https://app.example.evil.com/callback",
        "https://app.example/callback%2F",
        "http://app.example/callback",
        "https://app.example/callback\x00",
        "https://app.example/callback\ud800",
    ],
)
def test_redirect_uri_exact_match_only(candidate: str) -> None:
    assert redirect_uri_matches(REDIRECT, [REDIRECT])
    assert not redirect_uri_matches(candidate, [REDIRECT])


def test_redirect_uri_matches_misuse() -> None:
    with pytest.raises(TypeError):
        redirect_uri_matches(1, [REDIRECT])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        redirect_uri_matches(REDIRECT, REDIRECT)
    with pytest.raises(TypeError):
        redirect_uri_matches(REDIRECT, [1])  # type: ignore[list-item]


# --- flow construction -------------------------------------------------------------


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "code id_token", "code token", "CODE"]
)
def test_implicit_and_hybrid_flows_refused(response_type: str) -> None:
    with pytest.raises(ConfigurationError, match="response_type"):
        make_flow(response_type=response_type)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"authorization_endpoint": "http://id.example/authorize"}, ConfigurationError),
        ({"token_endpoint": "http://id.example/token"}, ConfigurationError),
        ({"redirect_uris": ["https://app.example/cb#x"]}, ConfigurationError),
        ({"redirect_uris": ["https://user:pw@app.example/cb"]}, ConfigurationError),
        ({"redirect_uris": ["/callback"]}, ConfigurationError),
        ({"redirect_uris": ["https://app.example/c b"]}, ConfigurationError),
        ({"redirect_uris": ["https://[::1/cb"]}, ConfigurationError),
        ({"redirect_uris": []}, ConfigurationError),
        ({"redirect_uris": REDIRECT}, TypeError),
        ({"redirect_uris": [1]}, TypeError),
        ({"scopes": ["profile"]}, ConfigurationError),
        ({"scopes": ["openid", "bad scope"]}, ConfigurationError),
        ({"scopes": "openid"}, TypeError),
        ({"client_id": ""}, ConfigurationError),
        ({"issuer": "http://id.example"}, ConfigurationError),
        ({"pending_lifetime": timedelta(days=1)}, ConfigurationError),
        ({"pending_lifetime": 600}, TypeError),
        ({"id_token_max_age": timedelta(seconds=1)}, ConfigurationError),
        ({"clock": "now"}, TypeError),
    ],
)
def test_flow_misuse(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_flow(**kwargs)


def test_loopback_http_is_allowed() -> None:
    flow = make_flow(
        issuer="http://127.0.0.1:8000",
        authorization_endpoint="http://127.0.0.1:8000/authorize",
        token_endpoint="http://localhost:8000/token",
        redirect_uris=["http://[::1]:9000/cb"],
    )
    assert "127.0.0.1" in repr(flow)


# --- start / callback -------------------------------------------------------------


def test_start_builds_code_pkce_request() -> None:
    flow = make_flow(scopes=("openid", "email"))
    request = flow.start()
    parts = urllib.parse.urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://id.example/authorize"
    query = dict(urllib.parse.parse_qsl(parts.query, strict_parsing=True))
    pending = request.pending
    assert query == {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": pkce_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    assert len(pending.state) >= 43
    assert pending.state != pending.nonce
    assert flow.start().pending.state != pending.state
    assert pending.code_verifier not in repr(request)
    assert pending.state not in repr(pending)


def test_start_with_query_in_endpoint_and_other_redirect() -> None:
    flow = make_flow(authorization_endpoint="https://id.example/authorize?tenant=a")
    request = flow.start(redirect_uri="https://app.example/cb2")
    assert request.url.startswith("https://id.example/authorize?tenant=a&response_type=code")
    assert request.pending.redirect_uri == "https://app.example/cb2"
    with pytest.raises(ConfigurationError):
        flow.start(redirect_uri="https://app.example/cb2/")


def test_callback_builds_token_request() -> None:
    flow = make_flow()
    pending = flow.start().pending
    token_request = flow.callback(
        {"code": "abc", "state": pending.state, "iss": ISSUER},
        pending=pending,
        redirect_uri=REDIRECT,
    )
    assert token_request.url == "https://id.example/token"
    assert dict(token_request.data) == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": REDIRECT,
        "client_id": CLIENT,
        "code_verifier": pending.code_verifier,
    }
    assert pending.code_verifier not in repr(token_request)


def reason_of(
    flow: AuthorizationCodeFlow,
    params: Mapping[str, object],
    pending: PendingAuthorization | None,
    **kw: Any,
) -> TokenReason:
    with pytest.raises(InvalidTokenError) as info:
        flow.callback(params, pending=pending, **kw)
    return info.value.reason


def test_callback_state_checks() -> None:
    flow = make_flow()
    pending = flow.start().pending
    other = flow.start().pending
    assert (
        reason_of(flow, {"code": "c", "state": other.state}, pending) is TokenReason.STATE_MISMATCH
    )
    assert reason_of(flow, {"code": "c"}, pending) is TokenReason.STATE_MISMATCH
    assert (
        reason_of(flow, {"code": "c", "state": pending.state}, None) is TokenReason.STATE_MISMATCH
    )
    assert (
        reason_of(flow, {"code": "c", "state": pending.state[:-1]}, pending)
        is TokenReason.STATE_MISMATCH
    )


def test_callback_other_checks() -> None:
    clock = FixedClock(NOW)
    flow = make_flow(clock=clock)
    pending = flow.start().pending
    ok = {"code": "c", "state": pending.state}
    assert (
        reason_of(flow, {**ok, "iss": "https://evil.example"}, pending) is TokenReason.WRONG_ISSUER
    )
    assert reason_of(flow, {**ok, "error": "access_denied"}, pending) is TokenReason.PROVIDER_ERROR
    assert reason_of(flow, {"state": pending.state}, pending) is TokenReason.MALFORMED
    assert reason_of(flow, {**ok, "access_token": "x"}, pending) is TokenReason.MALFORMED
    assert reason_of(flow, {**ok, "id_token": "x"}, pending) is TokenReason.MALFORMED
    assert reason_of(flow, {**ok, "code": "a b"}, pending) is TokenReason.MALFORMED
    assert reason_of(flow, {**ok, "code": "x" * 5000}, pending) is TokenReason.MALFORMED
    assert reason_of(flow, {**ok, "code": ["a"]}, pending) is TokenReason.MALFORMED
    assert (
        reason_of(flow, ok, pending, redirect_uri="https://app.example/cb2")
        is TokenReason.MALFORMED
    )
    foreign = PendingAuthorization(
        state=pending.state,
        nonce="n",
        code_verifier=pending.code_verifier,
        redirect_uri="https://evil.example/cb",
        created_at=NOW,
    )
    assert reason_of(flow, ok, foreign) is TokenReason.MALFORMED
    clock.advance(timedelta(minutes=11))
    assert reason_of(flow, ok, pending) is TokenReason.EXPIRED


def test_pending_misuse() -> None:
    with pytest.raises(TypeError):
        PendingAuthorization(
            state=1,  # type: ignore[arg-type]
            nonce="n",
            code_verifier="v",
            redirect_uri=REDIRECT,
            created_at=NOW,
        )
    with pytest.raises(TypeError):
        PendingAuthorization(
            state="s",
            nonce="n",
            code_verifier="v",
            redirect_uri=REDIRECT,
            created_at=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
        )


def test_callback_misuse() -> None:
    flow = make_flow()
    pending = flow.start().pending
    with pytest.raises(TypeError):
        flow.callback([("code", "c")], pending=pending)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        flow.callback({"code": "c"}, pending=pending.to_dict())  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["code", "state", "iss", "error", "x"]), st.text(max_size=50) | st.none()
    )
)
def test_callback_junk_raises_only_invalid_token(params: dict[str, object]) -> None:
    flow = make_flow()
    pending = flow.start().pending
    try:
        flow.callback(params, pending=pending)
    except InvalidTokenError:
        pass
    else:  # pragma: no cover - hypothesis cannot guess a 256-bit state
        pytest.fail("junk accepted")


def test_pending_round_trip_and_junk() -> None:
    flow = make_flow()
    pending = flow.start().pending
    assert PendingAuthorization.from_dict(pending.to_dict()) == pending
    junks: list[object] = [
        [],
        {},
        {**pending.to_dict(), "state": 5},
        {**pending.to_dict(), "state": "é"},
        {**pending.to_dict(), "created_at": "now"},
        {**pending.to_dict(), "created_at": True},
        {**pending.to_dict(), "created_at": 1e300},
        {**pending.to_dict(), "created_at": float("nan")},
    ]
    for junk in junks:
        with pytest.raises(InvalidTokenError) as info:
            PendingAuthorization.from_dict(junk)  # type: ignore[arg-type]
        assert info.value.reason is TokenReason.MALFORMED


# --- ID tokens ------------------------------------------------------------------


def test_valid_id_token() -> None:
    flow = make_flow()
    pending = flow.start().pending
    result = flow.verify_id_token(id_token(nonce=pending.nonce, azp=CLIENT), pending=pending)
    assert result.subject == "user-42"
    assert result.issuer == ISSUER
    assert result.claims.jwt_id == ""
    fresh = flow.start().pending
    untyped = flow.verify_id_token(id_token(typ=None, nonce=fresh.nonce), pending=fresh)
    assert untyped.subject == "user-42"


def id_reason(
    token: str, pending: PendingAuthorization, flow: AuthorizationCodeFlow | None = None
) -> TokenReason:
    flow = flow or make_flow()
    with pytest.raises(InvalidTokenError) as info:
        flow.verify_id_token(token, pending=pending)
    assert_no_leak(info.value, token, pending.nonce)
    return info.value.reason


def test_id_token_checks() -> None:
    flow = make_flow()
    pending = flow.start().pending
    n = pending.nonce
    assert id_reason(id_token(nonce="other"), pending) is TokenReason.NONCE_MISMATCH
    assert id_reason(id_token(), pending) is TokenReason.NONCE_MISMATCH
    assert id_reason(id_token(nonce=5), pending) is TokenReason.NONCE_MISMATCH
    assert (
        id_reason(id_token(nonce=n, iss="https://evil.example"), pending)
        is TokenReason.WRONG_ISSUER
    )
    assert id_reason(id_token(nonce=n, aud="other-client"), pending) is TokenReason.WRONG_AUDIENCE
    assert id_reason(id_token(nonce=n, azp="other-client"), pending) is TokenReason.WRONG_AUDIENCE
    assert id_reason(id_token(nonce=n, azp=7), pending) is TokenReason.WRONG_AUDIENCE
    assert id_reason(id_token(nonce=n, aud=[CLIENT, "other"]), pending) is TokenReason.MISSING_CLAIM
    assert (
        id_reason(id_token(nonce=n, exp=int(NOW.timestamp()) - 60), pending) is TokenReason.EXPIRED
    )
    stale = int(NOW.timestamp()) - 3600
    assert id_reason(id_token(nonce=n, iat=stale, exp=stale + 7200), pending) is TokenReason.EXPIRED
    assert id_reason(id_token(OTHER_RING, nonce=n), pending) is TokenReason.UNKNOWN_KEY
    assert id_reason(id_token(nonce=n, typ="at+jwt"), pending) is TokenReason.WRONG_TYPE
    assert id_reason(id_token(nonce=n, omit=("sub",)), pending) is TokenReason.MISSING_CLAIM
    assert id_reason(id_token(nonce=n, jti=5), pending) is TokenReason.BAD_CLAIM
    # An extra audience the client does not trust is refused, even with azp.
    both = id_token(nonce=n, aud=[CLIENT, "other"], azp=CLIENT)
    assert id_reason(both, pending) is TokenReason.WRONG_AUDIENCE
    trusting = make_flow(trusted_audiences=["other"])
    trusting.verify_id_token(both, pending=pending)
    with pytest.raises(ConfigurationError):
        make_flow(trusted_audiences=[""])
    with pytest.raises(TypeError):
        make_flow(trusted_audiences="other")


def test_access_token_is_not_an_id_token() -> None:
    issuer = JWTIssuer(RING, issuer=ISSUER, audience=CLIENT, clock=FixedClock(NOW))
    access = issuer.issue(subject="user-42", claims={"nonce": "x"})
    flow = make_flow()
    assert id_reason(access, flow.start().pending, flow) is TokenReason.WRONG_TYPE


def test_verify_id_token_misuse() -> None:
    flow = make_flow()
    with pytest.raises(TypeError):
        flow.verify_id_token(id_token(), pending=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        flow.verify_id_token(b"x", pending=flow.start().pending)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(token=st.text(max_size=300))
def test_junk_id_tokens_raise_only_invalid_token(token: str) -> None:
    flow = make_flow()
    with pytest.raises(InvalidTokenError):
        flow.verify_id_token(token, pending=flow.start().pending)


# --- JWTVerifier ID-token options ----------------------------------------------------


def test_jwt_verifier_defaults_stay_strict() -> None:
    verifier = JWTVerifier(
        RING.public_jwks(),
        issuer=ISSUER,
        audience=CLIENT,
        token_type="JWT",
        max_lifetime=timedelta(hours=2),
        clock=FixedClock(NOW),
    )
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(id_token())
    assert info.value.reason is TokenReason.MISSING_CLAIM
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(id_token(typ=None, jti="j"))
    assert info.value.reason is TokenReason.WRONG_TYPE
    assert verifier.verify(id_token(jti="j")).jwt_id == "j"


def test_jwt_verifier_id_token_options() -> None:
    verifier = JWTVerifier(
        RING.public_jwks(),
        issuer=ISSUER,
        audience=CLIENT,
        token_type="JWT",
        require_type=False,
        require_jti=False,
        max_lifetime=timedelta(hours=2),
        clock=FixedClock(NOW),
    )
    assert verifier.verify(id_token(typ=None)).jwt_id == ""
    assert verifier.verify(id_token(jti="abc")).jwt_id == "abc"
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(id_token(typ="at+jwt"))
    assert info.value.reason is TokenReason.WRONG_TYPE
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(id_token(typ=5))  # type: ignore[arg-type]
    assert info.value.reason is TokenReason.WRONG_TYPE


def test_jwt_verifier_id_token_options_misuse() -> None:
    keys = RING.public_jwks()
    with pytest.raises(ConfigurationError, match="only for ID tokens"):
        JWTVerifier(keys, issuer=ISSUER, audience=CLIENT, require_type=False)
    with pytest.raises(ConfigurationError, match="require_jti"):
        JWTVerifier(
            keys, issuer=ISSUER, audience=CLIENT, require_jti=False, is_revoked=lambda _: False
        )
    with pytest.raises(TypeError):
        JWTVerifier(keys, issuer=ISSUER, audience=CLIENT, require_jti=0)  # type: ignore[arg-type]


# --- regressions from the adversarial review ----------------------------------


def callback_params(pending: PendingAuthorization, **extra: str) -> dict[str, str]:
    return {"state": pending.state, "code": "the-code", **extra}


def test_state_is_accepted_once() -> None:
    # A replayed callback URL (history, logs, a second tab) used to build a
    # second token request from the same pending login.
    flow = make_flow()
    pending = flow.start().pending
    flow.callback(callback_params(pending), pending=pending)
    with pytest.raises(InvalidTokenError) as info:
        flow.callback(callback_params(pending), pending=pending)
    assert info.value.reason is TokenReason.REUSED


def test_failed_callback_does_not_consume_state() -> None:
    flow = make_flow()
    pending = flow.start().pending
    with pytest.raises(InvalidTokenError):
        flow.callback(callback_params(pending, iss="https://evil.example"), pending=pending)
    flow.callback(callback_params(pending), pending=pending)


def test_id_token_nonce_is_accepted_once() -> None:
    flow = make_flow()
    pending = flow.start().pending
    token = id_token(nonce=pending.nonce)
    flow.verify_id_token(token, pending=pending)
    with pytest.raises(InvalidTokenError) as info:
        flow.verify_id_token(token, pending=pending)
    assert info.value.reason is TokenReason.REUSED


def test_shared_store_refuses_reuse_across_flow_objects(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "oauth.db")
    first, second = make_flow(store=store), make_flow(store=store)
    pending = first.start().pending
    first.callback(callback_params(pending), pending=pending)
    with pytest.raises(InvalidTokenError) as info:
        second.callback(callback_params(pending), pending=pending)
    assert info.value.reason is TokenReason.REUSED
    token = id_token(nonce=pending.nonce)
    first.verify_id_token(token, pending=pending)
    with pytest.raises(InvalidTokenError):
        second.verify_id_token(token, pending=pending)


class DownStore(MemoryStore):
    def add(self, *args: object, **kwargs: object) -> bool:
        raise StoreUnavailableError


def test_store_down_fails_closed() -> None:
    flow = make_flow(store=DownStore())
    pending = flow.start().pending
    with pytest.raises(StoreUnavailableError):
        flow.callback(callback_params(pending), pending=pending)
    with pytest.raises(StoreUnavailableError):
        flow.verify_id_token(id_token(nonce=pending.nonce), pending=pending)


def test_require_iss_refuses_callback_without_iss() -> None:
    flow = make_flow(require_iss=True)
    pending = flow.start().pending
    with pytest.raises(InvalidTokenError) as info:
        flow.callback(callback_params(pending), pending=pending)
    assert info.value.reason is TokenReason.WRONG_ISSUER
    flow.callback(callback_params(pending, iss=ISSUER), pending=pending)


@pytest.mark.parametrize(
    "iss", [ISSUER + "/", ISSUER.upper(), ISSUER + ":443", "https://ID.example", "https://evil"]
)
def test_mix_up_iss_variants_refused(iss: str) -> None:
    flow = make_flow()
    pending = flow.start().pending
    with pytest.raises(InvalidTokenError) as info:
        flow.callback(callback_params(pending, iss=iss), pending=pending)
    assert info.value.reason is TokenReason.WRONG_ISSUER


@pytest.mark.parametrize(
    "variant",
    [
        REDIRECT + "/",
        REDIRECT.upper(),
        REDIRECT + "?x=1",
        REDIRECT + "#f",
        "https://user@app.example/callback",
        "https://app.example:443/callback",
        "https://app.example:8443/callback",
        "http://app.example/callback",
        "https://app.example/Callback",
        "https://app.example/callback%2F",
        " " + REDIRECT,
    ],
)
def test_redirect_uri_variants_refused_everywhere(variant: str) -> None:
    flow = make_flow()
    assert not redirect_uri_matches(variant, [REDIRECT])
    with pytest.raises(ConfigurationError):
        flow.start(redirect_uri=variant)
    pending = flow.start().pending
    with pytest.raises(InvalidTokenError):
        flow.callback(callback_params(pending), pending=pending, redirect_uri=variant)


def test_store_and_require_iss_misuse() -> None:
    with pytest.raises(TypeError):
        make_flow(store={})
    with pytest.raises(TypeError):
        make_flow(require_iss="yes")


_JUNK_VALUES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.floats(),
    st.lists(st.text(max_size=5), max_size=2),
    st.binary(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["state", "code", "iss", "error", "access_token", "token_type"])
        | st.text(max_size=5),
        _JUNK_VALUES,
        max_size=6,
    ),
    real_state=st.booleans(),
    redirect=st.none() | st.text(max_size=40),
)
def test_junk_callbacks_raise_only_invalid_token(
    params: dict[str, object], real_state: bool, redirect: str | None
) -> None:
    flow = make_flow()
    pending = flow.start().pending
    if real_state:
        params = {**params, "state": pending.state}
    try:
        flow.callback(params, pending=pending, redirect_uri=redirect)
    except InvalidTokenError:
        pass
    else:
        assert params.get("state") == pending.state


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(["state", "nonce", "code_verifier", "redirect_uri", "created_at"]),
        _JUNK_VALUES,
    )
)
def test_junk_pending_dicts_raise_only_invalid_token(data: dict[str, object]) -> None:
    try:
        PendingAuthorization.from_dict(data)
    except InvalidTokenError:
        pass


@settings(max_examples=200, deadline=None)
@given(verifier=st.text(max_size=200))
def test_junk_pkce_verifiers_raise_only_invalid_token(verifier: str) -> None:
    try:
        assert len(pkce_challenge(verifier)) == 43
    except InvalidTokenError:
        pass
