"""Per-request cost of the integration middleware.

* ASGI: ``SecureASGIMiddleware`` (headers with a fresh nonce, correlation id,
  anonymous CSRF binding and token) against a hand-written middleware that
  only adds ``SecurityHeaders().render()`` to the response, around the same
  trivial app: at most 3x (what it adds is a correlation id, a cookie and an
  HMAC for the CSRF token).
* The same for WSGI: at most 5x (the hand-written WSGI baseline is only
  about 6 microseconds, so the same ~17 microseconds of work weigh more).
* A logged-in ASGI request (session lookup in a worker thread, MemoryStore)
  against the anonymous one: recorded, not asserted (thread hop cost depends
  on the machine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from securekit.csrf import CSRFProtect
from securekit.headers import SecurityHeaders
from securekit.integrations.asgi import SecureASGIMiddleware
from securekit.integrations.wsgi import SecureWSGIMiddleware
from securekit.keys import KeyRing
from securekit.sessions import SessionManager
from securekit.stores import MemoryStore
from tests.benchmarks._harness import QUICK, compare

HEADERS = SecurityHeaders()
CSRF = CSRFProtect(KeyRing.generate("mac"), origins={"https://app.example"})


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class _HandWritten:
    """What an application would write by hand with securekit.headers only."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        rendered = HEADERS.render()
        scope.setdefault("state", {})["csp_nonce"] = rendered.nonce

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in rendered.headers.items()]
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await self.app(scope, receive, wrapped)


def _asgi_runner(app: Any, headers: list[tuple[bytes, bytes]]) -> Any:
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    def run() -> None:
        scope = {"type": "http", "method": "GET", "path": "/", "headers": list(headers)}
        loop.run_until_complete(app(scope, receive, send))

    return run, loop


def test_asgi_middleware_overhead() -> None:
    sessions = SessionManager(MemoryStore())
    token, _ = sessions.create(user_id="alice")
    raw, loop1 = _asgi_runner(_HandWritten(_app), [])
    ours, loop2 = _asgi_runner(SecureASGIMiddleware(_app, csrf=CSRF), [])
    logged_in, loop3 = _asgi_runner(
        SecureASGIMiddleware(_app, sessions=sessions, csrf=CSRF),
        [(b"cookie", f"__Host-session={token}".encode())],
    )
    try:
        result = compare(
            "ASGI middleware vs hand-written headers middleware",
            {"hand-written headers": raw, "securekit": ours, "securekit+session": logged_in},
            baseline="hand-written headers",
        )
    finally:
        for loop in (loop1, loop2, loop3):
            loop.close()
    if not QUICK:
        assert result.ratio("securekit") <= 3.0


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _hand_written_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    rendered = HEADERS.render()
    environ["csp_nonce"] = rendered.nonce

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, *rendered.headers.items()])

    return _wsgi_app(environ, wrapped)


def test_wsgi_middleware_overhead() -> None:
    ours = SecureWSGIMiddleware(_wsgi_app, csrf=CSRF)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    def call(app: Any) -> Any:
        return lambda: list(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, start_response))

    result = compare(
        "WSGI middleware vs hand-written headers middleware",
        {"hand-written headers": call(_hand_written_wsgi), "securekit": call(ours)},
        baseline="hand-written headers",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 5.0
