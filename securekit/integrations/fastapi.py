"""FastAPI adapter: ``install`` plus the dependencies ``current_session``,
``require_permission`` and ``verified_jwt``.

Example:
    >>> from fastapi import Depends, FastAPI
    >>> app = FastAPI()
    >>> install(app, sessions=sessions, csrf=csrf)  # doctest: +SKIP
    >>> @app.get("/me")
    ... def me(session: Session = Depends(current_session)) -> dict[str, str]:
    ...     return {"user": session.user_id}

:func:`install` adds :class:`~securekit.integrations.asgi.SecureASGIMiddleware`
(headers with per-request nonces, sessions, CSRF, safe errors) and replaces
FastAPI's validation error body, which echoes the rejected input, with a
problem+json body that does not. A 404 (``HTTPException(404)`` or an
unknown route) gets the same problem+json body as
:class:`~securekit.authz.Scope`'s "not found", so a missing object and
another user's object cannot be told apart. Needs ``pip install securekit[fastapi]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any, Final, cast

try:
    from fastapi import FastAPI, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "securekit.integrations.fastapi needs FastAPI: pip install securekit[fastapi]"
    ) from exc

from securekit.authz import Policy, Subject
from securekit.csrf import CSRFProtect
from securekit.errors import (
    ConfigurationError,
    InputReason,
    InputValidationError,
    InvalidTokenError,
    PermissionDeniedError,
    PermissionReason,
    TokenReason,
    UnavailableError,
    VerificationError,
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
from securekit.integrations.asgi import SecureASGIMiddleware
from securekit.jwt import Claims, JWTVerifier
from securekit.sessions import Session, SessionCookie, SessionManager

__all__ = [
    "current_context",
    "current_session",
    "install",
    "optional_session",
    "require_permission",
    "session_subject",
    "verified_jwt",
]

#: Largest Authorization header read (a JWT verifier caps the token again).
_MAX_AUTHORIZATION: Final = 16 * 1024
# pydantic error types -> securekit reasons; anything else is BAD_FORMAT.
_VALIDATION_REASONS: Final = {
    "missing": InputReason.MISSING_FIELD,
    "extra_forbidden": InputReason.EXTRA_FIELD,
    "json_invalid": InputReason.INVALID_JSON,
    "string_too_long": InputReason.TOO_LONG,
    "too_long": InputReason.TOO_LONG,
    "string_too_short": InputReason.TOO_SHORT,
    "too_short": InputReason.TOO_SHORT,
}


class _Installed:
    """The ASGI middleware with a configuration checked by :func:`install`."""

    def __init__(self, app: Any, *, core: Core) -> None:
        self._middleware = SecureASGIMiddleware._from_core(app, core)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._middleware(scope, receive, send)


def install(
    app: FastAPI,
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
    """Add securekit's middleware and safe error handlers to a FastAPI app.

    The arguments are those of
    :class:`~securekit.integrations.asgi.SecureASGIMiddleware`, checked
    here, at start-up.

    Args:
        app: the FastAPI application.
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
        ConfigurationError: as the middleware.
    """
    if not isinstance(app, FastAPI):
        raise TypeError("app must be a fastapi.FastAPI")
    core = Core(
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
    app.add_middleware(_Installed, core=core)

    def problem(request: Request, exc: BaseException) -> Response:
        answer = core.problem_for(exc, getattr(request.state, CONTEXT_KEY, None))
        return Response(answer.content, status_code=answer.status, headers=dict(answer.headers))

    def validation(request: Request, exc: Exception) -> Response:
        # FastAPI's own body lists each error with the rejected "input":
        # a password or token typed into the wrong field would be echoed.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        kind = errors[0].get("type") if errors and isinstance(errors[0], dict) else None
        reason = _VALIDATION_REASONS.get(str(kind), InputReason.BAD_FORMAT)
        return problem(request, InputValidationError(reason))

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 404:
            # HTTPException(404) for a missing row (or an unknown route) must
            # look exactly like Scope.check's "not found" for another user's
            # row (IDOR), and must not echo a detail naming the id.
            return problem(request, PermissionDeniedError(PermissionReason.NOT_FOUND))
        return await http_exception_handler(request, cast(HTTPException, exc))

    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(VerificationError, problem)
    app.add_exception_handler(UnavailableError, problem)


def current_context(request: Request) -> RequestContext:
    """Dependency: the request's securekit context (nonce, session, CSRF token).

    Raises:
        ConfigurationError: the middleware is not installed.
    """
    return installed_context(
        getattr(request.state, CONTEXT_KEY, None),
        missing="securekit middleware is not installed: call install(app)",
    )


def optional_session(request: Request) -> Session | None:
    """Dependency: the request's valid session, or None."""
    return current_context(request).session


def current_session(request: Request) -> Session:
    """Dependency: the request's valid session.

    Raises:
        SessionError: no valid session (answered 401 by the error handler).
    """
    return required_session(current_context(request))


def session_subject(policy: Policy, *, roles_key: str = "roles") -> Callable[..., Subject | None]:
    """Dependency factory: the session's user as an authorization subject.

    Roles come from the session data under ``roles_key`` (set at login by
    the application, stored server-side); names the policy does not know
    grant nothing. Without a session the subject is None (denied as
    ``NOT_AUTHENTICATED``).
    """
    if not isinstance(policy, Policy):
        raise TypeError("policy must be a securekit.authz.Policy")
    if not isinstance(roles_key, str):
        raise TypeError("roles_key must be a str")

    def subject(request: Request) -> Subject | None:
        session = current_context(request).session
        if session is None:
            return None
        raw = session.data.get(roles_key, [])
        names = [name for name in raw if isinstance(name, str)] if isinstance(raw, list) else []
        known: list[str] = []
        for name in names:
            try:
                policy.role(name)
            except ConfigurationError:
                continue  # a stale or unknown role grants nothing
            known.append(name)
        return policy.subject(session.user_id, roles=known)

    return subject


def require_permission(
    action: str,
    *,
    policy: Policy,
    subject: Callable[..., Subject | None] | None = None,
) -> Callable[..., Subject]:
    """Dependency factory: deny unless the current subject may do ``action``.

    Use as ``Depends(require_permission("notes:read", policy=policy))``; the
    dependency returns the :class:`~securekit.authz.Subject`. The decision
    is :meth:`securekit.authz.Policy.check` (default deny, audited).

    Args:
        action: a declared action of ``policy``.
        policy: the policy that decides.
        subject: a dependency returning the current subject (default:
            :func:`session_subject` of ``policy``).

    Raises:
        ConfigurationError: ``action`` is not declared (at start-up).
    """
    if not isinstance(policy, Policy):
        raise TypeError("policy must be a securekit.authz.Policy")
    source = subject if subject is not None else session_subject(policy)
    guard: Callable[..., Subject] = policy.dependency(action, subject=source)
    return guard


def _bearer(request: Request) -> str:
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        # Absent, or repeated (ambiguous): no token.
        raise InvalidTokenError(TokenReason.MALFORMED)
    value = values[0]
    scheme, _, token = value.partition(" ")
    # RFC 6750 section 2.1 (auth-scheme is case-insensitive, RFC 9110 11.1).
    if len(value) > _MAX_AUTHORIZATION or scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError(TokenReason.MALFORMED)
    return token.strip()


def verified_jwt(verifier: JWTVerifier) -> Callable[[Request], Claims]:
    """Dependency factory: the verified claims of the request's bearer token.

    Use as ``claims: Claims = Depends(verified_jwt(verifier))``. The
    dependency is a plain function, so FastAPI runs it in a worker thread
    (a remote JWKS fetch or a revocation store never blocks the loop).

    Raises:
        InvalidTokenError: missing, malformed or invalid token (401).
    """
    if not isinstance(verifier, JWTVerifier):
        raise TypeError("verifier must be a securekit.jwt.JWTVerifier")

    def dependency(request: Request) -> Claims:
        return verifier.verify(_bearer(request))

    return dependency
