"""Functional tests of the demo app (examples/demo) over real HTTP on 127.0.0.1.

The server is werkzeug's threaded server in this process; the client is
httpx, keeping the ``__Host-`` cookies itself (see examples/demo/testclient.py).
Every guard the demo relies on has a test that fails if the guard is removed.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import types
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import bcrypt
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import BaseWSGIServer

from examples.demo.keystore import KEK_ENV, load_or_create_keys
from examples.demo.testclient import STRONG, Client, Demo, running_demo
from securekit import cli
from securekit._commands import demo as demo_command
from securekit.errors import InvalidTokenError, SecurekitError
from securekit.headers import audit_headers
from securekit.keys import LocalKeyWrapper
from securekit.testing import FixedClock, assert_secure_headers
from securekit.testing import strategies as attack
from securekit.testing.jwt_attacks import JWTTarget, jwt_attack_tokens
from securekit.testing.payloads import xss
from tests.conftest import ROOT

pytestmark = pytest.mark.network

_NONCE_RE = re.compile(r"'nonce-([^']+)'")


@pytest.fixture
def demo(tmp_path: Path, fixed_clock: FixedClock) -> Iterator[Demo]:
    with running_demo(tmp_path / "data", fixed_clock) as served:
        yield served


@pytest.fixture
def alice(demo: Demo) -> Client:
    client = demo.client()
    assert client.register("alice").status_code == 303
    return client


@pytest.fixture
def bob(demo: Demo, alice: Client) -> Client:
    client = demo.client()
    assert client.register("bob").status_code == 303
    return client


def png(width: int = 2, height: int = 2) -> bytes:
    """A genuine grey PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def db_rows(demo: Demo, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(demo.services.data_dir / "demo.db") as db:
        return db.execute(query).fetchall()


def strip_volatile(html: str) -> str:
    """Remove per-response values (CSRF tokens, nonces) to compare pages."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


# -- headers and cookies -------------------------------------------------------


def test_pages_carry_the_security_headers_and_a_fresh_nonce(demo: Demo) -> None:
    client = demo.client()
    first, second = client.get("/login"), client.get("/login")
    nonces = []
    for page in (first, second):
        csp = page.headers["Content-Security-Policy"]
        nonce = _NONCE_RE.search(csp)
        assert nonce is not None
        nonces.append(nonce.group(1))
        # The page's only script carries this response's nonce.
        assert f'<script nonce="{nonce.group(1)}"' in page.text
        assert "report-uri /csp-report" in csp
        assert page.headers["Cache-Control"] == "no-store"
        assert all(f.ok for f in audit_headers(dict(page.headers)))
        # The plugin's baseline check, cookies included (Secure, HttpOnly, __Host-).
        assert_secure_headers(page)
    assert nonces[0] != nonces[1]


def test_session_cookie_attributes(alice: Client) -> None:
    session = [h for h in alice.set_cookie_headers if h.startswith("__Host-demo=")]
    assert session
    attributes = {a.strip().lower() for a in session[-1].split(";")[1:]}
    assert {"path=/", "secure", "httponly", "samesite=lax"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)


# -- registration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("short", "at least 15"),
        ("aaaaaaaaaaaaaaaa", "too repetitive"),
        ("carol-my-own-name-is-here", "username"),
        ("securekit securekit demo", "site&#39;s name"),
    ],
)
def test_registration_applies_the_password_policy(demo: Demo, password: str, advice: str) -> None:
    client = demo.client()
    answer = client.register("carol", password)
    assert answer.status_code == 422
    assert advice in answer.text
    assert db_rows(demo, "SELECT username FROM users") == []


def test_registration_checks_username_and_confirmation(demo: Demo) -> None:
    client = demo.client()
    bad_name = client.register("<script>")
    assert bad_name.status_code == 422
    assert "<script>" not in bad_name.text  # echoed escaped, never raw
    mismatch = client.form(
        "/register", {"username": "carol", "password": STRONG, "confirm": STRONG + "!"}
    )
    assert mismatch.status_code == 422
    assert "differ" in mismatch.text
    assert db_rows(demo, "SELECT username FROM users") == []


def test_first_user_is_admin_and_names_are_unique(demo: Demo, alice: Client) -> None:
    again = demo.client().register("ALICE")
    assert again.status_code == 409
    assert demo.client().register("bob").status_code == 303
    assert db_rows(demo, "SELECT username, role FROM users ORDER BY id") == [
        ("alice", "admin"),
        ("bob", "user"),
    ]
    stored = db_rows(demo, "SELECT password_hash FROM users")
    assert all(str(h).startswith("$argon2id$") for (h,) in stored)


@pytest.mark.slow
def test_registration_is_rate_limited_per_ip(demo: Demo) -> None:
    client = demo.client()
    statuses = [client.register(f"user{i:02d}").status_code for i in range(21)]
    assert statuses[:20] == [303] * 20
    assert statuses[20] == 429


# -- login ------------------------------------------------------------------------


def test_login_failures_are_indistinguishable(demo: Demo, alice: Client) -> None:
    wrong_password = demo.client().login("alice", "not the right password at all")
    unknown_user = demo.client().login("mallory", "not the right password at all")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Invalid username or password." in wrong_password.text
    assert strip_volatile(wrong_password.text).replace("alice", "X") == strip_volatile(
        unknown_user.text
    ).replace("mallory", "X")


def test_login_starts_a_new_session(demo: Demo, alice: Client) -> None:
    client = demo.client()
    client.get("/login")
    before = dict(client.cookies)
    assert "__Host-demo" not in before
    assert client.login("alice").status_code == 303
    assert client.cookies["__Host-demo"] != alice.cookies["__Host-demo"]
    assert client.get("/notes").status_code == 200


def test_login_is_throttled_then_recovers(demo: Demo, alice: Client) -> None:
    client = demo.client()
    statuses = [client.login("alice", "wrong guess number one!").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    refused = client.login("alice")  # even the right password waits out the delay
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    demo.clock.advance(timedelta(minutes=2))
    assert client.login("alice").status_code == 303


def test_login_upgrades_a_legacy_hash(demo: Demo) -> None:
    legacy = bcrypt.hashpw(STRONG.encode(), bcrypt.gensalt(rounds=4)).decode()
    demo.services.db.create_user("legacy", legacy, now=demo.clock())
    assert demo.client().login("legacy").status_code == 303
    (stored,) = db_rows(demo, "SELECT password_hash FROM users WHERE username = 'legacy'")
    assert str(stored[0]).startswith("$argon2id$")


# -- CSRF -------------------------------------------------------------------------


def test_state_changes_need_the_csrf_token(demo: Demo, alice: Client, bob: Client) -> None:
    missing = alice.post("/comments", data={"body": "no token"})
    assert missing.status_code == 403
    bobs_token = bob.token("/")
    foreign = alice.post("/comments", data={"body": "bob's token", "csrf_token": bobs_token})
    assert foreign.status_code == 403
    token = alice.token("/")
    cross_site = alice.post(
        "/comments",
        data={"body": "cross-site", "csrf_token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    assert db_rows(demo, "SELECT body FROM comments") == []
    same_origin = alice.post(
        "/comments",
        data={"body": "ok", "csrf_token": token},
        headers={"Origin": demo.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert same_origin.status_code == 303
    assert db_rows(demo, "SELECT body FROM comments") == [("ok",)]


def test_anonymous_login_form_is_csrf_protected(demo: Demo, alice: Client) -> None:
    client = demo.client()
    client.get("/login")
    forged = client.post("/login", data={"username": "alice", "password": STRONG})
    assert forged.status_code == 403
    assert "__Host-demo" not in client.cookies


# -- logout -----------------------------------------------------------------------


def test_logout_ends_the_session_server_side(demo: Demo, alice: Client) -> None:
    stolen = alice.cookies["__Host-demo"]
    assert alice.form("/logout", {}, page="/").status_code == 303
    assert "__Host-demo" not in alice.cookies
    replay = demo.client()
    replay.cookies["__Host-demo"] = stolen
    assert replay.get("/notes").status_code == 401


def test_logout_everywhere_ends_every_session(demo: Demo, alice: Client) -> None:
    laptop = demo.client()
    assert laptop.login("alice").status_code == 303
    assert alice.form("/account/logout-everywhere", {}, page="/account").status_code == 303
    assert laptop.get("/notes").status_code == 401
    assert alice.get("/notes").status_code == 401


# -- comments ---------------------------------------------------------------------


def test_comments_are_sanitised_when_shown(demo: Demo, alice: Client) -> None:
    payload = '<b>bold</b><img src=x onerror="__probe()"><script>__probe()</script>'
    assert alice.form("/comments", {"body": payload}).status_code == 303
    page = demo.client().get("/").text
    assert "<b>bold</b>" in page
    assert "onerror" not in page
    assert "__probe" not in page
    # Stored as typed: a better sanitiser later applies to old comments too.
    assert db_rows(demo, "SELECT body FROM comments") == [(payload,)]


def test_xss_corpus_never_reaches_the_page(demo: Demo, alice: Client) -> None:
    token = alice.token("/")
    payloads = xss()[:40]
    for payload in payloads:
        answer = alice.post("/comments", data={"body": payload, "csrf_token": token})
        assert answer.status_code in {303, 422}  # 422: control characters refused
    page = demo.client().get("/").text
    body = page.split('<ul class="comments">', 1)[1]
    assert "<script" not in body.lower()
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", body, re.IGNORECASE)
    assert "javascript:" not in body.lower()


def test_only_logged_in_users_comment(demo: Demo) -> None:
    client = demo.client()
    token = client.token("/login")
    assert client.post("/comments", data={"body": "hi", "csrf_token": token}).status_code == 401


# -- notes --------------------------------------------------------------------------


def test_notes_are_encrypted_at_rest_and_private(demo: Demo, alice: Client, bob: Client) -> None:
    assert alice.form("/notes", {"body": "alice's secret plan"}).status_code == 303
    assert "alice&#39;s secret plan" in alice.get("/notes").text
    assert "secret plan" not in bob.get("/notes").text
    ((blob,),) = db_rows(demo, "SELECT body FROM notes")
    assert isinstance(blob, bytes)
    assert b"secret plan" not in blob
    assert blob[0] == 0xA1  # securekit's one-shot envelope
    ((note_id,),) = db_rows(demo, "SELECT id FROM notes")
    # Bob cannot delete Alice's note: not found, and it stays.
    assert bob.form(f"/notes/{note_id}/delete", {}, page="/notes").status_code == 404
    assert len(db_rows(demo, "SELECT id FROM notes")) == 1
    assert alice.form(f"/notes/{note_id}/delete", {}, page="/notes").status_code == 303
    assert db_rows(demo, "SELECT id FROM notes") == []


def test_a_moved_ciphertext_does_not_decrypt(demo: Demo, alice: Client, bob: Client) -> None:
    alice.form("/notes", {"body": "alice's note"})
    bob.form("/notes", {"body": "bob's note"})
    with sqlite3.connect(demo.services.data_dir / "demo.db") as db:
        # An attacker with database access moves Alice's ciphertext into Bob's row.
        db.execute(
            "UPDATE notes SET body = (SELECT body FROM notes WHERE owner_id = 1) WHERE owner_id = 2"
        )
    page = bob.get("/notes").text
    assert "alice&#39;s note" not in page
    assert "could not be decrypted" in page


def test_note_input_is_validated(alice: Client) -> None:
    assert alice.form("/notes", {"body": ""}).status_code == 422
    assert alice.form("/notes", {"body": "x" * 5001}).status_code == 422
    assert alice.form("/notes", {"body": "bidi \u202e trick"}).status_code == 422
    assert alice.form("/notes", {"body": "two\r\nlines"}).status_code == 303


# -- avatars ------------------------------------------------------------------------


def upload(client: Client, data: bytes, name: str, mime: str) -> int:
    token = client.token("/account")
    answer = client.post(
        "/account/avatar",
        data={"csrf_token": token},
        files={"avatar": (name, io.BytesIO(data), mime)},
    )
    return answer.status_code


def test_avatar_is_checked_stored_and_served_safely(demo: Demo, alice: Client) -> None:
    image = png()
    assert upload(alice, image, "me.png", "image/png") == 303
    served = alice.get("/avatars/1")
    assert served.status_code == 200
    assert served.content == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in served.headers["Content-Security-Policy"]
    ((name,),) = db_rows(demo, "SELECT storage_name FROM avatars")
    assert name != "me.png"
    assert [p.name for p in demo.services.avatars_dir.iterdir()] == [name]
    # A replacement removes the old file.
    assert upload(alice, png(3, 3), "again.png", "image/png") == 303
    assert len(list(demo.services.avatars_dir.iterdir())) == 1


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (b"<html><script>alert(1)</script></html>", "cat.png", "image/png"),
        (b"GIF89a;<?php system($_GET['c']); ?>", "avatar.gif", "image/gif"),
        (png(), "../../etc/passwd.png", "image/png"),
        (png(), "avatar.svg", "image/svg+xml"),
        (b"%PDF-1.4\n", "cv.pdf", "application/pdf"),
        (b"", "empty.png", "image/png"),
    ],
)
def test_disguised_or_hostile_uploads_are_rejected(
    demo: Demo, alice: Client, data: bytes, name: str, mime: str
) -> None:
    assert upload(alice, data, name, mime) == 400
    assert db_rows(demo, "SELECT * FROM avatars") == []
    assert list(demo.services.avatars_dir.iterdir()) == []


def test_oversized_upload_is_refused_before_reading(demo: Demo, alice: Client) -> None:
    assert upload(alice, png() + b"\0" * (2 * 1024 * 1024), "big.png", "image/png") == 413
    assert list(demo.services.avatars_dir.iterdir()) == []


def test_avatar_access(demo: Demo, alice: Client, bob: Client) -> None:
    assert bob.get("/avatars/1").status_code == 404
    upload(alice, png(), "me.png", "image/png")
    assert bob.get("/avatars/1").status_code == 200
    assert demo.client().get("/avatars/1").status_code == 401


# -- admin --------------------------------------------------------------------------


def test_admin_page_needs_the_admin_role(demo: Demo, alice: Client, bob: Client) -> None:
    page = alice.get("/admin")
    assert page.status_code == 200
    assert "bob" in page.text
    assert bob.get("/admin").status_code == 403
    assert demo.client().get("/admin").status_code == 403
    assert 'href="/admin"' in alice.get("/").text
    assert 'href="/admin"' not in bob.get("/").text


# -- TOTP -----------------------------------------------------------------------------


def enrol_totp(demo: Demo, client: Client) -> tuple[str, list[str]]:
    page = client.get("/account/totp").text
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found is not None
    secret = found.group(1)
    assert "otpauth://totp/" in page
    wrong = client.form("/account/totp", {"code": "000000"})
    assert wrong.status_code == 400
    code = demo.services.totp.code(secret)
    done = client.form("/account/totp", {"code": code})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def test_totp_enrolment_and_login(demo: Demo, alice: Client) -> None:
    secret, codes = enrol_totp(demo, alice)
    ((stored,),) = db_rows(demo, "SELECT totp_secret FROM users WHERE username = 'alice'")
    assert isinstance(stored, bytes)
    assert secret.encode() not in stored  # encrypted at rest
    assert "TOTP is already on" in alice.get("/account/totp").text

    client = demo.client()
    step = client.login("alice")
    assert step.status_code == 303
    assert step.headers["Location"] == "/login/totp"
    # Password alone is not a login.
    assert client.get("/notes").status_code == 401
    demo.clock.advance(timedelta(seconds=30))
    code = demo.services.totp.code(secret)
    bad = client.form("/login/totp", {"code": "123456" if code != "123456" else "654321"})
    assert bad.status_code == 401
    assert client.form("/login/totp", {"code": code}).status_code == 303
    assert client.get("/notes").status_code == 200

    # The same code cannot be replayed for another login.
    other = demo.client()
    other.login("alice")
    assert other.form("/login/totp", {"code": code}).status_code == 401
    # A recovery code works once.
    assert other.form("/login/totp", {"code": codes[0]}).status_code == 303
    third = demo.client()
    third.login("alice")
    assert third.form("/login/totp", {"code": codes[0]}).status_code == 401


def test_totp_step_needs_a_password_first(demo: Demo) -> None:
    client = demo.client()
    answer = client.get("/login/totp")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/login"


# -- API --------------------------------------------------------------------------------


def api_tokens(client: Client, username: str = "alice", **extra: str) -> dict[str, object]:
    answer = client.post("/api/token", json={"username": username, "password": STRONG, **extra})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_api_tokens_notes_and_refresh(demo: Demo, alice: Client) -> None:
    api = demo.client()
    tokens = api_tokens(api)
    assert tokens["token_type"] == "Bearer"
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.post("/api/notes", json={"body": "from the API"}, headers=auth).status_code == 201
    notes = api.get("/api/notes", headers=auth).json()["notes"]
    assert [n["body"] for n in notes] == ["from the API"]
    assert "from the API" in alice.get("/notes").text

    rotated = api.post("/api/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    # Reusing the old refresh token is theft: the whole family is revoked.
    reuse = api.post("/api/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.headers["Content-Type"].startswith("application/problem+json")
    assert api.post("/api/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 401


def test_api_login_failures_are_indistinguishable(demo: Demo, alice: Client) -> None:
    api = demo.client()
    wrong = api.post("/api/token", json={"username": "alice", "password": "wrong password!"})
    unknown = api.post("/api/token", json={"username": "mallory", "password": "wrong password!"})
    assert wrong.status_code == unknown.status_code == 401
    for answer in (wrong, unknown):
        body = answer.json()
        body.pop("correlation_id")
        assert body == {k: v for k, v in unknown.json().items() if k != "correlation_id"}
    assert "wrong password!" not in wrong.text
    assert "alice" not in wrong.text


def test_api_rejects_bad_bodies(demo: Demo, alice: Client) -> None:
    api = demo.client()
    form = api.post("/api/token", content=b"username=alice")
    assert form.status_code == 415
    assert form.headers["Content-Type"].startswith("application/problem+json")
    assert (
        api.post(
            "/api/token",
            content=b'{"username": "a", "username": "b", "password": "x"}',
            headers={"Content-Type": "application/json"},
        ).status_code
        == 400
    )
    assert api.post("/api/token", json=["alice"]).status_code in {400, 422}
    assert api.post("/api/token", json={"username": "alice"}).status_code in {400, 422}
    assert api.post("/api/token", json={"username": 1, "password": 2}).status_code in {400, 422}


def test_api_needs_a_valid_bearer_token(demo: Demo, alice: Client) -> None:
    api = demo.client()
    assert api.get("/api/notes").status_code == 401
    assert api.get("/api/notes", headers={"Authorization": "Basic YTpi"}).status_code == 401
    tokens = api_tokens(api)
    # A refresh token is not an access token.
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert api.get("/api/notes", headers=refresh).status_code == 401
    assert api.get("/api/nothing").headers["Content-Type"].startswith("application/problem+json")


def test_api_rejects_every_jwt_attack(demo: Demo, alice: Client) -> None:
    from examples.demo.services import API_AUDIENCE, ISSUER

    target = JWTTarget.from_keyring(
        demo.services.keys.signing, issuer=ISSUER, audience=API_AUDIENCE
    )
    api = demo.client()
    attacks = jwt_attack_tokens(target, now=demo.clock(), subject="1")
    assert attacks
    sent = 0
    for attack_token in attacks:
        try:
            answer = api.get(
                "/api/notes", headers={"Authorization": f"Bearer {attack_token.token}"}
            )
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            # Not a legal header value (empty, control characters): no client
            # can send it; the verifier must still refuse it.
            with pytest.raises(InvalidTokenError):
                demo.services.jwt_verifier.verify(attack_token.token)
            continue
        sent += 1
        # 431: the server refuses an oversized header line before the app runs.
        assert answer.status_code in {401, 431}, attack_token.name
    assert sent > len(attacks) // 2


def test_api_with_totp_needs_the_code(demo: Demo, alice: Client) -> None:
    secret, _ = enrol_totp(demo, alice)
    api = demo.client()
    assert api.post("/api/token", json={"username": "alice", "password": STRONG}).status_code == 401
    demo.clock.advance(timedelta(seconds=30))
    api_tokens(api, totp=demo.services.totp.code(secret))


# -- errors and reports -----------------------------------------------------------------


def test_csp_reports_are_collected(demo: Demo) -> None:
    report = (
        b'{"csp-report": {"document-uri": "http://127.0.0.1/", "blocked-uri": "inline",'
        b' "effective-directive": "script-src-elem", "disposition": "enforce"}}'
    )
    client = demo.client()
    answer = client.post(
        "/csp-report", content=report, headers={"Content-Type": "application/csp-report"}
    )
    assert answer.status_code == 204
    (seen,) = demo.services.csp_reports.snapshot()
    assert seen.effective_directive == "script-src-elem"
    junk = client.post(
        "/csp-report", content=b"{", headers={"Content-Type": "application/csp-report"}
    )
    assert junk.status_code == 400


def test_an_internal_error_leaks_nothing(
    demo: Demo, alice: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*, limit: int = 50) -> list[object]:
        raise RuntimeError("db password is hunter2-SECRET")

    monkeypatch.setattr(demo.services.db, "comments", broken)
    page = demo.client().get("/")
    assert page.status_code == 500
    for secret in ("hunter2-SECRET", "RuntimeError", "Traceback"):
        assert secret not in page.text
    assert re.search(r"Reference: <code>[A-Za-z0-9._-]+</code>", page.text)
    assert page.headers["Content-Security-Policy"].startswith("script-src")


def test_unknown_pages_and_methods(demo: Demo) -> None:
    client = demo.client()
    assert client.get("/nope").status_code == 404
    assert client.request("DELETE", "/").status_code in {403, 405}


# -- properties -------------------------------------------------------------------------

_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.slow
@_SETTINGS
@given(body=attack.json_attacks(max_bytes=16 * 1024, max_depth=4))
def test_api_junk_gets_a_client_error(demo: Demo, body: bytes) -> None:
    answer = demo.client().post(
        "/api/token", content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500
    assert answer.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.slow
@_SETTINGS
@given(
    username=st.one_of(attack.sql_injection(), attack.nosql_injection(), st.text(max_size=80)),
    password=st.text(max_size=2000),
)
def test_login_junk_gets_the_generic_answer(demo: Demo, username: str, password: str) -> None:
    demo.clock.advance(timedelta(hours=25))  # keep the throttle out of the way
    answer = demo.client().login(username, password)
    assert answer.status_code in {401, 429}
    if answer.status_code == 401:
        assert "Invalid username or password." in answer.text


@pytest.mark.slow
@_SETTINGS
@given(name=attack.hostile_filenames())
def test_hostile_avatar_names_are_rejected(demo: Demo, alice: Client, name: str) -> None:
    assert upload(alice, png(), name, "image/png") == 400
    assert list(demo.services.avatars_dir.iterdir()) == []


# -- the `securekit demo` command ---------------------------------------------------------


def test_demo_command_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out
    assert "--data-dir" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--host", "0.0.0.0", "--port", "0"],
        ["demo", "--host", "example.com", "--port", "0"],
        ["demo", "--port", "70000"],
    ],
)
def test_demo_command_refuses_bad_addresses(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*argv, "--data-dir", str(tmp_path)]) == cli.EXIT_USAGE
    assert "securekit" in capsys.readouterr().err
    assert not (tmp_path / "keys").exists()


def test_demo_command_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(["demo", "--port", str(port), "--data-dir", str(tmp_path)])
    assert code == cli.EXIT_USAGE
    assert "another --port" in capsys.readouterr().err


def test_demo_command_serves_until_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(self: object, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", interrupted)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli.main(["demo", "--port", "0"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert re.search(r"serving http://127\.0\.0\.1:\d+/", out)
    assert "stopped" in out
    data = tmp_path / "securekit-demo"
    assert sorted(p.name for p in (data / "keys").iterdir()) == [
        "aead.json",
        "mac.json",
        "signing.json",
    ]
    assert (data / "kek.secret").stat().st_mode & 0o077 == 0
    assert b"material" not in (data / "keys" / "aead.json").read_bytes()  # wrapped
    # werkzeug's own serve_forever returns (rather than raises) on Ctrl+C.
    monkeypatch.setattr(BaseWSGIServer, "serve_forever", lambda _self, _poll_interval=0.5: None)
    assert "[::1]" in cli_url(["demo", "--host", "::1", "--port", "0"], tmp_path, capsys)


def cli_url(argv: list[str], data: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main([*argv, "--data-dir", str(data / "other")]) == cli.EXIT_OK
    return capsys.readouterr().out


def test_keys_survive_a_restart_and_a_wrong_kek_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_or_create_keys(tmp_path, environ={})
    again = load_or_create_keys(tmp_path, environ={})
    assert first.aead.primary.id == again.aead.primary.id
    monkeypatch.setenv(KEK_ENV, LocalKeyWrapper.new_kek().reveal())
    with pytest.raises(SecurekitError):
        load_or_create_keys(tmp_path)


def test_demo_command_without_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_command, "_ROOT", tmp_path)
    assert cli.main(["demo", "--data-dir", str(tmp_path)]) == cli.EXIT_USAGE
    assert "pip install -e '.[flask]'" in capsys.readouterr().err


def test_demo_command_without_flask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_flask(name: str) -> types.ModuleType:
        raise ModuleNotFoundError("No module named 'flask'", name="flask")

    monkeypatch.setattr(demo_command, "_import", no_flask)
    assert cli.main(["demo", "--data-dir", str(tmp_path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "needs flask" in err
    assert "[flask]" in err


def test_demo_command_refuses_a_shadowing_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    impostor = types.ModuleType("examples.demo")
    impostor.__file__ = str(tmp_path / "elsewhere" / "__init__.py")
    monkeypatch.setattr(demo_command, "_import", lambda _name: impostor)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(ROOT)])
    assert cli.main(["demo", "--data-dir", str(tmp_path)]) == cli.EXIT_USAGE
    assert "shadows" in capsys.readouterr().err


@pytest.mark.slow
def test_securekit_demo_really_serves(tmp_path: Path) -> None:
    """The README path: the console command serves until Ctrl+C (SIGINT)."""
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    env.pop("COVERAGE_PROCESS_START", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "securekit", "demo", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", first)
        assert found, first
        page = httpx.get(found.group(1) + "register", timeout=30)
        assert page.status_code == 200
        assert page.headers["Content-Security-Policy"].startswith("script-src 'nonce-")
        assert any(h.startswith("__Host-csrf=") for h in page.headers.get_list("set-cookie"))
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
