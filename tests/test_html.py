"""securekit.html: sanitize, policies, context escapers, safe_url."""

from __future__ import annotations

import html as stdlib_html
import json
import re
from html.parser import HTMLParser

import jinja2
import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit import html as h
from securekit._html_engines import Nh3Engine
from securekit.errors import ConfigurationError, InputReason, InputValidationError
from securekit.testing.corpora import xss_payloads
from tests._leak import assert_no_leak

INSECURE_CALLS: dict[str, object] = {}

PAYLOADS = xss_payloads()


class _Collector(HTMLParser):
    """Collects tags, attributes and comments of sanitizer output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _parse(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


def assert_within_policy(markup: str, policy: h.Policy) -> None:
    """Every tag, attribute and URL of ``markup`` is allowed by ``policy``."""
    parsed = _parse(markup)
    assert parsed.comments == []
    generic = policy.attributes.get("*", frozenset())
    for tag, attrs in parsed.tags:
        assert tag in policy.tags, tag
        for name, value in attrs.items():
            if name == "rel" and tag == "a":
                assert value == policy.link_rel
                continue
            assert name in policy.attributes.get(tag, frozenset()) or name in generic, name
            if name in {"href", "src", "cite"} and value is not None:
                cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
                assert scheme is None or scheme.group(1) in policy.url_schemes, value
    for tag, attrs in parsed.tags:
        if tag == "a" and policy.link_rel is not None:
            assert attrs.get("rel") == policy.link_rel


# -- sanitize: defaults and presets ------------------------------------------


def test_sanitize_default_keeps_basic_formatting_and_safe_links() -> None:
    out = h.sanitize('<p>Hi <b>bold</b> <a href="https://example.com/x">link</a></p>')
    assert out == (
        '<p>Hi <b>bold</b> <a href="https://example.com/x" '
        'rel="noopener noreferrer nofollow">link</a></p>'
    )
    assert isinstance(out, markupsafe.Markup)


def test_sanitize_removes_script_with_its_content() -> None:
    assert h.sanitize("a<script>alert(1)</script>b<style>p{}</style>c") == "abc"


def test_sanitize_unwraps_unknown_tags_keeping_text() -> None:
    assert h.sanitize("<blink>hello</blink><h1>title</h1>") == "hellotitle"


def test_sanitize_strips_comments() -> None:
    assert h.sanitize("a<!-- secret -->b<!--[if IE]><script>x</script><![endif]-->") == "ab"


def test_sanitize_strips_event_handlers_and_styles() -> None:
    out = h.sanitize('<b onclick="alert(1)" style="color:red" class="x" id="y">t</b>')
    assert out == "<b>t</b>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript&colon;alert(1)",
        "jav&#x09;ascript:alert(1)",
        "\x01javascript:alert(1)",
        "\u200bjavascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD4=",
    ],
)
def test_sanitize_removes_dangerous_urls_however_obfuscated(href: str) -> None:
    for engine in ("nh3", "bleach"):
        out = h.sanitize(f'<a href="{href}">x</a>', engine=engine)
        assert_within_policy(out, h.BASIC)
        (_tag, attrs), *_ = _parse(out).tags
        value = re.sub(r"[\x00-\x20]", "", attrs.get("href") or "").lower()
        assert not value.startswith(("javascript:", "vbscript:", "data:")), (engine, out)


def test_rel_is_configurable() -> None:
    policy = h.Policy(tags={"a"}, attributes={"a": {"href"}}, link_rel="nofollow")
    assert h.sanitize('<a href="/x">x</a>', policy=policy) == '<a href="/x" rel="nofollow">x</a>'
    policy_none = h.Policy(tags={"a"}, attributes={"a": {"href", "rel"}}, link_rel=None)
    assert h.sanitize('<a href="/x" rel="me">x</a>', policy=policy_none) == (
        '<a href="/x" rel="me">x</a>'
    )


def test_plain_text_escapes_everything() -> None:
    out = h.sanitize("<b>x</b> & 'q'", policy=h.PLAIN_TEXT)
    assert out == "&lt;b&gt;x&lt;/b&gt; &amp; &#39;q&#39;"
    assert stdlib_html.unescape(out) == "<b>x</b> & 'q'"


def test_rich_allows_headings_tables_and_https_images_only() -> None:
    src = (
        "<h2>T</h2><table><tr><td colspan=2>c</td></tr></table><pre><code>x</code></pre>"
        '<img src="https://img.example/a.png" alt="a"><img src="http://img.example/b.png">'
        '<img src="/relative.png">'
    )
    out = h.sanitize(src, policy=h.RICH)
    assert "<h2>T</h2>" in out
    assert '<td colspan="2">c</td>' in out
    assert '<img src="https://img.example/a.png" alt="a">' in out
    assert "http://img.example" not in out
    assert "relative.png" not in out
    assert h.sanitize(src, policy=h.RICH, engine="bleach").count("https://img.example") == 1


def test_basic_drops_images_and_headings() -> None:
    assert h.sanitize('<h1>x</h1><img src="https://a/b.png">') == "x"


def test_surrogates_are_replaced_not_crashing() -> None:
    out = h.sanitize("a\ud800<b>b</b>")
    assert out == "a\ufffd<b>b</b>"
    assert h.sanitize("a\udfff", policy=h.PLAIN_TEXT) == "a\ufffd"


def test_nul_and_controls_do_not_crash() -> None:
    out = h.sanitize("<b>a\x00b\x01c</b>")
    assert "\x00" not in out


def test_size_is_checked_before_parsing() -> None:
    policy = h.Policy(tags={"b"}, max_chars=10)
    with pytest.raises(InputValidationError) as info:
        h.sanitize("<b>" + "x" * 20 + "</b>", policy=policy)
    assert info.value.reason is InputReason.TOO_LARGE
    assert_no_leak(info.value, "xxxxxxxxxx")
    assert h.sanitize("x" * 10, policy=policy) == "x" * 10


def test_deep_nesting_does_not_crash() -> None:
    out = h.sanitize("<b>" * 20000 + "x")
    assert out.endswith("x" + "</b>" * 1) or "x" in out


def test_sanitize_misuse() -> None:
    with pytest.raises(TypeError):
        h.sanitize(b"<b>x</b>")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        h.sanitize("x", policy="basic")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        h.sanitize("x", engine="lxml")  # type: ignore[arg-type]


def test_markup_input_is_still_sanitized() -> None:
    assert h.sanitize(markupsafe.Markup("<script>x</script>ok")) == "ok"
    # A Markup claims to be safe HTML; plain text must escape it anyway.
    escaped = h.sanitize(markupsafe.Markup("<script>x</script>"), policy=h.PLAIN_TEXT)
    assert escaped == "&lt;script&gt;x&lt;/script&gt;"


# -- fixed point ---------------------------------------------------------------


@pytest.mark.parametrize("engine", ["nh3", "bleach"])
@pytest.mark.parametrize("policy", [h.BASIC, h.RICH], ids=["basic", "rich"])
def test_corpus_output_is_a_fixed_point_and_within_policy(engine: str, policy: h.Policy) -> None:
    for payload in PAYLOADS:
        once = h.sanitize(payload.payload, policy=policy, engine=engine)  # type: ignore[arg-type]
        assert h.sanitize(once, policy=policy, engine=engine) == once, payload.id  # type: ignore[arg-type]
        assert_within_policy(once, policy)


class _Unstable:
    """An engine whose output never settles (each pass adds a character)."""

    name = "unstable"

    def clean(self, html: str) -> str:
        return html + "<b>!</b>"


class _SettlesLate:
    """An engine that needs a second pass to settle."""

    name = "late"

    def __init__(self) -> None:
        self.calls = 0

    def clean(self, html: str) -> str:
        self.calls += 1
        return html.replace("<<", "<")


def test_second_pass_runs_until_stable() -> None:
    engine = _SettlesLate()
    assert h._fixed_point(engine, "<<<b>x") == "<b>x"
    assert engine.calls == 3


def test_output_that_never_settles_is_reduced_to_text() -> None:
    out = h._fixed_point(_Unstable(), "<i>x</i>")
    assert "<" not in out.replace("&lt;", "")
    assert "x" in out


def test_engine_is_compiled_once_per_policy() -> None:
    policy = h.Policy(tags={"b"})
    h.sanitize("<b>x</b>", policy=policy)
    assert h._engine(policy, "nh3") is h._engine(policy, "nh3")
    assert isinstance(h._engine(policy, "nh3"), Nh3Engine)


# -- policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tags": {"script"}},
        {"tags": {"svg"}},
        {"tags": {"math"}},
        {"tags": {"style"}},
        {"tags": {"iframe"}},
        {"tags": {"form"}},
        {"tags": {"template"}},
        {"tags": {"B"}},
        {"tags": {"b c"}},
        {"tags": "b"},
        {"tags": {"b"}, "attributes": {"b": {"onclick"}}},
        {"tags": {"b"}, "attributes": {"b": {"onmouseover"}}},
        {"tags": {"b"}, "attributes": {"*": {"style"}}},
        {"tags": {"b"}, "attributes": {"b": {"srcset"}}},
        {"tags": {"b"}, "attributes": {"b": {"id"}}},
        {"tags": {"b"}, "attributes": {"b": {"Title"}}},
        {"tags": {"b"}, "attributes": {"b": "title"}},
        {"tags": {"b"}, "attributes": {"i": {"title"}}},
        {"tags": {"a"}, "attributes": {"a": {"rel"}}},
        {"url_schemes": {"javascript"}},
        {"url_schemes": {"data"}},
        {"url_schemes": {"HTTP"}},
        {"url_schemes": "https"},
        {"link_rel": "noopener  noreferrer"},
        {"link_rel": 'x" onclick="y'},
        {"max_chars": 0},
        {"max_chars": True},
    ],
)
def test_policy_refuses_dangerous_or_malformed_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        h.Policy(**kwargs)  # type: ignore[arg-type]


def test_custom_policy_is_applied() -> None:
    policy = h.Policy(tags={"span", "a"}, attributes={"*": {"title"}}, url_schemes={"https"})
    out = h.sanitize(
        '<span title="t">s</span><a href="http://x/" title="u">l</a><b>b</b>', policy=policy
    )
    assert out == '<span title="t">s</span><a title="u" rel="noopener noreferrer nofollow">l</a>b'
    assert h.sanitize(
        '<span title="t">s</span><a href="http://x/">l</a>', policy=policy, engine="bleach"
    ) == ('<span title="t">s</span><a rel="noopener noreferrer nofollow">l</a>')


def test_policy_is_immutable() -> None:
    with pytest.raises(AttributeError):
        h.BASIC.tags = frozenset({"script"})  # type: ignore[misc]
    with pytest.raises(TypeError):
        h.BASIC.attributes["a"] = frozenset({"onclick"})  # type: ignore[index]


# -- escapers --------------------------------------------------------------------


def test_escape_html_and_attribute() -> None:
    assert h.escape_html("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
    assert h.escape_attribute('" onmouseover="x') == "&#x22;&#x20;onmouseover&#x3d;&#x22;x"
    assert h.escape_attribute(markupsafe.Markup("a&amp;b c")) == "a&amp;b&#x20;c"
    assert h.escape_attribute("a\x00b") == "a&#xfffd;b"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_escape_attribute_is_safe_unquoted_and_round_trips(text: str) -> None:
    # Review: escape_attribute only escaped & < > " ', so an unquoted
    # attribute (title={{ x|attr }}) took "x onmouseover=alert(1)" as a new
    # attribute. Nothing that ends an unquoted value survives now, and the
    # browser decodes the value back to the text.
    out = h.escape_attribute(text)
    assert not set(out) & set(" \t\n\r\x0c\"'`=<>/")
    expected = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if not any(c < " " or "\x7f" <= c <= "\x9f" for c in expected):
        # (the stdlib drops control references that a browser keeps)
        assert stdlib_html.unescape(out) == expected
    already = markupsafe.Markup("<b>ok</b>")
    assert h.escape_html(already) == already
    assert h.escape_html("\ud800") == "\ufffd"


def test_json_for_script_escapes_html_breakers() -> None:
    value = {"a": "</script><!--<script>&'\u2028\u2029"}
    out = h.json_for_script(value)
    for bad in ("<", ">", "&", "'", "\u2028", "\u2029"):
        assert bad not in out
    assert json.loads(out) == value


def test_json_for_script_errors() -> None:
    with pytest.raises(InputValidationError) as info:
        h.json_for_script({"x": float("nan")})
    assert info.value.reason is InputReason.NOT_FINITE
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(InputValidationError) as info:
        h.json_for_script(loop)
    assert info.value.reason is InputReason.BAD_FORMAT
    deep: list[object] = []
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(InputValidationError) as info:
        h.json_for_script(deep)
    assert info.value.reason is InputReason.TOO_DEEP


def test_json_for_script_huge_int_is_too_large_not_not_finite() -> None:
    # Review: int -> str past sys.get_int_max_str_digits raises ValueError,
    # which was reported as not_finite.
    with pytest.raises(InputValidationError) as info:
        h.json_for_script({"n": 10**5000})
    assert info.value.reason is InputReason.TOO_LARGE
    with pytest.raises(TypeError):
        h.json_for_script({"x": object()})


def test_escape_js_string() -> None:
    out = h.escape_js_string("a'\"`</script>\\\n\u2028😀 ok,._")
    assert out == ("a\\x27\\x22\\x60\\x3c\\x2fscript\\x3e\\x5c\\x0a\\u2028\\ud83d\\ude00 ok,._")
    assert (
        json.loads('"' + str(out).replace("\\x", "\\u00") + '"')
        == "a'\"`</script>\\\n\u2028😀 ok,._"
    )


def test_escape_url_component() -> None:
    assert h.escape_url_component("a b&c=d/e?f#g+h\u00e9") == "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%C3%A9"
    assert h.escape_url_component("\ud800") == "%EF%BF%BD"


def test_escape_css_string() -> None:
    assert h.escape_css_string("a'</style>\x00") == "a\\000027\\00003c\\00002fstyle\\00003e\\00fffd"


@pytest.mark.parametrize(
    "fn",
    [h.escape_html, h.escape_attribute, h.escape_js_string, h.escape_url_component,
     h.escape_css_string, h.safe_url],
)  # fmt: skip
def test_escapers_reject_non_str(fn: object) -> None:
    with pytest.raises(TypeError):
        fn(b"x")  # type: ignore[operator]


_EXOTIC = st.text(st.characters(codec=None, exclude_categories=()), max_size=50)


@settings(max_examples=200, deadline=None)
@given(_EXOTIC)
def test_escaper_outputs_contain_no_markup_characters(text: str) -> None:
    for fn in (h.escape_js_string, h.escape_url_component, h.escape_css_string):
        out = fn(text)
        assert not set(out) & set("<>&\"'`\n\r\u2028\u2029/;")
    escaped = h.escape_html(text)
    assert not set(escaped) & set("<>\"'")
    data = h.json_for_script(text)
    assert not set(data) & set("<>&'\u2028\u2029")


@settings(max_examples=200, deadline=None)
@given(_EXOTIC)
def test_js_string_round_trips(text: str) -> None:
    out = str(h.escape_js_string(text))
    decoded = json.loads('"' + out.replace('"', '\\"').replace("\\x", "\\u00") + '"')
    assert decoded == text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_sanitize_arbitrary_text_is_fixed_point(text: str) -> None:
    once = h.sanitize(text)
    assert h.sanitize(once) == once
    assert_within_policy(once, h.BASIC)


_HTMLISH = st.lists(
    st.sampled_from(
        ["<", ">", "</", "a", "b", "script", "svg", "img", " ", "=", '"', "'", "on", "error",
         "href", "javascript:", "&#", "x", ";", "!--", "-->", "style", "math", "/", "\t", "\x00"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_HTMLISH)
def test_sanitize_htmlish_junk_is_safe_and_stable(text: str) -> None:
    for engine in ("nh3", "bleach"):
        once = h.sanitize(text, engine=engine)
        assert h.sanitize(once, engine=engine) == once
        assert_within_policy(once, h.BASIC)


# -- safe_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)", " JAVASCRIPT:alert(1)", "java\tscript:alert(1)",
        "java\nscript:alert(1)", "\x00javascript:alert(1)", "jav\x01ascript:alert(1)",
        "vbscript:x", "data:text/html,x", "file:///etc/passwd", "\u200bjavascript:alert(1)",
        "ja\u00advascript:alert(1)", "javascript\u3000:alert(1)",
    ],
)  # fmt: skip
def test_safe_url_refuses_dangerous_schemes(url: str) -> None:
    assert h.safe_url(url) == "about:invalid#securekit"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&amp;c=2"),
        ("/relative/path", "/relative/path"),
        ("page.html#x", "page.html#x"),
        ("mailto:a@example.com", "mailto:a@example.com"),
        ('/x" onmouseover="y', "/x&#34;%20onmouseover=&#34;y"),
        ("javascript&#58;alert(1)", "javascript&amp;#58;alert(1)"),
        ("//cdn.example/x.js", "//cdn.example/x.js"),
    ],
)
def test_safe_url_keeps_and_escapes_good_urls(url: str, expected: str) -> None:
    assert h.safe_url(url) == expected


def test_safe_url_custom_schemes_and_fallback() -> None:
    assert h.safe_url("tel:+123", schemes={"tel"}) == "tel:+123"
    assert h.safe_url("https://x", schemes={"tel"}, fallback="#") == "#"
    with pytest.raises(ConfigurationError):
        h.safe_url("x", schemes={"javascript"})
    with pytest.raises(ConfigurationError):
        h.safe_url("x", schemes={"Bad Scheme"})


# -- Jinja2 integration ----------------------------------------------------------


def test_jinja_filters_do_not_double_escape() -> None:
    env = jinja2.Environment(autoescape=True)
    env.filters.update(h.jinja_filters())
    template = env.from_string(
        '<p>{{ body|sanitize }}</p><a href="{{ link|safe_url }}" title="{{ t|attr }}">x</a>'
        "<script>var d = {{ d|json_script }}; var s = '{{ s|js_string }}';</script>"
        "<style>.x{font-family:'{{ c|css_string }}'}</style><a href=\"/q?x={{ q|url_component }}\">"
    )
    out = template.render(
        body="<b>hi</b><script>x</script>",
        link="javascript:alert(1)",
        t='"><x>',
        d={"a": "</script>"},
        s="';alert(1)//",
        c="'</style>",
        q="a&b",
    )
    assert "<p><b>hi</b></p>" in out
    assert 'href="about:invalid#securekit"' in out
    assert 'title="&#x22;&#x3e;&#x3c;x&#x3e;"' in out
    assert '{"a":"\\u003c/script\\u003e"}' in out
    assert "\\x27\\x3balert\\x281\\x29\\x2f\\x2f" in out
    assert "\\000027\\00003c\\00002fstyle\\00003e" in out
    assert "/q?x=a%26b" in out
    assert "&amp;amp;" not in out


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_json_for_script_round_trips(value: object) -> None:
    assert json.loads(h.json_for_script(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50))
def test_url_component_round_trips(text: str) -> None:
    from urllib.parse import unquote

    clean = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    assert unquote(h.escape_url_component(text)) == clean
