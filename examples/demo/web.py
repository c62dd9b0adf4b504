"""Request plumbing: securekit's Flask extension plus the demo's user lookup.

``securekit.integrations.flask.SecureKit`` does the per-request security
work: a fresh CSP nonce and the security headers preset on every response,
the server-side session read from its ``__Host-`` cookie, and CSRF checks
(Fetch Metadata, Origin, a session-bound token) before any state-changing
request reaches a view. This module adds what is specific to the demo: the
logged-in user, the authorization subject, and HTML error pages.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from typing import Any, Final, cast

from flask import Flask, Response, abort, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from securekit.authz import Subject
from securekit.errors import CSRFError, PermissionDeniedError, RateLimitedError
from securekit.integrations.flask import SecureKit, current_context
from securekit.safe_errors import problem_response

from .db import User
from .services import CSP_REPORT_PATH, Services

__all__ = [
    "STAGE_FULL",
    "STAGE_MFA",
    "client_ip",
    "current_user",
    "decode_blob",
    "encode_blob",
    "install",
    "log_in",
    "log_out",
    "problem",
    "require_user",
    "services",
    "session_data",
    "subject_of",
    "update_session",
]

#: Session stages: password verified and awaiting TOTP; fully logged in.
STAGE_MFA: Final = "mfa"
STAGE_FULL: Final = "full"
#: Paths that skip the CSRF token check: the token endpoints take JSON
#: credentials and answer with tokens in the body (nothing a cross-site
#: request could use), and browsers post CSP reports without credentials.
CSRF_EXEMPT: Final = ("/api/token", "/api/refresh", CSP_REPORT_PATH)
_EXTENSION: Final = "securekit_demo"

log = logging.getLogger("securekit.demo")


def services() -> Services:
    """The app's configured recipes."""
    return cast(Services, current_app.extensions[_EXTENSION])


def client_ip() -> str:
    """The client's address: the socket peer (the demo runs behind no proxy).

    Behind a reverse proxy use ``securekit.ratelimit.TrustedProxies``: a
    client-supplied ``X-Forwarded-For`` must never be believed blindly.
    """
    return request.remote_addr or "unknown"


def session_data() -> dict[str, Any]:
    """The current session's data (empty for visitors)."""
    session = current_context().session
    return {} if session is None else dict(session.data)


def current_user() -> User | None:
    """The fully logged-in user (password and, if enrolled, TOTP), or None."""
    if "demo_user" not in g:
        session = current_context().session
        user = None
        if (
            session is not None
            and session.data.get("stage") == STAGE_FULL
            and session.user_id.isdigit()
        ):
            user = services().db.user_by_id(int(session.user_id))
        g.demo_user = user
    return cast(User | None, g.demo_user)


def require_user() -> User:
    """The logged-in user; visitors get 401 (the error page links to the login)."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def subject_of(user: User | None) -> Subject | None:
    """The authorization subject for ``user`` (None for visitors: denied by default)."""
    if user is None:
        return None
    return services().authz.subject(str(user.id), roles=[user.role])


def log_in(user_id: int, stage: str) -> None:
    """Start a session at ``stage`` under a new id (the extension rotates it).

    A new id at every privilege change (visitor -> password verified ->
    TOTP verified) defeats session fixation (OWASP Session Management
    Cheat Sheet, "Renew the Session ID After Any Privilege Level Change").
    """
    current_context().login(str(user_id), data={"stage": stage})
    g.pop("demo_user", None)


def update_session(data: dict[str, Any]) -> None:
    """Replace the current session's data."""
    current_context().update(data)


def log_out() -> None:
    """End the session server-side and clear the cookie."""
    current_context().logout()
    g.demo_user = None


def encode_blob(blob: bytes) -> str:
    """Bytes as unpadded base64url text (for JSON session data)."""
    return base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")


def decode_blob(text: str) -> bytes:
    """The inverse of :func:`encode_blob` (only for values this app wrote)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_MESSAGES: Final = {
    400: "The request could not be understood.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    409: "That conflicts with something that exists.",
    413: "That request is too large.",
    415: "That type of content is not accepted.",
    422: "Some of the input was not valid.",
    429: "Too many attempts. Wait a little and try again.",
    503: "A service is unavailable. Try again shortly.",
}


def problem(exc: BaseException) -> Response:
    """An RFC 9457 problem+json response for ``exc``, with this request's id."""
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        body = json.dumps({"type": "about:blank", "title": exc.name, "status": status})
        return Response(body, status=status, mimetype="application/problem+json")
    answer = problem_response(exc, correlation_id=current_context().correlation_id, logger=log)
    return Response(answer.content, status=answer.status, headers=dict(answer.headers))


def _error_page(exc: Exception) -> Response:
    if request.path.startswith("/api/"):
        return problem(exc)
    correlation_id: str | None = None
    if isinstance(exc, HTTPException):
        status = exc.code or 500
    else:
        # Logged in full server-side (a 500 with its traceback); the page
        # shows only the status and the correlation id.
        answer = problem_response(exc, correlation_id=current_context().correlation_id, logger=log)
        status, correlation_id = answer.status, answer.correlation_id
    if isinstance(exc, PermissionDeniedError) and status == 401:
        status = 403  # logged in without the role: forbidden, not "log in"
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


def _no_store(response: Response) -> Response:
    # Pages show private data (notes, the admin list): no cache may keep them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --8<-- [start:install]
def install(app: Flask, svc: Services) -> None:
    """Install securekit's Flask extension and the demo's plumbing on ``app``."""
    app.extensions[_EXTENSION] = svc
    SecureKit(
        app,
        headers=svc.headers,
        sessions=svc.sessions,
        session_cookie=svc.cookie,
        csrf=svc.csrf,
        csrf_exempt=CSRF_EXEMPT,
        logger=log,
    )
    # The extension answers errors with problem+json; pages get an HTML page
    # instead (same safety: a status, a constant message, a correlation id).
    app.register_error_handler(Exception, _error_page)
    app.after_request(_no_store)
    app.jinja_env.globals["current_user"] = current_user


# --8<-- [end:install]
