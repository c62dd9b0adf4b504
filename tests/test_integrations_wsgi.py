"""securekit.integrations.wsgi and .flask, driven in-process (werkzeug's client)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.test import Client, EnvironBuilder

from securekit.csrf import CSRFProtect
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    PermissionDeniedError,
    PermissionReason,
)
from securekit.integrations import RequestContext
from securekit.integrations.flask import SecureKit, current_context, current_session
from securekit.integrations.wsgi import (
    CONTEXT_ENVIRON,
    CSP_NONCE_ENVIRON,
    CSRF_TOKEN_ENVIRON,
    SecureWSGIMiddleware,
)
from securekit.keys import KeyRing
from securekit.sessions import SessionManager
from securekit.stores import MemoryStore

ORIGIN = "https://app.example"
SAME = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
MAC = KeyRing.generate("mac")
NONCE_RE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def _plain(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


def _insecure_wsgi() -> object:
    return SecureWSGIMiddleware(_plain, insecure_no_csrf=True)


def _insecure_flask() -> object:
    return SecureKit(Flask("x"), insecure_no_csrf=True)


INSECURE_CALLS = {
    "securekit.integrations.wsgi.SecureWSGIMiddleware.__init__:insecure_no_csrf": _insecure_wsgi,
    "securekit.integrations.flask.SecureKit.__init__:insecure_no_csrf": _insecure_flask,
}

PAGE = (
    '<script nonce="{{ csp_nonce }}">1</script>'
    '<form method="post"><input name="csrf_token" value="{{ csrf_token }}"></form>'
)


def make_flask() -> tuple[Flask, SessionManager]:
    sessions = SessionManager(MemoryStore())
    app = Flask(__name__)
    SecureKit(app, sessions=sessions, csrf=CSRFProtect(MAC, origins={ORIGIN}))

    @app.get("/")
    def index() -> str:
        return render_template_string(PAGE)

    @app.post("/login")
    def login() -> dict[str, str]:
        current_context().login("alice")
        return {"user": "alice"}

    @app.get("/me")
    def me() -> dict[str, str]:
        return {"user": current_session().user_id}

    @app.post("/echo")
    def echo() -> dict[str, str]:
        from flask import request

        return {"note": request.form.get("note", "")}

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("password=hunter2 in /srv/app/db.py")

    @app.get("/denied")
    def denied() -> str:
        raise PermissionDeniedError(PermissionReason.NO_RULE)

    return app, sessions


def page_token(client: Client) -> tuple[str, str, str]:
    """GET /: (csrf cookie, token from the form, nonce from the page)."""
    response = client.get("/", base_url=ORIGIN)
    html = response.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    nonce = re.search(r'<script nonce="([^"]+)">', html)
    assert token is not None
    assert nonce is not None
    cookie = client.get_cookie("__Host-csrf", domain="app.example")
    assert cookie is not None
    return cookie.value, token.group(1), nonce.group(1)


def test_flask_headers_nonce_and_template_token() -> None:
    app, _ = make_flask()
    client = app.test_client()
    response = client.get("/", base_url=ORIGIN)
    csp = response.headers["Content-Security-Policy"]
    match = NONCE_RE.search(csp)
    assert match is not None
    assert f'<script nonce="{match.group(1)}">' in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers.getlist("Set-Cookie")[0]
    assert cookie.startswith("__Host-csrf=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in cookie.split("; ")


def test_flask_csrf_form_post_login_and_session() -> None:
    app, _ = make_flask()
    client = app.test_client()
    client.get("/", base_url=ORIGIN)
    _, token, _ = page_token(client)
    refused = client.post(
        "/login",
        base_url=ORIGIN,
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    missing = client.post("/login", base_url=ORIGIN, data={}, headers=SAME)
    assert missing.status_code == 403
    ok = client.post("/login", base_url=ORIGIN, data={"csrf_token": token}, headers=SAME)
    assert ok.status_code == 200
    session_cookie = ok.headers.getlist("Set-Cookie")[0]
    assert session_cookie.startswith("__Host-session=")
    assert "HttpOnly" in session_cookie
    assert client.get("/me", base_url=ORIGIN).get_json() == {"user": "alice"}
    # The old anonymous token is not valid for the session.
    stale = client.post("/echo", base_url=ORIGIN, data={"csrf_token": token}, headers=SAME)
    assert stale.status_code == 403
    _, fresh, _ = page_token(client)
    multipart = client.post(
        "/echo",
        base_url=ORIGIN,
        data={"csrf_token": fresh, "note": "hi", "file": (io.BytesIO(b"x" * 100), "a.txt")},
        headers=SAME,
        content_type="multipart/form-data",
    )
    assert multipart.get_json() == {"note": "hi"}  # the body still reaches Flask


def test_flask_errors_are_problems_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    app, _ = make_flask()
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="securekit.integrations"):
        response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    for leak in ("hunter2", "RuntimeError", "Traceback", "/srv/app"):
        assert leak not in text
    correlation = response.get_json()["correlation_id"]
    assert response.headers["X-Correlation-ID"] == correlation
    assert response.headers["Content-Security-Policy"]
    assert any(correlation in r.getMessage() and r.exc_info for r in caplog.records)
    assert client.get("/denied").status_code == 403
    assert client.get("/me").status_code == 401
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "The resource was not found."
    assert missing.headers["Content-Security-Policy"]


def test_flask_init_app_and_misuse() -> None:
    extension = SecureKit()
    app = Flask(__name__)
    extension.init_app(app)
    assert app.extensions["securekit"] is extension
    assert "SecureKit(" in repr(extension)
    with pytest.raises(ConfigurationError, match="already"):
        extension.init_app(app)
    with pytest.raises(TypeError):
        extension.init_app("app")
    with pytest.warns(InsecureConfigurationWarning) as record:
        SecureKit(Flask("y"), sessions=SessionManager(MemoryStore()), insecure_no_csrf=True)
    assert record[0].filename == __file__

    @app.get("/")
    def index() -> str:
        return render_template_string("[{{ csp_nonce }}][{{ csrf_token }}]")

    # No CSRF configured: the template gets the nonce only.
    body = app.test_client().get("/").get_data(as_text=True)
    assert body.endswith("[]")
    assert len(body) > 10

    bare = Flask("bare")

    @bare.get("/")
    def bare_index() -> str:
        current_context()
        return ""

    @bare.get("/t")
    def template() -> str:
        return render_template_string("[{{ csp_nonce }}]")

    bare.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigurationError, match="not initialised"):
        bare.test_client().get("/")
    # The context processor is harmless on an app without the middleware.
    other = Flask("other")
    ext = SecureKit()
    other.context_processor(ext._template_context)

    @other.get("/")
    def other_index() -> str:
        return render_template_string("[{{ csp_nonce }}]")

    assert other.test_client().get("/").get_data(as_text=True) == "[]"


# ----------------------------------------------------------------- raw WSGI


def run(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda _data: None

    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def environ_for(
    method: str = "GET", *, headers: dict[str, str] | None = None, data: bytes = b"", **extra: Any
) -> dict[str, Any]:
    env = EnvironBuilder(
        method=method, path="/", headers=list((headers or {}).items()), data=data, **extra
    ).get_environ()
    return dict(env)


def anonymous_binding(app: SecureWSGIMiddleware) -> tuple[str, str]:
    env = environ_for()
    _, headers, _ = run(app, env)
    cookie = next(v for k, v in headers if k == "Set-Cookie").split(";")[0].split("=", 1)[1]
    env = environ_for(headers={"Cookie": f"__Host-csrf={cookie}"})
    run(app, env)
    return cookie, env[CSRF_TOKEN_ENVIRON]


def test_raw_wsgi_exposes_nonce_and_token() -> None:
    app = SecureWSGIMiddleware(_plain, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    env = environ_for()
    _, headers, _ = run(app, env)
    assert isinstance(env[CONTEXT_ENVIRON], RequestContext)
    csp = dict(headers)["Content-Security-Policy"]
    assert f"'nonce-{env[CSP_NONCE_ENVIRON]}'" in csp
    assert len(env[CSRF_TOKEN_ENVIRON]) == 92


def test_raw_wsgi_csrf_and_body_replay() -> None:
    app = SecureWSGIMiddleware(_plain, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    cookie, token = anonymous_binding(app)
    body = f"a=1&csrf_token={token}".encode()
    env = environ_for(
        "POST",
        headers={**SAME, "Cookie": f"__Host-csrf={cookie}"},
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    status, _, echoed = run(app, env)
    assert status.startswith("200")
    assert echoed == body
    # Header token; the same header repeated by the server (joined with ",").
    env = environ_for(
        "POST", headers={**SAME, "Cookie": f"__Host-csrf={cookie}", "X-CSRF-Token": token}
    )
    assert run(app, env)[0].startswith("200")
    env = environ_for(
        "POST",
        headers={**SAME, "Cookie": f"__Host-csrf={cookie}", "X-CSRF-Token": f"{token},{token}"},
    )
    assert run(app, env)[0].startswith("403")
    env = environ_for(
        "POST",
        headers={
            "Cookie": f"__Host-csrf={cookie}",
            "Sec-Fetch-Site": "cross-site",
            "X-CSRF-Token": token,
        },
    )
    assert run(app, env)[0].startswith("403")


def test_raw_wsgi_chunked_and_oversized_bodies() -> None:
    app = SecureWSGIMiddleware(_plain, csrf=CSRFProtect(MAC, origins={ORIGIN}), max_form_bytes=1024)
    cookie, token = anonymous_binding(app)
    form = f"csrf_token={token}".encode()
    base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_COOKIE": f"__Host-csrf={cookie}",
        "HTTP_ORIGIN": ORIGIN,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    # Chunked body: no Content-Length, the server marks the input terminated.
    chunked = {**base, "wsgi.input": io.BytesIO(form), "wsgi.input_terminated": True}
    assert run(app, chunked)[0].startswith("200")
    # No Content-Length and not terminated: PEP 3333 says there is no body.
    no_length = {**base, "wsgi.input": io.BytesIO(form)}
    assert run(app, no_length)[0].startswith("403")
    no_input = dict(base)
    assert run(app, no_input)[0].startswith("403")
    big = form + b"&x=" + b"a" * 2000
    oversized = {**base, "wsgi.input": io.BytesIO(big), "CONTENT_LENGTH": str(len(big))}
    assert run(app, oversized)[0].startswith("400")
    bad_length = {**base, "wsgi.input": io.BytesIO(form), "CONTENT_LENGTH": "ten"}
    assert run(app, bad_length)[0].startswith("403")
    # A multipart body with the token late, beyond the scanned prefix.
    late = (
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"a" * 2000 + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b"\r\n--b--\r\n"
    )
    multipart = {
        **base,
        "CONTENT_TYPE": "multipart/form-data; boundary=b",
        "wsgi.input": io.BytesIO(late),
        "CONTENT_LENGTH": str(len(late)),
    }
    assert run(app, multipart)[0].startswith("403")


def test_raw_wsgi_exception_is_a_problem() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [])
        raise ValueError("card 4111111111111111")

    status, headers, body = run(SecureWSGIMiddleware(broken), environ_for())
    assert status == "500 Internal Server Error"
    assert b"4111" not in body
    assert dict(headers)["Content-Type"] == "application/problem+json"
    assert dict(headers)["Content-Length"] == str(len(body))


def test_raw_wsgi_misuse() -> None:
    with pytest.raises(TypeError):
        SecureWSGIMiddleware("app")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="CSRF"):
        SecureWSGIMiddleware(_plain, sessions=SessionManager(MemoryStore()))
    with pytest.warns(InsecureConfigurationWarning) as record:
        SecureWSGIMiddleware(_plain, sessions=SessionManager(MemoryStore()), insecure_no_csrf=True)
    assert record[0].filename == __file__


# --- regressions from the adversarial review ----------------------------------

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "Strict-Transport-Security",
    "Referrer-Policy",
    "X-Content-Type-Options",
)


def raw_app() -> SecureWSGIMiddleware:
    return SecureWSGIMiddleware(_plain, csrf=CSRFProtect(MAC, origins={ORIGIN}))


@pytest.mark.parametrize("header", ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
def test_raw_wsgi_get_with_method_override_needs_csrf(header: str) -> None:
    app = raw_app()
    cookie, token = anonymous_binding(app)
    env = environ_for("GET", headers={"Cookie": f"__Host-csrf={cookie}", header: "DELETE"})
    assert run(app, env)[0].startswith("403")
    env = environ_for(
        "GET",
        headers={
            **SAME,
            "Cookie": f"__Host-csrf={cookie}",
            header: "DELETE",
            "X-CSRF-Token": token,
        },
    )
    assert run(app, env)[0].startswith("200")
    env = environ_for("GET", headers={"Cookie": f"__Host-csrf={cookie}", header: "GET"})
    assert run(app, env)[0].startswith("200")


def test_werkzeug_method_override_behind_securekit_is_checked() -> None:
    # werkzeug's own override middleware inside ours turns the GET into a DELETE.
    flask_app = Flask(__name__)
    SecureKit(flask_app, csrf=CSRFProtect(MAC, origins={ORIGIN}))
    deleted: list[bool] = []

    @flask_app.delete("/item")
    def delete_item() -> str:
        deleted.append(True)
        return "deleted"

    inner = flask_app.wsgi_app.app  # type: ignore[attr-defined]

    def override(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE")
        if method:
            environ["REQUEST_METHOD"] = method.upper()
        result: Iterable[bytes] = inner(environ, start_response)
        return result

    flask_app.wsgi_app.app = override  # type: ignore[attr-defined]
    client = flask_app.test_client()
    response = client.get("/item", headers={"X-HTTP-Method-Override": "DELETE"}, base_url=ORIGIN)
    assert response.status_code == 403
    assert deleted == []


@pytest.mark.parametrize(
    ("referer", "expected"),
    [
        ("https://evil.example/page", "403"),
        ("http://app.example/page", "403"),
        ("https://app.example:8443/", "403"),
        ("about:blank", "403"),
        (ORIGIN + "/form", "200"),
    ],
)
def test_raw_wsgi_referer_checked_when_origin_missing(referer: str, expected: str) -> None:
    app = raw_app()
    cookie, token = anonymous_binding(app)
    env = environ_for(
        "POST",
        headers={"Cookie": f"__Host-csrf={cookie}", "X-CSRF-Token": token, "Referer": referer},
    )
    assert run(app, env)[0].startswith(expected)


def test_raw_wsgi_store_down_error_has_security_headers() -> None:
    class DownStore(MemoryStore):
        def get(self, key: str) -> bytes | None:
            from securekit.errors import StoreUnavailableError

            raise StoreUnavailableError

    app = SecureWSGIMiddleware(
        _plain,
        sessions=SessionManager(DownStore()),
        csrf=CSRFProtect(MAC, origins={ORIGIN}),
    )
    env = environ_for(headers={"Cookie": "__Host-session=" + "A" * 43})
    status, headers, _ = run(app, env)
    assert status.startswith("503")
    names = {name for name, _ in headers}
    for name in SECURITY_HEADERS:
        assert name in names, name


def test_flask_abort_404_and_scope_not_found_are_identical() -> None:
    from flask import abort

    from securekit.authz import Scope, Subject

    app, _ = make_flask()
    notes = {"1": {"owner_id": "alice"}, "2": {"owner_id": "bob"}}

    @app.get("/notes/<note_id>")
    def note(note_id: str) -> dict[str, str]:
        if note_id not in notes:
            abort(404, description=f"note {note_id} does not exist")
        return Scope().check(Subject(id="alice"), notes[note_id])

    client = app.test_client()
    assert client.get("/notes/1").status_code == 200
    bodies = []
    for path in ("/notes/2", "/notes/99", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        body.pop("correlation_id")
        assert "99" not in str(body)
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]
    # Other HTTP errors keep werkzeug's responses.
    not_allowed = client.get("/echo")
    assert not_allowed.status_code == 405
    assert not_allowed.mimetype == "text/html"
