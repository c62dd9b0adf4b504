"""HTML output: sanitize untrusted HTML, escape values for each context.

Use :func:`sanitize` for HTML written by users (comments, posts), and the
context escapers for values placed into a template:

==========================  =============================================
context                     escaper
==========================  =============================================
element text                :func:`escape_html`
attribute value             :func:`escape_attribute`
``<script>`` data block     :func:`json_for_script`
JavaScript string literal   :func:`escape_js_string`
URL query component         :func:`escape_url_component`
``href`` / ``src``          :func:`safe_url`
CSS string                  :func:`escape_css_string`
==========================  =============================================

Every function returns :class:`markupsafe.Markup`, so Jinja2 (autoescape on)
inserts the result as it is instead of escaping it a second time.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import quote

import markupsafe
import nh3

from securekit._html_engines import Engine, build_engine
from securekit.errors import ConfigurationError, InputReason, InputValidationError

__all__ = [
    "BASIC",
    "DEFAULT_LINK_REL",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_URL_SCHEMES",
    "PLAIN_TEXT",
    "RICH",
    "EngineName",
    "Policy",
    "escape_attribute",
    "escape_css_string",
    "escape_html",
    "escape_js_string",
    "escape_url_component",
    "jinja_filters",
    "json_for_script",
    "safe_url",
    "sanitize",
]

EngineName = Literal["nh3", "bleach"]

#: ``noopener`` stops the linked page from scripting ours through
#: ``window.opener``; ``noreferrer`` keeps our URLs private; ``nofollow`` takes
#: away the SEO reward for link spam (HTML Living Standard, "Link types").
DEFAULT_LINK_REL: Final = "noopener noreferrer nofollow"

#: URL schemes a user-supplied link may use (OWASP XSS Prevention Cheat Sheet,
#: rule 5: allowlist http/https; mailto is inert).
DEFAULT_URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})

#: Largest input :func:`sanitize` accepts, in characters (OWASP Input
#: Validation Cheat Sheet: bound every input before parsing it).
DEFAULT_MAX_CHARS: Final = 2_000_000

#: Passes before the output must be stable. Engines normally settle after one
#: pass; a second pass confirms it (mutation XSS relies on output that parses
#: differently the second time).
MAX_PASSES: Final = 3

#: Shown instead of a refused URL (the convention of Google Closure's
#: ``about:invalid#zClosurez``): inert, and easy to find in logs.
DEFAULT_URL_FALLBACK: Final = "about:invalid#securekit"

# Tags no policy may allow: they run script, load active content, change how
# the rest of the page parses or is submitted, or switch the parser into the
# SVG/MathML namespaces where sanitizers and browsers disagree (mutation XSS).
_FORBIDDEN_TAGS: Final = frozenset(
    {
        "applet", "base", "basefont", "button", "embed", "form", "frame", "frameset",
        "iframe", "input", "isindex", "keygen", "link", "math", "meta", "noembed",
        "noframes", "noscript", "object", "option", "param", "plaintext", "portal",
        "script", "select", "style", "svg", "template", "textarea", "title", "xmp",
    }
)  # fmt: skip

# Attributes no policy may allow: event handlers are matched by prefix; the
# rest carry script, URLs the engines do not filter, or clobber the DOM.
_FORBIDDEN_ATTRIBUTES: Final = frozenset(
    {
        "action", "background", "dynsrc", "formaction", "id", "is", "lowsrc", "name",
        "ping", "srcdoc", "srcset", "style", "xlink:href", "xmlns",
    }
)  # fmt: skip

_FORBIDDEN_SCHEMES: Final = frozenset(
    {"javascript", "vbscript", "data", "file", "blob", "filesystem", "livescript", "mocha"}
)
_NAME_RE: Final = re.compile(r"[a-z][a-z0-9-]*")
_ATTRIBUTE_RE: Final = re.compile(r"[a-z][a-z0-9-]*")
_SCHEME_RE: Final = re.compile(r"[a-z][a-z0-9+.-]*")
_REL_RE: Final = re.compile(r"[a-z]+( [a-z]+)*")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Policy:
    """What :func:`sanitize` keeps: tags, attributes per tag, URL schemes.

    Everything else is removed: other tags are unwrapped (their text stays,
    except ``<script>``/``<style>`` whose content goes too), other attributes
    and comments are dropped, URLs with other schemes are removed however they
    are obfuscated. Checked once, at construction.

    Attributes:
        tags: allowed element names (lower case).
        attributes: allowed attributes per tag; the key ``"*"`` applies to
            every allowed tag.
        url_schemes: schemes allowed in ``href``/``src``/``cite``; relative
            URLs are always allowed.
        link_rel: the ``rel`` value set on every link (``None`` leaves links
            without one; modern browsers still imply ``noopener`` for
            ``target=_blank``).
        https_images_only: keep ``<img src>`` only for absolute https URLs.
        escape_all: escape the input instead of sanitizing it (plain text).
        max_chars: the largest input accepted, checked before parsing.

    Raises:
        ConfigurationError: a tag, attribute or scheme that can run script
            (``script``, ``svg``, ``on*``, ``style``, ``javascript:``...) or a
            malformed name.
    """

    tags: Collection[str] = frozenset()
    attributes: Mapping[str, Collection[str]] = field(default_factory=dict)
    url_schemes: Collection[str] = DEFAULT_URL_SCHEMES
    link_rel: str | None = DEFAULT_LINK_REL
    https_images_only: bool = False
    escape_all: bool = False
    max_chars: int = DEFAULT_MAX_CHARS

    def __post_init__(self) -> None:
        if isinstance(self.tags, str) or isinstance(self.url_schemes, str):
            raise ConfigurationError("tags and url_schemes must be collections of names")
        tags = frozenset(self.tags)
        for tag in tags:
            if not isinstance(tag, str) or not _NAME_RE.fullmatch(tag):
                raise ConfigurationError(f"tag names must be lower-case HTML names: {tag!r}")
            if tag in _FORBIDDEN_TAGS:
                raise ConfigurationError(f"the <{tag}> tag can run script or active content")
        attributes: dict[str, frozenset[str]] = {}
        for tag, names in self.attributes.items():
            if tag != "*" and tag not in tags:
                raise ConfigurationError(f"attributes given for <{tag}>, which is not allowed")
            if isinstance(names, str):
                raise ConfigurationError(f"attributes of <{tag}> must be a collection of names")
            checked = frozenset(names)
            for name in checked:
                _check_attribute(name, rel_managed=self.link_rel is not None)
            attributes[tag] = checked
        schemes = frozenset(self.url_schemes)
        for scheme in schemes:
            if not isinstance(scheme, str) or not _SCHEME_RE.fullmatch(scheme):
                raise ConfigurationError(f"URL schemes must be lower-case names: {scheme!r}")
            if scheme in _FORBIDDEN_SCHEMES:
                raise ConfigurationError(f"the {scheme}: URL scheme can carry script")
        if self.link_rel is not None and not _REL_RE.fullmatch(self.link_rel):
            raise ConfigurationError("link_rel must be space-separated lower-case link types")
        if type(self.max_chars) is not int or self.max_chars < 1:
            raise ConfigurationError("max_chars must be a positive int")
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "attributes", MappingProxyType(attributes))
        object.__setattr__(self, "url_schemes", schemes)


def _check_attribute(name: str, *, rel_managed: bool) -> None:
    if not isinstance(name, str) or not _ATTRIBUTE_RE.fullmatch(name):
        raise ConfigurationError(f"attribute names must be lower-case HTML names: {name!r}")
    if name.startswith("on") or name in _FORBIDDEN_ATTRIBUTES:
        raise ConfigurationError(f"the {name!r} attribute can run script or clobber the DOM")
    if name == "rel" and rel_managed:
        raise ConfigurationError("rel is set by link_rel; pass link_rel=None to allow it")


_BASIC_TAGS: Final = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre",
        "q", "s", "strong", "sub", "sup", "u", "ul",
    }
)  # fmt: skip
_RICH_TAGS: Final = _BASIC_TAGS | frozenset(
    {
        "caption", "col", "colgroup", "dd", "del", "div", "dl", "dt", "figcaption",
        "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "ins", "kbd", "mark",
        "small", "span", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    }
)  # fmt: skip

#: Escape everything: the input is shown as text, exactly as typed.
PLAIN_TEXT: Final = Policy(escape_all=True)

#: Basic formatting and safe links: the default of :func:`sanitize`.
BASIC: Final = Policy(
    tags=_BASIC_TAGS,
    attributes={"a": {"href", "title"}, "abbr": {"title"}, "blockquote": {"cite"}, "q": {"cite"}},
)

#: Rich content: headings, lists, tables, code, and images from https URLs.
RICH: Final = Policy(
    tags=_RICH_TAGS,
    attributes={
        "a": {"href", "title"},
        "abbr": {"title"},
        "blockquote": {"cite"},
        "q": {"cite"},
        "img": {"src", "alt", "title", "width", "height"},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan", "scope"},
        "col": {"span"},
        "colgroup": {"span"},
        "del": {"cite"},
        "ins": {"cite"},
    },
    https_images_only=True,
)


@functools.lru_cache(maxsize=64)
def _engine(policy: Policy, name: str) -> Engine:
    return build_engine(name, policy)


def _replace_surrogates(text: str) -> str:
    # A lone surrogate cannot be encoded as UTF-8 (the engines' input); it
    # becomes U+FFFD, as a browser decoding the same bytes would show it.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def sanitize(
    untrusted_html: str, *, policy: Policy = BASIC, engine: EngineName = "nh3"
) -> markupsafe.Markup:
    """Return ``untrusted_html`` reduced to what ``policy`` allows.

    The result is a fixed point: sanitizing it again returns it unchanged.
    Each call checks that with a second pass and keeps cleaning (up to
    ``MAX_PASSES``) if the engine's output was not yet stable; output that
    never settles is reduced to escaped text.

    Args:
        untrusted_html: HTML from a user.
        policy: what to keep (:data:`BASIC`, :data:`RICH`, :data:`PLAIN_TEXT`
            or your own :class:`Policy`).
        engine: ``"nh3"`` (default) or ``"bleach"`` (needs
            ``securekit[bleach]``; bleach is unmaintained).

    Returns:
        Safe HTML as :class:`markupsafe.Markup` (a ``str``), so templates do
        not escape it again.

    Raises:
        InputValidationError: the input is longer than ``policy.max_chars``
            (reason ``too_large``).
        TypeError: ``untrusted_html`` is not a ``str``.
        ConfigurationError: ``engine`` is not a known engine name.
    """
    if not isinstance(untrusted_html, str):
        raise TypeError("untrusted_html must be a str")
    if not isinstance(policy, Policy):
        raise TypeError("policy must be a securekit.html.Policy")
    if engine not in ("nh3", "bleach"):
        raise ConfigurationError('engine must be "nh3" or "bleach"')
    if len(untrusted_html) > policy.max_chars:
        raise InputValidationError(InputReason.TOO_LARGE)
    text = str(untrusted_html)
    if policy.escape_all:
        return markupsafe.escape(_replace_surrogates(text))
    return markupsafe.Markup(_fixed_point(_engine(policy, engine), text))  # noqa: S704


def _fixed_point(engine: Engine, text: str) -> str:
    try:
        out = engine.clean(text)
    except UnicodeEncodeError:
        out = engine.clean(_replace_surrogates(text))
    for _ in range(MAX_PASSES - 1):
        again = engine.clean(out)
        if again == out:
            return out
        out = again
    # Never settled: keep only the text, which is stable by construction.
    return nh3.clean(out, tags=set())


def escape_html(text: str) -> markupsafe.Markup:
    """Escape ``text`` for HTML element content (``& < > " '``).

    A :class:`markupsafe.Markup` argument is already safe HTML and is returned
    unchanged, as Jinja2 does.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    return markupsafe.escape(_replace_surrogates(text) if not hasattr(text, "__html__") else text)


# OWASP XSS Prevention Cheat Sheet, rule 2: every ASCII character except
# letters, digits and ",._-" becomes a hex character reference, so the value
# cannot end the attribute whether it is double-quoted, single-quoted or
# unquoted (an unquoted value ends at ASCII whitespace or ">"; only ASCII
# characters can end it). NUL becomes U+FFFD, as the HTML parser reads it.
_ATTRIBUTE_ESCAPES: Final = {
    code: f"&#x{code or 0xFFFD:x};"
    for code in range(0x80)
    if not chr(code).isalnum() and chr(code) not in ",._-"
}
# Markup is already HTML: its character references stay as they are.
_MARKUP_ATTRIBUTE_ESCAPES: Final = {
    k: v for k, v in _ATTRIBUTE_ESCAPES.items() if chr(k) not in "&#;"
}


def escape_attribute(text: str) -> markupsafe.Markup:
    """Escape ``text`` for an attribute value, quoted or not (``title="..."``).

    Every ASCII character except letters, digits and ``,._-`` becomes a
    character reference (``&#x22;``), so the value cannot end the attribute
    in any quoting style, including unquoted (``title=...``). A
    :class:`markupsafe.Markup` argument keeps its character references. Never
    use it for event handlers, ``style`` or URLs (see :func:`safe_url`).
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if hasattr(text, "__html__"):
        return markupsafe.Markup(str(text).translate(_MARKUP_ATTRIBUTE_ESCAPES))  # noqa: S704
    return markupsafe.Markup(_replace_surrogates(text).translate(_ATTRIBUTE_ESCAPES))  # noqa: S704


_JSON_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("'"): "\\u0027",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_for_script(value: object) -> markupsafe.Markup:
    """Serialize ``value`` as JSON safe inside a ``<script>`` element.

    ``<``, ``>``, ``&``, ``'`` and U+2028/U+2029 become ``\\uXXXX`` escapes,
    so the text can neither close the script element (``</script>``), open a
    comment (``<!--``), nor break a pre-ES2019 string literal.

    Not for HTML attributes: the JSON's own ``"`` would end a double-quoted
    attribute. For ``data-*`` attributes pass ``json.dumps(value)`` through
    :func:`escape_attribute` instead.

    Raises:
        InputValidationError: NaN/Infinity (``not_finite``), a circular
            reference (``bad_format``), nesting too deep (``too_deep``) or an
            int with more digits than Python converts (``too_large``).
        TypeError: ``value`` holds something JSON cannot represent.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except RecursionError:
        raise InputValidationError(InputReason.TOO_DEEP) from None
    except ValueError as exc:
        message = str(exc)
        if "ircular" in message:
            reason = InputReason.BAD_FORMAT
        elif "digits" in message:
            # An int past sys.get_int_max_str_digits (CVE-2020-10735 guard).
            reason = InputReason.TOO_LARGE
        else:
            reason = InputReason.NOT_FINITE
        raise InputValidationError(reason) from None
    return markupsafe.Markup(_replace_surrogates(text).translate(_JSON_ESCAPES))  # noqa: S704


_JS_PLAIN: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,._")


def escape_js_string(text: str) -> markupsafe.Markup:
    """Escape ``text`` for the inside of a quoted JavaScript string literal.

    Every character except ASCII letters, digits, space, ``,``, ``.`` and
    ``_`` becomes ``\\xHH`` or ``\\uHHHH`` (OWASP XSS Prevention Cheat Sheet,
    rule 3), so the value cannot end the string, the script element or the
    HTML attribute around it, whichever quote the template uses.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    out: list[str] = []
    for char in text:
        if char in _JS_PLAIN:
            out.append(char)
            continue
        code = ord(char)
        if code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return markupsafe.Markup("".join(out))  # noqa: S704


def escape_url_component(text: str) -> markupsafe.Markup:
    """Percent-encode ``text`` as one URL query (or path) component.

    Everything except ``A-Z a-z 0-9 - _ . ~`` is encoded (RFC 3986 section
    2.3), including ``/ ? & = # +``, so the value cannot add parameters.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    return markupsafe.Markup(quote(_replace_surrogates(text), safe=""))  # noqa: S704


def escape_css_string(text: str) -> markupsafe.Markup:
    """Escape ``text`` for the inside of a quoted CSS string.

    Every character except ASCII letters and digits becomes a 6-digit CSS
    escape (``\\00003c``; CSS Syntax Level 3, section 4.3.7), so the value
    cannot end the string, the declaration, the style element or attribute.
    NUL becomes U+FFFD, as the CSS parser would read it anyway.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    out: list[str] = []
    for char in _replace_surrogates(text):
        if char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append(f"\\{ord(char) or 0xFFFD:06x}")
    return markupsafe.Markup("".join(out))  # noqa: S704


# WHATWG URL: leading/trailing C0 controls and spaces are stripped, tabs and
# newlines anywhere are removed before the scheme is read.
_URL_STRIP: Final = "".join(chr(c) for c in range(0x21))
_URL_REMOVE: Final = {0x09: None, 0x0A: None, 0x0D: None}
_SCHEME_PREFIX_RE: Final = re.compile(r"([^:/?#]*):")
_VALID_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_url(
    href: str,
    *,
    schemes: Collection[str] = DEFAULT_URL_SCHEMES,
    fallback: str = DEFAULT_URL_FALLBACK,
) -> markupsafe.Markup:
    """Return ``href`` escaped for a quoted ``href``/``src`` attribute, or a fallback.

    The scheme is read as a browser reads it (tabs and newlines removed,
    leading controls and spaces stripped). A URL whose scheme is not in
    ``schemes``, or whose text before the first ``:`` is not a valid scheme,
    or that holds control characters, is replaced by ``fallback``. Relative
    URLs are kept. The result is attribute-escaped (``& < > " '``, and a
    space becomes ``%20``, so even an unquoted attribute cannot end early),
    so entity tricks such as ``javascript&#58;`` stay literal text.

    Args:
        href: the untrusted URL.
        schemes: allowed schemes (lower case).
        fallback: what to return instead of a refused URL.

    Raises:
        ConfigurationError: ``schemes`` contains a scheme that carries script.
    """
    if not isinstance(href, str):
        raise TypeError("href must be a str")
    allowed = _checked_schemes(frozenset(schemes))
    url = href.translate(_URL_REMOVE).strip(_URL_STRIP)
    if _CONTROL_RE.search(url):
        return _escape_url(fallback)
    match = _SCHEME_PREFIX_RE.match(url)
    if match is not None:
        scheme = match.group(1)
        if not _VALID_SCHEME_RE.fullmatch(scheme) or scheme.lower() not in allowed:
            return _escape_url(fallback)
    return _escape_url(url)


def _escape_url(url: str) -> markupsafe.Markup:
    # A space is the only ASCII whitespace left (controls were refused, tabs
    # and newlines removed): percent-encode it, as the URL parser would, so
    # an unquoted href cannot end early; markupsafe escapes & < > " '.
    return markupsafe.escape(url.replace(" ", "%20"))


@functools.lru_cache(maxsize=32)
def _checked_schemes(schemes: frozenset[str]) -> frozenset[str]:
    for scheme in schemes:
        if not isinstance(scheme, str) or not _SCHEME_RE.fullmatch(scheme):
            raise ConfigurationError(f"URL schemes must be lower-case names: {scheme!r}")
        if scheme in _FORBIDDEN_SCHEMES:
            raise ConfigurationError(f"the {scheme}: URL scheme can carry script")
    return schemes


def jinja_filters(*, policy: Policy = BASIC) -> dict[str, Callable[..., markupsafe.Markup]]:
    """Filters for a Jinja2 ``Environment``: ``env.filters.update(jinja_filters())``.

    Names: ``sanitize``, ``attr``, ``json_script``, ``js_string``,
    ``url_component``, ``css_string``, ``safe_url``. Each returns
    :class:`markupsafe.Markup`, so autoescaping does not double-escape.
    """

    def _sanitize(value: str) -> markupsafe.Markup:
        return sanitize(value, policy=policy)

    return {
        "attr": escape_attribute,
        "css_string": escape_css_string,
        "js_string": escape_js_string,
        "json_script": json_for_script,
        "safe_url": safe_url,
        "sanitize": _sanitize,
        "url_component": escape_url_component,
    }
