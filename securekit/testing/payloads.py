"""Attack payload corpora for testing your own endpoints.

Every accessor returns an immutable tuple, so a test can parametrize over it
directly (``@pytest.mark.parametrize("name", hostile_filenames())``) or hand
it to the hypothesis strategies in :mod:`securekit.testing.strategies`, which
draw from the same corpora and vary them.

The XSS corpus is the one securekit's own sanitizer is measured against in a
real browser (:mod:`securekit.testing.corpora`); the others are listed here.
Every entry is an attack: a correct endpoint rejects it, neutralizes it or
treats it as inert data. None of them carries anything destructive when it
*does* get through: SQL payloads use ``SELECT``/``sleep(0)`` style probes and
the attacker host is ``attacker.invalid`` (RFC 2606, never resolves).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from securekit.errors import ConfigurationError
from securekit.testing.corpora import RedirectCase, XSSPayload, redirect_cases, xss_payloads

__all__ = [
    "ATTACKER_HOST",
    "DEFAULT_JSON_MAX_BYTES",
    "DEFAULT_JSON_MAX_DEPTH",
    "MAX_GENERATED_BYTES",
    "MAX_GENERATED_DEPTH",
    "AttackPayloads",
    "RedirectCase",
    "XSSPayload",
    "all_payloads",
    "deep_json",
    "hostile_filenames",
    "malformed_json",
    "nosql_injection",
    "open_redirects",
    "oversized_json",
    "path_traversal",
    "redirect_cases",
    "sql_injection",
    "xss",
    "xss_payloads",
]

#: The attacker's host in generated URLs: ``.invalid`` is reserved by RFC 2606
#: section 2 and never resolves, so a payload that slips through goes nowhere.
ATTACKER_HOST: Final = "attacker.invalid"

#: The body size a strict JSON endpoint should refuse above: securekit's
#: ``load_json`` default (1 MiB, DESIGN.md "Validation").
DEFAULT_JSON_MAX_BYTES: Final = 1024 * 1024

#: The nesting depth a strict JSON endpoint should refuse above: securekit's
#: ``load_json`` default (64; Python's own parser recurses ~1000 deep).
DEFAULT_JSON_MAX_DEPTH: Final = 64

#: Upper bounds on generated documents, so a typo cannot allocate gigabytes.
MAX_GENERATED_BYTES: Final = 256 * 1024 * 1024
MAX_GENERATED_DEPTH: Final = 1_000_000

# SQL injection: classic tautologies, comment truncation, UNION probes,
# stacked queries, time-based blind probes, quote/escape confusions and
# encodings (OWASP WSTG-INPV-05, PortSwigger SQL injection cheat sheet).
_SQL: Final[tuple[str, ...]] = (
    "'",
    '"',
    "`",
    "')",
    '")',
    "' OR '1'='1",
    "' OR '1'='1' --",
    "' OR 1=1 --",
    "' OR 1=1#",
    "' OR 1=1/*",
    '" OR "1"="1',
    '" OR 1=1 --',
    "') OR ('1'='1",
    "')) OR (('1'='1",
    "1 OR 1=1",
    "1' OR '1'='1' LIMIT 1 --",
    "admin'--",
    "admin' #",
    "admin'/*",
    "' OR ''='",
    "' OR 'x'='x",
    "'='",
    "' OR TRUE --",
    "1' AND 1=0 UNION SELECT NULL --",
    "1' UNION SELECT NULL,NULL --",
    "' UNION SELECT username, password FROM users --",
    "' UNION ALL SELECT 1,2,3 --",
    "1 UNION SELECT sqlite_version()",
    "' UNION SELECT name FROM sqlite_master --",
    "'; SELECT 1; --",
    "1; SELECT pg_sleep(0) --",
    "'; WAITFOR DELAY '0:0:0' --",
    "1' AND SLEEP(0) --",
    "1' AND (SELECT 1 FROM (SELECT SLEEP(0))x) --",
    "' AND 1=CAST((SELECT version()) AS int) --",
    "' AND extractvalue(1, concat(0x7e, version())) --",
    "1' AND '1'='1",
    "1' AND '1'='2",
    "1 AND 1=1",
    "1)) OR 1=1 --",
    "' OR 1=1 LIMIT 1 OFFSET 0 --",
    "%27%20OR%20%271%27%3D%271",
    "%2527%2520OR%25201%253D1",
    "\\' OR 1=1 --",
    "\\\\' OR 1=1 --",
    "\u02bc OR 1=1 --",
    "\uff07 OR 1=1 --",
    "' OR 1=1\x00",
    "'||'",
    "' || (SELECT 1) || '",
    "'+(SELECT 1)+'",
    "1e1' OR '1",
    "0x27 OR 1=1",
    "char(39)||'OR 1=1",
    "' ORDER BY 1 --",
    "' ORDER BY 100 --",
    "' GROUP BY 1 HAVING 1=1 --",
    "%",
    "_",
    "%%",
    "a%' OR '%'='",
    "\\",
    "[",
    "]",
    "name; --",
    'users"; --',
    "users`; --",
    "1 --",
    "-1",
    "9223372036854775808",
    "1.0e309",
)

# NoSQL (MongoDB-style) operator injection, string-form ($where / JS) and
# query-string forms (OWASP WSTG-INPV-05.6).
_NOSQL: Final[tuple[str, ...]] = (
    '{"$ne": null}',
    '{"$ne": ""}',
    '{"$gt": ""}',
    '{"$gte": ""}',
    '{"$lt": "~"}',
    '{"$exists": true}',
    '{"$regex": ".*"}',
    '{"$regex": "^a", "$options": "i"}',
    '{"$in": ["admin", "root"]}',
    '{"$nin": []}',
    '{"$where": "return true"}',
    '{"$where": "sleep(0) || true"}',
    '{"$expr": {"$eq": [1, 1]}}',
    '{"$or": [{}, {"a": "a"}]}',
    '{"$function": {"body": "function(){return true}", "args": [], "lang": "js"}}',
    '{"username": {"$ne": null}, "password": {"$ne": null}}',
    '[{"$ne": null}]',
    '{"__proto__": {"admin": true}}',
    '{"constructor": {"prototype": {"admin": true}}}',
    "' || '1'=='1",
    "'; return true; var x='",
    '"; return true; var x="',
    "1; return true",
    "' && this.password.match(/.*/)//",
    "this.password.length > 0",
    "username[$ne]=x",
    "username[$gt]=",
    "password[$regex]=.*",
    "username[$exists]=true",
    "user[$where]=1",
    "$where",
    "$ne",
    "a.$ne",
    "{$gt: ''}",
)

# Path traversal: dot segments in every separator and encoding, absolute and
# UNC paths, drive letters, NUL truncation, overlong UTF-8 and look-alike
# characters (OWASP WSTG-ATHZ-01, CWE-22, CWE-23, CWE-36).
_TRAVERSAL: Final[tuple[str, ...]] = (
    "..",
    "../",
    "..\\",
    "../etc/passwd",
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "..././..././etc/passwd",
    "....//....//etc/passwd",
    "....\\\\....\\\\windows\\win.ini",
    ".../.../etc/passwd",
    "a/../../etc/passwd",
    "a/b/../../../etc/passwd",
    "./../etc/passwd",
    "/etc/passwd",
    "/../etc/passwd",
    "//etc/passwd",
    "\\etc\\passwd",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "C:..\\win.ini",
    "\\\\server\\share\\file",
    "\\\\?\\C:\\Windows\\win.ini",
    "\\\\.\\pipe\\x",
    "file:///etc/passwd",
    "%2e%2e%2f",
    "%2e%2e/etc/passwd",
    "..%2fetc%2fpasswd",
    "%2e%2e%5c",
    "..%5cwindows%5cwin.ini",
    "%252e%252e%252f",
    "..%252f..%252fetc%252fpasswd",
    "%c0%ae%c0%ae/",
    "%c0%ae%c0%ae%c0%af",
    "%e0%80%ae%e0%80%ae/",
    "..%c0%afetc/passwd",
    "..%c1%9cwindows",
    "%uff0e%uff0e/",
    "\uff0e\uff0e/etc/passwd",
    "\uff0e\uff0e\uff0fetc\uff0fpasswd",
    "../etc/passwd\x00.png",
    "../etc/passwd%00.png",
    "..;/etc/passwd",
    "..%00/etc/passwd",
    "..\t/etc/passwd",
    " ../etc/passwd",
    "/var/www/../../etc/passwd",
    "uploads/../../app.py",
    "~/.ssh/id_rsa",
    "~root/.ssh/authorized_keys",
    "/proc/self/environ",
    "/dev/zero",
)

# Hostile file names for uploads: traversal, hidden and extension-only names,
# control and bidi characters, Windows device names and forbidden characters,
# NTFS streams, trailing dots/spaces, NFKC look-alikes, encodings and
# over-long names (CWE-22, CWE-434, Microsoft "Naming Files, Paths, and
# Namespaces").
_FILENAMES: Final[tuple[str, ...]] = (
    "",
    ".",
    "..",
    "../avatar.png",
    "..\\avatar.png",
    "../../etc/passwd",
    "a/b.png",
    "a\\b.png",
    "/etc/passwd",
    "/tmp/avatar.png",  # noqa: S108 - a hostile name, never opened
    "C:avatar.png",
    "C:\\avatar.png",
    "\\\\server\\share\\avatar.png",
    "avatar.png::$DATA",
    "avatar.png:evil.exe",
    ".png",
    ".htaccess",
    ".bashrc",
    ".user.ini",
    "-rf",
    "--help.png",
    "avatar.png.",
    "avatar.png...",
    "avatar.png ",
    " avatar.png",
    "avatar.png\u00a0",
    "avatar\x00.png",
    "avatar.php\x00.png",
    "avatar.png\n",
    "avatar\r\n.png",
    "avatar\t.png",
    "avatar\x1b[31m.png",
    "avatar\x7f.png",
    "avatar\x85.png",
    "avatar\u202egnp.exe",
    "avatar\u202dpng.exe",
    "avatar\u200b.png",
    "avatar\u200d.png",
    "avatar\u2028.png",
    "avatar\ufeff.png",
    "avatar\ud800.png",
    "avatar<script>.png",
    'avatar".png',
    "avatar|.png",
    "avatar?.png",
    "avatar*.png",
    "avatar>.png",
    "CON",
    "con.png",
    "PRN.txt",
    "AUX",
    "NUL.tar.gz",
    "COM1.png",
    "LPT9.pdf",
    "COM\u00b9.png",
    "CONIN$",
    "..%2favatar.png",
    "%2e%2e%2favatar.png",
    "avatar%00.png",
    "avatar%2Epng",
    "avatar\uff0ephp",
    "\uff0e\uff0e\uff0favatar.png",
    "\u2024\u2024/avatar.png",
    "a" * 256 + ".png",
    "\u00e9" * 200 + ".png",
)

# Open redirects to ATTACKER_HOST for an application on ``{host}``: scheme-
# relative and backslash forms, userinfo, look-alike and suffix hosts,
# dangerous schemes, whitespace and control characters that browsers strip,
# IDNA and IP forms (OWASP Unvalidated Redirects cheat sheet, WHATWG URL).
_REDIRECTS: Final[tuple[str, ...]] = (
    "//{evil}",
    "//{evil}/",
    "///{evil}",
    "////{evil}",
    "/\\{evil}",
    "/%2f%2f{evil}",
    "%2f%2f{evil}",
    "/%5c{evil}",
    "/%09/{evil}",
    "\\/{evil}",
    "\\\\{evil}",
    "/\\/{evil}",
    "https://{evil}",
    "http://{evil}",
    "https://{evil}/{host}",
    "https://{evil}?{host}",
    "https://{evil}#{host}",
    "https://{evil}\\@{host}",
    "https://{host}@{evil}",
    "https://{host}:443@{evil}",
    "https://{host}%40{evil}",
    "https://{host}.{evil}",
    "https://{host}-{evil}",
    "https://{evil}/.{host}",
    "https://{evil}%2f{host}",
    "https://{evil}%23{host}",
    "https://{evil}%3f{host}",
    "https:{evil}",
    "https:/{evil}",
    "https:\\\\{evil}",
    "https:/\\{evil}",
    "HTTPS://{evil}",
    " https://{evil}",
    "\thttps://{evil}",
    "\nhttps://{evil}",
    "https://{evil}\n",
    "ht\ttps://{evil}",
    "/\t/{evil}",
    "/\n/{evil}",
    "/\r/{evil}",
    "\x00//{evil}",
    "//{evil}\x00.{host}",
    "//{evil}\u3002",
    "https://{evil}\uff0f{host}",
    "//\uff0f{evil}",
    "https://xn--attacker-9ya.invalid",
    "https://\u24b6ttacker.invalid",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://{host}/%0aalert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://{evil}",
    "blob:https://{evil}/x",
    "https://{host}:8443/",
    "https://{host}:0/",
    "https://{host}:99999/",
    "https://127.0.0.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://169.254.169.254/latest/meta-data/",
)

# Malformed JSON bodies that a strict endpoint must refuse with a 4xx, not a
# 500: syntax errors, non-standard constants, duplicate keys (RFC 8259
# section 4: behaviour "unpredictable"), bad encodings and lone surrogates
# (RFC 8259 section 8.1/8.2), and numbers that break naive converters.
_MALFORMED_JSON: Final[tuple[bytes, ...]] = (
    b"",
    b" ",
    b"{",
    b"}",
    b"[",
    b"[1,]",
    b'{"a":1,}',
    b'{"a" 1}',
    b"{'a': 1}",
    b'{"a": undefined}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b"NaN",
    b'{"a": 1e999}',
    b'{"a": -1e999}',
    b'{"a": 1' + b"0" * 5000 + b"}",
    b'{"a": 01}',
    b'{"a": 0x10}',
    b'{"a": +1}',
    b'{"a": .5}',
    b'{"a": 1, "a": 2}',
    b'{"role": "user", "role": "admin"}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\udc00\\ud800"}',
    b'{"a": "\\u00"}',
    b'{"a": "\\x41"}',
    b'{"a": "\x00"}',
    b'{"a": "line\nbreak"}',
    b'{"a": "\xff"}',
    b'{"a": "\xc0\xae"}',
    b'{"a": "\xed\xa0\x80"}',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b'{"a": 1} {"b": 2}',
    b'{"a": 1}garbage',
    b'{"a": 1} // comment',
    b'/* c */ {"a": 1}',
    b'{"a": tru}',
    b'{"a": True}',
    b'{"a": None}',
    b'{"a": [1, 2}',
    b'{"a": {"b": 1]}',
    b'"unterminated',
    b'{"a\x00b": 1}',
    b"\x00",
    b"null\x00",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackPayloads:
    """Every corpus in one object (what the ``attack_payloads`` fixture gives).

    Attributes:
        xss: HTML payloads that call ``alert(1)`` when they run.
        sql_injection: SQL injection strings.
        nosql_injection: NoSQL operator and JavaScript injection strings.
        path_traversal: path traversal strings.
        hostile_filenames: upload file names that must be refused.
        open_redirects: redirect targets leaving ``example.com``.
        malformed_json: JSON bodies a strict parser must refuse.
    """

    xss: tuple[str, ...]
    sql_injection: tuple[str, ...]
    nosql_injection: tuple[str, ...]
    path_traversal: tuple[str, ...]
    hostile_filenames: tuple[str, ...]
    open_redirects: tuple[str, ...]
    malformed_json: tuple[bytes, ...]


@cache
def xss() -> tuple[str, ...]:
    """Return the XSS payload strings (each calls ``alert(1)`` when it runs).

    The same corpus, with ids and vector classes, is
    :func:`xss_payloads`; the strings here are the ones whose unsanitized
    form ran script in headless Chromium first, then the rest.
    """
    items = xss_payloads()
    ordered = [p for p in items if p.raw_executes] + [p for p in items if not p.raw_executes]
    return tuple(p.payload for p in ordered)


def sql_injection() -> tuple[str, ...]:
    """Return SQL injection strings (tautologies, UNION, stacked, blind, encodings)."""
    return _SQL


def nosql_injection() -> tuple[str, ...]:
    """Return NoSQL injection strings: operator objects as JSON text, JS and query forms."""
    return _NOSQL


def path_traversal() -> tuple[str, ...]:
    """Return path traversal strings in every separator, encoding and look-alike."""
    return _TRAVERSAL


def hostile_filenames() -> tuple[str, ...]:
    """Return upload file names that a safe endpoint must refuse (not repair)."""
    return _FILENAMES


@cache
def open_redirects(host: str = "example.com") -> tuple[str, ...]:
    """Return redirect targets that leave ``host`` or run script.

    Args:
        host: your application's host name (as in ``allowed_hosts``); the
            payloads use it to look legitimate. Non-default ports of
            ``host`` are included: they are another origin. Percent-encoded
            ``//`` and ``\\`` are included: an application that decodes the
            target a second time would otherwise send the browser off-site.

    Returns:
        Targets that ``is_safe_redirect(url, allowed_hosts={host})`` must refuse.

    Raises:
        ConfigurationError: ``host`` is empty or holds characters that are not part
            of a host name.
    """
    if not isinstance(host, str):
        raise TypeError("host must be a str")
    if not host or not all(c.isalnum() or c in ".-" for c in host) or not host.isascii():
        raise ConfigurationError("host must be a plain ASCII host name such as 'example.com'")
    return tuple(t.format(evil=ATTACKER_HOST, host=host) for t in _REDIRECTS)


def malformed_json() -> tuple[bytes, ...]:
    """Return JSON bodies (bytes) that a strict parser must refuse."""
    return _MALFORMED_JSON


def deep_json(depth: int = DEFAULT_JSON_MAX_DEPTH + 1, *, kind: str = "array") -> bytes:
    """Return a small JSON document nested ``depth`` levels deep.

    A few hundred bytes of ``[[[[...]]]]`` exhaust recursive parsers and
    recursive validators (``RecursionError`` is a 500 unless caught).

    Args:
        depth: the nesting depth (at least 1).
        kind: ``"array"`` (``[[...]]``) or ``"object"`` (``{"a":{"a":...}}``).

    Raises:
        ConfigurationError: ``depth`` outside 1 to ``MAX_GENERATED_DEPTH`` or an
            unknown ``kind``.
    """
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError("depth must be an int")
    if not 1 <= depth <= MAX_GENERATED_DEPTH:
        raise ConfigurationError(f"depth must be between 1 and {MAX_GENERATED_DEPTH}")
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    raise ConfigurationError("kind must be 'array' or 'object'")


def oversized_json(max_bytes: int = DEFAULT_JSON_MAX_BYTES, *, shape: str = "string") -> bytes:
    """Return a syntactically valid JSON document just over ``max_bytes``.

    Args:
        max_bytes: your endpoint's body limit; the document is one byte over.
        shape: ``"string"`` (one huge string), ``"array"`` (many small
            numbers), ``"object"`` (many keys) or ``"whitespace"`` (a tiny
            value padded with spaces: a limit must count bytes, not values).

    Raises:
        ConfigurationError: ``max_bytes`` outside 16 to ``MAX_GENERATED_BYTES`` or
            an unknown ``shape``.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
        raise TypeError("max_bytes must be an int")
    if not 16 <= max_bytes <= MAX_GENERATED_BYTES:
        raise ConfigurationError(f"max_bytes must be between 16 and {MAX_GENERATED_BYTES}")
    target = max_bytes + 1
    if shape == "string":
        return b'{"a":"' + b"x" * (target - 8) + b'"}'
    if shape == "whitespace":
        return b"{}" + b" " * (target - 2)
    if shape == "array":
        count = (target - 2) // 2
        body = b"[" + b"0," * count
        # Close with a digit so the array stays valid, then pad to size.
        body += b"0]"
        return body + b" " * (target - len(body))
    if shape == "object":
        parts: list[bytes] = []
        size = 2
        index = 0
        while size < target - 16:
            part = b'"k%d":0' % index
            parts.append(part)
            size += len(part) + 1
            index += 1
        body = b"{" + b",".join(parts) + b"}"
        return body + b" " * (target - len(body))
    raise ConfigurationError("shape must be 'string', 'array', 'object' or 'whitespace'")


@cache
def all_payloads(host: str = "example.com") -> AttackPayloads:
    """Return every corpus in one object (open redirects for ``host``)."""
    return AttackPayloads(
        xss=xss(),
        sql_injection=sql_injection(),
        nosql_injection=nosql_injection(),
        path_traversal=path_traversal(),
        hostile_filenames=hostile_filenames(),
        open_redirects=open_redirects(host),
        malformed_json=malformed_json(),
    )
