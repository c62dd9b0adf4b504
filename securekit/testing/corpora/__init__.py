"""Attack corpora as data: XSS payloads and redirect-target cases.

``xss.json`` holds payloads across vector classes (script tags, event
handlers, obfuscated URLs, SVG/MathML namespace confusion, mutation XSS,
containers such as noscript/template/srcdoc, meta refresh, base href, form
actions, CSS, unclosed tags, attribute tricks). Each calls ``alert(1)``, which
:class:`securekit.testing.browser.ScriptDetector` hooks. ``raw_executes``
records whether the payload, unsanitized, ran script in headless Chromium.

``redirects.json`` holds redirect targets with the expected answer of
:func:`securekit.urls.is_safe_redirect`, legitimate ones included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

__all__ = ["RedirectCase", "XSSPayload", "redirect_cases", "xss_payloads"]


@dataclass(frozen=True, slots=True, kw_only=True)
class XSSPayload:
    """One XSS payload.

    Attributes:
        id: a stable identifier (``category-NNN``).
        category: the vector class.
        payload: the HTML; it calls ``alert(1)`` when it runs.
        raw_executes: whether it ran unsanitized in headless Chromium.
    """

    id: str
    category: str
    payload: str
    raw_executes: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RedirectCase:
    """One redirect target and whether it is safe for ``allowed_hosts``."""

    url: str
    allowed_hosts: tuple[str, ...]
    require_https: bool
    safe: bool
    note: str


def _load(name: str) -> dict[str, object]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def xss_payloads() -> list[XSSPayload]:
    """Return the XSS payload corpus."""
    items = _load("xss.json")["payloads"]
    if not isinstance(items, list):  # pragma: no cover - shipped data
        raise TypeError("xss.json is malformed")
    return [
        XSSPayload(
            id=item["id"],
            category=item["category"],
            payload=item["payload"],
            raw_executes=bool(item["raw_executes"]),
        )
        for item in items
    ]


def redirect_cases() -> list[RedirectCase]:
    """Return the redirect-target table."""
    items = _load("redirects.json")["cases"]
    if not isinstance(items, list):  # pragma: no cover - shipped data
        raise TypeError("redirects.json is malformed")
    return [
        RedirectCase(
            url=item["url"],
            allowed_hosts=tuple(item["allowed_hosts"]),
            require_https=bool(item["require_https"]),
            safe=bool(item["safe"]),
            note=item["note"],
        )
        for item in items
    ]
