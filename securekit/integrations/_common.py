"""Framework-independent core of the ASGI and WSGI middleware.

Both middlewares translate their protocol into the calls of :class:`Core`:
``start`` (nonce, correlation id, session lookup, CSRF binding), ``check``
(CSRF on state-changing requests), ``response_headers`` (security headers and
cookies for the response) and ``problem`` (a safe problem+json response).
The security logic lives once, here, on top of :mod:`securekit.headers`,
:mod:`securekit.sessions`, :mod:`securekit.csrf` and
:mod:`securekit.safe_errors`.
"""

from __future__ import annotations

import logging
import re
import secrets
import warnings
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, Generic, Self, TypeVar
from urllib.parse import unquote_to_bytes, urlsplit

from securekit.csrf import FORM_FIELD, HEADER_NAME, SAFE_METHODS, CSRFProtect
from securekit.errors import (
    ConfigurationError,
    CSRFError,
    CSRFReason,
    InputReason,
    InputValidationError,
    InsecureConfigurationWarning,
    SessionError,
    SessionReason,
)
from securekit.headers import SecurityHeaders, generate_nonce
from securekit.safe_errors import ProblemResponse, new_correlation_id, problem_response
from securekit.sessions import Session, SessionCookie, SessionManager

__all__ = [
    "CONTEXT_KEY",
    "CSP_NONCE_KEY",
    "CSRF_TOKEN_KEY",
    "HEADER_ENV",
    "MAX_FORM_BYTES",
    "METHOD_OVERRIDE_HEADERS",
    "Core",
    "Middleware",
    "RequestContext",
    "form_kind",
    "form_token",
    "installed_context",
    "prefix_form_token",
    "required_session",
]

#: Largest request body buffered to find the CSRF form field. A url-encoded
#: form larger than this is refused; in a multipart body only this prefix is
#: searched (browsers send fields in document order: put the hidden field
#: first). Django's DATA_UPLOAD_MAX_MEMORY_SIZE uses the same 2.5 MiB order
#: of magnitude; 1 MiB keeps the buffer small on a busy server.
MAX_FORM_BYTES: Final = 1024 * 1024
#: Names under which the request context, nonce and token are exposed
#: (WSGI ``environ`` keys and ASGI ``scope["state"]`` keys).
CONTEXT_KEY: Final = "securekit"
CSP_NONCE_KEY: Final = "csp_nonce"
CSRF_TOKEN_KEY: Final = "csrf_token"  # noqa: S105 - a dict key, not a secret

_FORM_URLENCODED: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
# RFC 2046 section 5.1.1: boundary characters, 1 to 70 of them.
_BOUNDARY_RE: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_NAME_RE: Final = re.compile(rb'(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))', re.IGNORECASE)
_MAX_FIELDS: Final = 10_000
_MAX_COOKIE_HEADER: Final = 16 * 1024
_LOGGER: Final = logging.getLogger("securekit.integrations")
#: Headers that frameworks and proxies read to replace the request method
#: (werkzeug's HTTPMethodOverride, Express method-override, Rails/Rack).
#: A safe request carrying one is checked as the method it names.
METHOD_OVERRIDE_HEADERS: Final = ("x-http-method-override", "x-http-method", "x-method-override")
#: The CSRF header as a WSGI environ key.
HEADER_ENV: Final = "HTTP_" + HEADER_NAME.upper().replace("-", "_")


def form_kind(content_type: str | None) -> str | None:
    """Return ``"urlencoded"``, ``"multipart"`` or None for a Content-Type."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media == _FORM_URLENCODED:
        return "urlencoded"
    if media == _MULTIPART:
        return "multipart"
    return None


def _single(values: list[bytes]) -> str | None:
    """One token value, or None; differing repeats are ambiguous: refused."""
    if not values:
        return None
    if any(value != values[0] for value in values):
        raise CSRFError(CSRFReason.MALFORMED_TOKEN)
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        raise CSRFError(CSRFReason.MALFORMED_TOKEN) from None


def _urlencoded_token(body: bytes) -> str | None:
    found: list[bytes] = []
    field = FORM_FIELD.encode("ascii")
    for count, part in enumerate(body.split(b"&")):
        if count >= _MAX_FIELDS:
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        name, _, value = part.partition(b"=")
        if unquote_to_bytes(name.replace(b"+", b" ")) == field:
            found.append(unquote_to_bytes(value.replace(b"+", b" ")))
    return _single(found)


def _boundary(content_type: str) -> bytes | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if _BOUNDARY_RE.fullmatch(value):
                return value.encode("ascii")
            return None
    return None


def _multipart_token(content_type: str, body: bytes) -> str | None:
    boundary = _boundary(content_type)
    if boundary is None:
        return None
    found: list[bytes] = []
    # RFC 7578 / RFC 2046 5.1.1: each part starts after CRLF "--" boundary.
    parts = (b"\r\n" + body).split(b"\r\n--" + boundary)
    for count, part in enumerate(parts[1:]):
        if count >= _MAX_FIELDS:
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue  # the closing "--" or a part cut off by the scan limit
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() != b"content-disposition":
                continue
            match = _NAME_RE.search(value)
            if match is not None and (match.group(1) or match.group(2)) == FORM_FIELD.encode():
                found.append(content)
    return _single(found)


def form_token(content_type: str, body: bytes) -> str | None:
    """Extract the CSRF form field from a url-encoded or multipart body.

    Raises:
        CSRFError: ``MALFORMED_TOKEN`` when the field repeats with different
            values or is not ASCII.
    """
    kind = form_kind(content_type)
    if kind == "urlencoded":
        return _urlencoded_token(body)
    if kind == "multipart":
        return _multipart_token(content_type, body)
    return None


def prefix_form_token(content_type: str, body: bytes, *, complete: bool) -> str | None:
    """The CSRF form field of a form body read up to ``max_form_bytes``.

    Args:
        content_type: the request's form Content-Type (``form_kind`` is not None).
        body: the body read so far.
        complete: whether ``body`` is the whole body.

    Raises:
        InputValidationError: ``TOO_LARGE``, a url-encoded form not read to its end.
        CSRFError: ``MALFORMED_TOKEN``, an ambiguous or unreadable field.
    """
    if form_kind(content_type) == "urlencoded" and not complete:
        # The field may be anywhere in a url-encoded body: refuse a form too
        # large to search rather than guess (multipart: browsers send fields
        # in document order, so the prefix is searched).
        raise InputValidationError(InputReason.TOO_LARGE)
    return form_token(content_type, body)


def _referer_origin(referer: str) -> str:
    """The origin part of a ``Referer`` URL, or ``"null"`` when it has none."""
    try:
        parts = urlsplit(referer.strip())
        if parts.scheme and parts.netloc and not parts.username and not parts.password:
            return f"{parts.scheme}://{parts.netloc}"
    except ValueError:
        pass
    return "null"


def _mirror_cookie(cookie: SessionCookie, name: str) -> SessionCookie:
    """A cookie for ``name`` with the same attributes as ``cookie``.

    The application acknowledged any weakening on its own session cookie;
    the CSRF cookie follows it silently, so that development over plain
    HTTP keeps working for both or for neither.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        return SessionCookie(
            name=name,
            same_site="Strict" if cookie.same_site == "Strict" else "Lax",
            insecure_no_host_prefix=not cookie.name.startswith("__Host-"),
            insecure_allow_http=not cookie.secure,
            insecure_javascript_access=not cookie.http_only,
        )


class RequestContext:
    """Per-request securekit state, exposed to the application.

    Find it as ``request.state.securekit`` (ASGI/Starlette/FastAPI) or
    ``environ["securekit"]`` (WSGI/Flask/Django).

    Attributes:
        csp_nonce: this response's CSP nonce; put it on every inline
            ``<script nonce="...">``.
        correlation_id: this request's id, also in error responses and logs.
        session: the valid session of the request, or None.
    """

    __slots__ = (
        "_binding",
        "_core",
        "_set_cookies",
        "_token",
        "correlation_id",
        "csp_nonce",
        "session",
    )

    def __init__(self, core: Core, *, nonce: str, correlation_id: str) -> None:
        self._core = core
        self.csp_nonce = nonce
        self.correlation_id = correlation_id
        self.session: Session | None = None
        self._token: str | None = None
        self._binding: str | None = None
        self._set_cookies: list[str] = []

    def __repr__(self) -> str:
        user = None if self.session is None else self.session.user_id
        return f"RequestContext(correlation_id={self.correlation_id!r}, user_id={user!r})"

    @property
    def user_id(self) -> str | None:
        """The logged-in user's id, or None."""
        return None if self.session is None else self.session.user_id

    @property
    def csrf_token(self) -> str:
        """A fresh masked CSRF token for a form or ``X-CSRF-Token`` header.

        Raises:
            ConfigurationError: the middleware has no CSRF protection.
        """
        csrf = self._core.csrf
        if csrf is None or self._binding is None:
            raise ConfigurationError("CSRF protection is not configured on the middleware")
        return csrf.token(self._binding)

    def login(self, user_id: str, *, data: Mapping[str, Any] | None = None) -> Session:
        """Start a session for ``user_id`` (rotating any current one).

        A new session id is issued on every login, so a fixated or stolen
        pre-login id never becomes an authenticated one (OWASP Session
        Management Cheat Sheet, "Renew the Session ID After Any Privilege
        Level Change"). CSRF tokens issued before are invalidated.

        Raises:
            ConfigurationError: the middleware has no session manager.
            StoreUnavailableError: the store is down.
        """
        sessions = self._core.require_sessions()
        token, session = None, None
        if self._token is not None:
            try:
                token, session = sessions.rotate(self._token, user_id=user_id, data=data or {})
            except SessionError:
                token = None  # revoked meanwhile: start afresh below
        if token is None or session is None:
            token, session = sessions.create(user_id=user_id, data=data)
        self._token, self.session, self._binding = token, session, token
        self._set_cookies.append(self._core.session_cookie.header(token))
        return session

    def update(self, data: Mapping[str, Any]) -> Session:
        """Replace the current session's data.

        Raises:
            SessionError: there is no valid session (``UNKNOWN``) or it ended.
        """
        sessions = self._core.require_sessions()
        if self._token is None:
            raise SessionError(SessionReason.UNKNOWN)
        self.session = sessions.update(self._token, data)
        return self.session

    def logout(self) -> None:
        """End the current session (server-side) and clear the cookie."""
        sessions = self._core.require_sessions()
        if self._token is not None:
            sessions.destroy(self._token)
        self._token, self.session = None, None
        self._set_cookies.append(self._core.session_cookie.clear())
        if self._core.csrf is not None:
            self._new_anonymous_binding()

    def rotate(self) -> Session:
        """Issue a new id for the current session (privilege change).

        Raises:
            SessionError: there is no valid session or it ended meanwhile.
        """
        sessions = self._core.require_sessions()
        if self._token is None:
            raise SessionError(SessionReason.UNKNOWN)
        token, session = sessions.rotate(self._token)
        self._token, self.session, self._binding = token, session, token
        self._set_cookies.append(self._core.session_cookie.header(token))
        return session

    def _new_anonymous_binding(self) -> None:
        value = secrets.token_urlsafe(32)
        self._binding = value
        self._set_cookies.append(self._core.csrf_cookie.header(value))


class Core:
    """The checks and response decorations shared by both middlewares."""

    __slots__ = (
        "csrf",
        "csrf_cookie",
        "csrf_exempt",
        "headers",
        "logger",
        "max_form_bytes",
        "session_cookie",
        "sessions",
    )

    def __init__(
        self,
        *,
        headers: SecurityHeaders | None,
        sessions: SessionManager | None,
        session_cookie: SessionCookie | None,
        csrf: CSRFProtect | None,
        csrf_cookie: SessionCookie | None,
        csrf_exempt: Collection[str],
        max_form_bytes: int,
        logger: logging.Logger | None,
        insecure_no_csrf: bool,
        stacklevel: int = 2,
    ) -> None:
        if headers is not None and not isinstance(headers, SecurityHeaders):
            raise TypeError("headers must be a securekit.headers.SecurityHeaders")
        if sessions is not None and not isinstance(sessions, SessionManager):
            raise TypeError("sessions must be a securekit.sessions.SessionManager")
        for name, cookie in (("session_cookie", session_cookie), ("csrf_cookie", csrf_cookie)):
            if cookie is not None and not isinstance(cookie, SessionCookie):
                raise TypeError(f"{name} must be a securekit.sessions.SessionCookie")
        if csrf is not None and not isinstance(csrf, CSRFProtect):
            raise TypeError("csrf must be a securekit.csrf.CSRFProtect")
        if isinstance(csrf_exempt, str) or not isinstance(csrf_exempt, Collection):
            raise TypeError("csrf_exempt must be a collection of paths")
        for path in csrf_exempt:
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigurationError("csrf_exempt entries are exact paths starting with '/'")
        if isinstance(max_form_bytes, bool) or not isinstance(max_form_bytes, int):
            raise TypeError("max_form_bytes must be an int")
        if not 1024 <= max_form_bytes <= 64 * 1024 * 1024:
            raise ConfigurationError("max_form_bytes must be between 1 KiB and 64 MiB")
        if logger is not None and not isinstance(logger, logging.Logger):
            raise TypeError("logger must be a logging.Logger")
        if insecure_no_csrf:
            if csrf is not None:
                raise ConfigurationError("pass either csrf or insecure_no_csrf=True, not both")
            warnings.warn(
                "the middleware runs without CSRF protection",
                InsecureConfigurationWarning,
                # Attributed to the application line that configured it.
                stacklevel=stacklevel + 1,
            )
        elif csrf is None and sessions is not None:
            # Cookie sessions are ambient authority: without CSRF checks any
            # site can make the browser act with them (OWASP CSRF Cheat Sheet).
            raise ConfigurationError(
                "cookie sessions need CSRF protection: pass csrf=CSRFProtect(...) "
                "(or insecure_no_csrf=True if every state change is token-authenticated)"
            )
        self.headers = headers if headers is not None else SecurityHeaders()
        self.sessions = sessions
        self.session_cookie = session_cookie if session_cookie is not None else SessionCookie()
        self.csrf = csrf
        self.csrf_cookie = (
            csrf_cookie if csrf_cookie is not None else _mirror_cookie(self.session_cookie, "csrf")
        )
        if self.csrf_cookie.name == self.session_cookie.name:
            raise ConfigurationError("the CSRF cookie and the session cookie need different names")
        self.csrf_exempt = frozenset(csrf_exempt)
        self.max_form_bytes = max_form_bytes
        self.logger = logger if logger is not None else _LOGGER

    def require_sessions(self) -> SessionManager:
        """The session manager, or a ConfigurationError naming the fix."""
        if self.sessions is None:
            raise ConfigurationError("pass sessions=SessionManager(...) to the middleware")
        return self.sessions

    def start(self, cookie_header: str | None) -> RequestContext:
        """Begin a request: nonce, correlation id, session and CSRF binding.

        Args:
            cookie_header: the request's ``Cookie`` header (several joined
                with ``"; "``), or None.

        Raises:
            StoreUnavailableError: the session store is down (fail closed).
        """
        ctx = RequestContext(self, nonce=generate_nonce(), correlation_id=new_correlation_id())
        if cookie_header is not None and len(cookie_header) > _MAX_COOKIE_HEADER:
            cookie_header = None
        if self.sessions is not None:
            token = self.session_cookie.read(cookie_header)
            if token is not None:
                try:
                    ctx.session = self.sessions.get(token)
                except SessionError as exc:
                    # Expired, revoked or forged: drop the cookie; the reason
                    # is for logs only.
                    self.logger.info("session refused: reason=%s", exc.reason.value)
                    ctx._set_cookies.append(self.session_cookie.clear())
                else:
                    ctx._token = ctx._binding = token
        if self.csrf is not None and ctx._binding is None:
            anonymous = self.csrf_cookie.read(cookie_header)
            if anonymous is None:
                ctx._new_anonymous_binding()
            else:
                ctx._binding = anonymous
        return ctx

    def token_needed(
        self, ctx: RequestContext, method: str, path: str, overrides: Iterable[str] = ()
    ) -> bool:
        """Whether this request must pass the CSRF checks.

        Args:
            ctx: the request's context.
            method: the request method.
            path: the request path (exempt paths match exactly).
            overrides: the values of any ``METHOD_OVERRIDE_HEADERS``. A
                GET carrying ``X-HTTP-Method-Override: DELETE`` is a
                DELETE to any app or middleware that honours the header,
                so it is checked as one (an unreadable value as well).
        """
        unsafe = method.upper() not in SAFE_METHODS or any(
            value.strip().upper() not in SAFE_METHODS for value in overrides
        )
        return (
            self.csrf is not None
            and unsafe
            and path not in self.csrf_exempt
            and ctx._binding is not None
        )

    def check_csrf(
        self,
        ctx: RequestContext,
        *,
        headers: Mapping[str, str],
        header_token: str | None,
        authorization: str | None,
        body_token: str | None,
    ) -> None:
        """Run the CSRF checks of a state-changing request.

        Fetch Metadata and Origin are always checked. The token comes from
        the ``X-CSRF-Token`` header or the form field. A request with a
        ``Bearer`` credential and no session cookie needs no token: browsers
        never attach bearer tokens on their own, so it cannot be forged.

        Raises:
            CSRFError: the request is cross-site or the token is wrong.
        """
        csrf = self.csrf
        if csrf is None or ctx._binding is None:  # pragma: no cover - guarded by token_needed
            return
        lowered = {name.lower(): value for name, value in headers.items()}
        referer = lowered.pop("referer", None)
        if "origin" not in lowered and referer is not None:
            # OWASP CSRF Cheat Sheet ("Identifying Source Origin"): without
            # Origin, the Referer's origin is checked against the same list;
            # a Referer without one ("about:blank", garbage) is refused.
            lowered["origin"] = _referer_origin(referer)
        csrf.check_headers(lowered)
        bearer = authorization is not None and authorization[:7].lower() == "bearer "
        if bearer and ctx._token is None:
            return
        token = header_token if header_token else body_token
        csrf.check_token(token, session_id=ctx._binding)

    def response_headers(
        self, ctx: RequestContext, present: Collection[str]
    ) -> list[tuple[str, str]]:
        """Headers to add to a response (``present``: lowercased names set by the app).

        The app's own values win for the security headers (a route may need
        a different CSP); cookies are always added.
        """
        added = [
            (name, value)
            for name, value in self.headers.render(nonce=ctx.csp_nonce).headers.items()
            if name.lower() not in present
        ]
        if ctx._set_cookies:
            added.extend(("Set-Cookie", cookie) for cookie in ctx._set_cookies)
            if "cache-control" not in present:
                # A response that sets a session cookie must never be stored
                # by a shared cache and replayed to someone else.
                added.append(("Cache-Control", "no-store"))
        return added

    def problem(self, exc: BaseException, ctx: RequestContext | None) -> ProblemResponse:
        """The safe problem+json response for ``exc`` (logged server-side)."""
        correlation_id = None if ctx is None else ctx.correlation_id
        return problem_response(exc, correlation_id=correlation_id, logger=self.logger)

    def problem_headers(
        self, response: ProblemResponse, ctx: RequestContext | None
    ) -> list[tuple[str, str]]:
        """All headers of an error response: problem headers plus security headers."""
        headers = list(response.headers.items())
        present = {name.lower() for name, _ in headers}
        if ctx is not None:
            headers.extend(self.response_headers(ctx, present))
        else:
            # The request failed before it had a context (session store
            # down): the error response still gets every security header.
            headers.extend(
                (name, value)
                for name, value in self.headers.render(nonce=generate_nonce()).headers.items()
                if name.lower() not in present
            )
        return headers

    def problem_for(self, exc: BaseException, ctx: object) -> ProblemResponse:
        """:meth:`problem` for a framework's stored context (anything else: none)."""
        return self.problem(exc, ctx if isinstance(ctx, RequestContext) else None)


def installed_context(ctx: object, *, missing: str) -> RequestContext:
    """The request context a framework adapter stored, or ``missing`` as a ConfigurationError."""
    if not isinstance(ctx, RequestContext):
        raise ConfigurationError(missing)
    return ctx


def required_session(ctx: RequestContext) -> Session:
    """The request's valid session.

    Raises:
        SessionError: ``UNKNOWN``: no valid session (answered 401).
    """
    session = ctx.session
    if session is None:
        raise SessionError(SessionReason.UNKNOWN)
    return session


_App = TypeVar("_App")


class Middleware(Generic[_App]):
    """What both middlewares hold: the wrapped app and the checked :class:`Core`."""

    app: _App
    core: Core

    @classmethod
    def _from_core(cls, app: _App, core: Core) -> Self:
        """Wrap ``app`` with an already checked configuration (adapters)."""
        middleware = cls.__new__(cls)
        middleware.app = app
        middleware.core = core
        return middleware
