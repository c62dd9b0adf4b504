"""FastAPI with securekit: headers with CSP nonces, sessions, CSRF, safe errors.

Run: python examples/integrations_fastapi.py

Builds the app, then drives it in-process (httpx over ASGI) and prints what a
browser would see: the nonce on the inline script matches the CSP header, the
cookies are ``__Host-``/Secure/HttpOnly, a cross-site POST is refused, the
same-origin form post with the token logs in, and a crash is a problem+json
body with a correlation id and no internals.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated
from urllib.parse import parse_qs

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from securekit.csrf import CSRFProtect
from securekit.integrations.fastapi import current_session, install
from securekit.keys import KeyRing
from securekit.safe_errors import RedactingFilter
from securekit.sessions import Session, SessionManager
from securekit.stores import MemoryStore

ORIGIN = "https://app.example"

app = FastAPI()
# In production: SQLiteStore("sessions.db") or RedisStore(url), and
# KeyRing.from_env(...) for the CSRF key.
install(
    app,
    sessions=SessionManager(MemoryStore()),
    csrf=CSRFProtect(KeyRing.generate("mac"), origins={ORIGIN}),
)


@app.get("/", response_class=HTMLResponse)
def index(request: Request) -> str:
    nonce, token = request.state.csp_nonce, request.state.csrf_token
    return (
        f'<script nonce="{nonce}">console.log("allowed")</script>'
        f'<form method="post" action="/login">'
        f'<input type="hidden" name="csrf_token" value="{token}"></form>'
    )


@app.post("/login")
async def login(request: Request) -> dict[str, str]:
    form = parse_qs((await request.body()).decode())
    # ... check the password with PasswordHasher here ...
    request.state.securekit.login(form["user"][0])  # new session id on login
    return {"status": "logged in"}


@app.get("/me")
def me(session: Annotated[Session, Depends(current_session)]) -> dict[str, str]:
    return {"user": session.user_id}


@app.get("/crash")
def crash() -> None:
    raise RuntimeError("connection to db://admin:hunter2@db failed")  # pragma: allowlist secret


def cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header
    raise LookupError(name)


async def main() -> None:
    # Server-side log: the full exception with the correlation id, secrets masked.
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    logging.getLogger("securekit").addHandler(handler)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        page = await client.get("/")
        csp = page.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce is not None
        print("CSP:", csp)
        print("nonce on the inline script matches:", f'nonce="{nonce.group(1)}"' in page.text)
        print("CSRF cookie:", cookie(page, "__Host-csrf").split(";", 1)[1].strip())
        anon = cookie(page, "__Host-csrf").split(";")[0]
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        form = {"csrf_token": found.group(1), "user": "alice"}

        evil = await client.post(
            "/login", data=form, headers={"Cookie": anon, "Sec-Fetch-Site": "cross-site"}
        )
        print("cross-site POST:", evil.status_code, evil.json()["detail"])
        assert evil.status_code == 403

        same = {"Cookie": anon, "Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
        ok = await client.post("/login", data=form, headers=same)
        session_cookie = cookie(ok, "__Host-session")
        print("same-origin POST with token:", ok.status_code, ok.json())
        print("session cookie attributes:", session_cookie.split(";", 1)[1].strip())
        me = await client.get("/me", headers={"Cookie": session_cookie.split(";")[0]})
        print("GET /me with the session:", me.json())
        assert me.json() == {"user": "alice"}

        crashed = await client.get("/crash")
        print("crash:", crashed.status_code, crashed.headers["content-type"], crashed.json())
        assert "hunter2" not in crashed.text


if __name__ == "__main__":
    asyncio.run(main())
