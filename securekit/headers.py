"""Security response headers: a strict preset, a CSP builder and linter.

:class:`SecurityHeaders` renders the whole preset for one response, with a
fresh CSP nonce per request::

    headers = SecurityHeaders()
    rendered = headers.render()          # new nonce each call
    response.headers.update(rendered.headers)
    template.render(csp_nonce=rendered.nonce)

:class:`ContentSecurityPolicy` builds a policy and refuses the sources that
defeat it (``'unsafe-inline'``, ``'unsafe-eval'``, wildcards, ``data:``) in
script sources unless an ``insecure_*`` argument says so. :func:`lint_csp`
reviews an existing header value, :func:`audit_headers` grades a response,
and :func:`parse_csp_reports` reads violation reports.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from securekit.errors import (
    ConfigurationError,
    InputReason,
    InputValidationError,
    InsecureConfigurationWarning,
)

__all__ = [
    "DEFAULT_PERMISSIONS_POLICY",
    "DEFAULT_REFERRER_POLICY",
    "HSTS_MAX_AGE",
    "MAX_REPORT_BYTES",
    "MIN_HSTS_MAX_AGE",
    "NONCE_BYTES",
    "CSPViolation",
    "ContentSecurityPolicy",
    "Finding",
    "RenderedHeaders",
    "SecurityHeaders",
    "audit_headers",
    "generate_nonce",
    "lint_csp",
    "parse_csp_reports",
]

#: Two years, the value hstspreload.org requires (RFC 6797 section 6.1.1).
HSTS_MAX_AGE: Final = 63_072_000
#: One year: the shortest max-age the preset accepts (hstspreload.org minimum).
MIN_HSTS_MAX_AGE: Final = 31_536_000
#: 128-bit nonces (CSP Level 3 section 7.2 asks for at least 128 bits).
NONCE_BYTES: Final = 16
#: OWASP HTTP Headers Cheat Sheet recommendation.
DEFAULT_REFERRER_POLICY: Final = "strict-origin-when-cross-origin"
#: Powerful features off for every origin, ours included (OWASP HTTP Headers
#: Cheat Sheet); allow what a page needs through ``permissions_policy``.
DEFAULT_PERMISSIONS_POLICY: Final = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "publickey-credentials-get=(), usb=(), interest-cohort=()"
)
#: Largest CSP report body parsed (reports are small; anything bigger is abuse).
MAX_REPORT_BYTES: Final = 64 * 1024

_SCRIPT_DIRECTIVES: Final = frozenset(
    {"script-src", "script-src-elem", "script-src-attr", "default-src"}
)
_FETCH_DIRECTIVES: Final = frozenset(
    {
        "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src",
        "style-src-elem", "style-src-attr", "img-src", "connect-src", "font-src",
        "object-src", "media-src", "frame-src", "child-src", "worker-src", "manifest-src",
    }
)  # fmt: skip
_OTHER_DIRECTIVES: Final = frozenset(
    {"base-uri", "form-action", "frame-ancestors", "sandbox", "report-uri", "report-to"}
)
_FLAG_DIRECTIVES: Final = frozenset({"upgrade-insecure-requests"})
_KEYWORDS: Final = frozenset(
    {
        "'self'", "'none'", "'strict-dynamic'", "'unsafe-inline'", "'unsafe-eval'",
        "'unsafe-hashes'", "'wasm-unsafe-eval'", "'report-sample'", "'inline-speculation-rules'",
    }
)  # fmt: skip
# A source expression (CSP3 section 2.3.1), restricted to printable ASCII
# without ";" and "," so that a value can never inject a directive or policy.
_SOURCE_RE: Final = re.compile(r"[!-+\--:<-~]+")
_NONCE_RE: Final = re.compile(r"[A-Za-z0-9+/_-]{22,}={0,2}")
_HASH_RE: Final = re.compile(r"'sha(256|384|512)-[A-Za-z0-9+/_-]+={0,2}'")


def generate_nonce() -> str:
    """Return a fresh 128-bit CSP nonce (base64, from ``secrets``)."""
    return base64.b64encode(secrets.token_bytes(NONCE_BYTES)).decode("ascii")


def _script_problems(source: str) -> str | None:
    lowered = source.lower()
    if lowered in ("'unsafe-inline'", "'unsafe-hashes'"):
        return "unsafe_inline"
    if lowered == "'unsafe-eval'":
        return "unsafe_eval"
    if lowered in ("data:", "blob:", "filesystem:"):
        return "data"
    if "*" in lowered or lowered in ("http:", "https:", "ws:", "wss:"):
        return "wildcard"
    return None


class ContentSecurityPolicy:
    """A strict, nonce-based Content-Security-Policy (CSP Level 3).

    The default is the "strict CSP" recommended by web.dev and OWASP: scripts
    run only with this response's nonce, ``'strict-dynamic'`` lets them load
    further scripts, and ``object-src``, ``base-uri`` and ``frame-ancestors``
    are ``'none'``. Sources are checked once, here.

    Args:
        directives: extra or replacement directives, e.g.
            ``{"img-src": ["'self'", "https://cdn.example"]}``. The nonce is
            always added to ``script-src``.
        strict_dynamic: add ``'strict-dynamic'`` to ``script-src``.
        report_uri: where browsers POST violation reports (``report-uri``).
        report_to: a Reporting API group name (``report-to``).
        report_only: send as ``Content-Security-Policy-Report-Only``.
        insecure_unsafe_inline: allow ``'unsafe-inline'``/``'unsafe-hashes'``
            in script sources. **Danger:** inline event handlers run again.
        insecure_unsafe_eval: allow ``'unsafe-eval'`` in script sources.
            **Danger:** strings become code (``eval``, ``setTimeout("...")``).
        insecure_wildcard_sources: allow ``*``, ``https:`` and host wildcards
            in script sources. **Danger:** any host can serve your scripts.
        insecure_data_sources: allow ``data:``/``blob:`` in script sources.
            **Danger:** an attacker's markup can carry its own script.

    Raises:
        ConfigurationError: an unknown directive, a source with ``;``, ``,``
            or whitespace, or a refused script source.
    """

    def __init__(
        self,
        *,
        directives: Mapping[str, Sequence[str]] | None = None,
        strict_dynamic: bool = True,
        report_uri: str | None = None,
        report_to: str | None = None,
        report_only: bool = False,
        insecure_unsafe_inline: bool = False,
        insecure_unsafe_eval: bool = False,
        insecure_wildcard_sources: bool = False,
        insecure_data_sources: bool = False,
    ) -> None:
        merged: dict[str, tuple[str, ...]] = {
            "script-src": ("'strict-dynamic'",) if strict_dynamic else ("'self'",),
            "object-src": ("'none'",),
            "base-uri": ("'none'",),
            "frame-ancestors": ("'none'",),
            "form-action": ("'self'",),
        }
        for name, sources in (directives or {}).items():
            if not isinstance(name, str) or isinstance(sources, str):
                raise ConfigurationError("directives maps a directive name to a list of sources")
            key = name.lower()
            if key not in _FETCH_DIRECTIVES | _OTHER_DIRECTIVES | _FLAG_DIRECTIVES:
                raise ConfigurationError(f"unknown CSP directive {name!r}")
            merged[key] = tuple(sources)
        if report_uri is not None:
            merged["report-uri"] = (report_uri,)
        if report_to is not None:
            merged["report-to"] = (report_to,)
        allowed = {
            "unsafe_inline": insecure_unsafe_inline,
            "unsafe_eval": insecure_unsafe_eval,
            "wildcard": insecure_wildcard_sources,
            "data": insecure_data_sources,
        }
        for name, sources in merged.items():
            for source in sources:
                if not isinstance(source, str) or not _SOURCE_RE.fullmatch(source):
                    raise ConfigurationError(
                        f"CSP source {source!r} in {name} is not a single source expression"
                    )
                problem = _script_problems(source) if name in _SCRIPT_DIRECTIVES else None
                if problem is not None and not allowed[problem]:
                    raise ConfigurationError(
                        f"{source} in {name} defeats the CSP; pass insecure_{_SWITCH[problem]}"
                        "=True only if you accept that"
                    )
        for problem, enabled in allowed.items():
            if enabled:
                warnings.warn(
                    f"ContentSecurityPolicy(insecure_{_SWITCH[problem]}=True) weakens the CSP",
                    InsecureConfigurationWarning,
                    stacklevel=2,
                )
        self.directives: Mapping[str, tuple[str, ...]] = dict(merged)
        self.report_only = report_only

    @property
    def header_name(self) -> str:
        """``Content-Security-Policy`` or its ``-Report-Only`` variant."""
        if self.report_only:
            return "Content-Security-Policy-Report-Only"
        return "Content-Security-Policy"

    def value(self, *, nonce: str | None) -> str:
        """Render the header value, adding ``'nonce-...'`` to ``script-src``.

        Args:
            nonce: this response's nonce (:func:`generate_nonce`); ``None``
                only for a policy without inline scripts.

        Raises:
            ConfigurationError: the nonce is not base64 of at least 128 bits.
        """
        parts: list[str] = []
        for name, sources in self.directives.items():
            values = list(sources)
            if name == "script-src" and nonce is not None:
                if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
                    raise ConfigurationError("nonce must be base64 of at least 16 random bytes")
                values.insert(0, f"'nonce-{nonce}'")
            parts.append(" ".join([name, *values]) if values else name)
        return "; ".join(parts)


_SWITCH: Final = {
    "unsafe_inline": "unsafe_inline",
    "unsafe_eval": "unsafe_eval",
    "wildcard": "wildcard_sources",
    "data": "data_sources",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedHeaders:
    """The headers of one response and the nonce its inline scripts must carry.

    Attributes:
        headers: header name -> value.
        nonce: put it on every ``<script nonce="...">`` of the page.
    """

    headers: Mapping[str, str]
    nonce: str


class SecurityHeaders:
    """The secure headers preset, configured once, rendered per response.

    Args:
        csp: the policy (default: :class:`ContentSecurityPolicy()`).
        hsts_max_age: HSTS lifetime in seconds (at least one year).
        hsts_include_subdomains: add ``includeSubDomains``.
        hsts_preload: add ``preload`` (submit to hstspreload.org yourself).
        referrer_policy: ``Referrer-Policy`` value.
        permissions_policy: ``Permissions-Policy`` value.
        cross_origin_opener_policy: ``Cross-Origin-Opener-Policy`` value.
        cross_origin_resource_policy: ``Cross-Origin-Resource-Policy`` value.
        insecure_short_hsts: allow ``hsts_max_age`` under one year (0 turns
            HSTS off). **Danger:** browsers fall back to plain http sooner.

    Raises:
        ConfigurationError: a header value with control characters, or a
            short HSTS lifetime without ``insecure_short_hsts``.
    """

    def __init__(
        self,
        *,
        csp: ContentSecurityPolicy | None = None,
        hsts_max_age: int = HSTS_MAX_AGE,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        referrer_policy: str = DEFAULT_REFERRER_POLICY,
        permissions_policy: str = DEFAULT_PERMISSIONS_POLICY,
        cross_origin_opener_policy: str = "same-origin",
        cross_origin_resource_policy: str = "same-origin",
        insecure_short_hsts: bool = False,
    ) -> None:
        if type(hsts_max_age) is not int or hsts_max_age < 0:
            raise ConfigurationError("hsts_max_age must be a non-negative int of seconds")
        if insecure_short_hsts:
            warnings.warn(
                "SecurityHeaders(insecure_short_hsts=True) weakens HSTS",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
        elif hsts_max_age < MIN_HSTS_MAX_AGE:
            raise ConfigurationError(
                "hsts_max_age under one year; pass insecure_short_hsts=True to accept that"
            )
        if hsts_preload and (hsts_max_age < MIN_HSTS_MAX_AGE or not hsts_include_subdomains):
            raise ConfigurationError("preload needs max-age >= 1 year and includeSubDomains")
        self.csp = csp if csp is not None else ContentSecurityPolicy()
        static: dict[str, str] = {}
        if hsts_max_age > 0:
            hsts = f"max-age={hsts_max_age}"
            if hsts_include_subdomains:
                hsts += "; includeSubDomains"
            if hsts_preload:
                hsts += "; preload"
            static["Strict-Transport-Security"] = hsts
        static.update(
            {
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": referrer_policy,
                "Permissions-Policy": permissions_policy,
                "Cross-Origin-Opener-Policy": cross_origin_opener_policy,
                "Cross-Origin-Resource-Policy": cross_origin_resource_policy,
                # Legacy browsers only; CSP frame-ancestors is the real control.
                "X-Frame-Options": "DENY",
            }
        )
        for name, value in static.items():
            if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
                raise ConfigurationError(f"{name} must be a str without CR, LF or NUL")
        self._static = static

    def render(self, *, nonce: str | None = None) -> RenderedHeaders:
        """Return this response's headers with a fresh nonce (or ``nonce``)."""
        used = generate_nonce() if nonce is None else nonce
        headers = dict(self._static)
        headers[self.csp.header_name] = self.csp.value(nonce=used)
        return RenderedHeaders(headers=headers, nonce=used)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One result of :func:`lint_csp` or :func:`audit_headers`.

    Attributes:
        header: the header concerned.
        ok: True when the check passed.
        code: a stable identifier (``csp_unsafe_inline``, ``hsts_missing``...).
        message: a short explanation for people.
    """

    header: str
    ok: bool
    code: str
    message: str


def _parse_policy(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    # Only the first policy of a comma-separated list is read; CSP3 enforces
    # all of them, so reading one can only under-report strictness.
    for part in value.split(",", 1)[0].split(";"):
        tokens = part.split()
        if tokens:
            # CSP3 section 2.2.1: a repeated directive is ignored.
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def lint_csp(value: str) -> list[Finding]:
    """Review a Content-Security-Policy header value.

    Checks that scripts are restricted (``script-src`` or ``default-src``)
    without ``'unsafe-inline'`` (unless a nonce or hash with
    ``'strict-dynamic'`` makes browsers ignore it), ``'unsafe-eval'``,
    wildcards or ``data:``; and that ``object-src``, ``base-uri`` and
    ``frame-ancestors`` are set.

    Returns:
        Every finding, passed and failed (``ok``).
    """
    if not isinstance(value, str):
        raise TypeError("value must be a str")
    header = "Content-Security-Policy"
    found: list[Finding] = []
    directives = _parse_policy(value[:16384])
    script = directives.get("script-src", directives.get("default-src"))
    if script is None:
        message = "no script-src or default-src: any script may run"
        found.append(Finding(header=header, ok=False, code="csp_no_script_src", message=message))
        script = []
    lowered = [s.lower() for s in script]
    has_nonce_or_hash = any(s.startswith(("'nonce-", "'sha")) for s in lowered)
    checks = (
        ("csp_unsafe_inline", "'unsafe-inline'" in lowered and not has_nonce_or_hash,
         "'unsafe-inline' lets injected inline scripts run"),
        ("csp_unsafe_eval", "'unsafe-eval'" in lowered, "'unsafe-eval' turns strings into code"),
        ("csp_wildcard", any(_script_problems(s) == "wildcard" for s in lowered),
         "a wildcard or bare scheme lets any host serve scripts"),
        ("csp_data", any(_script_problems(s) == "data" for s in lowered),
         "data:/blob: script sources let markup carry its own script"),
        ("csp_no_nonce", not has_nonce_or_hash and "'none'" not in lowered,
         "scripts are allowlisted by host, not by nonce or hash (bypassable)"),
    )  # fmt: skip
    for code, failed, message in checks:
        found.append(Finding(header=header, ok=not failed, code=code,
                             message=message if failed else f"ok: {code[4:]}"))  # fmt: skip
    for name in ("object-src", "base-uri", "frame-ancestors"):
        sources = directives.get(name)
        if name == "object-src" and sources is None:
            sources = directives.get("default-src")
        ok = sources is not None and [s.lower() for s in sources] in (["'none'"], ["'self'"])
        code = f"csp_{name.replace('-', '_')}"
        message = f"{name} is restricted" if ok else f"set {name} 'none'"
        found.append(Finding(header=header, ok=ok, code=code, message=message))
    return found


def audit_headers(headers: Mapping[str, str]) -> list[Finding]:
    """Grade a response's security headers against the preset.

    Args:
        headers: the response headers (names compare case-insensitively).

    Returns:
        Every finding, passed and failed.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    found: list[Finding] = []

    def add(header: str, code: str, message: str, *, ok: bool) -> None:
        found.append(Finding(header=header, ok=ok, code=code, message=message))

    hsts = lowered.get("strict-transport-security")
    max_age = re.search(r"max-age\s*=\s*\"?(\d{1,12})", hsts or "", re.IGNORECASE)
    if max_age is None:
        add("Strict-Transport-Security", "hsts_missing", "HSTS is missing", ok=False)
    else:
        long_enough = int(max_age.group(1)) >= MIN_HSTS_MAX_AGE
        message = "max-age is at least one year" if long_enough else "max-age is under a year"
        add("Strict-Transport-Security", "hsts_max_age", message, ok=long_enough)
    csp = lowered.get("content-security-policy")
    if csp is None:
        report_only = "content-security-policy-report-only" in lowered
        message = "only a report-only CSP is sent" if report_only else "no CSP"
        add("Content-Security-Policy", "csp_missing", message, ok=False)
    else:
        found.extend(lint_csp(csp))
    expected = (
        ("X-Content-Type-Options", "nosniff", "nosniff"),
        ("Referrer-Policy", "referrer_policy", None),
        ("Cross-Origin-Opener-Policy", "coop", "same-origin"),
        ("Cross-Origin-Resource-Policy", "corp", None),
        ("Permissions-Policy", "permissions_policy", None),
    )
    for name, code, wanted in expected:
        value = lowered.get(name.lower())
        if value is None:
            add(name, f"{code}_missing", f"{name} is missing", ok=False)
        elif wanted is not None and value.strip().lower() != wanted:
            add(name, code, f"{name} should be {wanted}", ok=False)
        elif name == "Referrer-Policy" and value.strip().lower() in (
            "unsafe-url",
            "no-referrer-when-downgrade",
        ):
            add(name, code, "this Referrer-Policy leaks full URLs cross-origin", ok=False)
        else:
            add(name, code, f"{name} is set", ok=True)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class CSPViolation:
    """One CSP violation report, normalized from either report format.

    Strings come from the browser (or an attacker posing as one): log them,
    never render them as HTML. Each is cut to 2048 characters.
    """

    document_uri: str
    blocked_uri: str
    effective_directive: str
    disposition: str
    source_file: str
    line_number: int | None
    sample: str


_MAX_FIELD: Final = 2048
_MAX_REPORTS: Final = 100


def _field(body: Mapping[str, object], *names: str) -> str:
    for name in names:
        value = body.get(name)
        if isinstance(value, str):
            return value[:_MAX_FIELD]
    return ""


def _number(body: Mapping[str, object], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if type(value) is int and 0 <= value < 1 << 31:
            return value
    return None


def parse_csp_reports(body: bytes, *, content_type: str) -> list[CSPViolation]:
    """Parse a CSP report request body (``report-uri`` or Reporting API).

    Accepts ``application/csp-report`` (one ``{"csp-report": {...}}``) and
    ``application/reports+json`` (a list of ``{"type": "csp-violation",
    "body": {...}}``; other report types are skipped).

    Args:
        body: the raw request body, checked for size before parsing.
        content_type: the request's Content-Type header.

    Raises:
        InputValidationError: too large (``too_large``), not JSON
            (``invalid_json``), nesting too deep (``too_deep``), or the wrong
            shape or content type (``bad_format``).
    """
    if not isinstance(body, bytes) or not isinstance(content_type, str):
        raise TypeError("body must be bytes and content_type a str")
    if len(body) > MAX_REPORT_BYTES:
        raise InputValidationError(InputReason.TOO_LARGE)
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in ("application/csp-report", "application/reports+json", "application/json"):
        raise InputValidationError(InputReason.BAD_FORMAT)
    try:
        document = json.loads(body)
    except RecursionError:
        raise InputValidationError(InputReason.TOO_DEEP) from None
    except (ValueError, UnicodeError):
        raise InputValidationError(InputReason.INVALID_JSON) from None
    bodies: list[Mapping[str, object]] = []
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        bodies.append(document["csp-report"])
    elif isinstance(document, list) and len(document) <= _MAX_REPORTS:
        for report in document:
            if not isinstance(report, dict):
                raise InputValidationError(InputReason.BAD_FORMAT)
            if report.get("type") == "csp-violation" and isinstance(report.get("body"), dict):
                bodies.append(report["body"])
    else:
        raise InputValidationError(InputReason.BAD_FORMAT)
    return [
        CSPViolation(
            document_uri=_field(b, "documentURL", "document-uri"),
            blocked_uri=_field(b, "blockedURL", "blocked-uri"),
            effective_directive=_field(
                b, "effectiveDirective", "effective-directive", "violated-directive"
            ),
            disposition=_field(b, "disposition") or "enforce",
            source_file=_field(b, "sourceFile", "source-file"),
            line_number=_number(b, "lineNumber", "line-number"),
            sample=_field(b, "sample", "script-sample"),
        )
        for b in bodies
    ]
