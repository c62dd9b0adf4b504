"""Flask with securekit: headers with CSP nonces, sessions, CSRF, safe errors.

Run: python examples/integrations_flask.py

``SecureKit(app, ...)`` wraps the app in the WSGI middleware and puts
``csp_nonce`` and ``csrf_token`` into every template. The script drives the
app with Flask's test client and prints what a browser would see.
"""

from __future__ import annotations

import re

from flask import Flask, render_template_string

from securekit.csrf import CSRFProtect
from securekit.integrations.flask import SecureKit, current_context, current_session
from securekit.keys import KeyRing
from securekit.sessions import SessionManager
from securekit.stores import MemoryStore

ORIGIN = "https://app.example"

PAGE = """<!doctype html>
<script nonce="{{ csp_nonce }}">console.log("allowed")</script>
<form method="post" action="/login">
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  <input name="user"><button>Log in</button>
</form>"""

app = Flask(__name__)
# In production: SQLiteStore("sessions.db") or RedisStore(url), and
# KeyRing.from_env(...) for the CSRF key.
SecureKit(
    app,
    sessions=SessionManager(MemoryStore()),
    csrf=CSRFProtect(KeyRing.generate("mac"), origins={ORIGIN}),
)


@app.get("/")
def index() -> str:
    return render_template_string(PAGE)


@app.post("/login")
def login() -> dict[str, str]:
    from flask import request

    # ... check the password with PasswordHasher here ...
    current_context().login(request.form["user"])  # new session id on login
    return {"status": "logged in"}


@app.get("/me")
def me() -> dict[str, str]:
    return {"user": current_session().user_id}  # no session: a 401 problem


@app.get("/crash")
def crash() -> str:
    raise RuntimeError("connection to db://admin:hunter2@db failed")  # pragma: allowlist secret


def main() -> None:
    client = app.test_client()
    page = client.get("/", base_url=ORIGIN)
    html = page.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert nonce is not None
    assert token is not None
    print("nonce on the inline script matches:", f'nonce="{nonce.group(1)}"' in html)
    print("Set-Cookie:", page.headers["Set-Cookie"])
    form = {"csrf_token": token.group(1), "user": "alice"}

    evil = client.post(
        "/login", base_url=ORIGIN, data=form, headers={"Sec-Fetch-Site": "cross-site"}
    )
    print("cross-site POST:", evil.status_code, evil.get_json()["detail"])
    assert evil.status_code == 403

    same = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
    ok = client.post("/login", base_url=ORIGIN, data=form, headers=same)
    print("same-origin POST with token:", ok.status_code, ok.get_json())
    print("Set-Cookie:", ok.headers["Set-Cookie"])
    print("GET /me:", client.get("/me", base_url=ORIGIN).get_json())

    print("GET /me without a session:", app.test_client().get("/me").status_code)
    crashed = client.get("/crash", base_url=ORIGIN)
    print("crash:", crashed.status_code, crashed.content_type, crashed.get_json())
    assert "hunter2" not in crashed.get_data(as_text=True)


if __name__ == "__main__":
    main()
