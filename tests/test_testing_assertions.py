"""securekit.testing.assertions: assert_no_script_runs and assert_secure_headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.responses import Response as StarletteResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from securekit.errors import ConfigurationError
from securekit.headers import SecurityHeaders
from securekit.html import sanitize
from securekit.sessions import SessionCookie
from securekit.testing import ServiceMissingError, assertions
from securekit.testing.assertions import (
    assert_no_script_runs,
    assert_no_script_runs_in_any,
    assert_secure_headers,
    static_script_risks,
)
from securekit.testing.browser import BrowserResult
from securekit.testing.corpora import xss_payloads

RAW_RUNS = [p.payload for p in xss_payloads() if p.raw_executes]


# --- static reading (the fallback) ------------------------------------------


@pytest.mark.parametrize("payload", RAW_RUNS)
def test_static_check_flags_every_payload_that_ran_in_chromium(payload: str) -> None:
    """The fallback misses nothing the real browser saw run in the corpus."""
    assert static_script_risks(payload)


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        ("<script>x()</script>", "<script>"),
        ("<p onclick='x()'>a</p>", "onclick"),
        ("<a href=' jav&#x09;ascript:x()'>a</a>", "javascript"),
        ("<iframe srcdoc='&lt;p&gt;'></iframe>", "srcdoc"),
        ("<meta http-equiv=refresh content='0;url=x'>", "refresh"),
        ("<div style='background:url(javascript:x)'>", "CSS"),
        ("<style>@import 'x.css'</style>", "CSS"),
        ("<img src=x onerror=x()/>", "onerror"),
        ("<base href='https://attacker.invalid/'>", "<base>"),
        ("<br/><svg/onload=x()>", "handler"),
        ("<!-- x --><p>", "comment"),
        ("a\x00b", "NUL"),
        ("<a href='data:text/html,x'>", "data"),
    ],
)
def test_static_check_names_each_risk(markup: str, why: str) -> None:
    risks = static_script_risks(markup)
    assert any(why in risk for risk in risks), risks


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Hello <b>world</b> &lt;script&gt;</p>",
        '<a href="https://example.com/x" rel="noopener">link</a>',
        '<a href="/relative?q=1#top">x</a> <img src="cat.png" alt="on=1">',
        "<ul><li>one</li><li>two</li></ul><br/>",
        "plain text with onion=1 and javascript mentioned",
        '<a href="mailto:a@example.com">mail</a>',
    ],
)
def test_static_check_passes_ordinary_markup(markup: str) -> None:
    assert static_script_risks(markup) == []


def test_static_check_is_bounded() -> None:
    """Hostile shapes cost bounded time and fail closed (conservatively)."""
    big = "x" * (assertions.MAX_STATIC_CHARS + 1)
    assert "too large" in static_script_risks(big)[0]
    many = "<a" * (assertions.MAX_STATIC_TAGS + 1)
    assert "too many" in static_script_risks(many)[-1]
    assert static_script_risks("<" * 50_000) == []
    assert static_script_risks("<b>x</b>" * 1000) == []


def test_static_check_wrong_type() -> None:
    with pytest.raises(TypeError):
        static_script_risks(b"<p>")  # type: ignore[arg-type]


# --- the Chromium-missing policy --------------------------------------------


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Any:
        raise ServiceMissingError("chromium and chromedriver are needed")

    monkeypatch.setattr(assertions, "_shared_detector", missing)
    monkeypatch.delenv("CI", raising=False)


def test_fallback_static_passes_sanitized_output(no_chromium: None) -> None:
    assert_no_script_runs(str(sanitize("<b>hi</b><img src=x onerror=alert(1)>")))
    assert_no_script_runs_in_any([str(sanitize(p)) for p in RAW_RUNS[:50]])


def test_fallback_static_fails_raw_payloads_and_names_them(no_chromium: None) -> None:
    with pytest.raises(AssertionError, match="static check") as info:
        assert_no_script_runs_in_any({"comment-7": "<img src=x onerror=alert(1)>", "ok": "<b>"})
    assert "comment-7" in str(info.value)
    assert "  ok:" not in str(info.value)


def test_fallback_skip(no_chromium: None) -> None:
    with pytest.raises(pytest.skip.Exception, match="Chromium"):
        assert_no_script_runs("<b>x</b>", fallback="skip")


def test_missing_chromium_fails_under_ci(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        assert_no_script_runs("<b>x</b>")


def test_no_script_runs_misuse() -> None:
    with pytest.raises(ConfigurationError, match="fallback"):
        assert_no_script_runs("<b>", fallback="ignore")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        assert_no_script_runs(b"<b>")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list or mapping"):
        assert_no_script_runs_in_any("<b>")
    with pytest.raises(TypeError, match="str"):
        assert_no_script_runs_in_any([b"<b>"])  # type: ignore[list-item]


class _FakeDetector:
    """Reports a call from an opaque-origin frame (a data: URL iframe)."""

    def run(self, documents: dict[str, str]) -> BrowserResult:
        assert all(doc.startswith("<!doctype html>") for doc in documents.values())
        return BrowserResult(executed=frozenset(), hits=(), unattributed=("alert",))


def test_unattributed_calls_fail_the_assertion() -> None:
    with pytest.raises(AssertionError, match="opaque-origin"):
        assert_no_script_runs("<iframe src='data:text/html,x'>", detector=_FakeDetector())  # type: ignore[arg-type]


# --- in a real browser ------------------------------------------------------


@pytest.mark.browser
def test_browser_sees_script_run_and_sanitized_output_pass(script_detector: Any) -> None:
    with pytest.raises(AssertionError, match="script ran in headless Chromium") as info:
        assert_no_script_runs_in_any(
            {"bad": "<img src=x onerror=alert(1)>", "good": "<b>fine</b>"},
            detector=script_detector,
        )
    assert "bad" in str(info.value)
    assert "good" not in str(info.value)
    assert_no_script_runs(
        "<!doctype html><html><body><p>whole document</p></body></html>",
        detector=script_detector,
    )
    assert_no_script_runs_in_any([str(sanitize(p)) for p in RAW_RUNS], detector=script_detector)


@pytest.mark.browser
def test_shared_browser_is_started_once(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        first = assertions._shared_detector()
    except ServiceMissingError as exc:
        pytest.skip(str(exc))
    assert assertions._shared_detector() is first
    with pytest.raises(AssertionError, match="script ran"):
        assert_no_script_runs("<svg onload=alert(1)>")
    assert_no_script_runs("<p>quiet</p>")


# --- assert_secure_headers --------------------------------------------------


def _good_headers() -> dict[str, str]:
    return dict(SecurityHeaders().render().headers)


def _cookie() -> str:
    return SessionCookie().header("A" * 43)


def test_the_securekit_preset_passes() -> None:
    findings = assert_secure_headers(_good_headers())
    assert findings
    assert all(f.ok for f in findings)


def test_each_missing_header_is_named() -> None:
    for name in list(_good_headers()):
        if name == "X-Frame-Options":
            continue  # CSP frame-ancestors replaces it
        headers = _good_headers()
        del headers[name]
        with pytest.raises(AssertionError, match="insecure response headers"):
            assert_secure_headers(headers)


def test_weak_csp_is_refused() -> None:
    headers = _good_headers()
    headers["Content-Security-Policy"] = "script-src 'self' 'unsafe-inline'; object-src 'none'"
    with pytest.raises(AssertionError, match="csp_unsafe_inline"):
        assert_secure_headers(headers)


def test_https_false_skips_hsts_and_secure() -> None:
    headers = _good_headers()
    del headers["Strict-Transport-Security"]
    pairs = [*headers.items(), ("Set-Cookie", "theme=dark; Path=/; HttpOnly; SameSite=Lax")]
    with pytest.raises(AssertionError, match="hsts_missing"):
        assert_secure_headers(pairs)
    with pytest.raises(AssertionError, match="cookie_secure"):
        assert_secure_headers([*pairs, ("Strict-Transport-Security", "max-age=63072000")])
    assert_secure_headers(pairs, https=False)


@pytest.mark.parametrize(
    ("cookie", "code"),
    [
        ("sid=SECRETVALUE; Path=/; Secure; SameSite=Lax", "cookie_httponly"),
        ("sid=SECRETVALUE; Path=/; HttpOnly; SameSite=Lax", "cookie_secure"),
        ("sid=SECRETVALUE; Path=/; Secure; HttpOnly", "cookie_samesite"),
        ("sid=SECRETVALUE; Path=/; Secure; HttpOnly; SameSite=None", "cookie_samesite"),
        ("__Host-sid=SECRETVALUE; Path=/x; Secure; HttpOnly; SameSite=Lax", "cookie_host_prefix"),
        ("__Host-sid=SECRETVALUE; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax",
         "cookie_host_prefix"),
    ],
)  # fmt: skip
def test_cookie_flags(cookie: str, code: str) -> None:
    headers = [*_good_headers().items(), ("Set-Cookie", _cookie()), ("Set-Cookie", cookie)]
    with pytest.raises(AssertionError, match=code) as info:
        assert_secure_headers(headers)
    assert "SECRETVALUE" not in str(info.value)
    assert_secure_headers(headers, ignore={code})


def test_securekit_session_cookie_passes() -> None:
    assert_secure_headers([*_good_headers().items(), ("Set-Cookie", _cookie())])


def test_x_powered_by_is_refused() -> None:
    headers = {**_good_headers(), "X-Powered-By": "PHP/5.4"}
    with pytest.raises(AssertionError, match="x_powered_by"):
        assert_secure_headers(headers)


def test_response_objects_of_each_framework() -> None:
    good = _good_headers()
    cookie = _cookie()
    bad_cookie = "sid=x; Path=/"
    httpx_response = httpx.Response(200, headers=[*good.items(), ("set-cookie", cookie),
                                                  ("set-cookie", bad_cookie)])  # fmt: skip
    starlette_response = StarletteResponse("x", headers=good)
    starlette_response.raw_headers.append((b"set-cookie", bad_cookie.encode()))
    werkzeug_response = WerkzeugResponse("x", headers=good)
    werkzeug_response.headers.add("Set-Cookie", bad_cookie)
    for response in (httpx_response, starlette_response, werkzeug_response):
        with pytest.raises(AssertionError, match="cookie_httponly"):
            assert_secure_headers(response)
    assert_secure_headers(httpx.Response(200, headers=good))
    assert_secure_headers([(k.encode(), v.encode()) for k, v in good.items()])


def test_secure_headers_misuse() -> None:
    with pytest.raises(TypeError):
        assert_secure_headers(42)
    with pytest.raises(TypeError):
        assert_secure_headers([("X-Thing", 3)])
    with pytest.raises(TypeError, match="pairs"):
        assert_secure_headers([("X-Thing", "a", "b")])
    with pytest.raises(TypeError, match="pairs"):
        assert_secure_headers(["X-Thing: a"])
    with pytest.raises(TypeError, match="ignore"):
        assert_secure_headers(_good_headers(), ignore="cookie_secure")
