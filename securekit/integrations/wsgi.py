"""WSGI middleware (Flask, Django, any WSGI app): headers, sessions, CSRF, safe errors.

Example:
    >>> def app(environ, start_response):
    ...     start_response("200 OK", [("Content-Type", "text/plain")])
    ...     return [b"hello"]
    >>> wrapped = SecureWSGIMiddleware(app)

Per request the middleware

1. makes a fresh CSP nonce and correlation id, reads the ``__Host-``
   session cookie and loads the server-side session (a store that is down
   answers 503: fail closed);
2. refuses cross-site state-changing requests (Fetch Metadata, Origin and
   the masked token from the ``X-CSRF-Token`` header or the ``csrf_token``
   form field) with a 403 problem response;
3. exposes ``environ["securekit"]`` (a
   :class:`~securekit.integrations._common.RequestContext`),
   ``environ["securekit.csp_nonce"]`` and ``environ["securekit.csrf_token"]``;
4. adds the security headers (CSP with this request's nonce) and any
   session cookies to the response;
5. turns an exception raised by the app before its response started into an
   RFC 9457 problem+json response with the correlation id, logged
   server-side (Flask handles its own exceptions: use
   :class:`securekit.integrations.flask.SecureKit`, which registers the same
   handler there).

The middleware needs no third-party package.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, Final
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

from securekit._chunked import read_full
from securekit.csrf import CSRFProtect
from securekit.errors import CSRFError, CSRFReason
from securekit.headers import SecurityHeaders
from securekit.integrations._common import (
    CONTEXT_KEY,
    CSP_NONCE_KEY,
    CSRF_TOKEN_KEY,
    HEADER_ENV,
    MAX_FORM_BYTES,
    METHOD_OVERRIDE_HEADERS,
    Core,
    Middleware,
    RequestContext,
    form_kind,
    prefix_form_token,
)

# The reason phrases of the statuses a problem response can have: the titles
# safe_errors gives them, so status line and problem title always agree.
from securekit.safe_errors import _TITLES as _STATUS_TEXT
from securekit.sessions import SessionCookie, SessionManager

__all__ = ["CONTEXT_ENVIRON", "CSP_NONCE_ENVIRON", "CSRF_TOKEN_ENVIRON", "SecureWSGIMiddleware"]

#: ``environ`` keys set on every request.
CONTEXT_ENVIRON: Final = CONTEXT_KEY
CSP_NONCE_ENVIRON: Final = f"{CONTEXT_KEY}.{CSP_NONCE_KEY}"
CSRF_TOKEN_ENVIRON: Final = f"{CONTEXT_KEY}.{CSRF_TOKEN_KEY}"

Environ = WSGIEnvironment
WSGIApp = WSGIApplication


class _Replay(io.RawIOBase):
    """``wsgi.input`` that returns the bytes already read, then the rest."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._prefix = io.BytesIO(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._prefix.read(len(view))
        if not data:
            data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def _content_length(environ: Environ) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if isinstance(raw, str) and raw.strip().isdigit() and raw.strip().isascii():
        return int(raw.strip())
    return None


class SecureWSGIMiddleware(Middleware[WSGIApp]):
    """Security headers, sessions, CSRF and safe errors for a WSGI app.

    Args:
        app: the WSGI application to wrap.
        headers: the security headers preset (default ``SecurityHeaders()``).
        sessions: the server-side session manager; None disables sessions.
        session_cookie: the session cookie (default ``SessionCookie()``:
            ``__Host-session``, Secure, HttpOnly, SameSite=Lax).
        csrf: the CSRF checker. Required when ``sessions`` is given.
        csrf_cookie: the cookie binding CSRF tokens of visitors without a
            session (default: ``csrf`` with the session cookie's attributes).
        csrf_exempt: exact paths that skip the CSRF checks (webhooks).
        max_form_bytes: the most body bytes read to find the form token.
        logger: where errors and refusals are logged.
        insecure_no_csrf: run without CSRF protection even with sessions.
            **Danger:** any site can then submit forms with the user's cookie.

    Raises:
        ConfigurationError: sessions without ``csrf``, a bad exempt path, or
            both ``csrf`` and ``insecure_no_csrf``.
    """

    def __init__(
        self,
        app: WSGIApp,
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
        if not callable(app):
            raise TypeError("app must be a WSGI application")
        self.app = app
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

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        core = self.core
        ctx: RequestContext | None = None
        started = False

        def start_wrapper(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None, /
        ) -> Callable[[bytes], object]:
            nonlocal started
            started = True
            if ctx is not None:
                present = {name.lower() for name, _ in headers}
                headers = [*headers, *core.response_headers(ctx, present)]
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            cookie = environ.get("HTTP_COOKIE")
            ctx = core.start(cookie if isinstance(cookie, str) else None)
            environ[CONTEXT_ENVIRON] = ctx
            environ[CSP_NONCE_ENVIRON] = ctx.csp_nonce
            if core.csrf is not None:
                environ[CSRF_TOKEN_ENVIRON] = ctx.csrf_token
            method = str(environ.get("REQUEST_METHOD", "GET"))
            path = str(environ.get("PATH_INFO", "/"))
            overrides = [
                value
                for name in METHOD_OVERRIDE_HEADERS
                if isinstance(value := environ.get("HTTP_" + name.upper().replace("-", "_")), str)
            ]
            if core.token_needed(ctx, method, path, overrides):
                self._check_csrf(ctx, environ)
            return self.app(environ, start_wrapper)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a safe response
            return self._problem(exc, ctx, start_response, replace=started)

    def _check_csrf(self, ctx: RequestContext, environ: Environ) -> None:
        headers: dict[str, str] = {}
        for key, name in (
            ("HTTP_ORIGIN", "Origin"),
            ("HTTP_SEC_FETCH_SITE", "Sec-Fetch-Site"),
            ("HTTP_REFERER", "Referer"),
        ):
            value = environ.get(key)
            if isinstance(value, str):
                headers[name] = value
        raw_token = environ.get(HEADER_ENV)
        header_token = raw_token if isinstance(raw_token, str) else None
        if header_token is not None and "," in header_token:
            # The server joined repeated headers: ambiguous, refused.
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        authorization = environ.get("HTTP_AUTHORIZATION")
        content_type = environ.get("CONTENT_TYPE")
        body_token: str | None = None
        kind = form_kind(content_type if isinstance(content_type, str) else None)
        if not header_token and kind is not None and isinstance(content_type, str):
            body, complete = self._read_prefix(environ)
            body_token = prefix_form_token(content_type, body, complete=complete)
        self.core.check_csrf(
            ctx,
            headers=headers,
            header_token=header_token,
            authorization=authorization if isinstance(authorization, str) else None,
            body_token=body_token,
        )

    def _read_prefix(self, environ: Environ) -> tuple[bytes, bool]:
        """Read up to ``max_form_bytes`` of the body and put them back."""
        length = _content_length(environ)
        stream = environ.get("wsgi.input")
        if stream is None:
            return b"", True
        if length is None:
            if not environ.get("wsgi.input_terminated"):
                # PEP 3333: without Content-Length there is no body to read.
                return b"", True
            wanted = self.core.max_form_bytes + 1
        else:
            wanted = min(length, self.core.max_form_bytes + 1)
        # Content-Length: 0 reads nothing (not even an empty read).
        body = read_full(stream, wanted) if wanted > 0 else b""
        size = len(body)
        environ["wsgi.input"] = io.BufferedReader(_Replay(body, stream))
        complete = size <= self.core.max_form_bytes and (length is None or size >= length)
        return body[: self.core.max_form_bytes], complete

    def _problem(
        self,
        exc: BaseException,
        ctx: RequestContext | None,
        start_response: StartResponse,
        *,
        replace: bool,
    ) -> Iterator[bytes]:
        response = self.core.problem(exc, ctx)
        headers = self.core.problem_headers(response, ctx)
        headers.append(("Content-Length", str(len(response.content))))
        status = f"{response.status} {_STATUS_TEXT.get(response.status, 'Error')}"
        if replace:
            # PEP 3333: a second start_response call must pass exc_info; it
            # replaces a response whose headers are not sent yet, and
            # re-raises if they already were.
            start_response(status, headers, sys.exc_info())
        else:
            start_response(status, headers)
        return iter([response.content])
