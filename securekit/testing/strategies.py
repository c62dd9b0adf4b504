"""Hypothesis strategies for testing your own endpoints against attacks.

Each strategy draws from the corpora in :mod:`securekit.testing.payloads`
and varies them (wrapping, combining, inserting characters browsers and
file systems treat specially), so a property such as "every hostile file
name is refused" is checked against far more than a fixed list::

    from hypothesis import given
    from securekit.testing import strategies as attacks

    @given(attacks.open_redirects("example.com"))
    def test_login_never_redirects_off_site(client, url):
        response = client.post("/login", data={..., "next": url})
        assert response.headers["location"].startswith("/")

Every value a strategy produces is an attack: a correct endpoint rejects it,
neutralizes it or stores it as inert data. Strategies need ``hypothesis``
(a test dependency; securekit itself does not import it).
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hypothesis import strategies as st

from securekit.errors import ConfigurationError
from securekit.testing import payloads
from securekit.testing.jwt_attacks import JWTAttack, JWTTarget, attack_names, build_attack

__all__ = [
    "hostile_filenames",
    "json_attacks",
    "jwt_attacks",
    "malformed_json",
    "nosql_injection",
    "nosql_operators",
    "open_redirects",
    "oversized_json",
    "path_traversal",
    "sql_injection",
    "xss_payloads",
]

#: Benign text around a payload: letters, digits and spaces cannot change the
#: HTML, SQL or URL context the payload starts in.
_BENIGN: Final = st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=12)

#: Characters a safe file name never holds: path separators, NUL and C0/C1
#: controls, characters Windows forbids, bidi overrides and invisible format
#: characters (CWE-22, CWE-176; Microsoft "Naming Files, Paths, and Namespaces").
_FILENAME_POISON: Final = (
    *'/\\:<>"|?*',
    *(chr(c) for c in range(32)),
    "\x7f",
    "\x85",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u202a",
    "\u202e",
    "\u2066",
    "\ufeff",
)

#: Windows device names, reserved with any extension (every OS must refuse
#: them: files travel).
_DEVICES: Final = (
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
)  # fmt: skip

_DOT_DOT: Final = (
    "..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%c0%ae%c0%ae", "\uff0e\uff0e",
    "....",
)  # fmt: skip
_SEPARATORS: Final = ("/", "\\", "%2f", "%5c", "%2F", "%5C", "%252f", "%c0%af", "\uff0f")

_REDIRECT_PREFIXES: Final = (
    "//", "///", "/\\", "\\/", "\\\\", "https://", "http://", "https:", "https:/",
    "https:\\\\", "HTTPS://", "//\t", "/\t/", "/\n/",
)  # fmt: skip
_CONTROL_IN_URL: Final = ("\t", "\n", "\r", "\x00", " ", "\x0b", "\x0c")

_NOSQL_OPERATORS: Final = (
    "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$exists", "$where",
    "$expr", "$or", "$and", "$not", "$elemMatch", "$function",
)  # fmt: skip


def _wrapped(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_BENIGN, base, _BENIGN).map("".join)


def xss_payloads() -> st.SearchStrategy[str]:
    """HTML that runs ``alert(1)`` in a browser unless neutralized.

    Draws from securekit's browser-measured XSS corpus, alone or surrounded by
    benign text (``"hello <img src=x onerror=alert(1)> bye"``).
    """
    return st.one_of(st.sampled_from(payloads.xss()), _wrapped(st.sampled_from(payloads.xss())))


def sql_injection() -> st.SearchStrategy[str]:
    """SQL injection strings, alone or appended to a plausible value (``alice' OR 1=1 --``)."""
    corpus = st.sampled_from(payloads.sql_injection())
    value = st.sampled_from(("", "alice", "1", "admin", "x@example.com"))
    return st.one_of(corpus, st.tuples(value, corpus).map("".join))


def nosql_injection() -> st.SearchStrategy[str]:
    """NoSQL injection strings: operator objects as JSON text, JavaScript and query forms."""
    operator_text = nosql_operators().map(json.dumps)
    return st.one_of(st.sampled_from(payloads.nosql_injection()), operator_text)


def nosql_operators() -> st.SearchStrategy[dict[str, Any]]:
    """Operator objects (``{"$ne": null}``) where an endpoint expects a scalar.

    Send them as JSON values of fields such as ``username`` or ``password``:
    an endpoint that passes request JSON straight into a MongoDB-style query
    turns them into conditions.
    """
    scalar = st.one_of(st.none(), st.booleans(), st.integers(-1, 1), st.sampled_from(("", ".*")))
    value = st.one_of(scalar, st.lists(scalar, max_size=2))
    return st.builds(lambda op, v: {op: v}, st.sampled_from(_NOSQL_OPERATORS), value)


def path_traversal() -> st.SearchStrategy[str]:
    """Path traversal strings: dot segments in every separator, encoding and look-alike."""
    generated = st.builds(
        lambda lead, dots, sep, target: lead + sep.join(dots) + sep + target,
        st.sampled_from(("", "./", "uploads/", "a/")),
        st.lists(st.sampled_from(_DOT_DOT), min_size=1, max_size=6),
        st.sampled_from(_SEPARATORS),
        st.sampled_from(("etc/passwd", "app.py", ".env", "windows/win.ini", "")),
    )
    return st.one_of(st.sampled_from(payloads.path_traversal()), generated)


def _poisoned_name(name: str, poison: str, position: int) -> str:
    cut = position % (len(name) + 1)
    return name[:cut] + poison + name[cut:]


def _device(name: str, upper: bool, extension: str) -> str:
    base = name if upper else name.lower()
    return base + extension


def hostile_filenames() -> st.SearchStrategy[str]:
    """Upload file names a safe endpoint refuses (securekit ``safe_filename`` rules).

    Besides the corpus: a plausible name with a separator, control, bidi,
    invisible or Windows-forbidden character inserted anywhere; Windows
    device names with any extension; hidden and extension-only names;
    trailing dots and spaces; traversal prefixes.
    """
    plain = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12)
    name = st.builds(lambda stem, ext: stem + ext, plain, st.sampled_from((".png", ".pdf", "")))
    poisoned = st.builds(
        _poisoned_name, name, st.sampled_from(_FILENAME_POISON), st.integers(0, 32)
    )
    devices = st.builds(
        _device,
        st.sampled_from(_DEVICES),
        st.booleans(),
        st.sampled_from(("", ".txt", ".png", ".tar.gz")),
    )
    hidden = name.map(lambda n: "." + n)
    trailing = st.builds(lambda n, tail: n + tail, name, st.sampled_from((".", " ", "..", ". ")))
    traversal = st.builds(lambda p, n: p + n, path_traversal(), name)
    return st.one_of(
        st.sampled_from(payloads.hostile_filenames()),
        poisoned,
        devices,
        hidden,
        trailing,
        traversal,
    )


def open_redirects(host: str = "example.com") -> st.SearchStrategy[str]:
    """Redirect targets that leave ``host`` or run script.

    Args:
        host: your application's host (its ``allowed_hosts`` entry); tricks
            such as ``https://example.com@attacker.invalid`` use it.

    Returns:
        A strategy of URLs that ``is_safe_redirect(url, allowed_hosts={host})``
        must refuse.
    """
    corpus = payloads.open_redirects(host)
    evil = payloads.ATTACKER_HOST
    authority = st.sampled_from(
        (evil, f"{host}@{evil}", f"{host}.{evil}", f"{evil}\\@{host}", f"{evil}:443", evil.upper())
    )
    tail = st.sampled_from(("", "/", f"/{host}", f"?{host}", f"#{host}", "/login?next=/"))
    generated = st.builds(
        lambda prefix, auth, rest: prefix + auth + rest,
        st.sampled_from(_REDIRECT_PREFIXES),
        authority,
        tail,
    )
    base = st.one_of(st.sampled_from(corpus), generated)
    # Browsers strip tabs and newlines from URLs and trim leading controls
    # (WHATWG URL parsing), so a control character anywhere in an unsafe URL
    # must not make it look safe.
    with_control = st.builds(
        _poisoned_name, base, st.sampled_from(_CONTROL_IN_URL), st.integers(0, 64)
    )
    return st.one_of(base, with_control)


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=8))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    )


def _containers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(_json_values(), max_size=3),
        st.dictionaries(st.text(max_size=4), _json_values(), max_size=3),
    )


def _truncated(value: Any, cut: int) -> bytes:
    text = json.dumps(value).encode("utf-8")
    # A proper prefix of a JSON array/object always lacks its closing bracket.
    return text[: cut % len(text)]


def _duplicated(value: dict[str, Any], key: str) -> bytes:
    items = [*value.items(), (key, "first"), (key, "second")]
    return ("{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in items) + "}").encode()


def _non_finite(value: Any, constant: str) -> bytes:
    return ("[" + json.dumps(value) + "," + constant + "]").encode("utf-8")


def malformed_json() -> st.SearchStrategy[bytes]:
    """JSON bodies a strict parser refuses: syntax errors, duplicate keys, NaN, bad UTF-8.

    Besides the corpus: truncated documents, objects with a repeated key
    (RFC 8259 section 4 leaves the meaning undefined: one parser may keep
    the first, another the last), ``NaN``/``Infinity`` (not JSON) and
    invalid UTF-8 (RFC 8259 section 8.1).
    """
    truncated = st.builds(_truncated, _containers(), st.integers(0, 10**6))
    duplicated = st.builds(
        _duplicated,
        st.dictionaries(st.text(max_size=4), _json_values(), max_size=3),
        st.sampled_from(("role", "id", "admin", "")),
    )
    non_finite = st.builds(
        _non_finite, _json_values(), st.sampled_from(("NaN", "Infinity", "-Infinity"))
    )
    bad_utf8 = st.builds(
        lambda value, junk: json.dumps(value).encode("utf-8")[:-1] + junk + b"]",
        st.lists(st.text(max_size=4), min_size=1, max_size=2),
        st.sampled_from((b'"\xff"', b'"\xc0\xae"', b'"\xed\xa0\x80"', b'"\x80"')),
    )
    return st.one_of(
        st.sampled_from(payloads.malformed_json()), truncated, duplicated, non_finite, bad_utf8
    )


def oversized_json(
    max_bytes: int = payloads.DEFAULT_JSON_MAX_BYTES,
    *,
    max_depth: int = payloads.DEFAULT_JSON_MAX_DEPTH,
) -> st.SearchStrategy[bytes]:
    """Valid JSON that is too big or too deep for an endpoint's limits.

    Args:
        max_bytes: the endpoint's body limit; documents are one byte over
            (use a small limit in tests: every example is that large).
        max_depth: the endpoint's nesting limit; deep documents exceed it.

    Raises:
        ConfigurationError: ``max_bytes`` below 16 or ``max_depth`` below 1.
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise TypeError("max_depth must be an int")
    if max_depth < 1:
        raise ConfigurationError("max_depth must be at least 1")
    # Build one now so a bad max_bytes fails when the strategy is made.
    payloads.oversized_json(max_bytes)
    shapes = st.sampled_from(("string", "array", "object", "whitespace"))
    big = shapes.map(lambda shape: payloads.oversized_json(max_bytes, shape=shape))
    deep = st.builds(
        lambda extra, kind: payloads.deep_json(max_depth + extra, kind=kind),
        st.integers(1, 2000),
        st.sampled_from(("array", "object")),
    )
    return st.one_of(big, deep)


def json_attacks(
    max_bytes: int = payloads.DEFAULT_JSON_MAX_BYTES,
    *,
    max_depth: int = payloads.DEFAULT_JSON_MAX_DEPTH,
) -> st.SearchStrategy[bytes]:
    """Malformed, oversized or over-deep JSON bodies (see the two strategies)."""
    return st.one_of(malformed_json(), oversized_json(max_bytes, max_depth=max_depth))


def jwt_attacks(
    target: JWTTarget,
    *,
    now: datetime | None = None,
    claims: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[JWTAttack]:
    """JWT attack tokens for ``target``: every one must be rejected.

    Draws an attack class (see :mod:`securekit.testing.jwt_attacks`) and a
    subject; the tokens are built independently of securekit's JWT code.

    Args:
        target: the verifier's issuer, audience, token type and keys.
        now: the time the verifier checks at (pin both to a FixedClock).
        claims: extra claims in every token.

    Returns:
        A strategy of :class:`~securekit.testing.jwt_attacks.JWTAttack`.
    """
    names = attack_names(target)
    subjects = st.one_of(
        st.just("user-1"),
        st.sampled_from(("admin", "root", "0", "user-1 ")),
        st.text(alphabet=string.ascii_letters + string.digits + "-_@.", min_size=1, max_size=16),
    )
    return st.builds(
        lambda name, subject: build_attack(name, target, now=now, subject=subject, claims=claims),
        st.sampled_from(names),
        subjects,
    )
