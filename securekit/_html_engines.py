"""Sanitizer engines behind :class:`securekit.html.Policy` (private).

Each engine compiles a policy once (a reusable cleaner) and then cleans
strings. The nh3 engine is the default; bleach is optional and imported only
when asked for. Both receive the *same* allowlists, so a policy means the same
thing on either engine; ``tests/test_html_engines.py`` checks that over the
XSS corpus.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import nh3

from securekit.errors import ConfigurationError

if TYPE_CHECKING:
    from securekit.html import Policy

__all__ = [
    "URL_ATTRIBUTES",
    "BleachEngine",
    "Engine",
    "Nh3Engine",
    "build_engine",
    "https_image_filter",
    "url_allowed",
]

#: Tags whose *content* is dropped along with the tag: their text is code or
#: styling, never prose (ammonia's own default set, made explicit).
CLEAN_CONTENT_TAGS: Final = frozenset({"script", "style"})


class Engine(Protocol):
    """A compiled sanitizer: one call cleans one document."""

    name: str

    def clean(self, html: str) -> str:
        """Return the sanitized form of ``html``."""
        ...  # pragma: no cover - protocol


#: Attributes whose value is a URL a browser may fetch or navigate to (HTML
#: Living Standard attribute index). ammonia checks the scheme of ``href``
#: and ``src`` everywhere but of the others only on some elements (``cite``
#: never), so the policy's scheme allowlist is applied to all of them here.
URL_ATTRIBUTES: Final = frozenset(
    {
        "action", "background", "cite", "codebase", "data", "formaction", "href", "icon",
        "longdesc", "manifest", "ping", "poster", "profile", "src",
    }
)  # fmt: skip

#: The URL attributes whose scheme ammonia does not check on every element.
NH3_UNCHECKED_URL_ATTRIBUTES: Final = URL_ATTRIBUTES - {"href", "src"}

# WHATWG URL parsing: leading/trailing C0 controls and spaces are stripped,
# tabs and newlines anywhere are removed before the scheme is read.
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_URL_REMOVE: Final = {0x09: None, 0x0A: None, 0x0D: None}
_SCHEME_PREFIX_RE: Final = re.compile(r"([^:/?#]*):")
_VALID_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def url_allowed(value: str, schemes: frozenset[str]) -> bool:
    """True if ``value`` is relative or its scheme, read as a browser reads it, is allowed.

    bleach hands attribute values over with character references still in
    them (``&#x6a;avascript:``) and writes them out as they were, so the
    browser decodes them later: the value is checked decoded as well.
    """
    decoded = html.unescape(value) if "&" in value else value
    return _scheme_allowed(value, schemes) and _scheme_allowed(decoded, schemes)


def _scheme_allowed(value: str, schemes: frozenset[str]) -> bool:
    url = value.translate(_URL_REMOVE).strip(_URL_STRIP)
    if _CONTROL_RE.search(url):
        return False
    match = _SCHEME_PREFIX_RE.match(url)
    if match is None:
        return True
    scheme = match.group(1)
    return bool(_VALID_SCHEME_RE.fullmatch(scheme)) and scheme.lower() in schemes


def _attribute_filter(policy: Policy) -> Callable[[str, str, str], str | None] | None:
    """The per-attribute check both engines run, or None when nothing needs it."""
    allowed = {name for names in policy.attributes.values() for name in names}
    check_urls = bool(allowed & URL_ATTRIBUTES)
    https_only = policy.https_images_only
    if not check_urls and not https_only:
        return None
    schemes = frozenset(policy.url_schemes)

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES and not url_allowed(value, schemes):
            return None
        if https_only:
            return https_image_filter(tag, attribute, value)
        return value

    return attribute_filter


def https_image_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep ``<img src>`` only when it is an absolute ``https:`` URL.

    The engines' scheme allowlist is global (it covers ``href`` and ``src``
    alike); rich content narrows images further so that a post cannot load
    mixed content or track readers over plain http.
    """
    if tag == "img" and attribute == "src":
        return value if value[:8].lower() == "https://" else None
    return value


class Nh3Engine:
    """The default engine: nh3 (ammonia, html5ever parser)."""

    name = "nh3"

    def __init__(self, policy: Policy) -> None:
        options: dict[str, Any] = {
            "tags": set(policy.tags),
            "clean_content_tags": set(CLEAN_CONTENT_TAGS - frozenset(policy.tags)),
            # "*" always given: without it ammonia keeps its default generic
            # attributes (lang, title) on every tag, outside the policy.
            "attributes": {"*": set()}
            | {tag: set(attrs) for tag, attrs in policy.attributes.items()},
            "url_schemes": set(policy.url_schemes),
            "strip_comments": True,
            "link_rel": policy.link_rel,
        }
        attribute_filter = _attribute_filter(policy)
        allowed = {name for names in policy.attributes.values() for name in names}
        unchecked = allowed & NH3_UNCHECKED_URL_ATTRIBUTES
        self._checked: nh3.Cleaner | None = None
        self._markers: tuple[str, ...] = ()
        if attribute_filter is not None and (policy.https_images_only or not unchecked):
            options["attribute_filter"] = attribute_filter
        elif attribute_filter is not None:
            # A Python callback per attribute costs nh3 1.5-2x its speed, and
            # ammonia already checks href/src. So the plain cleaner runs
            # first, and the input is cleaned again with the callback only
            # when its output holds an attribute ammonia leaves unchecked
            # (html5ever writes every attribute as ` name="`; text that merely
            # looks like one just takes the slow path).
            self._checked = nh3.Cleaner(**options, attribute_filter=attribute_filter)
            self._markers = tuple(f' {name}="' for name in sorted(unchecked))
        self._cleaner = nh3.Cleaner(**options)

    def clean(self, html: str) -> str:
        """Return the sanitized form of ``html``."""
        if self._checked is None:
            return self._cleaner.clean(html)
        # Input already in html5ever's form (the confirming pass over our
        # own output) goes straight to the checked cleaner.
        if any(marker in html for marker in self._markers):
            return self._checked.clean(html)
        out = self._cleaner.clean(html)
        if any(marker in out for marker in self._markers):
            return self._checked.clean(html)
        return out


class BleachEngine:
    """The optional engine for applications migrating from bleach.

    bleach 6.4.0 is its final release (unmaintained, no more security fixes),
    which is why it is not the default. Its deprecation warnings are filtered
    here, at the one place that imports it, so ``-W error`` applications can
    still choose it deliberately.
    """

    name = "bleach"

    def __init__(self, policy: Policy) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                import bleach.sanitizer  # noqa: PLC0415 - optional dependency
                from bleach._vendor.html5lib.filters.base import Filter  # noqa: PLC0415
        except ImportError:
            raise ConfigurationError(
                'engine="bleach" needs the bleach extra: pip install "securekit[bleach]"'
            ) from None

        rel = policy.link_rel
        attribute_filter = _attribute_filter(policy)
        allowed = {tag: frozenset(attrs) for tag, attrs in policy.attributes.items()}
        generic = allowed.get("*", frozenset())

        def attribute_allowed(tag: str, name: str, value: str) -> bool:
            if name not in allowed.get(tag, frozenset()) and name not in generic:
                return False
            if attribute_filter is not None and attribute_filter(tag, name, value) is None:
                return False
            # rel is always set by the filter below, as nh3 does.
            return not (tag == "a" and name == "rel" and rel is not None)

        class _LinkRel(Filter):  # type: ignore[misc]
            def __iter__(self) -> Iterator[dict[str, Any]]:
                for token in super().__iter__():
                    if (
                        rel is not None
                        and token.get("type") in {"StartTag", "EmptyTag"}
                        and token.get("name") == "a"
                    ):
                        data = dict(token.get("data") or {})
                        data[(None, "rel")] = rel
                        yield {**token, "data": data}
                        continue
                    yield token

        self._cleaner = bleach.sanitizer.Cleaner(
            tags=set(policy.tags),
            attributes=attribute_allowed,
            protocols=set(policy.url_schemes),
            strip=True,
            strip_comments=True,
            filters=[_LinkRel],
        )
        self._drop_content = CLEAN_CONTENT_TAGS - frozenset(policy.tags)

    def clean(self, html: str) -> str:
        """Return the sanitized form of ``html``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            result: str = self._cleaner.clean(_drop_content(html, self._drop_content))
        return result


def _drop_content(html: str, tags: frozenset[str]) -> str:
    """Remove script/style elements with their content before bleach runs.

    bleach's ``strip=True`` keeps the text inside a stripped ``<script>``;
    nh3 drops it. Doing the same here keeps the engines' meaning aligned. The
    html5lib tree walker finds the elements exactly as a browser would.
    """
    if not tags:
        return html
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from bleach._vendor import html5lib  # noqa: PLC0415 - optional (bleach)

    fragment = html5lib.parseFragment(html, namespaceHTMLElements=False)
    removed = False
    for parent in list(fragment.iter()):
        previous = None
        for child in list(parent):
            if not (isinstance(child.tag, str) and child.tag in tags):
                previous = child
                continue
            # Keep the text that followed the removed element.
            tail = child.tail or ""
            parent.remove(child)
            removed = True
            if previous is None:
                parent.text = (parent.text or "") + tail
            else:
                previous.tail = (previous.tail or "") + tail
    if not removed:
        return html
    walker = html5lib.getTreeWalker("etree")
    serializer = html5lib.serializer.HTMLSerializer(
        quote_attr_values="always", omit_optional_tags=False, resolve_entities=False
    )
    return str(serializer.render(walker(fragment)))


ENGINES: Final[Mapping[str, Callable[[Policy], Engine]]] = {
    "nh3": Nh3Engine,
    "bleach": BleachEngine,
}


def build_engine(name: str, policy: Policy) -> Engine:
    """Compile ``policy`` for the engine called ``name``."""
    return ENGINES[name](policy)
