"""Assertions for application tests: no script runs, secure response headers.

``assert_no_script_runs(html)`` renders the HTML in a real headless Chromium
(:class:`securekit.testing.browser.ScriptDetector`) and fails if any script
ran, including handlers that need interaction. Where Chromium is missing the
policy is explicit:

* under ``CI=true`` the test **fails** (a CI run must not go green because the
  browser silently was not there);
* locally, with ``fallback="static"`` (the default), a conservative static
  check runs instead: it fails on any markup that *could* run script
  (``<script>``, ``on*`` attributes, non-http(s) URLs, frames, ``<base>``,
  ``<meta http-equiv=refresh>``...). It cannot see mutation XSS, so it is a
  stand-in, not a replacement;
* locally, with ``fallback="skip"``, the test is skipped with the reason.

``assert_secure_headers(response)`` grades a response's headers with
:func:`securekit.headers.audit_headers` and checks every ``Set-Cookie``.
"""

from __future__ import annotations

import atexit
import html.parser
import re
import threading
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, Literal

from securekit.errors import ConfigurationError
from securekit.headers import Finding, audit_headers
from securekit.testing._services import ServiceMissingError, in_ci, require_service
from securekit.testing.browser import ScriptDetector, body_document

__all__ = [
    "MAX_STATIC_CHARS",
    "MAX_STATIC_TAGS",
    "assert_no_script_runs",
    "assert_no_script_runs_in_any",
    "assert_secure_headers",
    "static_script_risks",
]

Fallback = Literal["static", "skip"]

#: Elements that run script, load active content, or change where the page's
#: URLs or navigation go (HTML Living Standard; OWASP XSS Filter Evasion).
_RISKY_TAGS: Final = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
        "portal", "import", "xml", "xss", "animate", "set", "handler", "listener",
        "use", "foreignobject",
    }
)  # fmt: skip

#: Attributes whose value is a URL a browser navigates to or loads.
_URL_ATTRIBUTES: Final = frozenset(
    {
        "href", "src", "action", "formaction", "xlink:href", "data", "background",
        "poster", "lowsrc", "dynsrc", "codebase", "cite", "ping", "manifest", "icon",
        "longdesc", "profile", "usemap", "archive", "classid", "srcset", "imagesrcset",
        "to", "from", "values", "by",
    }
)  # fmt: skip

#: URL schemes a link may use without running script.
_SAFE_SCHEMES: Final = frozenset({"http", "https", "mailto", "tel"})
_SCHEME_RE: Final = re.compile(r"^([a-z][a-z0-9+.-]*):")
#: Characters browsers strip from URLs before reading the scheme (WHATWG URL).
_URL_NOISE_RE: Final = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_STYLE_RE: Final = re.compile(r"expression\s*\(|javascript:|behavior\s*:|-moz-binding|@import")

#: Elements whose content HTML5 parses differently from ``html.parser`` (raw
#: text, foreign content, templates): the root of mutation XSS. Their mere
#: presence is reported by the textual pass.
_MUTATION_TAGS: Final = frozenset(
    {
        "style", "textarea", "xmp", "title", "noembed", "noframes", "noscript", "plaintext",
        "listing", "svg", "math", "template", "select", "option", "iframe", "object",
    }
)  # fmt: skip
#: Anything that looks like a tag to *some* parser: ``<`` then optional
#: slashes/spaces then a letter (the name stops at space, slash, ``>``, NUL).
#: A lookahead, so runs overlap: ``<scr<script>`` is read at both ``<``.
#: Bounded, so text with many "<" and no ">" costs linear time, not quadratic.
_TAG_RE: Final = re.compile(r"(?=<[\s/]{0,64}([a-zA-Z][^\s/>\x00<]{0,64})([^>]{0,1024}))")
#: Bounds of the static check (it fails, conservatively, beyond them).
MAX_STATIC_CHARS: Final = 1_000_000
MAX_STATIC_TAGS: Final = 10_000
_HANDLER_RE: Final = re.compile(r"(?:^|[\s/\"'\x00])on[a-z]+\s*=", re.IGNORECASE)
_QUOTED_RE: Final = re.compile(r"\"[^\"<]*\"|'[^'<]*'")
_DANGEROUS_URL_RE: Final = re.compile(r"(?:javascript|vbscript|data):", re.IGNORECASE)


class _StaticScanner(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.risks: list[str] = []
        self._in_style = False

    def _attr(self, tag: str, name: str, value: str | None) -> None:
        text = value or ""
        if name.startswith("on"):
            self.risks.append(f"<{tag}> has an event handler attribute {name}")
        elif name == "srcdoc":
            self.risks.append(f"<{tag}> has srcdoc (a nested document)")
        elif name in _URL_ATTRIBUTES:
            compact = _URL_NOISE_RE.sub("", text).lower()
            match = _SCHEME_RE.match(compact)
            if match is not None and match.group(1) not in _SAFE_SCHEMES:
                self.risks.append(f"<{tag} {name}> uses the {match.group(1)}: scheme")
        elif name == "style" and _STYLE_RE.search(text.lower()):
            self.risks.append(f"<{tag}> has script-capable CSS")
        elif name == "http-equiv" and text.strip().lower() in ("refresh", "set-cookie"):
            self.risks.append(f"<{tag}> has http-equiv={text.strip().lower()}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _RISKY_TAGS:
            self.risks.append(f"<{tag}> element")
        self._in_style = tag == "style"
        for name, value in attrs:
            self._attr(tag, name.lower(), value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:  # noqa: ARG002 - HTMLParser signature
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and _STYLE_RE.search(data.lower()):
            self.risks.append("<style> has script-capable CSS")


def static_script_risks(html_text: str) -> list[str]:
    """Return why ``html_text`` *might* run script (empty: nothing found).

    A conservative reading with :class:`html.parser.HTMLParser`: it flags
    markup that can run script or redirect, even when a browser would not run
    it. It is not an HTML5 tree builder, so it cannot detect mutation XSS;
    :func:`assert_no_script_runs` uses it only when Chromium is missing.

    Raises:
        TypeError: ``html_text`` is not a ``str``.
    """
    if not isinstance(html_text, str):
        raise TypeError("html_text must be a str")
    # Size first: the static reading is for pages, not for arbitrary blobs.
    if len(html_text) > MAX_STATIC_CHARS:
        return [f"over {MAX_STATIC_CHARS} characters: too large for the static check"]
    risks, complete = _textual_risks(html_text)
    if not complete:
        return risks
    # html.parser is slow on many unfinished tags; the textual pass has
    # bounded their number before it runs.
    scanner = _StaticScanner()
    scanner.feed(html_text)
    scanner.close()
    return scanner.risks + risks


def _textual_risks(html_text: str) -> tuple[list[str], bool]:
    """A parser-independent pass over every tag-like run of the raw text.

    ``html.parser`` disagrees with browsers inside comments, raw-text
    elements and unclosed tags, so every ``<name ...>`` run anywhere in the
    text (inside comments and attribute values too) is read again on its own.
    Returns the risks and whether the whole text was read.
    """
    risks: list[str] = []
    if "\x00" in html_text:
        risks.append("NUL character in markup (browsers drop or replace it)")
    if re.search(r"<[!?]", html_text) and html_text.count("<") > 1:
        risks.append("a comment, CDATA or processing instruction next to other markup")
    for count, match in enumerate(_TAG_RE.finditer(html_text)):
        if count >= MAX_STATIC_TAGS:
            risks.append(f"over {MAX_STATIC_TAGS} tag-like runs: too many for the static check")
            return risks, False
        name = match.group(1).lower()
        # Quoted values are data to a browser unless they hold a raw "<" (then
        # the run is cut at the first ">" and the quote stays open).
        rest = _QUOTED_RE.sub(" ", _URL_NOISE_RE.sub(" ", match.group(2)))
        if name in _RISKY_TAGS or name in _MUTATION_TAGS:
            risks.append(f"<{name}> (textual pass)")
        if _HANDLER_RE.search(rest):
            risks.append(f"<{name}> carries an on* handler (textual pass)")
        # Browsers decode character references in attribute values, with or
        # without the final ";", before reading a URL's scheme.
        decoded = html.unescape(match.group(2))
        if _DANGEROUS_URL_RE.search(_URL_NOISE_RE.sub("", decoded)):
            risks.append(f"<{name}> carries a script URL (textual pass)")
    return risks, True


_shared_lock = threading.Lock()
_shared: list[ScriptDetector] = []


def _shared_detector() -> ScriptDetector:
    """One browser for the whole process, started on first use."""
    with _shared_lock:
        if not _shared:
            detector = ScriptDetector()
            detector.start()
            _shared.append(detector)
            atexit.register(detector.close)
        return _shared[0]


def _document(fragment: str) -> str:
    head = fragment.lstrip()[:15].lower()
    if head.startswith(("<!doctype", "<html")):
        return fragment
    return body_document(fragment)


def _check_fallback(fallback: object) -> None:
    if fallback not in ("static", "skip"):
        raise ConfigurationError("fallback must be 'static' or 'skip'")


def _detector_or_fallback(
    detector: ScriptDetector | None, fallback: Fallback
) -> ScriptDetector | None:
    """Return a running browser, or None when the static fallback applies."""
    if detector is not None:
        return detector
    try:
        return _shared_detector()
    except ServiceMissingError as exc:
        if in_ci() or fallback == "skip":
            require_service("headless Chromium", str(exc))
        return None


def _short(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def assert_no_script_runs_in_any(
    fragments: Mapping[str, str] | Iterable[str],
    *,
    detector: ScriptDetector | None = None,
    fallback: Fallback = "static",
) -> None:
    """Assert that none of many HTML fragments runs script, in one browser pass.

    Each fragment is loaded in its own isolated frame (a batch per page load),
    so checking hundreds of outputs costs a few page loads, not hundreds.

    Args:
        fragments: HTML fragments (body context) or full documents; a
            mapping gives each one a name for the failure message.
        detector: a running :class:`~securekit.testing.browser.ScriptDetector`
            (the ``script_detector`` fixture); by default one shared browser
            per process is started on first use.
        fallback: what to do locally when Chromium is missing: ``"static"``
            (conservative static check) or ``"skip"``. Under ``CI=true`` a
            missing browser always fails.

    Raises:
        AssertionError: script ran (or, in the static fallback, could run)
            in at least one fragment; the message names which.
    """
    _check_fallback(fallback)
    if isinstance(fragments, str):
        raise TypeError("pass a list or mapping of fragments, or use assert_no_script_runs")
    items = dict(fragments) if isinstance(fragments, Mapping) else dict(enumerate(fragments))
    cases = {f"case-{index}": str(name) for index, name in enumerate(items)}
    texts = {f"case-{index}": value for index, value in enumerate(items.values())}
    for value in texts.values():
        if not isinstance(value, str):
            raise TypeError("every fragment must be a str")
    browser = _detector_or_fallback(detector, fallback)
    if browser is None:
        risky = {case: static_script_risks(text) for case, text in texts.items()}
        failed = {case: found for case, found in risky.items() if found}
        if failed:
            lines = [
                f"  {cases[case]}: {found[0]} in {_short(texts[case])}"
                for case, found in failed.items()
            ]
            raise AssertionError(
                "markup that could run script (static check; Chromium is not installed):\n"
                + "\n".join(lines)
            )
        return
    result = browser.run({case: _document(text) for case, text in texts.items()})
    if result.executed or result.unattributed:
        lines = [f"  {cases[case]}: {_short(texts[case])}" for case in sorted(result.executed)]
        if result.unattributed:
            lines.append(f"  {len(result.unattributed)} call(s) from opaque-origin frames")
        raise AssertionError("script ran in headless Chromium:\n" + "\n".join(lines))


def assert_no_script_runs(
    html: str,
    *,
    detector: ScriptDetector | None = None,
    fallback: Fallback = "static",
) -> None:
    """Assert that rendering ``html`` in a real browser runs no script.

    The page hooks ``alert``/``confirm``/``prompt``/``print`` in every frame,
    fires every event handler and clicks links and buttons; any call fails
    the assertion. Use payloads that call ``alert(1)`` (securekit's corpora
    and strategies do).

    Args:
        html: an HTML fragment (placed in ``<body>``) or a full document,
            such as your endpoint's response body.
        detector: a running browser (the ``script_detector`` fixture); by
            default one shared browser per process.
        fallback: ``"static"`` (default) or ``"skip"`` when Chromium is
            missing locally; under ``CI=true`` a missing browser fails.

    Raises:
        AssertionError: script ran (or could run, in the static fallback).
    """
    if not isinstance(html, str):
        raise TypeError("html must be a str")
    assert_no_script_runs_in_any({"html": html}, detector=detector, fallback=fallback)


def _header_pairs(source: object) -> list[tuple[str, str]]:
    """Every (name, value) pair, keeping repeated headers such as Set-Cookie."""
    headers: Any = getattr(source, "headers", source)
    if hasattr(headers, "multi_items"):  # httpx.Headers
        pairs = list(headers.multi_items())
    elif hasattr(headers, "getlist") and hasattr(headers, "keys"):  # werkzeug, starlette
        pairs = [(name, value) for name in dict.fromkeys(headers.keys())
                 for value in headers.getlist(name)]  # fmt: skip
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    elif isinstance(headers, Iterable) and not isinstance(headers, str | bytes):
        pairs = list(headers)
    else:
        raise TypeError("pass a response with .headers, a mapping or (name, value) pairs")
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError("headers must be (name, value) pairs")
        name, value = pair
        out.append((_text(name), _text(value)))
    return out


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    raise TypeError("header names and values must be str or bytes")


def _cookie_findings(value: str, *, https: bool) -> list[Finding]:
    name = value.split("=", 1)[0].strip()
    attributes = {}
    for part in value.split(";")[1:]:
        key, _, attr_value = part.strip().partition("=")
        attributes[key.strip().lower()] = attr_value.strip()
    header = f"Set-Cookie {name}"
    found: list[Finding] = []

    def add(code: str, message: str, *, ok: bool) -> None:
        found.append(Finding(header=header, ok=ok, code=code, message=message))

    if https:
        add("cookie_secure", "Secure is missing", ok="secure" in attributes)
    add("cookie_httponly", "HttpOnly is missing", ok="httponly" in attributes)
    same_site = attributes.get("samesite", "").lower()
    add("cookie_samesite", "SameSite should be Lax or Strict", ok=same_site in ("lax", "strict"))
    if name.startswith("__Host-"):
        # RFC 6265bis section 4.1.3.2: Secure, Path=/ and no Domain.
        ok = "secure" in attributes and attributes.get("path") == "/"
        ok = ok and "domain" not in attributes
        add("cookie_host_prefix", "__Host- needs Secure, Path=/ and no Domain", ok=ok)
    return found


def assert_secure_headers(
    response_or_headers: object,
    *,
    https: bool = True,
    ignore: Collection[str] = (),
) -> list[Finding]:
    """Assert that a response carries securekit's security header baseline.

    Checks HSTS (``https`` only), the CSP (scripts by nonce or hash, no
    ``'unsafe-inline'``/``'unsafe-eval'``, ``object-src``, ``base-uri``,
    ``frame-ancestors``), ``nosniff``, ``Referrer-Policy``, COOP, CORP,
    ``Permissions-Policy`` (:func:`securekit.headers.audit_headers`), no
    ``X-Powered-By``, and every ``Set-Cookie``: ``Secure`` (``https``
    only), ``HttpOnly``, ``SameSite=Lax|Strict``, and the ``__Host-`` rules.

    Args:
        response_or_headers: a response object with ``.headers`` (httpx,
            requests, Starlette, Werkzeug/Flask, Django) or the headers
            themselves (a mapping or ``(name, value)`` pairs).
        https: the site is served over HTTPS (checks HSTS and ``Secure``).
        ignore: finding codes to accept (``"cookie_httponly"`` for a cookie
            scripts must read); each is a documented weakening of the baseline.

    Returns:
        Every finding, passed ones included.

    Raises:
        AssertionError: a check failed; the message lists every failure
            (cookie values are never shown).
        TypeError: the argument holds no headers.
    """
    if isinstance(ignore, str):
        raise TypeError("ignore must be a collection of finding codes, not a str")
    pairs = _header_pairs(response_or_headers)
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name.lower(), value)
    findings = [f for f in audit_headers(first) if https or not f.code.startswith("hsts")]
    if "x-powered-by" in first:
        findings.append(
            Finding(
                header="X-Powered-By",
                ok=False,
                code="x_powered_by",
                message="X-Powered-By advertises the stack",
            )
        )
    for name, value in pairs:
        if name.lower() == "set-cookie":
            findings.extend(_cookie_findings(value, https=https))
    failed = [f for f in findings if not f.ok and f.code not in ignore]
    if failed:
        lines = "\n".join(f"  {f.header}: {f.code}: {f.message}" for f in failed)
        raise AssertionError("insecure response headers:\n" + lines)
    return findings
