"""The nh3 and bleach engines give one policy the same meaning (differential)."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest

from securekit import html as h
from securekit._html_engines import URL_ATTRIBUTES, _drop_content, https_image_filter, url_allowed
from securekit.testing.corpora import xss_payloads

PAYLOADS = xss_payloads()

BENIGN = [
    "<p>Hello <b>world</b></p>",
    '<p>See <a href="https://example.com/a?b=1&amp;c=2" title="t">this</a>.</p>',
    "<ul><li>one</li><li>two <em>2</em></li></ul>",
    "<blockquote>q</blockquote><pre><code>x = 1 &lt; 2</code></pre>",
    "plain &amp; simple",
    "<p>a<br>b</p>",
    '<a href="/relative">r</a> <a href="mailto:x@example.com">m</a>',
]


class _Shape(HTMLParser):
    """Tags, attributes and text of a fragment, for comparing DOMs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append(("start", tag, sorted(attrs, key=lambda a: a[0])))

    def handle_endtag(self, tag: str) -> None:
        self.items.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.items and self.items[-1][0] == "text":
            self.items[-1] = ("text", self.items[-1][1] + data)
        else:
            self.items.append(("text", data))


def _shape(markup: str) -> list[tuple[Any, ...]]:
    parser = _Shape()
    parser.feed(markup)
    parser.close()
    return parser.items


@pytest.mark.parametrize("policy", [h.BASIC, h.RICH], ids=["basic", "rich"])
@pytest.mark.parametrize("document", BENIGN)
def test_benign_documents_mean_the_same_on_both_engines(policy: h.Policy, document: str) -> None:
    nh3_out = h.sanitize(document, policy=policy)
    bleach_out = h.sanitize(document, policy=policy, engine="bleach")
    assert _shape(nh3_out) == _shape(bleach_out)


def _tags_and_attributes(markup: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for item in _shape(markup):
        if item[0] == "start":
            _, tag, attrs = item
            found.add((tag, ""))
            found.update((tag, name) for name, _ in attrs)
    return found


def test_differential_over_the_corpus() -> None:
    # Both engines keep only allowed structure; where they differ, neither
    # keeps anything the other considers active. Exact serializations differ
    # (quoting, entity choice), so structure is compared.
    agree = 0
    for payload in PAYLOADS:
        nh3_out = h.sanitize(payload.payload)
        bleach_out = h.sanitize(payload.payload, engine="bleach")
        allowed = {(t, "") for t in h.BASIC.tags} | {
            (t, a) for t, attrs in h.BASIC.attributes.items() for a in attrs
        } | {("a", "rel")}  # fmt: skip
        assert _tags_and_attributes(nh3_out) <= allowed, payload.id
        assert _tags_and_attributes(bleach_out) <= allowed, payload.id
        if _shape(nh3_out) == _shape(bleach_out):
            agree += 1
    # The engines parse identically for most payloads; the rest differ only
    # in text (e.g. which entities html5lib decodes) as checked above.
    assert agree >= len(PAYLOADS) * 0.6, agree


def test_bleach_engine_drops_script_content_like_nh3() -> None:
    assert h.sanitize("a<script>b</script>c", engine="bleach") == "ac"
    assert h.sanitize("<p>a<style>x</style>b<script>y</script></p>c", engine="bleach") == (
        "<p>ab</p>c"
    )


def test_drop_content_keeps_text_after_removed_elements() -> None:
    tags = frozenset({"script"})
    assert _drop_content("<p><i>1</i><script>x</script>2</p>", tags) == "<p><i>1</i>2</p>"
    assert _drop_content("no scripts here", tags) == "no scripts here"
    assert _drop_content("<script>x</script>", frozenset()) == "<script>x</script>"


def test_https_image_filter() -> None:
    assert https_image_filter("img", "src", "HTTPS://x/y.png") == "HTTPS://x/y.png"
    assert https_image_filter("img", "src", "http://x/y.png") is None
    assert https_image_filter("img", "alt", "anything") == "anything"


def test_bleach_rel_respects_link_rel_none() -> None:
    policy = h.Policy(tags={"a"}, attributes={"a": {"href", "rel"}}, link_rel=None)
    assert h.sanitize('<a href="/x" rel="me">x</a>', policy=policy, engine="bleach") == (
        '<a href="/x" rel="me">x</a>'
    )


@pytest.mark.parametrize("engine_name", ["nh3", "bleach"])
@pytest.mark.parametrize("policy", [h.BASIC, h.RICH], ids=["basic", "rich"])
def test_second_pass_statistics_over_the_corpus(engine_name: str, policy: h.Policy) -> None:
    # How often an engine's first output is not yet stable (reported in
    # docs/html.md); sanitize() always ends on a fixed point regardless.
    # Measured: nh3 0/266 for both presets; bleach 0/266 basic, 1/266 rich.
    engine = h._engine(policy, engine_name)
    unstable = [
        p.id for p in PAYLOADS if engine.clean(engine.clean(p.payload)) != engine.clean(p.payload)
    ]
    limit = 0 if engine_name == "nh3" else 3
    assert len(unstable) <= limit, unstable
    for payload_id in unstable:
        payload = next(p for p in PAYLOADS if p.id == payload_id)
        once = h.sanitize(payload.payload, policy=policy, engine=engine_name)  # type: ignore[arg-type]
        assert h.sanitize(once, policy=policy, engine=engine_name) == once  # type: ignore[arg-type]


def test_missing_bleach_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from securekit._html_engines import BleachEngine
    from securekit.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "bleach", None)
    monkeypatch.setitem(sys.modules, "bleach.sanitizer", None)
    with pytest.raises(ConfigurationError, match="securekit\\[bleach\\]"):
        BleachEngine(h.Policy(tags={"b"}))


_URL_ATTRIBUTE_POLICY = h.Policy(
    tags={"span", "del", "ins", "img"},
    attributes={"*": {"cite", "longdesc", "data", "poster", "title"}, "img": {"src"}},
)


def _url_values(fragment: str) -> list[str]:
    shape = _Shape()
    shape.feed(fragment)
    shape.close()
    return [
        value or ""
        for item in shape.items
        if item[0] == "start"
        for name, value in item[2]
        if name in URL_ATTRIBUTES
    ]


@pytest.mark.parametrize("engine", ["nh3", "bleach"])
@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \tjava&#9;script&colon;alert(1)",
        "&#x6a;avascript:alert(1)",
        "&#106avascript&#58alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "java&#0;script:alert(1)",
        "\x01javascript:alert(1)",
    ],
)
def test_cite_and_other_url_attributes_lose_refused_schemes(
    engine: h.EngineName, value: str
) -> None:
    # Review: ammonia checks schemes only on href/src (and a few element
    # specific attributes), so the default policy kept
    # <blockquote cite="javascript:..."> with nh3. The output is read back
    # with the standard library's HTML5 entity decoding as an oracle (bleach
    # keeps some references it does not know as literal text, which is inert).
    documents = [
        (f'<blockquote cite="{value}">x</blockquote><q cite="{value}">y</q>', h.BASIC),
        (f'<ins cite="{value}">i</ins><del cite="{value}">d</del>', h.RICH),
        (
            f'<span cite="{value}" longdesc="{value}" data="{value}" poster="{value}">x</span>',
            _URL_ATTRIBUTE_POLICY,
        ),
    ]
    for document, policy in documents:
        out = h.sanitize(document, policy=policy, engine=engine)
        values = _url_values(out)
        assert all(url_allowed(v, frozenset(h.DEFAULT_URL_SCHEMES)) for v in values), out
        if engine == "nh3":
            assert values == [], out
    assert url_allowed(html.unescape(value), frozenset({"https"})) is False


@pytest.mark.parametrize("engine", ["nh3", "bleach"])
def test_allowed_and_relative_url_attributes_are_kept(engine: h.EngineName) -> None:
    out = h.sanitize(
        '<blockquote cite="https://example.com/q">x</blockquote><q cite="/rel?a=b:c">y</q>',
        engine=engine,
    )
    assert out == (
        '<blockquote cite="https://example.com/q">x</blockquote><q cite="/rel?a=b:c">y</q>'
    )
    out = h.sanitize('<span data="x/y:z" longdesc="#d">x</span>', policy=_URL_ATTRIBUTE_POLICY)
    assert out == '<span data="x/y:z" longdesc="#d">x</span>'


def test_nh3_checks_unchecked_url_attributes_only_when_present() -> None:
    # The fast cleaner's output is used unless an attribute ammonia leaves
    # unchecked appears; text that looks like one takes the slow path and
    # gives the same result.
    text = '<p>write cite="javascript:x" in prose</p>'
    assert h.sanitize(text) == '<p>write cite="javascript:x" in prose</p>'
    quoted = '<blockquote cite="https://example.com/">q</blockquote>'
    assert h.sanitize(quoted) == quoted
    assert (
        h.sanitize('<blockquote cite="javascript:x">q</blockquote>') == "<blockquote>q</blockquote>"
    )


def test_url_allowed_reads_schemes_as_a_browser_does() -> None:
    schemes = frozenset({"https"})
    assert url_allowed("/relative:colon", schemes)
    assert url_allowed(" \tHTTPS://example.com/", schemes)
    assert not url_allowed("java\x00script:alert(1)", schemes)
    assert not url_allowed("https://example.com/\x7f", schemes)
    assert not url_allowed("&#106;avascript:alert(1)", schemes)
    assert not url_allowed("1http:x", schemes)


@pytest.mark.parametrize("engine", ["nh3", "bleach"])
def test_no_attribute_outside_the_policy_on_other_tags(engine: h.EngineName) -> None:
    # Review: without a "*" entry nh3 (ammonia) kept its default generic
    # attributes, title and lang, on every tag (found by corpus mutation-069).
    out = h.sanitize(
        '<p title="t" lang="en">x</p><abbr title="a" lang="en">y</abbr>', engine=engine
    )
    assert out == '<p>x</p><abbr title="a">y</abbr>'
    policy = h.Policy(tags={"p"}, attributes={"*": {"lang"}})
    assert h.sanitize('<p title="t" lang="en">x</p>', policy=policy, engine=engine) == (
        '<p lang="en">x</p>'
    )


@pytest.mark.parametrize(
    "document",
    [
        "<blockquote CITE=javascript:alert(1)>q</blockquote>",
        "<blockquote cite='javascript:alert(1)'>q</blockquote>",
        "<blockquote\ncite=javascript:alert(1)>q</blockquote>",
        "<blockquote/cite=javascript:alert(1)>q</blockquote>",
    ],
)
def test_unchecked_url_attribute_spelled_unlike_the_output_is_still_checked(document: str) -> None:
    # The input holds no ` cite="`, so only the check of the fast output
    # (where html5ever writes it that way) sends it to the checked cleaner.
    assert h.sanitize(document) == "<blockquote>q</blockquote>"
