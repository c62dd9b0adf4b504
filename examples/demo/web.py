"""Request plumbing shared by the HTML pages and the API.

Every request gets: a fresh CSP nonce and the security headers preset, the
session looked up from its ``__Host-`` cookie (server-side; the cookie holds
only a random token), CSRF verification for state-changing form posts, and
a safe error page or problem+json body for anything that goes wrong.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import secrets
from dataclasses import dataclass
from typing import Any, Final, cast

from flask import Flask, Response, abort, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from securekit.authz import Subject
from securekit.csrf import FORM_FIELD, SAFE_METHODS
from securekit.errors import (
    CSRFError,
    PermissionDeniedError,
    RateLimitedError,
    SessionError,
)
from securekit.headers import RenderedHeaders
from securekit.safe_errors import problem_response
from securekit.sessions import Session

from .db import User
from .services import CSP_REPORT_PATH, Services

__all__ = [
    "STAGE_ANONYMOUS",
    "STAGE_FULL",
    "STAGE_MFA",
    "RequestState",
    "client_ip",
    "csrf_token",
    "current_user",
    "decode_blob",
    "encode_blob",
    "ensure_visitor_session",
    "install",
    "problem",
    "require_user",
    "services",
    "start_session",
    "state",
    "subject_of",
]

#: Session stages: a visitor, a password-verified user awaiting TOTP, a user.
STAGE_ANONYMOUS: Final = "anonymous"
STAGE_MFA: Final = "mfa"
STAGE_FULL: Final = "full"
_EXTENSION: Final = "securekit_demo"

log = logging.getLogger("securekit.demo")


@dataclass(slots=True, kw_only=True)
class RequestState:
    """What the request plumbing found out about this request."""

    headers: RenderedHeaders
    session_token: str | None = None
    session: Session | None = None
    user: User | None = None
    set_cookie: str | None = None
    clear_cookie: bool = False


def services() -> Services:
    """The app's configured recipes."""
    return cast(Services, current_app.extensions[_EXTENSION])


def state() -> RequestState:
    """This request's state (set before every request)."""
    return cast(RequestState, g.securekit_demo)


def client_ip() -> str:
    """The client's address: the socket peer (the demo runs behind no proxy).

    Behind a reverse proxy use ``securekit.ratelimit.TrustedProxies``: a
    client-supplied ``X-Forwarded-For`` must never be believed blindly.
    """
    return request.remote_addr or "0.0.0.0"


def current_user() -> User | None:
    """The fully logged-in user, or None."""
    return state().user


def require_user() -> User:
    """The logged-in user; anonymous visitors get 401 (the error page links to login)."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def subject_of(user: User | None) -> Subject | None:
    """The authorization subject for ``user`` (None for anonymous: denied by default)."""
    if user is None:
        return None
    return services().authz.subject(str(user.id), roles=[user.role])


def start_session(user_id: str, data: dict[str, Any]) -> None:
    """Start a new session, replacing (and destroying) the current one.

    A new id at every privilege change (visitor -> password verified ->
    TOTP verified) defeats session fixation (OWASP Session Management
    Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
    """
    st = state()
    svc = services()
    token: str | None = None
    if st.session_token is not None:
        try:
            token, session = svc.sessions.rotate(st.session_token, user_id=user_id, data=data)
        except SessionError:
            token = None
    if token is None:
        token, session = svc.sessions.create(user_id=user_id, data=data)
    st.session_token, st.session = token, session
    st.set_cookie = svc.cookie.header(token)
    st.clear_cookie = False


def ensure_visitor_session() -> None:
    """Give an anonymous visitor a session so that its forms carry a CSRF token."""
    if state().session_token is None:
        start_session(f"visitor-{secrets.token_hex(8)}", {"stage": STAGE_ANONYMOUS})


def csrf_token() -> str:
    """A fresh masked CSRF token bound to this session (empty without a session)."""
    token = state().session_token
    return "" if token is None else services().csrf.token(token)


def encode_blob(blob: bytes) -> str:
    """Bytes as unpadded base64url text (for JSON session data)."""
    return base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")


def decode_blob(text: str) -> bytes:
    """The inverse of :func:`encode_blob` (only for values we wrote)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _before_request() -> None:
    svc = services()
    st = RequestState(headers=svc.headers.render())
    g.securekit_demo = st
    token = svc.cookie.read(request.headers.get("Cookie"))
    if token is not None:
        try:
            session = svc.sessions.get(token)
        except SessionError:
            # Expired, revoked or forged: forget it, continue as a visitor.
            st.clear_cookie = True
        else:
            st.session_token, st.session = token, session
            if session.data.get("stage") == STAGE_FULL and session.user_id.isdigit():
                st.user = svc.db.user_by_id(int(session.user_id))
    if request.method.upper() in SAFE_METHODS or request.path.startswith("/api/"):
        # The API authenticates with bearer tokens, which a browser never
        # attaches on its own: cross-site requests cannot ride on them.
        return
    if request.path == CSP_REPORT_PATH:
        return  # browsers post reports without credentials; nothing changes state
    form_token = request.form.get(FORM_FIELD) if request.mimetype in _FORM_TYPES else None
    svc.csrf.verify(
        method=request.method,
        headers=dict(request.headers.items()),
        token=form_token,
        session_id=st.session_token or "",
    )


_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _after_request(response: Response) -> Response:
    st: RequestState | None = g.get("securekit_demo")
    if st is None:  # pragma: no cover - before_request always runs first
        return response
    for name, value in st.headers.headers.items():
        # A response that set its own policy (a served upload) keeps it.
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    if st.set_cookie is not None:
        response.headers.add("Set-Cookie", st.set_cookie)
    elif st.clear_cookie:
        response.headers.add("Set-Cookie", services().cookie.clear())
    return response


def _page_error(exc: BaseException) -> Response:
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        correlation_id = None
    else:
        # Logged in full server-side; the page shows only a status and an id.
        problem = problem_response(exc, logger=log)
        status = problem.status
        correlation_id = problem.correlation_id
    if isinstance(exc, PermissionDeniedError) and status == 401:
        status = 403  # logged in but without the role: forbidden, not "log in"
    message = _MESSAGES.get(status, "Something went wrong.")
    if isinstance(exc, CSRFError):
        message = "This form expired or came from another site. Reload the page and try again."
    body = render_template(
        "error.html", status=status, message=message, correlation_id=correlation_id
    )
    response = Response(body, status=status, mimetype="text/html")
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


_MESSAGES: Final = {
    400: "The request could not be understood.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    429: "Too many attempts. Wait a little and try again.",
    503: "A service is unavailable. Try again shortly.",
}


def problem(exc: BaseException) -> Response:
    """An RFC 9457 problem+json response for ``exc`` (API errors)."""
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        body: dict[str, object] = {"type": "about:blank", "title": exc.name, "status": status}
        return Response(json.dumps(body), status=status, mimetype="application/problem+json")
    answer = problem_response(exc, logger=log)
    response = Response(answer.content, status=answer.status)
    response.headers.update(dict(answer.headers))
    return response


def _handle(exc: Exception) -> Response:
    if request.path.startswith("/api/"):
        return problem(exc)
    return _page_error(exc)


def install(app: Flask, svc: Services) -> None:
    """Wire the request plumbing into ``app``."""
    app.extensions[_EXTENSION] = svc
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(Exception, _handle)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["csp_nonce"] = lambda: state().headers.nonce
