"""The JSON API: access and refresh tokens, and the user's notes.

- ``POST /api/token`` with ``{"username", "password"}`` (and ``"totp"`` for
  users who enrolled) returns a short-lived EdDSA access token and a
  refresh token; the same throttle as the login form applies.
- ``POST /api/refresh`` with ``{"refresh_token"}`` rotates the pair; a
  refresh token used twice revokes its whole family (theft detection).
- ``GET``/``POST /api/notes`` with ``Authorization: Bearer <access token>``.

Errors are RFC 9457 problem+json bodies with a correlation id and nothing
from the request in them.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from flask import Blueprint, Response, abort, jsonify, request

from securekit.errors import InputReason, InputValidationError, InvalidTokenError, TokenReason
from securekit.jwt import TokenPair
from securekit.validation import load_json, validate_text

from .db import User
from .pages import note_context, totp_secret
from .web import client_ip, services

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api")

#: JSON bodies here are tiny; refuse big ones before parsing (DESIGN: checks before work).
_MAX_BODY: Final = 16 * 1024
_MAX_FIELD: Final = 1024


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        abort(415)
    data = load_json(request.get_data(cache=False), max_bytes=_MAX_BODY, max_depth=4)
    if not isinstance(data, dict):
        raise InputValidationError(InputReason.WRONG_TYPE)
    return data


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InputValidationError(InputReason.MISSING_FIELD)
    if len(value) > _MAX_FIELD:
        raise InputValidationError(InputReason.TOO_LONG)
    return value


def _pair(pair: TokenPair) -> Response:
    svc = services()
    return jsonify(
        token_type="Bearer",
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=int(svc.jwt_issuer.access_lifetime.total_seconds()),
    )


def _bearer_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError(TokenReason.MALFORMED)
    svc = services()
    claims = svc.jwt_verifier.verify(token.strip())
    user = svc.db.user_by_id(int(claims.subject)) if claims.subject.isdigit() else None
    if user is None:
        raise InvalidTokenError(TokenReason.REVOKED)  # the account no longer exists
    return user


@bp.post("/token")
def token() -> Response:
    """Exchange a username and password (and TOTP code) for a token pair."""
    data = _body()
    username, password = _field(data, "username"), _field(data, "password")
    svc = services()
    throttle_name = username.lower()
    svc.throttle.check(username=throttle_name, ip=client_ip())
    user = svc.db.user_by_name(username)
    ok = svc.hasher.verify(password, None if user is None else user.password_hash)
    if not ok or user is None:
        svc.throttle.failure(username=throttle_name, ip=client_ip())
        # The same 401 body for an unknown user and a wrong password.
        raise InvalidTokenError(TokenReason.BAD_SIGNATURE)
    if user.totp_secret is not None:
        code = data.get("totp")
        # A missing or wrong code: MFAError, a 401 like any failed login.
        svc.totp.verify(
            code if isinstance(code, str) else "",
            secret=totp_secret(user),
            user=str(user.id),
            ip=client_ip(),
        )
    svc.throttle.success(username=throttle_name, ip=client_ip())
    return _pair(svc.refresh_tokens.issue(subject=str(user.id), claims={"role": user.role}))


# --8<-- [start:refresh]
@bp.post("/refresh")
def refresh() -> Response:
    """Rotate a refresh token; reuse of an old one revokes the family."""
    data = _body()
    return _pair(services().refresh_tokens.rotate(_field(data, "refresh_token")))


# --8<-- [end:refresh]


@bp.get("/notes")
def list_notes() -> Response:
    """The caller's notes, decrypted."""
    user = _bearer_user()
    svc = services()
    notes = [
        {
            "id": note.id,
            "body": svc.aead.decrypt(note.body, context=note_context(user.id, note.id)).decode(),
            "created_at": note.created_at,
        }
        for note in svc.db.notes(user.id)
    ]
    return jsonify(notes=notes)


@bp.post("/notes")
def create_note() -> tuple[Response, int]:
    """Store a note for the caller, encrypted at rest."""
    user = _bearer_user()
    text = validate_text(_field(_body(), "body"), max_length=5000, min_length=1, multiline=True)
    svc = services()
    note_id = secrets.token_urlsafe(12)
    envelope = svc.aead.encrypt(text.encode(), context=note_context(user.id, note_id))
    svc.db.add_note(note_id, user.id, envelope, now=svc.clock())
    return jsonify(id=note_id), 201
