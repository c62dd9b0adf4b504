"""securekit.headers and the ``securekit headers`` command."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.cli import main
from securekit.errors import (
    ConfigurationError,
    InputReason,
    InputValidationError,
    InsecureConfigurationWarning,
)
from securekit.headers import (
    HSTS_MAX_AGE,
    ContentSecurityPolicy,
    SecurityHeaders,
    audit_headers,
    generate_nonce,
    lint_csp,
    parse_csp_reports,
)

INSECURE_CALLS = {
    "securekit.headers.ContentSecurityPolicy.__init__:insecure_unsafe_inline": lambda: (
        ContentSecurityPolicy(
            directives={"script-src": ["'self'", "'unsafe-inline'"]}, insecure_unsafe_inline=True
        )
    ),
    "securekit.headers.ContentSecurityPolicy.__init__:insecure_unsafe_eval": lambda: (
        ContentSecurityPolicy(insecure_unsafe_eval=True)
    ),
    "securekit.headers.ContentSecurityPolicy.__init__:insecure_wildcard_sources": lambda: (
        ContentSecurityPolicy(insecure_wildcard_sources=True)
    ),
    "securekit.headers.ContentSecurityPolicy.__init__:insecure_data_sources": lambda: (
        ContentSecurityPolicy(insecure_data_sources=True)
    ),
    "securekit.headers.SecurityHeaders.__init__:insecure_short_hsts": lambda: SecurityHeaders(
        hsts_max_age=0, insecure_short_hsts=True
    ),
}


def _directives(value: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def test_preset_headers() -> None:
    rendered = SecurityHeaders().render()
    headers = rendered.headers
    assert headers["Strict-Transport-Security"] == f"max-age={HSTS_MAX_AGE}; includeSubDomains"
    assert HSTS_MAX_AGE == 2 * 365 * 24 * 3600
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["script-src"] == [f"'nonce-{rendered.nonce}'", "'strict-dynamic'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert all(f.ok for f in audit_headers(headers)), [
        f.code for f in audit_headers(headers) if not f.ok
    ]


def test_nonce_is_fresh_and_128_bits() -> None:
    nonces = {generate_nonce() for _ in range(200)}
    assert len(nonces) == 200
    assert all(len(base64.b64decode(n)) == 16 for n in nonces)
    headers = SecurityHeaders()
    assert headers.render().nonce != headers.render().nonce
    chosen = nonces.pop()
    rendered = headers.render(nonce=chosen)
    assert rendered.nonce == chosen
    assert f"'nonce-{chosen}'" in rendered.headers["Content-Security-Policy"]


def test_hsts_options() -> None:
    preload = SecurityHeaders(hsts_preload=True).render().headers["Strict-Transport-Security"]
    assert preload.endswith("; includeSubDomains; preload")
    no_sub = SecurityHeaders(hsts_include_subdomains=False).render().headers
    assert no_sub["Strict-Transport-Security"] == f"max-age={HSTS_MAX_AGE}"
    with pytest.raises(ConfigurationError):
        SecurityHeaders(hsts_max_age=3600)
    with pytest.raises(ConfigurationError):
        SecurityHeaders(hsts_preload=True, hsts_include_subdomains=False)
    with pytest.raises(ConfigurationError):
        SecurityHeaders(hsts_max_age=-1)
    with pytest.warns(InsecureConfigurationWarning):
        off = SecurityHeaders(hsts_max_age=0, insecure_short_hsts=True)
    assert "Strict-Transport-Security" not in off.render().headers


def test_header_injection_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        SecurityHeaders(referrer_policy="no-referrer\r\nSet-Cookie: a=b")
    with pytest.raises(ConfigurationError):
        ContentSecurityPolicy(directives={"img-src": ["'self'; script-src *"]})
    with pytest.raises(ConfigurationError):
        ContentSecurityPolicy(directives={"img-src": ["https://a.example,https://b"]})
    with pytest.raises(ConfigurationError):
        ContentSecurityPolicy(directives={"img-src": ["a\nb"]})
    with pytest.raises(ConfigurationError):
        SecurityHeaders().render(nonce="short")
    with pytest.raises(ConfigurationError):
        SecurityHeaders().render(nonce="abc'; script-src *; x='AAAAAAAAAAAAAAAAAAAAAAAA")


@pytest.mark.parametrize(
    ("source", "switch"),
    [
        ("'unsafe-inline'", "insecure_unsafe_inline"),
        ("'UNSAFE-INLINE'", "insecure_unsafe_inline"),
        ("'unsafe-hashes'", "insecure_unsafe_inline"),
        ("'unsafe-eval'", "insecure_unsafe_eval"),
        ("*", "insecure_wildcard_sources"),
        ("https:", "insecure_wildcard_sources"),
        ("http:", "insecure_wildcard_sources"),
        ("*.cdn.example", "insecure_wildcard_sources"),
        ("https://*.example", "insecure_wildcard_sources"),
        ("data:", "insecure_data_sources"),
        ("blob:", "insecure_data_sources"),
    ],
)
@pytest.mark.parametrize("directive", ["script-src", "script-src-elem", "default-src"])
def test_csp_refuses_weak_script_sources(source: str, switch: str, directive: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        ContentSecurityPolicy(directives={directive: [source]})
    assert switch in str(info.value)
    with pytest.warns(InsecureConfigurationWarning):
        policy = ContentSecurityPolicy(directives={directive: [source]}, **{switch: True})  # type: ignore[arg-type]
    assert source in policy.value(nonce=None)


def test_weak_sources_are_fine_outside_script_directives() -> None:
    policy = ContentSecurityPolicy(
        directives={"img-src": ["'self'", "data:", "https:"], "style-src": ["'unsafe-inline'"]}
    )
    value = policy.value(nonce=generate_nonce())
    assert "img-src 'self' data: https:" in value
    assert "style-src 'unsafe-inline'" in value


def test_csp_builder_options() -> None:
    nonce = generate_nonce()
    policy = ContentSecurityPolicy(
        directives={"upgrade-insecure-requests": [], "IMG-SRC": ["'self'"]},
        strict_dynamic=False,
        report_uri="/csp-report",
        report_to="csp",
        report_only=True,
    )
    assert policy.header_name == "Content-Security-Policy-Report-Only"
    d = _directives(policy.value(nonce=nonce))
    assert d["script-src"] == [f"'nonce-{nonce}'", "'self'"]
    assert d["upgrade-insecure-requests"] == []
    assert d["img-src"] == ["'self'"]
    assert d["report-uri"] == ["/csp-report"]
    assert d["report-to"] == ["csp"]
    assert ContentSecurityPolicy().header_name == "Content-Security-Policy"
    with pytest.raises(ConfigurationError):
        ContentSecurityPolicy(directives={"script-source": ["'self'"]})
    with pytest.raises(ConfigurationError):
        ContentSecurityPolicy(directives={"img-src": "'self'"})


def test_report_only_header_is_rendered_by_preset() -> None:
    headers = SecurityHeaders(csp=ContentSecurityPolicy(report_only=True)).render().headers
    assert "Content-Security-Policy-Report-Only" in headers
    assert "Content-Security-Policy" not in headers
    assert any(f.code == "csp_missing" and not f.ok for f in audit_headers(headers))


@pytest.mark.parametrize(
    ("value", "failing"),
    [
        ("script-src 'self' 'unsafe-inline'", {"csp_unsafe_inline", "csp_no_nonce"}),
        ("default-src *", {"csp_wildcard", "csp_no_nonce"}),
        ("script-src 'nonce-abc' 'unsafe-eval'", {"csp_unsafe_eval"}),
        ("script-src data: 'sha256-abc='", {"csp_data"}),
        ("img-src 'self'", {"csp_no_script_src", "csp_no_nonce"}),
    ],
)
def test_lint_csp(value: str, failing: set[str]) -> None:
    found = lint_csp(value + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    assert {f.code for f in found if not f.ok} == failing


def test_lint_csp_nonce_makes_unsafe_inline_ignored_and_checks_structure() -> None:
    found = {
        f.code: f.ok for f in lint_csp("script-src 'nonce-x' 'unsafe-inline' 'strict-dynamic'")
    }
    assert found["csp_unsafe_inline"] is True
    assert found["csp_object_src"] is False
    assert found["csp_base_uri"] is False
    assert {f.code: f.ok for f in lint_csp("default-src 'none'")}["csp_object_src"] is True
    # A repeated directive is ignored by browsers (CSP3 2.2.1): the first wins.
    twice = {f.code: f.ok for f in lint_csp("script-src 'none'; script-src *")}
    assert twice["csp_wildcard"] is True
    with pytest.raises(TypeError):
        lint_csp(b"x")  # type: ignore[arg-type]


def test_audit_headers_reports_each_weakness() -> None:
    found = {
        f.code: f.ok
        for f in audit_headers(
            {
                "strict-transport-security": "max-age=300",
                "x-content-type-options": "sniff",
                "referrer-policy": "unsafe-url",
                "cross-origin-opener-policy": "unsafe-none",
            }
        )
    }
    assert found["hsts_max_age"] is False
    assert found["nosniff"] is False
    assert found["referrer_policy"] is False
    assert found["coop"] is False
    assert found["corp_missing"] is False
    assert found["permissions_policy_missing"] is False
    assert found["csp_missing"] is False
    assert {f.code for f in audit_headers({})} >= {"hsts_missing", "csp_missing"}


REPORT = {
    "csp-report": {
        "document-uri": "https://example.com/page",
        "blocked-uri": "inline",
        "violated-directive": "script-src-elem",
        "source-file": "https://example.com/page",
        "line-number": 12,
        "script-sample": "alert(1)",
    }
}
REPORTS_JSON = [
    {
        "type": "csp-violation",
        "body": {
            "documentURL": "https://example.com/",
            "blockedURL": "https://evil.example/x.js",
            "effectiveDirective": "script-src-elem",
            "disposition": "report",
            "lineNumber": 3,
            "sample": "",
        },
    },
    {"type": "deprecation", "body": {}},
]


def test_parse_csp_report_formats() -> None:
    (one,) = parse_csp_reports(json.dumps(REPORT).encode(), content_type="application/csp-report")
    assert (one.document_uri, one.blocked_uri, one.effective_directive) == (
        "https://example.com/page",
        "inline",
        "script-src-elem",
    )
    assert (one.line_number, one.sample, one.disposition) == (12, "alert(1)", "enforce")
    (two,) = parse_csp_reports(
        json.dumps(REPORTS_JSON).encode(), content_type="application/reports+json; charset=utf-8"
    )
    assert (two.blocked_uri, two.disposition, two.line_number) == (
        "https://evil.example/x.js",
        "report",
        3,
    )


def test_parse_csp_report_truncates_and_ignores_bad_fields() -> None:
    body = {"csp-report": {"document-uri": "x" * 5000, "line-number": "12", "sample": 5}}
    (report,) = parse_csp_reports(json.dumps(body).encode(), content_type="application/json")
    assert len(report.document_uri) == 2048
    assert report.line_number is None
    assert report.sample == ""


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"x" * 70000, "application/csp-report", InputReason.TOO_LARGE),
        (b"{", "application/csp-report", InputReason.INVALID_JSON),
        (b"\xff\xfe", "application/csp-report", InputReason.INVALID_JSON),
        (b"[" * 5000 + b"]" * 5000, "application/reports+json", InputReason.TOO_DEEP),
        (b'{"a": 1}', "application/csp-report", InputReason.BAD_FORMAT),
        (b"[1]", "application/reports+json", InputReason.BAD_FORMAT),
        (b"{}", "text/plain", InputReason.BAD_FORMAT),
        (json.dumps([{}] * 101).encode(), "application/reports+json", InputReason.BAD_FORMAT),
    ],
)
def test_parse_csp_report_rejects(body: bytes, content_type: str, reason: InputReason) -> None:
    with pytest.raises(InputValidationError) as info:
        parse_csp_reports(body, content_type=content_type)
    assert info.value.reason is reason


def test_parse_csp_report_misuse() -> None:
    with pytest.raises(TypeError):
        parse_csp_reports("{}", content_type="application/json")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_parse_csp_report_junk_raises_only_input_error(body: bytes) -> None:
    try:
        parse_csp_reports(body, content_type="application/reports+json")
    except InputValidationError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_lint_csp_never_crashes(value: str) -> None:
    assert all(isinstance(f.ok, bool) for f in lint_csp(value))


# -- CLI -------------------------------------------------------------------------------


def test_cli_grades_a_header_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.txt"
    lines = [
        "HTTP/1.1 200 OK",
        *(f"{k}: {v}" for k, v in SecurityHeaders().render().headers.items()),
    ]
    good.write_text("\r\n".join(lines) + "\r\n\r\n", encoding="latin-1")
    assert main(["headers", str(good)]) == 0
    assert "FAIL" not in capsys.readouterr().out
    bad = tmp_path / "bad.txt"
    bad.write_text("HTTP/1.1 200 OK\nX-Content-Type-Options: nosniff\n folded\nnot a header\n")
    assert main(["headers", str(bad), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] >= 5
    assert {"header", "ok", "code", "message"} <= set(report["findings"][0])


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["headers", "/nonexistent/file"]) == 2
    assert "neither" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["headers", "--help"])


class _HeadersHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        for key, value in SecurityHeaders().render().headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def header_server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HeadersHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.network
def test_cli_fetches_a_local_url(header_server: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["headers", f"http://127.0.0.1:{header_server}/page?x=1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 0


@pytest.mark.network
def test_cli_unreachable_url(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["headers", f"http://127.0.0.1:{port}/"]) == 3
    assert main(["headers", f"https://127.0.0.1:{port}/"]) == 3
    assert main(["headers", "http:///nohost"]) == 2


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:99999/", 2),
        ("http://127.0.0.1:port/", 2),
        ("http://[::1/", 2),
        ("http://a..b/", 3),
        ("http://" + "a" * 70 + ".invalid/", 3),
    ],
)
def test_cli_malformed_urls_give_an_exit_code_not_a_traceback(
    url: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # Review: urlsplit's ValueError (bad port, unclosed bracket) and IDNA's
    # UnicodeError (empty or over-long label) escaped as tracebacks.
    assert main(["headers", url]) == code
    assert url not in capsys.readouterr().err
