"""Test your own endpoints with securekit's attack strategies and assertions.

A tiny application (four handlers, no web framework) is checked the way your
test suite would check yours: hypothesis draws open redirects, hostile file
names, malformed JSON, XSS payloads and JWT attack tokens, and every one must
be refused or neutralized. In a pytest suite the same functions are ordinary
``@given`` tests; here they are called directly so the script runs alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings

from securekit.errors import InputValidationError, InvalidTokenError, UploadRejectedError
from securekit.headers import SecurityHeaders
from securekit.html import sanitize
from securekit.jwt import JWTIssuer, JWTVerifier
from securekit.keys import KeyRing
from securekit.testing import (
    FixedClock,
    assert_no_script_runs_in_any,
    assert_secure_headers,
    cheap_password_hasher,
)
from securekit.testing import strategies as attacks
from securekit.testing.jwt_attacks import JWTAttack, JWTTarget, valid_token
from securekit.uploads import safe_filename
from securekit.urls import safe_redirect_target
from securekit.validation import load_json

HOST = "app.example.com"
ISSUER = "https://auth.example.com"
AUDIENCE = "api.example.com"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CHECK = settings(max_examples=60, database=None, deadline=None)


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler returns: a status, headers and a body."""

    status: int
    headers: dict[str, str]
    body: str


# --- the application under test --------------------------------------------

SIGNING = KeyRing.generate("signing")
ISSUER_SERVICE = JWTIssuer(SIGNING, issuer=ISSUER, audience=AUDIENCE, clock=FixedClock(NOW))
VERIFIER = JWTVerifier(
    SIGNING.public_jwks(), issuer=ISSUER, audience=AUDIENCE, clock=FixedClock(NOW)
)
HASHER = cheap_password_hasher()  # tests only: the app itself uses PasswordHasher()
HEADERS = SecurityHeaders()


def _page(status: int, body: str) -> Response:
    return Response(status, dict(HEADERS.render().headers), body)


def after_login(next_url: str) -> Response:
    """POST /login: redirect to ``next`` only if it stays on our site."""
    target = safe_redirect_target(next_url, "/home", allowed_hosts={HOST})
    response = _page(303, "")
    response.headers["Location"] = target
    return response


def upload_avatar(filename: str) -> Response:
    """POST /avatar: refuse hostile names (the file is stored under a generated name)."""
    try:
        safe_filename(filename)
    except UploadRejectedError:
        return _page(400, "bad file name")
    return _page(201, "stored")


def create_note(body: bytes) -> Response:
    """POST /notes: strict JSON only."""
    try:
        load_json(body, max_bytes=4096, max_depth=16)
    except InputValidationError:
        return _page(400, "bad request")
    return _page(201, "created")


def show_comment(comment: str) -> Response:
    """GET /comments/1: user HTML, sanitized."""
    return _page(200, f"<article>{sanitize(comment)}</article>")


def me(token: str) -> Response:
    """GET /me: needs a valid access token."""
    try:
        claims = VERIFIER.verify(token)
    except InvalidTokenError:
        return _page(401, "unauthorized")
    return _page(200, claims.subject)


# --- the tests ---------------------------------------------------------------


@CHECK
@given(attacks.open_redirects(HOST))
def test_login_never_redirects_off_site(url: str) -> None:
    location = after_login(url).headers["Location"]
    assert location == "/home", location


@CHECK
@given(attacks.hostile_filenames())
def test_hostile_avatar_names_are_refused(name: str) -> None:
    assert upload_avatar(name).status == 400


@CHECK
@given(attacks.json_attacks(4096, max_depth=16))
def test_bad_json_is_a_400_not_a_500(body: bytes) -> None:
    assert create_note(body).status == 400


SEEN_COMMENTS: list[str] = []


@CHECK
@given(attacks.xss_payloads())
def test_collect_comment_pages(payload: str) -> None:
    response = show_comment(payload)
    assert response.status == 200
    SEEN_COMMENTS.append(response.body)


TARGET = JWTTarget.from_keyring(SIGNING, issuer=ISSUER, audience=AUDIENCE)


@CHECK
@given(attacks.jwt_attacks(TARGET, now=NOW, claims={"role": "admin"}))
def test_forged_tokens_are_refused(attack: JWTAttack) -> None:
    assert me(attack.token).status == 401, attack.name


def main() -> None:
    """Run every check and say what it showed."""
    test_login_never_redirects_off_site()
    print("open redirects: every generated target fell back to /home")
    test_hostile_avatar_names_are_refused()
    print("hostile file names: every one refused with 400")
    test_bad_json_is_a_400_not_a_500()
    print("malformed, oversized and deep JSON: 400, never a crash")
    test_collect_comment_pages()
    # One browser pass for every page (a conservative static check where
    # Chromium is not installed).
    assert_no_script_runs_in_any(SEEN_COMMENTS)
    print(f"XSS: {len(SEEN_COMMENTS)} sanitized comment pages, no script ran")
    test_forged_tokens_are_refused()
    legit = valid_token(TARGET, now=NOW, subject="alice")
    assert me(legit).status == 200
    assert me(ISSUER_SERVICE.issue(subject="bob")).body == "bob"
    print("JWT: every attack token got 401; legitimate tokens got 200")
    assert_secure_headers(me(legit).headers)
    print("headers: HSTS, CSP with nonce, nosniff, COOP/CORP, Referrer- and Permissions-Policy")
    stored = HASHER.hash("correct horse battery staple")
    assert HASHER.verify("correct horse battery staple", stored)
    print("cheap test hasher:", stored.split("$")[3])


if __name__ == "__main__":
    main()
