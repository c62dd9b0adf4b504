"""ASGI middleware (Starlette, FastAPI, any ASGI app): headers, sessions, CSRF, safe errors.

Example:
    >>> from starlette.applications import Starlette
    >>> app = Starlette()
    >>> app.add_middleware(SecureASGIMiddleware, insecure_no_csrf=False)  # doctest: +SKIP

Per HTTP request the middleware

1. makes a fresh CSP nonce and correlation id, reads the ``__Host-``
   session cookie and loads the server-side session (a store that is down
   answers 503: fail closed);
2. refuses cross-site state-changing requests (Fetch Metadata, Origin and
   the masked token from the ``X-CSRF-Token`` header or the ``csrf_token``
   form field) with a 403 problem response;
3. exposes ``scope["state"]["securekit"]`` (a
   :class:`~securekit.integrations._common.RequestContext`),
   ``scope["state"]["csp_nonce"]`` and ``scope["state"]["csrf_token"]``
   (Starlette: ``request.state.csp_nonce``);
4. adds the security headers (CSP with this request's nonce) and any
   session cookies to the response;
5. turns an unhandled exception into an RFC 9457 problem+json response with
   the correlation id, and logs the exception server-side.

A WebSocket handshake whose ``Origin`` (or ``Sec-Fetch-Site``) is not this
site is closed before it is accepted when CSRF protection is configured
(cross-site WebSocket hijacking); other non-HTTP scopes pass through.

Requires ``anyio`` (installed with ``securekit[fastapi]``): session lookups
run in a worker thread so that a slow store does not block the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any, Final

try:
    import anyio.to_thread
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "securekit.integrations.asgi needs anyio: pip install securekit[fastapi]"
    ) from exc

from securekit.csrf import FORM_FIELD, HEADER_NAME, CSRFProtect
from securekit.errors import CSRFError, CSRFReason
from securekit.headers import SecurityHeaders
from securekit.integrations._common import (
    CONTEXT_KEY,
    CSP_NONCE_KEY,
    CSRF_TOKEN_KEY,
    MAX_FORM_BYTES,
    METHOD_OVERRIDE_HEADERS,
    Core,
    Middleware,
    RequestContext,
    form_kind,
    prefix_form_token,
)
from securekit.sessions import SessionCookie, SessionManager

__all__ = ["FORM_FIELD", "HEADER_NAME", "MAX_FORM_BYTES", "SecureASGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CSRF_HEADER: Final = HEADER_NAME.lower().encode("latin-1")


def _latin1(value: bytes) -> str:
    return value.decode("latin-1")


class SecureASGIMiddleware(Middleware[ASGIApp]):
    """Security headers, sessions, CSRF and safe errors for an ASGI app.

    Args:
        app: the ASGI application to wrap.
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
        app: ASGIApp,
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
            raise TypeError("app must be an ASGI application")
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (non-HTTP scopes pass through)."""
        if scope.get("type") == "websocket" and not self._websocket_allowed(scope):
            # Cross-site WebSocket hijacking: the browser attaches the
            # session cookie to a handshake any page may start. Closing
            # before accepting makes the server answer 403 (ASGI spec).
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        core = self.core
        raw_headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        cookies = [_latin1(v) for k, v in raw_headers if k.lower() == b"cookie"]
        cookie_header = "; ".join(cookies) if cookies else None
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start" and ctx is not None:
                started = True
                headers = list(message.get("headers") or [])
                present = {_latin1(k).lower() for k, _ in headers}
                for name, value in core.response_headers(ctx, present):
                    headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        ctx: RequestContext | None = None
        try:
            if core.sessions is not None and cookie_header is not None:
                # Store I/O (SQLite, Redis) off the event loop.
                ctx = await anyio.to_thread.run_sync(core.start, cookie_header)
            else:
                ctx = core.start(cookie_header)
            state = scope.setdefault("state", {})
            state[CONTEXT_KEY] = ctx
            state[CSP_NONCE_KEY] = ctx.csp_nonce
            if core.csrf is not None:
                state[CSRF_TOKEN_KEY] = ctx.csrf_token
            method = str(scope.get("method", "GET"))
            path = str(scope.get("path", "/"))
            overrides = [
                _latin1(value)
                for key, value in raw_headers
                if _latin1(key).lower() in METHOD_OVERRIDE_HEADERS
            ]
            if core.token_needed(ctx, method, path, overrides):
                receive = await self._check_csrf(ctx, raw_headers, receive)
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # every failure becomes a safe response
            if started:
                # Too late for an error response: log it and let the server
                # abort the connection, so the client sees a broken response.
                core.problem(exc, ctx)
                raise
            await self._send_problem(exc, ctx, send)

    def _websocket_allowed(self, scope: Scope) -> bool:
        """Fetch Metadata and ``Origin`` checks of a WebSocket handshake."""
        if self.core.csrf is None:
            return True
        headers: dict[str, str] = {}
        for key, value in scope.get("headers") or []:
            name = _latin1(key).lower()
            if name in ("origin", "sec-fetch-site"):
                if name in headers and headers[name] != _latin1(value):
                    return False
                headers[name] = _latin1(value)
        try:
            self.core.csrf.check_headers(headers)
        except CSRFError:
            return False
        return True

    async def _check_csrf(
        self, ctx: RequestContext, raw_headers: list[tuple[bytes, bytes]], receive: Receive
    ) -> Receive:
        """Run the CSRF checks; return a ``receive`` that replays what was read."""
        headers: dict[str, str] = {}
        header_tokens: list[str] = []
        authorization: str | None = None
        content_type: str | None = None
        for key, value in raw_headers:
            name = _latin1(key).lower()
            text = _latin1(value)
            if name in ("origin", "sec-fetch-site", "referer"):
                if name in headers and headers[name] != text:
                    # Two different values: ambiguous, refused.
                    raise CSRFError(CSRFReason.BAD_ORIGIN)
                headers[name] = text
            elif key.lower() == _CSRF_HEADER:
                header_tokens.append(text)
            elif name == "authorization":
                authorization = text
            elif name == "content-type":
                content_type = text
        header_token = header_tokens[0] if len(set(header_tokens)) == 1 else None
        if len(set(header_tokens)) > 1:
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        body_token: str | None = None
        replay: list[Message] = []
        kind = form_kind(content_type)
        if not header_token and kind is not None and content_type is not None:
            body, replay, complete = await self._read_prefix(receive)
            body_token = prefix_form_token(content_type, body, complete=complete)
        self.core.check_csrf(
            ctx,
            headers=headers,
            header_token=header_token,
            authorization=authorization,
            body_token=body_token,
        )
        if not replay:
            return receive
        pending = list(replay)

        async def replaying() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replaying

    async def _read_prefix(self, receive: Receive) -> tuple[bytes, list[Message], bool]:
        """Read body messages until the end or ``max_form_bytes``."""
        chunks: list[bytes] = []
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message.get("type") != "http.request":
                return b"".join(chunks), messages, False
            chunk = bytes(message.get("body") or b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), messages, True
            if size >= self.core.max_form_bytes:
                return b"".join(chunks)[: self.core.max_form_bytes], messages, False

    async def _send_problem(
        self, exc: BaseException, ctx: RequestContext | None, send: Send
    ) -> None:
        response = self.core.problem(exc, ctx)
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.core.problem_headers(response, ctx)
        ]
        headers.append((b"content-length", str(len(response.content)).encode("ascii")))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})
