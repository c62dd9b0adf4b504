"""Flask extension: security headers, sessions, CSRF and safe errors for a Flask app.

Example:
    >>> from flask import Flask
    >>> app = Flask(__name__)
    >>> SecureKit(app, sessions=sessions, csrf=csrf)  # doctest: +SKIP

``SecureKit`` wraps ``app.wsgi_app`` in
:class:`~securekit.integrations.wsgi.SecureWSGIMiddleware`, registers an
error handler that answers every non-HTTP exception with a problem+json
response (Flask would otherwise render its own 500 page, or a traceback in
debug mode), and puts ``csp_nonce`` and ``csrf_token`` into every template.
Needs ``pip install securekit[flask]``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

try:
    from flask import Flask, Response, request
    from werkzeug.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "securekit.integrations.flask needs Flask: pip install securekit[flask]"
    ) from exc

from securekit.csrf import CSRFProtect
from securekit.errors import (
    ConfigurationError,
    PermissionDeniedError,
    PermissionReason,
)
from securekit.headers import SecurityHeaders
from securekit.integrations._common import (
    CONTEXT_KEY,
    MAX_FORM_BYTES,
    Core,
    RequestContext,
    installed_context,
    required_session,
)
from securekit.integrations.wsgi import SecureWSGIMiddleware
from securekit.sessions import Session, SessionCookie, SessionManager

__all__ = ["SecureKit", "current_context", "current_session"]

_EXTENSION: str = "securekit"


def current_context() -> RequestContext:
    """The current request's securekit context (nonce, session, CSRF token).

    Raises:
        ConfigurationError: ``SecureKit`` is not initialised on the app.
    """
    return installed_context(
        request.environ.get(CONTEXT_KEY),
        missing="SecureKit is not initialised on this Flask app",
    )


def current_session() -> Session:
    """The current request's valid session.

    Raises:
        SessionError: no valid session (answered 401 by the error handler).
    """
    return required_session(current_context())


class SecureKit:
    """The Flask extension (``SecureKit(app, ...)`` or ``init_app`` later).

    Args:
        app: the Flask app, or None to call :meth:`init_app` later.
        headers: the security headers preset.
        sessions: the server-side session manager (None: no sessions).
        session_cookie: the session cookie (default ``__Host-session``).
        csrf: the CSRF checker (required with ``sessions``).
        csrf_cookie: the anonymous CSRF binding cookie.
        csrf_exempt: exact paths that skip the CSRF checks.
        max_form_bytes: the most body bytes read to find the form token.
        logger: where errors and refusals are logged.
        insecure_no_csrf: run without CSRF protection even with sessions.
            **Danger:** any site can then submit forms with the user's cookie.

    Raises:
        ConfigurationError: as
            :class:`~securekit.integrations.wsgi.SecureWSGIMiddleware`.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        headers: SecurityHeaders | None = None,
        sessions: SessionManager | None = None,
        session_cookie: SessionCookie | None = None,
        csrf: CSRFProtect | None = None,
        csrf_cookie: SessionCookie | None = None,
        csrf_exempt: Collection[str] = (),
        max_form_bytes: int = MAX_FORM_BYTES,
        logger: logging.Logger | None = None,
        insecure_no_csrf: bool = False,
    ) -> None:
        self.core = Core(
            headers=headers,
            sessions=sessions,
            session_cookie=session_cookie,
            csrf=csrf,
            csrf_cookie=csrf_cookie,
            csrf_exempt=csrf_exempt,
            max_form_bytes=max_form_bytes,
            logger=logger,
            insecure_no_csrf=insecure_no_csrf,
            stacklevel=2,
        )
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"SecureKit(sessions={self.core.sessions!r}, csrf={self.core.csrf!r})"

    def init_app(self, app: Flask) -> None:
        """Install the middleware, error handler and template context on ``app``.

        Raises:
            ConfigurationError: ``SecureKit`` is already installed on ``app``.
        """
        if not isinstance(app, Flask):
            raise TypeError("app must be a flask.Flask")
        if _EXTENSION in app.extensions:
            raise ConfigurationError("SecureKit is already installed on this app")
        app.extensions[_EXTENSION] = self
        app.wsgi_app = SecureWSGIMiddleware._from_core(app.wsgi_app, self.core)  # type: ignore[method-assign]
        app.register_error_handler(Exception, self._handle_error)
        app.context_processor(self._template_context)

    def _handle_error(self, exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            if exc.code != 404:
                return exc  # 405, 413, ...: Flask's own responses carry no internals
            # abort(404) for a missing row must look exactly like
            # Scope.check's "not found" for another user's row (IDOR): same
            # status, same problem+json body.
            exc = PermissionDeniedError(PermissionReason.NOT_FOUND)
        answer = self.core.problem_for(exc, request.environ.get(CONTEXT_KEY))
        return Response(answer.content, status=answer.status, headers=dict(answer.headers))

    def _template_context(self) -> dict[str, str]:
        ctx = request.environ.get(CONTEXT_KEY)
        if not isinstance(ctx, RequestContext):
            return {}
        values = {"csp_nonce": ctx.csp_nonce}
        if self.core.csrf is not None:
            values["csrf_token"] = ctx.csrf_token
        return values
