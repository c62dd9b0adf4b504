"""A page served with a strict, nonce-based CSP and the secure headers preset.

Run: python examples/headers_csp_nonce.py
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from wsgiref.util import setup_testing_defaults

from securekit.headers import SecurityHeaders, audit_headers
from securekit.html import escape_html, json_for_script

# Configure once at start-up: the CSP sources are checked here.
HEADERS = SecurityHeaders()

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def app(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    """A WSGI app: every response gets the preset and a fresh CSP nonce."""
    assert environ["REQUEST_METHOD"] == "GET"
    rendered = HEADERS.render()
    user = {"name": "</script><script>alert(1)</script>"}
    page = (
        "<!doctype html><html><head><title>Dashboard</title></head><body>"
        f"<h1>Hello {escape_html(user['name'])}</h1>"
        # Only scripts carrying this response's nonce run; an injected
        # <script> without it is blocked by the browser.
        f'<script nonce="{rendered.nonce}">const user = {json_for_script(user)};</script>'
        "</body></html>"
    )
    body = page.encode("utf-8")
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *rendered.headers.items(),
    ]
    start_response("200 OK", headers)
    return [body]


def main() -> None:
    """Call the app once and grade its headers."""
    environ: dict[str, object] = {}
    setup_testing_defaults(environ)
    captured: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> object:
        captured.update(headers)
        print(status)
        return None

    body = b"".join(app(environ, start_response)).decode("utf-8")
    for name, value in captured.items():
        print(f"{name}: {value}")
    print(body)
    findings = audit_headers(captured)
    for finding in findings:
        print(f"{'PASS' if finding.ok else 'FAIL'} {finding.code}")
    assert all(f.ok for f in findings)
    assert "</script><script>" not in body
    print("ok: every header check passes")


if __name__ == "__main__":
    main()
