"""securekit.testing.strategies: properties of securekit's own recipes.

These are the tests an application writes against its own endpoints, run
here against securekit's recipes: every generated attack is refused or
neutralized, and arbitrary junk raises only the documented error.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, InputValidationError, UploadRejectedError
from securekit.html import RICH, sanitize
from securekit.testing import payloads
from securekit.testing import strategies as attacks
from securekit.testing.assertions import assert_no_script_runs_in_any, static_script_risks
from securekit.uploads import safe_filename, safe_join
from securekit.urls import is_safe_redirect, safe_redirect_target
from securekit.validation import SecureModel, Username, load_json

CORPUS = payloads.xss()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Login(SecureModel):
    username: Username
    password: str


@FAST
@given(attacks.hostile_filenames())
def test_hostile_filenames_are_refused(name: str) -> None:
    with pytest.raises(UploadRejectedError):
        safe_filename(name)


@FAST
@given(attacks.path_traversal())
def test_traversal_never_leaves_the_upload_dir(part: str) -> None:
    base = Path("/srv/uploads-that-do-not-exist")
    try:
        joined = safe_join(base, part)
    except UploadRejectedError:
        return
    assert joined.is_relative_to(base)
    assert ".." not in joined.parts


@FAST
@given(attacks.open_redirects("example.com"))
def test_open_redirects_are_refused(url: str) -> None:
    assert not is_safe_redirect(url, allowed_hosts={"example.com"})
    assert safe_redirect_target(url, "/home", allowed_hosts={"example.com"}) == "/home"


@FAST
@given(attacks.open_redirects("app.example.org"))
def test_open_redirects_for_another_host(url: str) -> None:
    assert not is_safe_redirect(url, allowed_hosts={"app.example.org"})


@FAST
@given(attacks.json_attacks(2048, max_depth=32))
def test_json_attacks_raise_only_the_documented_error(body: bytes) -> None:
    with pytest.raises(InputValidationError):
        load_json(body, max_bytes=2048, max_depth=32)


@FAST
@given(attacks.malformed_json())
def test_malformed_json_is_not_json(body: bytes) -> None:
    """The generator makes real syntax/semantic errors, not valid documents."""
    with pytest.raises(InputValidationError):
        load_json(body)


@FAST
@given(attacks.oversized_json(1024, max_depth=16))
def test_oversized_json_is_valid_but_over_a_limit(body: bytes) -> None:
    assert len(body) > 1024 or body.count(b"[") + body.count(b"{") > 16
    with pytest.raises(InputValidationError):
        load_json(body, max_bytes=1024, max_depth=16)


def test_oversized_json_misuse() -> None:
    with pytest.raises(ConfigurationError):
        attacks.oversized_json(8)
    with pytest.raises(ConfigurationError):
        attacks.oversized_json(1024, max_depth=0)
    with pytest.raises(TypeError):
        attacks.oversized_json(1024, max_depth="3")  # type: ignore[arg-type]


@FAST
@given(attacks.nosql_operators(), st.sampled_from(["username", "password"]))
def test_operator_objects_are_refused_by_a_strict_model(
    operator: dict[str, Any], field: str
) -> None:
    body = {"username": "alice", "password": "pw", field: operator}  # pragma: allowlist secret
    with pytest.raises(InputValidationError):
        Login.model_validate_json(json.dumps(body).encode())


@FAST
@given(attacks.nosql_injection())
def test_nosql_strings_stay_strings(text: str) -> None:
    """As a plain string field the payload is data: the model keeps it verbatim."""
    login = Login.model_validate_json(json.dumps({"username": "alice", "password": text}))
    assert login.password == text


@pytest.fixture(scope="module")
def users() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT)")
    db.executemany("INSERT INTO users VALUES (?)", [("alice",), ("bob",)])
    return db


@FAST
@given(text=attacks.sql_injection())
def test_sql_injection_matches_nothing_with_parameters(
    users: sqlite3.Connection, text: str
) -> None:
    rows = users.execute("SELECT name FROM users WHERE name = ?", (text,)).fetchall()
    assert rows == []
    # The same value spliced into the SQL text is an injection: the guard is
    # the parameter, not the data.
    assert users.execute("SELECT count(*) FROM users WHERE name = ''").fetchone() == (0,)


@FAST
@given(attacks.xss_payloads())
def test_sanitized_xss_has_no_script_capable_markup(payload: str) -> None:
    for policy_output in (sanitize(payload), sanitize(payload, policy=RICH)):
        risks = static_script_risks(str(policy_output))
        # The one conservative false positive of the static reading: a link
        # whose href starts with an invisible character before "javascript:"
        # (a relative URL to browsers); the browser test below is exact.
        assert all("script URL" in r for r in risks), risks


@FAST
@given(attacks.xss_payloads())
def test_generated_xss_keeps_a_corpus_payload_intact(payload: str) -> None:
    """Benign wrapping never cuts into the payload itself."""
    assert any(item in payload for item in CORPUS)


@pytest.mark.browser
def test_sanitized_xss_runs_no_script_in_chromium(script_detector: Any) -> None:
    """Many generated payloads, sanitized, in one browser pass (batched frames)."""
    seen: list[str] = []

    @settings(max_examples=120, deadline=None, database=None)
    @given(attacks.xss_payloads())
    def collect(payload: str) -> None:
        seen.append(payload)

    collect()
    outputs = {f"p{i}": str(sanitize(p)) for i, p in enumerate(seen)}
    assert_no_script_runs_in_any(outputs, detector=script_detector)
    # And the same payloads, raw, do run: the browser check is not vacuous.
    with pytest.raises(AssertionError, match="script ran"):
        assert_no_script_runs_in_any(
            [*seen[:40], "<img src=x onerror=alert(1)>"], detector=script_detector
        )
