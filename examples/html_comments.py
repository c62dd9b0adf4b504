"""Render user comments safely: sanitize HTML, escape everything else.

Run: python examples/html_comments.py
"""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import Markup

from securekit.html import PLAIN_TEXT, escape_attribute, escape_html, safe_url, sanitize

COMMENTS = [
    {
        "author": "alice",
        "website": "https://alice.example/",
        "body": '<p>Great post! See <a href="https://docs.example/x">the docs</a>.</p>',
    },
    {
        "author": '<img src=x onerror="alert(1)">',
        "website": "javascript:alert(document.cookie)",
        "body": "<script>steal()</script><b onmouseover=alert(1)>hover me</b>"
        '<a href="jav&#x09;ascript:alert(1)">click</a><!-- hidden -->',
    },
    {
        "author": "bob",
        "website": "/users/bob",
        "body": "<svg><style><img src=x onerror=alert(1)></style></svg>Plain <i>text</i>.",
    },
]


class _Elements(HTMLParser):
    """Collects the elements, attribute names and URLs a browser would create."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.urls: list[str] = []
        self.comments = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "href" and value is not None:
                self.urls.append(value.strip())

    def handle_comment(self, data: str) -> None:
        self.comments += 1 if data is not None else 0


def render_comment(comment: dict[str, str]) -> Markup:
    """One comment as HTML: every untrusted value goes through its own escaper."""
    # The body is HTML written by the user: sanitize it (basic formatting +
    # safe links with rel="noopener noreferrer nofollow").
    body = sanitize(comment["body"])
    # The author name is text, the website is a URL for an attribute.
    author = escape_html(comment["author"])
    href = safe_url(comment["website"])
    title = escape_attribute(f"Comment by {comment['author']}")
    return Markup(  # noqa: S704 - every interpolated value is escaped above
        f'<article title="{title}"><h3><a href="{href}">{author}</a></h3>{body}</article>'
    )


def main() -> None:
    """Render the comments and show that nothing active survived."""
    page = Markup("\n").join(render_comment(c) for c in COMMENTS)
    print(page)
    # Parse the page as a browser would and list what it would create.
    found = _Elements()
    found.feed(page)
    print("elements:", sorted(found.tags))
    assert found.tags <= {"article", "h3", "a", "p", "b", "i"}, found.tags
    assert not any(name.startswith("on") for name in found.attributes)
    assert not any(url.lower().startswith("javascript:") for url in found.urls)
    assert found.comments == 0
    # Plain-text policy: show exactly what the user typed, nothing rendered.
    print(sanitize("<b>literally</b> this", policy=PLAIN_TEXT))
    # Sanitizing the output again changes nothing (a fixed point).
    assert sanitize(sanitize(COMMENTS[1]["body"])) == sanitize(COMMENTS[1]["body"])
    print("ok: no script, handlers, javascript: URLs or comments in the output")


if __name__ == "__main__":
    main()
