"""The integrations behind real servers on 127.0.0.1, with a real HTTP client.

FastAPI runs under uvicorn and Flask under waitress, each in a thread of this
process on a free port; httpx talks HTTP/1.1 to them. Cookies are ``Secure``
(the default), so the client sends them back explicitly over plain HTTP.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
import waitress
from fastapi import FastAPI, Request
from flask import Flask, render_template_string
from starlette.responses import HTMLResponse

from securekit.csrf import CSRFProtect
from securekit.integrations.fastapi import install
from securekit.integrations.flask import SecureKit, current_context
from securekit.keys import KeyRing
from securekit.sessions import SessionManager
from securekit.stores import MemoryStore
from securekit.testing._services import free_port

pytestmark = pytest.mark.network

PAGE = (
    '<script nonce="{nonce}">document.title = "ok";</script>'
    '<form method="post" action="/login"><input type="hidden" name="csrf_token" value="{token}">'
    "</form>"
)
SECRET = "db-password=hunter2"  # pragma: allowlist secret


def fastapi_app(origin: str) -> FastAPI:
    app = FastAPI()
    install(
        app,
        sessions=SessionManager(MemoryStore()),
        csrf=CSRFProtect(KeyRing.generate("mac"), origins={origin}),
    )

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        return HTMLResponse(
            PAGE.format(nonce=request.state.csp_nonce, token=request.state.csrf_token)
        )

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        user = parse_qs((await request.body()).decode()).get("user", ["alice"])[0]
        request.state.securekit.login(user)
        return {"user": user}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(SECRET)

    return app


def flask_app(origin: str) -> Flask:
    app = Flask(__name__)
    SecureKit(
        app,
        sessions=SessionManager(MemoryStore()),
        csrf=CSRFProtect(KeyRing.generate("mac"), origins={origin}),
    )

    @app.get("/")
    def index() -> str:
        return render_template_string(
            PAGE.replace("{", "{{ ")
            .replace("}", " }}")
            .replace("{{ nonce }}", "{{ csp_nonce }}")
            .replace("{{ token }}", "{{ csrf_token }}")
        )

    @app.post("/login")
    def login() -> dict[str, str]:
        from flask import request

        user = request.form.get("user", "alice")
        current_context().login(user)
        return {"user": user}

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(SECRET)

    return app


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        except httpx.TransportError:
            time.sleep(0.02)  # polling a server that is starting, not a test delay
        else:
            return
    pytest.fail("server did not start")


@pytest.fixture(scope="module", params=["uvicorn+fastapi", "waitress+flask"])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    if request.param.startswith("uvicorn"):
        config = uvicorn.Config(
            fastapi_app(origin), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        _wait(port)
        yield origin
        uv.should_exit = True
        thread.join(timeout=10)
    else:
        wsgi: Any = waitress.create_server(flask_app(origin), host="127.0.0.1", port=port)
        thread = threading.Thread(target=wsgi.run, daemon=True)
        thread.start()
        _wait(port)
        yield origin
        wsgi.close()
        thread.join(timeout=10)


def cookie_of(response: httpx.Response, name: str) -> tuple[str, list[str]]:
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = header.split("; ")
        key, _, value = first.partition("=")
        if key == name:
            return value, attributes
    raise AssertionError(f"no {name} cookie")


def page(client: httpx.Client) -> tuple[httpx.Response, str, str]:
    response = client.get("/")
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match is not None
    csrf_cookie, _ = cookie_of(response, "__Host-csrf")
    return response, csrf_cookie, match.group(1)


def test_headers_and_nonce_per_request(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        nonces = []
        for _ in range(2):
            response = client.get("/")
            csp = response.headers["content-security-policy"]
            match = re.search(r"'nonce-([A-Za-z0-9+/=]+)'", csp)
            assert match is not None
            assert f'<script nonce="{match.group(1)}">' in response.text
            nonces.append(match.group(1))
            assert "'unsafe-inline'" not in csp
            assert "object-src 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["strict-transport-security"].startswith("max-age=63072000")
            assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert nonces[0] != nonces[1]


def test_cookie_attributes(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        response, csrf_cookie, token = page(client)
        _, attributes = cookie_of(response, "__Host-csrf")
        assert set(attributes) >= {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"}
        assert not any(a.lower().startswith("domain") for a in attributes)
        login = client.post(
            "/login",
            data={"csrf_token": token, "user": "alice"},
            headers={
                "Cookie": f"__Host-csrf={csrf_cookie}",
                "Origin": server,
                "Sec-Fetch-Site": "same-origin",
            },
        )
        assert login.status_code == 200
        session, attributes = cookie_of(login, "__Host-session")
        assert len(session) == 43
        assert set(attributes) >= {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"}
        assert login.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
    ids=["cross-site+origin", "cross-site", "old-browser-evil-origin", "null-origin"],
)
def test_cross_site_post_rejected(server: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=server) as client:
        _, csrf_cookie, token = page(client)
        response = client.post(
            "/login",
            data={"csrf_token": token},
            headers={"Cookie": f"__Host-csrf={csrf_cookie}", **headers},
        )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "__Host-session" not in response.headers.get("set-cookie", "")


def test_same_origin_post_needs_the_token(server: str) -> None:
    same = {"Origin": server, "Sec-Fetch-Site": "same-origin"}
    with httpx.Client(base_url=server) as client:
        _, csrf_cookie, token = page(client)
        cookie = {"Cookie": f"__Host-csrf={csrf_cookie}"}
        assert client.post("/login", data={}, headers={**cookie, **same}).status_code == 403
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        bad = client.post("/login", data={"csrf_token": forged}, headers={**cookie, **same})
        assert bad.status_code == 403
        ok = client.post("/login", data={"csrf_token": token}, headers={**cookie, **same})
        assert ok.status_code == 200
        assert ok.json() == {"user": "alice"}


def test_500_leaks_nothing_and_is_logged(server: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="securekit.integrations"):
        response = httpx.get(f"{server}/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    for leak in ("hunter2", "RuntimeError", "Traceback", "File ", ".py"):
        assert leak not in response.text
    correlation = response.json()["correlation_id"]
    assert response.headers["x-correlation-id"] == correlation
    assert re.fullmatch(r"[0-9a-f]{32}", correlation)
    logged = [r for r in caplog.records if correlation in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is RuntimeError
