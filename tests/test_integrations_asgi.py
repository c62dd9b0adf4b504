# ruff: noqa: B008  (FastAPI declares dependencies as Depends(...) defaults)
"""securekit.integrations.asgi and .fastapi, driven in-process through ASGI.

The real-server tests (uvicorn + httpx on 127.0.0.1) are in
``test_integrations_servers.py``; here each case calls the ASGI app directly,
so every guard is exercised quickly and deterministically.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi import Depends, FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.responses import HTMLResponse, PlainTextResponse

from securekit.authz import Policy, Subject
from securekit.csrf import CSRFProtect
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    SessionError,
    StoreUnavailableError,
)
from securekit.headers import ContentSecurityPolicy, SecurityHeaders
from securekit.integrations import RequestContext
from securekit.integrations._common import form_token
from securekit.integrations.asgi import SecureASGIMiddleware
from securekit.integrations.fastapi import (
    current_context,
    current_session,
    install,
    optional_session,
    require_permission,
    session_subject,
    verified_jwt,
)
from securekit.jwt import Claims, JWTIssuer
from securekit.keys import KeyRing
from securekit.sessions import Session, SessionCookie, SessionManager
from securekit.stores import MemoryStore
from securekit.testing import FixedClock
from tests._leak import assert_no_leak

ORIGIN = "https://app.example"
SAME = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}
MAC = KeyRing.generate("mac")
SIGNING = KeyRing.generate("signing")
ISSUER = JWTIssuer(SIGNING, issuer="https://auth.example", audience="api.example")
NONCE_RE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def _insecure_asgi() -> object:
    return SecureASGIMiddleware(_echo_app, insecure_no_csrf=True)


def _insecure_install() -> None:
    install(FastAPI(), insecure_no_csrf=True)


INSECURE_CALLS = {
    "securekit.integrations.asgi.SecureASGIMiddleware.__init__:insecure_no_csrf": _insecure_asgi,
    "securekit.integrations.fastapi.install:insecure_no_csrf": _insecure_install,
}


# --------------------------------------------------------------------------- driver


class Reply:
    """What an ASGI app sent back."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.raw_headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        for key, value in self.raw_headers:
            if key.decode("latin-1").lower() == name.lower():
                return value.decode("latin-1")
        return None

    def cookies(self) -> list[str]:
        return [v.decode("latin-1") for k, v in self.raw_headers if k.lower() == b"set-cookie"]

    def cookie(self, prefix: str) -> str | None:
        for value in self.cookies():
            if value.startswith(prefix + "="):
                return value.split(";", 1)[0].split("=", 1)[1]
        return None

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def call(
    app: Any,
    method: str = "GET",
    path: str = "/",
    *,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes = b"",
    chunk: int | None = None,
    scope_type: str = "http",
) -> Reply:
    """Run one request through an ASGI app and collect the response."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    scope = {
        "type": scope_type,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
        "client": ("127.0.0.1", 5000),
        "server": ("app.example", 443),
    }
    size = chunk or max(len(body), 1)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], list(start.get("headers", [])), data)


async def _echo_app(scope: Any, receive: Any, send: Any) -> None:
    """A bare ASGI app: echoes the body it received and its state."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- apps


class Note(BaseModel):
    title: str
    count: int


def make_app(
    *,
    store: Any = None,
    clock: FixedClock | None = None,
    csrf_exempt: tuple[str, ...] = (),
    max_form_bytes: int = 1024 * 1024,
) -> tuple[FastAPI, SessionManager]:
    sessions = SessionManager(store or MemoryStore(), clock=clock or FixedClock())
    policy = Policy(
        {"admin": {"admin:view", "notes:read"}, "user": {"notes:read"}},
        actions={"admin:view", "notes:read"},
    )
    app = FastAPI()
    install(
        app,
        sessions=sessions,
        csrf=CSRFProtect(MAC, origins={ORIGIN}),
        csrf_exempt=csrf_exempt,
        max_form_bytes=max_form_bytes,
    )

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        nonce = request.state.csp_nonce
        token = request.state.csrf_token
        return HTMLResponse(
            f'<script nonce="{nonce}">1</script><input name="csrf_token" value="{token}">'
        )

    @app.get("/token")
    def token(ctx: RequestContext = Depends(current_context)) -> dict[str, str]:
        return {"csrf": ctx.csrf_token, "nonce": ctx.csp_nonce}

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        form = parse_qs((await request.body()).decode())
        roles = [r for r in form.get("roles", [""])[0].split(",") if r]
        ctx: RequestContext = request.state.securekit
        ctx.login(form.get("user", ["alice"])[0], data={"roles": roles})
        return {"user": str(ctx.user_id)}

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(await request.body())

    @app.post("/logout")
    def logout(ctx: RequestContext = Depends(current_context)) -> dict[str, bool]:
        ctx.logout()
        return {"ok": True}

    @app.post("/rotate")
    def rotate(ctx: RequestContext = Depends(current_context)) -> dict[str, str]:
        return {"user": ctx.rotate().user_id}

    @app.post("/update")
    def update(ctx: RequestContext = Depends(current_context)) -> dict[str, object]:
        return {"data": ctx.update({"theme": "dark"}).data}

    @app.get("/me")
    def me(session: Session = Depends(current_session)) -> dict[str, str]:
        return {"user": session.user_id}

    @app.get("/maybe")
    def maybe(session: Session | None = Depends(optional_session)) -> dict[str, str | None]:
        return {"user": None if session is None else session.user_id}

    @app.get("/admin")
    def admin(
        subject: Subject = Depends(require_permission("admin:view", policy=policy)),
    ) -> dict[str, str]:
        return {"admin": subject.id}

    @app.get("/notes")
    def notes(
        subject: Subject = Depends(
            require_permission("notes:read", policy=policy, subject=session_subject(policy))
        ),
    ) -> dict[str, str]:
        return {"reader": subject.id}

    @app.get("/api")
    def api(claims: Claims = Depends(verified_jwt(ISSUER.verifier()))) -> dict[str, str]:
        return {"sub": claims.subject}

    @app.post("/api")
    def api_post(claims: Claims = Depends(verified_jwt(ISSUER.verifier()))) -> dict[str, str]:
        return {"sub": claims.subject}

    @app.post("/notes")
    def create_note(note: Note) -> dict[str, str]:
        return {"title": note.title}

    @app.post("/hook")
    def hook() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("db password=hunter2 at /srv/app")

    @app.get("/csp")
    def own_csp() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Content-Security-Policy": "default-src 'none'"})

    return app, sessions


@pytest.fixture
def app() -> FastAPI:
    return make_app()[0]


def anonymous(app: Any) -> tuple[str, str]:
    """GET /token: (the anonymous csrf cookie, a token bound to it)."""
    reply = call(app, path="/token")
    cookie = reply.cookie("__Host-csrf")
    assert cookie is not None
    return cookie, reply.json()["csrf"]


def logged_in(app: Any, roles: str = "") -> tuple[str, str]:
    """Log in through the app: (session cookie, a CSRF token for the session)."""
    anon, token = anonymous(app)
    reply = call(
        app,
        "POST",
        "/login",
        headers={
            **SAME,
            "cookie": f"__Host-csrf={anon}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=f"csrf_token={token}&user=alice&roles={roles}".encode(),
    )
    assert reply.status == 200, reply.body
    session = reply.cookie("__Host-session")
    assert session is not None
    fresh = call(app, path="/token", headers={"cookie": f"__Host-session={session}"})
    return session, fresh.json()["csrf"]


# --------------------------------------------------------------------------- headers


def test_security_headers_and_per_request_nonce(app: FastAPI) -> None:
    first, second = call(app), call(app)
    for reply in (first, second):
        csp = reply.header("content-security-policy")
        assert csp is not None
        match = NONCE_RE.search(csp)
        assert match is not None
        # The nonce in the header is the one the app put on its inline script.
        assert f'<script nonce="{match.group(1)}">' in reply.body.decode()
        assert reply.header("x-content-type-options") == "nosniff"
        assert reply.header("strict-transport-security") is not None
        assert reply.header("x-frame-options") == "DENY"
    assert NONCE_RE.search(first.header("content-security-policy") or "") != NONCE_RE.search(
        second.header("content-security-policy") or ""
    )


def test_app_header_wins_and_is_not_duplicated(app: FastAPI) -> None:
    reply = call(app, path="/csp")
    values = [v for k, v in reply.raw_headers if k == b"content-security-policy"]
    assert values == [b"default-src 'none'"]
    assert reply.header("x-content-type-options") == "nosniff"


def test_plain_asgi_app_and_non_http_scope_pass_through() -> None:
    wrapped = SecureASGIMiddleware(_echo_app)
    reply = call(wrapped, "POST", "/", body=b"hello")
    assert reply.body == b"hello"
    assert reply.header("content-security-policy") is not None
    assert reply.cookies() == []  # no CSRF, no sessions: no cookies at all
    seen: list[str] = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def noop() -> dict[str, Any]:
        return {}

    async def drop(message: Any) -> None:
        return None

    asyncio.run(SecureASGIMiddleware(lifespan_app)({"type": "lifespan"}, noop, drop))
    assert seen == ["lifespan"]


# --------------------------------------------------------------------------- cookies and sessions


def test_anonymous_csrf_cookie_attributes_and_reuse(app: FastAPI) -> None:
    reply = call(app, path="/token")
    (cookie,) = reply.cookies()
    assert cookie.startswith("__Host-csrf=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in cookie.split("; ")
    assert "Domain" not in cookie
    assert reply.header("cache-control") == "no-store"
    value = reply.cookie("__Host-csrf")
    again = call(app, path="/token", headers={"cookie": f"__Host-csrf={value}"})
    assert again.cookies() == []


def test_login_sets_host_session_cookie_and_rotates(app: FastAPI) -> None:
    session, token = logged_in(app)
    assert call(app, path="/me", headers={"cookie": f"__Host-session={session}"}).json() == {
        "user": "alice"
    }
    # Logging in again with a session rotates it: the old id stops working.
    reply = call(
        app,
        "POST",
        "/login",
        headers={
            **SAME,
            "cookie": f"__Host-session={session}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=f"csrf_token={token}&user=bob".encode(),
    )
    assert reply.status == 200
    cookie = next(c for c in reply.cookies() if c.startswith("__Host-session="))
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in cookie.split("; ")
    assert reply.header("cache-control") == "no-store"
    new = reply.cookie("__Host-session")
    assert new is not None
    assert new != session
    old = call(app, path="/me", headers={"cookie": f"__Host-session={session}"})
    assert old.status == 401
    assert call(app, path="/me", headers={"cookie": f"__Host-session={new}"}).json() == {
        "user": "bob"
    }


def test_rotated_away_session_is_replaced_on_login() -> None:
    app, sessions = make_app()
    session, _token = logged_in(app)
    ctx_holder: list[RequestContext] = []

    async def grab(scope: Any, receive: Any, send: Any) -> None:
        ctx: RequestContext = scope["state"]["securekit"]
        ctx_holder.append(ctx)
        sessions.destroy(session)  # revoked by another request meanwhile
        assert ctx.login("carol").user_id == "carol"
        await _echo_app(scope, receive, send)

    wrapped = SecureASGIMiddleware(grab, sessions=sessions, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    reply = call(wrapped, headers={"cookie": f"__Host-session={session}"})
    assert reply.cookie("__Host-session") not in (None, session)
    assert ctx_holder[0].user_id == "carol"


def test_logout_update_rotate(app: FastAPI) -> None:
    session, token = logged_in(app)
    headers = {**SAME, "cookie": f"__Host-session={session}", "x-csrf-token": token}
    updated = call(app, "POST", "/update", headers=headers)
    assert updated.json() == {"data": {"theme": "dark"}}
    rotated = call(app, "POST", "/rotate", headers=headers)
    assert rotated.status == 200
    new = rotated.cookie("__Host-session")
    assert new is not None
    assert new != session
    token = call(app, path="/token", headers={"cookie": f"__Host-session={new}"}).json()["csrf"]
    out = call(
        app,
        "POST",
        "/logout",
        headers={**SAME, "cookie": f"__Host-session={new}", "x-csrf-token": token},
    )
    assert out.status == 200
    cleared = [c for c in out.cookies() if c.startswith("__Host-session=;")]
    assert cleared
    assert "Max-Age=0" in cleared[0]
    assert out.cookie("__Host-csrf")  # a fresh anonymous binding
    assert call(app, path="/me", headers={"cookie": f"__Host-session={new}"}).status == 401


def test_context_methods_without_a_session(app: FastAPI) -> None:
    anon, token = anonymous(app)
    headers = {**SAME, "cookie": f"__Host-csrf={anon}", "x-csrf-token": token}
    for path in ("/update", "/rotate"):
        reply = call(app, "POST", path, headers=headers)
        assert reply.status == 401
    out = call(app, "POST", "/logout", headers=headers)
    assert out.status == 200


def test_expired_session_is_dropped_and_cookie_cleared() -> None:
    clock = FixedClock()
    app, _ = make_app(clock=clock)
    session, _ = logged_in(app)
    clock.advance(timedelta(hours=13))
    reply = call(app, path="/maybe", headers={"cookie": f"__Host-session={session}"})
    assert reply.json() == {"user": None}
    assert any(c.startswith("__Host-session=;") for c in reply.cookies())


def test_forged_session_cookie_is_no_session(app: FastAPI) -> None:
    reply = call(app, path="/me", headers={"cookie": "__Host-session=" + "A" * 43})
    assert reply.status == 401
    assert reply.json()["detail"] == "Authentication is required."


class DownStore(MemoryStore):
    def get(self, key: str) -> bytes | None:
        raise StoreUnavailableError


def test_store_down_fails_closed_with_503() -> None:
    app, _ = make_app(store=DownStore())
    reply = call(app, path="/me", headers={"cookie": "__Host-session=" + "A" * 43})
    assert reply.status == 503
    assert reply.header("content-type") == "application/problem+json"
    # Without a session cookie there is nothing to look up: served.
    assert call(app, path="/maybe").json() == {"user": None}


# --------------------------------------------------------------------------- CSRF


def test_same_origin_post_with_header_token_accepted(app: FastAPI) -> None:
    anon, token = anonymous(app)
    reply = call(
        app,
        "POST",
        "/hook",
        headers={**SAME, "cookie": f"__Host-csrf={anon}", "x-csrf-token": token},
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    ("extra", "with_token"),
    [
        ({"sec-fetch-site": "cross-site"}, True),
        ({"sec-fetch-site": "same-site"}, True),
        ({"origin": "https://evil.example"}, True),
        ({"origin": "null"}, True),
        (SAME, False),
    ],
    ids=["cross-site", "same-site", "evil-origin", "null-origin", "no-token"],
)
def test_cross_site_or_tokenless_post_refused(
    app: FastAPI, extra: dict[str, str], with_token: bool
) -> None:
    anon, token = anonymous(app)
    headers = {**extra, "cookie": f"__Host-csrf={anon}"}
    if with_token:
        headers["x-csrf-token"] = token
    reply = call(app, "POST", "/hook", headers=headers)
    assert reply.status == 403
    assert reply.json()["detail"] == "the request was refused as cross-site"
    assert reply.header("content-security-policy") is not None


def test_token_of_another_binding_refused(app: FastAPI) -> None:
    anon, _ = anonymous(app)
    _, other = anonymous(app)
    reply = call(
        app,
        "POST",
        "/hook",
        headers={**SAME, "cookie": f"__Host-csrf={anon}", "x-csrf-token": other},
    )
    assert reply.status == 403


def test_first_post_without_any_cookie_is_refused(app: FastAPI) -> None:
    # A fresh binding is created for the request, so no token can match it.
    _, token = anonymous(app)
    assert call(app, "POST", "/hook", headers={**SAME, "x-csrf-token": token}).status == 403


def test_ambiguous_headers_refused(app: FastAPI) -> None:
    anon, token = anonymous(app)
    cookie = ("cookie", f"__Host-csrf={anon}")
    twice_origin = [cookie, ("origin", ORIGIN), ("origin", "https://evil.example")]
    assert (
        call(app, "POST", "/hook", headers=[*twice_origin, ("x-csrf-token", token)]).status == 403
    )
    two_tokens = [cookie, *SAME.items(), ("x-csrf-token", token), ("x-csrf-token", "x" * 92)]
    assert call(app, "POST", "/hook", headers=two_tokens).status == 403
    same_twice = [cookie, *SAME.items(), ("x-csrf-token", token), ("x-csrf-token", token)]
    assert call(app, "POST", "/hook", headers=same_twice).status == 200


def test_form_token_in_urlencoded_body_and_body_replayed(app: FastAPI) -> None:
    anon, token = anonymous(app)
    body = f"a=1&csrf_token={token}&b=%C3%A9".encode()
    reply = call(
        app,
        "POST",
        "/echo",
        headers={
            **SAME,
            "cookie": f"__Host-csrf={anon}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=body,
        chunk=7,
    )
    assert reply.status == 200
    assert reply.body == body  # the app still reads the whole body


def test_form_token_repeated_with_different_values_refused(app: FastAPI) -> None:
    anon, token = anonymous(app)
    _, other = anonymous(app)
    reply = call(
        app,
        "POST",
        "/echo",
        headers={
            **SAME,
            "cookie": f"__Host-csrf={anon}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=f"csrf_token={token}&csrf_token={other}".encode(),
    )
    assert reply.status == 403


def multipart(fields: list[tuple[str, bytes]], boundary: str = "XyZ-boundary") -> bytes:
    out = b""
    for name, value in fields:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def test_form_token_in_multipart_body(app: FastAPI) -> None:
    anon, token = anonymous(app)
    body = multipart([("csrf_token", token.encode()), ("file", b"\x00" * 5000)])
    headers = {
        **SAME,
        "cookie": f"__Host-csrf={anon}",
        "content-type": 'multipart/form-data; boundary="XyZ-boundary"',
    }
    reply = call(app, "POST", "/echo", headers=headers, body=body, chunk=1000)
    assert reply.status == 200
    assert reply.body == body
    # The token must be within the scanned prefix (put the hidden field first).
    late = multipart([("file", b"\x00" * 3000), ("csrf_token", token.encode())])
    small, _ = make_app(max_form_bytes=1024)
    anon2, token2 = anonymous(small)
    late = multipart([("file", b"\x00" * 3000), ("csrf_token", token2.encode())])
    headers["cookie"] = f"__Host-csrf={anon2}"
    assert call(small, "POST", "/echo", headers=headers, body=late, chunk=500).status == 403


def test_oversized_urlencoded_form_refused() -> None:
    app, _ = make_app(max_form_bytes=1024)
    anon, token = anonymous(app)
    body = b"x=" + b"a" * 2000 + f"&csrf_token={token}".encode()
    reply = call(
        app,
        "POST",
        "/echo",
        headers={
            **SAME,
            "cookie": f"__Host-csrf={anon}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=body,
        chunk=256,
    )
    assert reply.status == 400


def test_client_disconnect_while_reading_form(app: FastAPI) -> None:
    anon, _ = anonymous(app)
    sent: list[dict[str, Any]] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"a=1", "more_body": True}
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "headers": [
            (b"cookie", f"__Host-csrf={anon}".encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"origin", ORIGIN.encode()),
        ],
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400  # an incomplete url-encoded form is refused


def test_exempt_path_and_bearer_requests(app: FastAPI) -> None:
    exempt, _ = make_app(csrf_exempt=("/hook",))
    assert call(exempt, "POST", "/hook", headers={"sec-fetch-site": "cross-site"}).status == 200
    bearer = {"authorization": "Bearer " + ISSUER.issue(subject="svc-1")}
    # No session cookie + bearer credential: nothing ambient to forge.
    assert call(app, "POST", "/api", headers=bearer).json() == {"sub": "svc-1"}
    # Fetch Metadata still applies.
    assert (
        call(app, "POST", "/api", headers={**bearer, "sec-fetch-site": "cross-site"}).status == 403
    )
    # With a session cookie the token is required again.
    session, _ = logged_in(app)
    reply = call(app, "POST", "/api", headers={**bearer, "cookie": f"__Host-session={session}"})
    assert reply.status == 403


# --------------------------------------------------------------------------- errors


def test_unhandled_exception_is_a_safe_problem(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="securekit.integrations"):
        reply = call(app, path="/boom")
    assert reply.status == 500
    assert reply.header("content-type") == "application/problem+json"
    text = reply.body.decode()
    for leak in ("hunter2", "RuntimeError", "Traceback", "/srv/app", "password"):
        assert leak not in text
    body = reply.json()
    assert body["correlation_id"] == reply.header("x-correlation-id")
    assert reply.header("content-security-policy") is not None
    logged = [r for r in caplog.records if body["correlation_id"] in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_exception_after_response_started_is_reraised() -> None:
    async def half(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("late")

    with pytest.raises(RuntimeError, match="late"):
        call(SecureASGIMiddleware(half), path="/")


def test_validation_errors_do_not_echo_input(app: FastAPI) -> None:
    anon, token = anonymous(app)
    headers = {
        **SAME,
        "cookie": f"__Host-csrf={anon}",
        "x-csrf-token": token,
        "content-type": "application/json",
    }
    secret = "s3cr3t-value-typed-in-the-wrong-field"  # pragma: allowlist secret
    cases = {
        b'{"title": "x", "count": "' + secret.encode() + b'"}': 422,
        b'{"count": 1}': 422,
        b'{"title": "' + secret.encode(): 400,
    }
    for body, status in cases.items():
        reply = call(app, "POST", "/notes", headers=headers, body=body)
        assert reply.status == status, reply.body
        assert secret not in reply.body.decode()
        assert reply.header("content-type") == "application/problem+json"
    assert (
        call(app, "POST", "/notes", headers=headers, body=b'{"count": 1}').json()["reason"]
        == "missing_field"
    )


def test_current_context_without_middleware_is_a_configuration_error() -> None:
    bare = FastAPI()

    @bare.get("/")
    def index(ctx: RequestContext = Depends(current_context)) -> dict[str, str]:
        return {}

    with pytest.raises(ConfigurationError, match="install"):
        call(bare)


# --------------------------------------------------------------------------- dependencies


def test_require_permission_from_session_roles(app: FastAPI) -> None:
    assert call(app, path="/admin").status == 401  # not logged in
    user, _ = logged_in(app, roles="user,ghost")
    assert call(app, path="/admin", headers={"cookie": f"__Host-session={user}"}).status == 403
    notes = call(app, path="/notes", headers={"cookie": f"__Host-session={user}"})
    assert notes.json() == {"reader": "alice"}  # the unknown role "ghost" granted nothing
    admin, _ = logged_in(app, roles="admin")
    assert call(app, path="/admin", headers={"cookie": f"__Host-session={admin}"}).json() == {
        "admin": "alice"
    }


def test_session_roles_of_wrong_shape_grant_nothing() -> None:
    policy = Policy({"admin": {"x"}}, actions={"x"})
    _app, sessions = make_app()
    token, _ = sessions.create(user_id="u", data={"roles": "admin"})
    dep = session_subject(policy)
    guard = FastAPI()
    install(guard, sessions=sessions, csrf=CSRFProtect(MAC, origins={ORIGIN}))

    @guard.get("/")
    def index(
        subject: Subject = Depends(require_permission("x", policy=policy, subject=dep)),
    ) -> None:
        return None

    assert call(guard, headers={"cookie": f"__Host-session={token}"}).status == 403


def test_verified_jwt(app: FastAPI) -> None:
    good = ISSUER.issue(subject="user-7")
    assert call(app, path="/api", headers={"authorization": f"bearer {good}"}).json() == {
        "sub": "user-7"
    }
    refused = [
        {},
        {"authorization": f"Basic {good}"},
        {"authorization": "Bearer "},
        {"authorization": "Bearer " + good[:-3] + "AAA"},
        {"authorization": "Bearer " + "a" * 20_000},
    ]
    bodies = set()
    for headers in refused:
        reply = call(app, path="/api", headers=headers)
        assert reply.status == 401
        assert reply.header("www-authenticate") == "Bearer"
        body = reply.json()
        del body["correlation_id"]
        bodies.add(str(body))
    assert len(bodies) == 1  # one body for every failure
    twice = [("authorization", f"Bearer {good}"), ("authorization", f"Bearer {good}")]
    assert call(app, path="/api", headers=twice).status == 401


def test_dependency_factories_check_types() -> None:
    with pytest.raises(TypeError):
        verified_jwt("verifier")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        require_permission("x", policy="policy")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session_subject("policy")  # type: ignore[arg-type]
    policy = Policy({"a": {"x"}}, actions={"x"})
    with pytest.raises(TypeError):
        session_subject(policy, roles_key=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        require_permission("undeclared", policy=policy)
    with pytest.raises(TypeError):
        install("app")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- configuration


def test_sessions_without_csrf_refused() -> None:
    with pytest.raises(ConfigurationError, match="CSRF"):
        SecureASGIMiddleware(_echo_app, sessions=SessionManager(MemoryStore()))
    with pytest.raises(ConfigurationError, match="either"):
        SecureASGIMiddleware(
            _echo_app, csrf=CSRFProtect(MAC, origins={ORIGIN}), insecure_no_csrf=True
        )


def test_insecure_no_csrf_warns_at_the_caller() -> None:
    with pytest.warns(InsecureConfigurationWarning) as record:
        middleware = SecureASGIMiddleware(
            _echo_app, sessions=SessionManager(MemoryStore()), insecure_no_csrf=True
        )
    assert record[0].filename == __file__
    assert middleware.core.csrf is None
    with pytest.warns(InsecureConfigurationWarning) as record:
        install(FastAPI(), insecure_no_csrf=True)
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"headers": "strict"}, TypeError),
        ({"sessions": object()}, TypeError),
        ({"session_cookie": "session"}, TypeError),
        ({"csrf": "token"}, TypeError),
        ({"csrf_exempt": "/hook"}, TypeError),
        ({"csrf_exempt": ["hook"]}, ConfigurationError),
        ({"max_form_bytes": True}, TypeError),
        ({"max_form_bytes": 10}, ConfigurationError),
        ({"logger": "log"}, TypeError),
        ({"csrf_cookie": SessionCookie()}, ConfigurationError),
    ],
)
def test_misconfiguration(kwargs: dict[str, Any], error: type[Exception]) -> None:
    kwargs = {"csrf": CSRFProtect(MAC, origins={ORIGIN}), **kwargs}
    with pytest.raises(error):
        SecureASGIMiddleware(_echo_app, **kwargs)
    with pytest.raises(TypeError):
        SecureASGIMiddleware("app")  # type: ignore[arg-type]


def test_context_without_csrf_or_sessions() -> None:
    seen: list[RequestContext] = []

    async def grab(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["securekit"])
        await _echo_app(scope, receive, send)

    call(SecureASGIMiddleware(grab))
    ctx = seen[0]
    assert ctx.session is None
    assert ctx.user_id is None
    with pytest.raises(ConfigurationError, match="CSRF"):
        _ = ctx.csrf_token
    with pytest.raises(ConfigurationError, match="sessions"):
        ctx.login("alice")
    assert "correlation_id" in repr(ctx)


def test_insecure_session_cookie_is_mirrored_for_csrf() -> None:
    with pytest.warns(InsecureConfigurationWarning):
        dev = SessionCookie(insecure_allow_http=True, same_site="Strict")
    middleware = SecureASGIMiddleware(
        _echo_app, session_cookie=dev, csrf=CSRFProtect(MAC, origins={ORIGIN})
    )
    cookie = call(middleware).cookies()[0]
    assert cookie.startswith("csrf=")  # no __Host- without Secure
    assert "Secure" not in cookie
    assert "SameSite=Strict" in cookie


def test_custom_headers_preset() -> None:
    headers = SecurityHeaders(csp=ContentSecurityPolicy(report_only=True))
    reply = call(SecureASGIMiddleware(_echo_app, headers=headers))
    assert reply.header("content-security-policy-report-only") is not None
    assert reply.header("content-security-policy") is None


def test_repr_and_errors_do_not_leak_the_session(app: FastAPI) -> None:
    _session, _ = logged_in(app)
    seen: list[RequestContext] = []

    async def grab(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["securekit"])
        await _echo_app(scope, receive, send)

    _, sessions = make_app()
    token, _ = sessions.create(user_id="alice")
    wrapped = SecureASGIMiddleware(grab, sessions=sessions, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    call(wrapped, headers={"cookie": f"__Host-session={token}"})
    assert token not in repr(seen[0])
    with pytest.raises(SessionError) as caught:
        current_session_of(None)
    assert_no_leak(caught.value, token)


def current_session_of(ctx: RequestContext | None) -> Session:
    if ctx is None or ctx.session is None:
        from securekit.errors import SessionReason

        raise SessionError(SessionReason.UNKNOWN)
    return ctx.session


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=b",
            'multipart/form-data; boundary="a b"',
            "multipart/form-data; boundary=" + "x" * 80,
            "multipart/form-data",
            "text/plain",
        ]
    ),
    body=st.binary(max_size=300)
    | st.builds(
        lambda a, b: a + b"csrf_token=" + b + b"&csrf_token=" + a,
        st.binary(max_size=40),
        st.binary(max_size=40),
    )
    | st.builds(
        lambda v: b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + v,
        st.binary(max_size=40),
    ),
)
def test_form_token_junk_raises_only_csrf_error(content_type: str, body: bytes) -> None:
    from securekit.errors import CSRFError

    try:
        token = form_token(content_type, body)
    except CSRFError:
        return
    assert token is None or isinstance(token, str)


JUNK_APP = make_app()[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "cookie",
                    "origin",
                    "sec-fetch-site",
                    "x-csrf-token",
                    "content-type",
                    "authorization",
                ]
            ),
            st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=120),
        ),
        max_size=6,
    ),
    body=st.binary(max_size=200),
)
def test_junk_requests_never_crash(
    method: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    reply = call(JUNK_APP, method, "/echo", headers=headers, body=body)
    assert reply.status in {200, 400, 401, 403, 405, 422}


def test_optional_dependency_error_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['fastapi'] = None\n"
        "try:\n"
        "    import securekit.integrations.fastapi\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install securekit[fastapi]" in out.stdout
    flask_code = code.replace("'fastapi'", "'flask'").replace("fastapi\n", "flask\n")
    out = subprocess.run(
        [sys.executable, "-c", flask_code], capture_output=True, text=True, check=True
    )
    assert "pip install securekit[flask]" in out.stdout
    anyio_code = code.replace("'fastapi'", "'anyio'").replace("fastapi\n", "asgi\n")
    out = subprocess.run(
        [sys.executable, "-c", anyio_code], capture_output=True, text=True, check=True
    )
    assert "pip install securekit[fastapi]" in out.stdout


_: Callable[..., object] = make_app


# --------------------------------------------------------------------------- review regressions


SECURITY_HEADERS = (
    "content-security-policy",
    "x-frame-options",
    "strict-transport-security",
    "referrer-policy",
    "x-content-type-options",
)


@pytest.mark.parametrize("header", ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
@pytest.mark.parametrize("value", ["DELETE", "post", " PUT ", "GET, DELETE", ""])
def test_safe_method_with_override_header_needs_csrf(app: FastAPI, header: str, value: str) -> None:
    # An app or middleware honouring the override would run a DELETE that
    # the middleware had waved through as a GET.
    anon, token = anonymous(app)
    cookie = {"cookie": f"__Host-csrf={anon}"}
    refused = call(app, "GET", "/", headers={**cookie, header: value})
    assert refused.status == 403
    assert refused.header("content-security-policy") is not None
    accepted = call(
        app, "GET", "/", headers={**cookie, **SAME, header: value, "x-csrf-token": token}
    )
    assert accepted.status == 200


def test_override_to_a_safe_method_changes_nothing(app: FastAPI) -> None:
    anon, _ = anonymous(app)
    cookie = {"cookie": f"__Host-csrf={anon}"}
    assert call(app, "GET", "/", headers={**cookie, "x-http-method-override": "HEAD"}).status == 200
    # A POST overridden to GET is still checked as the POST it is.
    reply = call(app, "POST", "/hook", headers={**cookie, "x-http-method-override": "GET"})
    assert reply.status == 403


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/page",
        "https://app.example:8443/page",
        "http://app.example/page",
        "https://app.example.evil.example/",
        "https://user@app.example/",
        "about:blank",
        "null",
        "not a url",
        "https://[::1/",
    ],
)
def test_cross_origin_referer_refused_without_origin(app: FastAPI, referer: str) -> None:
    anon, token = anonymous(app)
    headers = {"cookie": f"__Host-csrf={anon}", "x-csrf-token": token, "referer": referer}
    reply = call(app, "POST", "/hook", headers=headers)
    assert reply.status == 403
    assert reply.json()["detail"] == "the request was refused as cross-site"


def test_same_origin_referer_or_none_accepted_with_token(app: FastAPI) -> None:
    anon, token = anonymous(app)
    base = {"cookie": f"__Host-csrf={anon}", "x-csrf-token": token}
    assert (
        call(app, "POST", "/hook", headers={**base, "referer": ORIGIN + "/form?x=1"}).status == 200
    )
    # Neither Origin nor Referer (privacy proxies strip both): the token decides.
    assert call(app, "POST", "/hook", headers=base).status == 200
    assert call(app, "POST", "/hook", headers={"cookie": base["cookie"]}).status == 403
    # Origin, when present, wins over Referer.
    both = {**base, "origin": ORIGIN, "referer": "https://evil.example/"}
    assert call(app, "POST", "/hook", headers=both).status == 200


def test_repeated_referer_with_different_values_refused(app: FastAPI) -> None:
    anon, token = anonymous(app)
    headers = [
        ("cookie", f"__Host-csrf={anon}"),
        ("x-csrf-token", token),
        ("referer", ORIGIN + "/"),
        ("referer", "https://evil.example/"),
    ]
    assert call(app, "POST", "/hook", headers=headers).status == 403


def test_store_down_error_still_has_security_headers() -> None:
    app, _ = make_app(store=DownStore())
    reply = call(app, path="/me", headers={"cookie": "__Host-session=" + "A" * 43})
    assert reply.status == 503
    for name in SECURITY_HEADERS:
        assert reply.header(name), name
    csp = reply.header("content-security-policy") or ""
    assert NONCE_RE.search(csp) is not None


def test_plain_middleware_store_down_has_security_headers() -> None:
    sessions = SessionManager(DownStore())
    app = SecureASGIMiddleware(
        _echo_app, sessions=sessions, csrf=CSRFProtect(MAC, origins={ORIGIN})
    )
    reply = call(app, path="/", headers={"cookie": "__Host-session=" + "A" * 43})
    assert reply.status == 503
    for name in SECURITY_HEADERS:
        assert reply.header(name), name


def test_missing_and_foreign_objects_give_identical_404s() -> None:
    from fastapi import HTTPException

    from securekit.authz import Scope

    app, _ = make_app()
    notes: dict[int, dict[str, object]] = {1: {"owner_id": "alice"}, 2: {"owner_id": "bob"}}

    @app.get("/scoped/{note_id}")
    def scoped(note_id: int) -> dict[str, object]:
        return Scope().check(Subject(id="alice"), notes.get(note_id))

    @app.get("/plain/{note_id}")
    def plain(note_id: int) -> dict[str, object]:
        if note_id not in notes:
            raise HTTPException(404, detail=f"note {note_id} does not exist")
        return Scope().check(Subject(id="alice"), notes[note_id])

    assert call(app, path="/scoped/1").status == 200
    replies = [
        call(app, path=path)
        for path in ("/scoped/2", "/scoped/99", "/plain/2", "/plain/99", "/no/such/route")
    ]
    bodies = []
    for reply in replies:
        assert reply.status == 404
        assert reply.header("content-type") == "application/problem+json"
        assert reply.header("content-security-policy") is not None
        body = reply.json()
        body.pop("correlation_id")
        bodies.append(body)
        assert "99" not in str(body)
    assert all(body == bodies[0] for body in bodies)
    # Other HTTP errors keep FastAPI's own handler.
    not_allowed = call(app, "GET", "/hook")
    assert not_allowed.status == 405
    assert not_allowed.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE"])
def test_safe_methods_pass_csrf_and_get_security_headers(app: FastAPI, method: str) -> None:
    reply = call(app, method, "/")
    assert reply.status != 403
    for name in SECURITY_HEADERS:
        assert reply.header(name), name


def test_client_chosen_session_cookie_is_never_adopted(app: FastAPI) -> None:
    chosen = "B" * 43
    anon, token = anonymous(app)
    reply = call(
        app,
        "POST",
        "/login",
        headers={
            **SAME,
            "cookie": f"__Host-csrf={anon}; __Host-session={chosen}",
            "content-type": "application/x-www-form-urlencoded",
        },
        body=f"csrf_token={token}&user=alice".encode(),
    )
    # The planted id is not a session, so the token was bound to the
    # anonymous cookie and the login issues a brand-new id.
    assert reply.status == 200
    issued = reply.cookie("__Host-session")
    assert issued is not None
    assert issued != chosen
    attributes = next(c for c in reply.cookies() if c.startswith("__Host-session=" + issued))
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in attributes.split("; ")
    assert "Domain" not in attributes
    assert call(app, path="/me", headers={"cookie": f"__Host-session={chosen}"}).status == 401


def _websocket(app: Any, headers: list[tuple[str, str]]) -> tuple[list[str], list[dict[str, Any]]]:
    seen: list[str] = []
    sent: list[dict[str, Any]] = []

    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        await receive()
        await send({"type": "websocket.accept"})

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }
    asyncio.run(app.__class__._from_core(ws_app, app.core)(scope, receive, send))
    return seen, sent


@pytest.mark.parametrize(
    "headers",
    [
        [("origin", "https://evil.example")],
        [("origin", "null")],
        [("origin", "http://app.example")],
        [("origin", "https://app.example:8443")],
        [("sec-fetch-site", "cross-site")],
        [("origin", ORIGIN), ("origin", "https://evil.example")],
    ],
)
def test_cross_site_websocket_handshake_refused(headers: list[tuple[str, str]]) -> None:
    middleware = SecureASGIMiddleware(_echo_app, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    seen, sent = _websocket(middleware, headers)
    assert seen == []
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_same_origin_websocket_handshake_passes() -> None:
    middleware = SecureASGIMiddleware(_echo_app, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    seen, sent = _websocket(middleware, [("origin", ORIGIN), ("sec-fetch-site", "same-origin")])
    assert seen == ["websocket"]
    assert sent == [{"type": "websocket.accept"}]
    # Without CSRF protection configured, WebSockets pass through untouched.
    plain = SecureASGIMiddleware(_echo_app)
    assert _websocket(plain, [("origin", "https://evil.example")])[0] == ["websocket"]
