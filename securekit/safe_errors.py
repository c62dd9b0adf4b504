"""Safe error responses, redaction of secrets, enumeration-safe messages.

* :func:`problem_response` turns any exception into an RFC 9457
  ``application/problem+json`` response with a correlation id. The body holds
  only constant text chosen by the error's *class*, never ``str(exc)``, a
  stack trace or an internal value. Every authentication failure gets the
  same 401 body. Unexpected exceptions are logged in full, server-side, with
  the correlation id, so support can find them.
* :func:`redact` masks secrets in nested data by key name and by value
  pattern; :class:`RedactingFilter` does the same for ``logging`` records
  (message, arguments, extra fields, exception and stack text) and
  :class:`RedactingProcessor` for structlog event dicts.
* ``LOGIN_FAILED``, ``REGISTRATION_STARTED``, ``PASSWORD_RESET_REQUESTED``
  and friends are messages that do not reveal whether an account exists.
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import logging
import math
import re
import secrets
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Final

from securekit.errors import (
    CSRFError,
    InputReason,
    InputValidationError,
    InvalidTokenError,
    MFAError,
    PermissionDeniedError,
    PermissionReason,
    RateLimitedError,
    SessionError,
    UnavailableError,
    UploadReason,
    UploadRejectedError,
    VerificationError,
    WeakPasswordError,
)

__all__ = [
    "ACCOUNT_LOCKED",
    "EMAIL_CHANGE_REQUESTED",
    "LOGIN_FAILED",
    "MASK",
    "PASSWORD_RESET_REQUESTED",
    "PROBLEM_CONTENT_TYPE",
    "REGISTRATION_STARTED",
    "SENSITIVE_KEYS",
    "ProblemResponse",
    "RedactingFilter",
    "RedactingProcessor",
    "new_correlation_id",
    "problem_response",
    "redact",
    "redact_text",
]

# --- enumeration-safe messages (OWASP Authentication Cheat Sheet, "Authentication
# and Error Messages"; OWASP Forgot Password Cheat Sheet) ----------------------

#: Login failed, whatever the cause (unknown user, wrong password, disabled).
LOGIN_FAILED: Final = "Invalid username or password."
#: Too many attempts; shown for known and unknown accounts alike.
ACCOUNT_LOCKED: Final = "Too many attempts. Please try again later."
#: Registration submitted; the email says "welcome" or "you already have an
#: account", so the page never reveals which.
REGISTRATION_STARTED: Final = (
    "Thank you. Please check your email to continue; the message explains the next step."
)
#: Password reset requested, for existing and unknown addresses alike.
PASSWORD_RESET_REQUESTED: Final = (
    "If an account exists for this address, we have sent an email with a link to reset "  # noqa: S105
    "the password."
)
#: Email change requested (the new address may already belong to someone).
EMAIL_CHANGE_REQUESTED: Final = (
    "If this address can be used, we have sent it an email with a confirmation link."
)

# --- redaction ------------------------------------------------------------------

#: What replaces a secret.
MASK: Final = "[REDACTED]"
#: Key-name fragments whose values are always masked. A key matches when,
#: lowercased with "-" and " " turned into "_", it contains one of these
#: (``X-Api-Key``, ``db_password``, ``Set-Cookie``, ``refresh_token`` ...).
SENSITIVE_KEYS: Final = frozenset(
    {
        "passw",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "authorization",
        "cookie",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "privatekey",
        "credential",
        "session",
        "csrf",
        "xsrf",
        "signature",
        "cvv",
        "cvc",
        "card_number",
        "cardnumber",
        "jwt",
        "bearer",
        "client_key",
        "encryption_key",
        "signing_key",
        "pepper",
        "salt",
        "recovery_code",
        "backup_code",
        "verification_code",
        "auth_code",
        "otp_code",
        "mfa",
        "totp",
        "hotp",
        "iban",
        "account_number",
        "routing_number",
        "connection_string",
        "credit_card",
        "card_num",
        "cc_num",
        "database_url",
        "db_url",
        "security_token",
    }
)
#: Keys that are sensitive only as a whole name (fragments would over-match).
_SENSITIVE_EXACT: Final = frozenset(
    {
        *("key", "pin", "code", "sig", "pass", "mfa", "dsn", "pan", "ssn", "otp", "totp", "hotp"),
        *("auth", "pw", "private", "card", "cc", "ccn"),
    }
)
#: Words that mark a secret wherever they stand as a whole ``_``-separated
#: part of a name (``db_pass``, ``user_pw``, ``sms_otp``); the other exact
#: names would over-match as parts (``status_code``, ``cache_key``).
_SENSITIVE_PARTS: Final = frozenset({"pass", "pw", "pin", "ssn", "dsn", "otp"})
#: Nesting below this depth is masked whole rather than walked (fail closed).
_MAX_DEPTH: Final = 32

_KEYWORDS: Final = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_\- ]?key|access[_-]?key|private[_-]?key"
    r"|authorization|cookie|session(?:id)?|credentials?|client[_-]?secret|csrf|xsrf"
)
_Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class _Rule:
    """A value pattern and the cheap substring test that must pass first.

    Every match of ``pattern`` contains one of ``triggers`` (in the text, or
    in the lowercased text when ``fold``); case-insensitive patterns use
    ``re.ASCII`` so that lowercasing agrees with the regex's case folding.
    The trigger test is a C-speed ``in``; most log lines skip most patterns.
    """

    pattern: re.Pattern[str]
    replacement: _Replacement
    triggers: tuple[str, ...]
    fold: bool = False


def _quoted_mask(match: re.Match[str]) -> str:
    quote = match.group(2) or match.group(3) or ""
    return f"{match.group(1)}{quote}{MASK}{quote}"


# Each pattern is linear-time: no nested unbounded quantifiers, bounded
# prefixes, and an unterminated PEM block consumes the rest of the text once.
_RULES: Final = (
    # PEM private keys (PKCS#1, PKCS#8, encrypted, OpenSSH, EC, DSA).
    _Rule(
        re.compile(
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
            r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        MASK,
        ("PRIVATE KEY-----", "PRIVATE KEY BLOCK-----"),
    ),
    # Whole header lines whose value is a credential list (RFC 9110 11.6.2,
    # RFC 6265 section 4): everything to the end of the line.
    _Rule(
        re.compile(
            r"\b((?:proxy-)?authorization|(?:set-)?cookie)(\s{0,5}[\"']?\s{0,5}[=:]\s{0,5})"
            r"[^\r\n]+",
            re.IGNORECASE | re.ASCII,
        ),
        r"\1\2" + MASK,
        ("authorization", "cookie"),
        fold=True,
    ),
    # HTTP credentials elsewhere: "Bearer x" (RFC 6750), "Basic x" (RFC 7617).
    _Rule(
        # A letter before "bearer" makes another word; "_" or a digit does not
        # ("auth_Bearer x", "1Bearer x" still carry the credential).
        re.compile(r"(?<![A-Za-z])(bearer)(\s+)[A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE | re.ASCII),
        r"\1\2" + MASK,
        ("bearer",),
        fold=True,
    ),
    _Rule(
        re.compile(r"(?<![A-Za-z])(Basic)(\s+)[A-Za-z0-9+/]{8,}={0,2}", re.ASCII),
        r"\1\2" + MASK,
        ("Basic",),
    ),
    # JWS/JWE compact serializations: the header is base64url JSON, "eyJ..."
    # (and "ey..." with leading whitespace in the JSON).
    _Rule(
        # "eyJ" (base64 of '{"') is distinctive enough to need no boundary:
        # "_eyJ...", "id:eyJ..." and text glued to non-ASCII letters match.
        re.compile(
            r"(?:\bey|eyJ)[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{2,}(?:\.[A-Za-z0-9_\-]*){1,3}",
            re.ASCII,
        ),
        MASK,
        ("ey",),
    ),
    # name=value / "name": "value" where the name says secret (quotes kept).
    _Rule(
        re.compile(
            # A Python bytes/str literal prefix (b'...', u"...") stays with the
            # name so that the quoted branch masks the whole literal.
            rf"((?:{_KEYWORDS})[A-Za-z0-9_\-]{{0,32}}[\"']?\s{{0,5}}[=:]\s{{0,5}}"
            r"(?:[bBrRuU]{1,2}(?=[\"']))?)"
            r"(?:(\")(?:[^\"\\\r\n]|\\.)*\"?|(')(?:[^'\\\r\n]|\\.)*'?|[^\s&,;\"'<>]+)",
            re.IGNORECASE | re.ASCII,
        ),
        _quoted_mask,
        (
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "authorization",
            "cookie",
            "session",
            "credential",
            "csrf",
            "xsrf",
        ),
        fold=True,
    ),
    # URL userinfo (RFC 3986 section 3.2.1): the password between ":" and the
    # *last* "@" of the authority, since people paste passwords with a raw
    # "@" in them (greedy, bounded: linear per match).
    _Rule(
        re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,20}://[^/\s:@]{0,256}:)[^/\s]{1,256}@"),
        r"\1" + MASK + "@",
        ("://",),
    ),
    # Cloud and SaaS key formats with a fixed prefix.
    _Rule(
        re.compile(
            # Distinctive prefixes match anywhere (a secret glued to other
            # text, "key_AKIA..." or "x=ghp_..."); short generic ones ("sk-",
            # "SG.", "ya29.") keep an ASCII word boundary ("task-..." is not
            # a key).
            r"(?:\b(?:"
            r"ya29\.[0-9A-Za-z_\-]{20,}"  # Google OAuth access token
            r"|sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}"  # OpenAI / Anthropic
            r"|SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"  # SendGrid
            r")"
            r"|(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}"  # AWS
            r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
            r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"  # GitHub
            r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
            r"|xox[abposre]-[A-Za-z0-9\-]{10,250}|xapp-[0-9]-[A-Za-z0-9\-]{10,250}"  # Slack
            r"|[rsp]k_(?:live|test)_[0-9A-Za-z]{10,247}"  # Stripe
            r"|whsec_[0-9A-Za-z]{20,}"  # Stripe webhook secret
            r"|npm_[A-Za-z0-9]{36}"  # npm
            r")",
            re.ASCII,
        ),
        MASK,
        (
            *("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA"),
            *("AROA", "AIza", "ya29.", "gh", "glpat-", "xox", "k_live_", "k_test_", "whsec_"),
            # "github_pat_" does not contain "gh": it needs its own trigger.
            *("sk-", "npm_", "SG.", "github_pat_", "xapp-"),
        ),
    ),
    # Azure storage / Service Bus connection strings, SAS signatures.
    _Rule(
        re.compile(r"((?:AccountKey|SharedAccessKey|sig)=)[^;&\s\"']+", re.IGNORECASE | re.ASCII),
        r"\1" + MASK,
        ("accountkey=", "sharedaccesskey=", "sig="),
        fold=True,
    ),
)
# Runs of 13+ digits with optional single spaces or dashes (shorter runs
# cannot be card numbers and never reach the Python-level Luhn check).
_DIGIT_RUN: Final = re.compile(r"[0-9](?:[ \-]?[0-9]){12,}")
_SEPARATOR: Final = re.compile(r"[ \-]")
_CARD_MIN_DIGITS: Final = 13  # ISO/IEC 7812: PANs are 8 to 19 digits; cards 13+
_CARD_MAX_DIGITS: Final = 19


_DOUBLED: Final = str.maketrans("0123456789", "0246813579")


def _luhn(digits: str) -> bool:
    # ISO/IEC 7812-1 Annex B (Luhn): from the right, double every second
    # digit (a doubled digit over 9 counts as its digit sum).
    backwards = digits[::-1]
    total = sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2].translate(_DOUBLED)))
    return total % 10 == 0


def _mask_cards(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = _SEPARATOR.split(run)
    separators = _SEPARATOR.findall(run)
    masked = [False] * len(groups)
    # Any contiguous span of groups holding 13-19 digits that passes Luhn is
    # a card number ("4111 1111 1111 1111 exp 12 25" has extra groups).
    # Printed card layouts use groups of 3 to 6 digits (4-4-4-4, 4-6-5,
    # 4-6-4); shorter groups ("12 34 56") end a multi-group span, which keeps
    # long lists of small numbers cheap.
    for start in range(len(groups)):
        digits = ""
        for end in range(start, len(groups)):
            if end > start and (len(groups[end]) < 3 or len(groups[start]) < 3):
                break
            digits += groups[end]
            if len(digits) > _CARD_MAX_DIGITS:
                break
            if len(digits) >= _CARD_MIN_DIGITS and _luhn(digits):
                for index in range(start, end + 1):
                    masked[index] = True
    if not any(masked):
        return run
    out = [MASK if masked[0] else groups[0]]
    for index in range(1, len(groups)):
        if masked[index] and masked[index - 1]:
            continue
        out.append(separators[index - 1])
        out.append(MASK if masked[index] else groups[index])
    return "".join(out)


def redact_text(text: str) -> str:
    """Mask secrets found by value pattern in free text.

    Masks PEM private keys, HTTP ``Bearer``/``Basic`` credentials, JWTs,
    ``password=...``-style assignments, URL passwords, card numbers that pass
    the Luhn check, and common cloud key formats (AWS, Google, GitHub, GitLab,
    Slack, Stripe, OpenAI, npm, SendGrid, Azure).

    Args:
        text: the text to scan.

    Returns:
        The text with each secret replaced by ``[REDACTED]``.

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    folded = text.lower()
    for rule in _RULES:
        haystack = folded if rule.fold else text
        for trigger in rule.triggers:
            if trigger in haystack:
                text = rule.pattern.sub(rule.replacement, text)
                folded = text.lower()
                break
    return _DIGIT_RUN.sub(_mask_cards, text)


# A lowercase-to-uppercase boundary ("apiKey", "clientSecret") starts a word.
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS: Final = str.maketrans({"-": "_", " ": "_", ".": "_"})


def _normalize_key(key: str) -> str:
    # camelCase, kebab-case, dotted and spaced names all become snake_case,
    # so "apiKey", "api-key", "API Key" and "api.key" are one name.
    return _CAMEL_BOUNDARY.sub("_", key).lower().translate(_SEPARATORS)


_FRAGMENTS: Final = re.compile("|".join(sorted(map(re.escape, SENSITIVE_KEYS))))
# Multi-word fragments also match with the separators dropped ("passWord",
# "pass_word", "APIKEY", "connectionstring" -> "apikey", "connectionstring").
_COMPACT_FRAGMENTS: Final = re.compile(
    "|".join(sorted(re.escape(f.replace("_", "")) for f in SENSITIVE_KEYS if "_" in f))
)


@functools.lru_cache(maxsize=4096)
def _sensitive_name(key: str, extra: frozenset[str]) -> bool:
    # Cached: logs repeat the same few key names; the cache is bounded.
    name = _normalize_key(key)
    compact = name.replace("_", "")
    if (
        name in _SENSITIVE_EXACT
        or compact in _SENSITIVE_EXACT
        or name in extra
        or _FRAGMENTS.search(name)
        or _FRAGMENTS.search(compact)
        or _COMPACT_FRAGMENTS.search(compact)
        or not _SENSITIVE_PARTS.isdisjoint(name.split("_"))
    ):
        return True
    return any(fragment in name or fragment.replace("_", "") in compact for fragment in extra)


def _sensitive_key(key: object, extra: frozenset[str]) -> bool:
    if isinstance(key, bytes):
        key = key.decode("latin-1")
    if not isinstance(key, str):
        return False
    return _sensitive_name(str(key), extra)


# Leaf types whose text cannot hold a secret; anything else is rendered to
# check (an exception, a request object or a dataclass may carry one).
_PLAIN_TYPES: Final = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    enum.Enum,
)


def _redact_object(value: object) -> object:
    """Return ``value``, or its redacted ``repr`` when its text holds a secret.

    Renderers show other objects through ``repr`` (structlog, ``%r``) or
    ``str`` (``%s``, logging extras): both are checked, and an object whose
    text cannot be produced at all is masked (fail closed).
    """
    if isinstance(value, _PLAIN_TYPES):
        return value
    try:
        shown = repr(value)
        printed = str(value)
    except Exception:  # noqa: BLE001 - any __repr__/__str__ may raise
        return MASK
    cleaned = redact_text(shown)
    if cleaned != shown or redact_text(printed) != printed:
        return cleaned if cleaned != shown else MASK
    return value


def _redact(
    value: object, extra: frozenset[str], depth: int, seen: set[int], *, scan: bool = True
) -> object:
    """Redact by key everywhere and, when ``scan``, strings by value pattern.

    The logging filter passes ``scan=False`` for arguments because it scans
    the formatted message (which contains them) once afterwards.
    """
    if not scan and not isinstance(value, Mapping | list | tuple | set | frozenset):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("latin-1")
        cleaned = redact_text(text)
        return value if cleaned == text else cleaned.encode("latin-1")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        # A card number logged as an int.
        digits = str(abs(value)) if value.bit_length() < 70 else ""
        if _CARD_MIN_DIGITS <= len(digits) <= _CARD_MAX_DIGITS and _luhn(digits):
            return MASK
        return value
    if not isinstance(value, Mapping | list | tuple | set | frozenset):
        return _redact_object(value)
    if depth >= _MAX_DEPTH or id(value) in seen:
        # Too deep or a cycle: masking the whole branch fails closed.
        return MASK
    seen.add(id(value))
    try:
        if isinstance(value, Mapping):
            return {
                key: MASK
                if _sensitive_key(key, extra)
                else _redact(item, extra, depth + 1, seen, scan=scan)
                for key, item in value.items()
            }
        if len(value) == 2 and isinstance(value, list | tuple) and _sensitive_key(value[0], extra):
            # A (name, value) pair, as in ASGI/WSGI header lists:
            # [(b"cookie", b"sid=..."), ("Authorization", "...")].
            items = [value[0], MASK]
        else:
            items = [_redact(item, extra, depth + 1, seen, scan=scan) for item in value]
        if isinstance(value, tuple):
            if hasattr(value, "_fields"):  # a namedtuple keeps its type
                factory: Any = type(value)
                return factory(*items)
            return tuple(items)
        if isinstance(value, set | frozenset):
            return frozenset(items) if isinstance(value, frozenset) else set(items)
        return items
    finally:
        seen.discard(id(value))


def _extra_keys(extra_keys: Iterable[str]) -> frozenset[str]:
    if isinstance(extra_keys, str):
        raise TypeError("extra_keys must be a collection of str, not one str")
    keys = tuple(extra_keys)
    if not all(isinstance(key, str) for key in keys):
        raise TypeError("extra_keys must contain only str")
    return frozenset(_normalize_key(key) for key in keys)


def redact(obj: object, *, extra_keys: Iterable[str] = ()) -> object:
    """Return ``obj`` with the same shape and every secret masked.

    Walks dicts (and other mappings, returned as ``dict``), lists, tuples
    (named tuples keep their type) and sets. A value under a sensitive key
    (see :data:`SENSITIVE_KEYS`; case-insensitive) is replaced by
    ``[REDACTED]`` whatever its type; strings and bytes elsewhere are scanned
    by :func:`redact_text`; integers that are card numbers are masked. Cycles
    and nesting deeper than 32 are masked whole. Other objects are returned
    as they are unless their ``repr`` or ``str`` holds a secret (an exception
    message, say): then they become their redacted ``repr`` (or
    ``[REDACTED]`` when that cannot be produced). The input is not modified.

    Args:
        obj: the data to redact.
        extra_keys: more key-name fragments to treat as sensitive.

    Returns:
        A redacted copy.
    """
    return _redact(obj, _extra_keys(extra_keys), 0, set())


def _format_exception(
    exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None],
) -> str:
    kind, value, tb = exc_info
    if kind is None or value is None:
        return ""
    return "".join(traceback.format_exception(kind, value, tb)).rstrip("\n")


_RECORD_ATTRIBUTES: Final = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None)).keys()
) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that masks secrets in every part of a record.

    Install it on handlers (a filter on a logger does not see records
    propagated from child loggers)::

        handler.addFilter(RedactingFilter())

    The filter formats the message with its arguments *after* redacting
    them, so ``log.info("login %s", password_dict)`` and
    ``log.info("%(token)s", {"token": t})`` are both covered, then redacts the
    formatted text again by value pattern; it replaces ``exc_info`` and
    ``stack_info`` by redacted text, and redacts extra fields by key name and
    value. It never drops a record.
    """

    def __init__(self, name: str = "", *, extra_keys: Iterable[str] = ()) -> None:
        """Create the filter.

        Args:
            name: as for ``logging.Filter`` (records below this logger name).
            extra_keys: more key-name fragments to treat as sensitive.
        """
        super().__init__(name)
        self._extra = _extra_keys(extra_keys)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always returns True."""
        if not super().filter(record):
            return False
        extra = self._extra
        message = record.msg
        args = record.args
        if isinstance(message, str):
            template = redact_text(message) if not args else message
        else:
            # A container is redacted by key first; any other object (an
            # exception) is rendered as logging would (str), then both are
            # scanned as text.
            if isinstance(message, Mapping | list | tuple | set | frozenset):
                message = _redact(message, extra, 0, set())
            try:
                template = redact_text(str(message))
            except Exception:  # noqa: BLE001 - a broken __str__ must not drop the record
                template = "[unprintable message redacted]"
        if args:
            # Keys only here: the formatted message is scanned as a whole below.
            safe_args = _redact(args, extra, 0, set(), scan=False)
            try:
                text = template % safe_args  # same semantics as LogRecord.getMessage
            except Exception:  # noqa: BLE001 - any __str__ may raise; drop the arguments
                text = redact_text(str(message)) + " [arguments redacted]"
            template = redact_text(text)
        record.msg = template
        record.args = ()
        if record.exc_info:
            record.exc_text = redact_text(_format_exception(record.exc_info))
            # Formatters re-render exc_info unless exc_text is set; clearing it
            # also keeps handlers that read exc_info directly from the raw text.
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for key, value in list(vars(record).items()):
            if key in _RECORD_ATTRIBUTES:
                continue
            setattr(
                record,
                key,
                MASK if _sensitive_key(key, extra) else _redact(value, extra, 0, set()),
            )
        return True


class RedactingProcessor:
    """A structlog processor that masks secrets in the event dict.

    Place it last before the renderer::

        structlog.configure(processors=[..., RedactingProcessor(), JSONRenderer()])

    An ``exc_info`` entry is rendered to an ``exception`` string first (as
    ``structlog.processors.format_exc_info`` does) so the traceback text is
    redacted too.
    """

    def __init__(self, *, extra_keys: Iterable[str] = ()) -> None:
        """Create the processor.

        Args:
            extra_keys: more key-name fragments to treat as sensitive.
        """
        self._extra = _extra_keys(extra_keys)

    def __call__(
        self,
        logger: object,  # noqa: ARG002 - structlog's processor signature
        method_name: str,  # noqa: ARG002 - same
        event_dict: MutableMapping[str, Any],
    ) -> MutableMapping[str, Any]:
        """Return the redacted event dict."""
        exc_info = event_dict.pop("exc_info", None)
        if exc_info:
            if exc_info is True:
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            if isinstance(exc_info, tuple) and len(exc_info) == 3:
                text = _format_exception(exc_info)
                if text:
                    event_dict["exception"] = text
        redacted = _redact(dict(event_dict), self._extra, 0, set())
        event_dict.clear()
        event_dict.update(redacted if isinstance(redacted, dict) else {})
        return event_dict


# --- problem+json ----------------------------------------------------------------

#: RFC 9457 section 3: the media type of a problem details document.
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
_LOGGER: Final = logging.getLogger("securekit.safe_errors")
# Correlation ids supplied by a caller (e.g. from an X-Request-ID header) are
# echoed only if they are short and plain; anything else is replaced.
_CORRELATION_RE: Final = re.compile(r"[A-Za-z0-9._\-]{8,64}")
#: Retry-After is capped so a broken limiter cannot ask clients to wait years.
_MAX_RETRY_AFTER: Final = 86_400

_TITLES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        413: "Content Too Large",
        415: "Unsupported Media Type",
        422: "Unprocessable Content",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
)
_AUTH_DETAIL: Final = "Authentication is required."
_NOT_FOUND_DETAIL: Final = "The resource was not found."
_INTERNAL_DETAIL: Final = "An internal error occurred. Quote the correlation id when reporting it."
# Reasons that mean the body itself is malformed (400) rather than a
# well-formed body that fails the rules (422, RFC 9110 section 15.5.21).
_MALFORMED_INPUT: Final = frozenset(
    {
        InputReason.INVALID_JSON,
        InputReason.BAD_ENCODING,
        InputReason.DUPLICATE_KEY,
        InputReason.TOO_DEEP,
        InputReason.TOO_LARGE,
    }
)
_UPLOAD_TOO_LARGE: Final = frozenset(
    {UploadReason.TOO_LARGE, UploadReason.ARCHIVE_BOMB, UploadReason.TOO_MANY_PIXELS}
)
_UPLOAD_BAD_TYPE: Final = frozenset(
    {
        UploadReason.EXTENSION_NOT_ALLOWED,
        UploadReason.TYPE_MISMATCH,
        UploadReason.DECLARED_TYPE_MISMATCH,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemResponse:
    """An RFC 9457 problem response, ready for any web framework.

    Attributes:
        status: the HTTP status code.
        headers: response headers (``Content-Type: application/problem+json``,
            ``Cache-Control: no-store``, ``X-Correlation-ID``, and
            ``Retry-After`` or ``WWW-Authenticate`` where they apply).
        body: the problem details object (``type``, ``title``, ``status``,
            ``detail``, ``correlation_id``, and for input errors ``field``
            and ``reason``).
        content: ``body`` serialized as compact UTF-8 JSON.
        correlation_id: the id in the body, headers and server-side log.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, object] = field(default_factory=dict)
    content: bytes = b""
    correlation_id: str = ""


def new_correlation_id() -> str:
    """Return a fresh random correlation id (128 bits, 32 hex characters)."""
    return secrets.token_hex(16)


def _retry_after(exc: RateLimitedError) -> str:
    seconds = getattr(exc, "retry_after", 0.0)
    # Anything but a finite number asks for the longest wait (fail closed);
    # ints skip math.isfinite, which raises OverflowError for 10**400.
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or (isinstance(seconds, float) and not math.isfinite(seconds))
    ):
        seconds = _MAX_RETRY_AFTER
    # RFC 9110 section 10.2.3: delay-seconds is a non-negative integer.
    return str(min(max(math.ceil(seconds), 1), _MAX_RETRY_AFTER))


def _reason_code(exc: BaseException) -> str:
    # Reason enums are StrEnums from securekit.errors; anything else (a
    # hand-made error with a free-form reason) is not echoed.
    reason = getattr(exc, "reason", None)
    value = getattr(reason, "value", None)
    if isinstance(value, str) and value.isidentifier() and len(value) <= 64:
        return value
    return "invalid"


def _classify(exc: BaseException) -> tuple[int, str, dict[str, object], dict[str, str]]:
    """Map an exception to (status, detail, extra body members, extra headers)."""
    if isinstance(exc, InvalidTokenError | SessionError | MFAError) or (
        isinstance(exc, PermissionDeniedError) and exc.reason is PermissionReason.NOT_AUTHENTICATED
    ):
        # One body for every authentication failure: which check failed is
        # for the server log only (OWASP Authentication Cheat Sheet).
        return 401, _AUTH_DETAIL, {}, {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, PermissionDeniedError):
        if exc.reason is PermissionReason.NOT_FOUND:
            return 404, _NOT_FOUND_DETAIL, {}, {}
        return 403, PermissionDeniedError.public_message, {}, {}
    if isinstance(exc, CSRFError):
        return 403, CSRFError.public_message, {}, {}
    if isinstance(exc, RateLimitedError):
        return 429, RateLimitedError.public_message, {}, {"Retry-After": _retry_after(exc)}
    if isinstance(exc, InputValidationError):
        status = 400 if exc.reason in _MALFORMED_INPUT else 422
        members: dict[str, object] = {"reason": _reason_code(exc)}
        if isinstance(exc.field, str) and exc.field.isidentifier():
            members["field"] = exc.field
        return status, InputValidationError.public_message, members, {}
    if isinstance(exc, WeakPasswordError):
        return 422, WeakPasswordError.public_message, {"reason": _reason_code(exc)}, {}
    if isinstance(exc, UploadRejectedError):
        if exc.reason in _UPLOAD_TOO_LARGE:
            return 413, UploadRejectedError.public_message, {}, {}
        if exc.reason in _UPLOAD_BAD_TYPE:
            return 415, UploadRejectedError.public_message, {}, {}
        return 400, UploadRejectedError.public_message, {}, {}
    if isinstance(exc, VerificationError):
        return 400, VerificationError.public_message, {}, {}
    if isinstance(exc, UnavailableError):
        return 503, "The service is temporarily unavailable.", {}, {}
    return 500, _INTERNAL_DETAIL, {}, {}


def problem_response(
    exc: BaseException,
    *,
    correlation_id: str | None = None,
    logger: logging.Logger | None = None,
) -> ProblemResponse:
    """Turn any exception into a safe RFC 9457 problem response.

    ======================================  =====================================
    exception                               status
    ======================================  =====================================
    InvalidTokenError, SessionError,        401, one identical body, with
    MFAError, PermissionDeniedError         ``WWW-Authenticate: Bearer``
    (``NOT_AUTHENTICATED``)
    PermissionDeniedError                   403 (404 for ``NOT_FOUND``)
    CSRFError                               403
    RateLimitedError                        429 with ``Retry-After``
    InputValidationError                    400 for a malformed body (JSON,
                                            encoding, size, depth, duplicate
                                            keys), otherwise 422
    WeakPasswordError                       422
    UploadRejectedError                     413 (size), 415 (type), else 400
    other VerificationError                 400
    UnavailableError                        503
    anything else                           500, logged in full server-side
    ======================================  =====================================

    The ``detail`` is a constant chosen by the exception's class, never
    ``str(exc)``. Verification failures are logged at INFO (type, reason,
    correlation id, no input); unavailable services at WARNING; anything else
    at ERROR with the traceback.

    Args:
        exc: the exception to answer.
        correlation_id: an id to reuse (e.g. from the request's
            ``X-Request-ID``); used only if it is 8-64 characters of
            ``[A-Za-z0-9._-]``, otherwise a fresh one is generated.
        logger: where to log; defaults to ``securekit.safe_errors``.

    Returns:
        The response parts.
    """
    if not isinstance(exc, BaseException):
        raise TypeError(f"exc must be an exception, not {type(exc).__name__}")
    if not (isinstance(correlation_id, str) and _CORRELATION_RE.fullmatch(correlation_id)):
        correlation_id = new_correlation_id()
    log = logger if logger is not None else _LOGGER
    try:
        status, detail, members, extra_headers = _classify(exc)
    except Exception:  # noqa: BLE001 - an odd exception object must not break error handling
        status, detail, members, extra_headers = 500, _INTERNAL_DETAIL, {}, {}
    body: dict[str, object] = {
        # RFC 9457 section 4.2.1: "about:blank" means the status code says it
        # all, and then the title is the status phrase.
        "type": "about:blank",
        "title": _TITLES[status],
        "status": status,
        "detail": detail,
        **members,
        "correlation_id": correlation_id,
    }
    if status >= 500 and not isinstance(exc, UnavailableError):
        log.error(
            "unhandled %s [correlation_id=%s]",
            type(exc).__name__,
            correlation_id,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    elif isinstance(exc, UnavailableError):
        log.warning(
            "service unavailable: %s [correlation_id=%s]", type(exc).__name__, correlation_id
        )
    else:
        log.info(
            "request refused: %s reason=%s status=%d [correlation_id=%s]",
            type(exc).__name__,
            _reason_code(exc),
            status,
            correlation_id,
        )
    headers = {
        "Content-Type": PROBLEM_CONTENT_TYPE,
        # Error bodies are per-request; never cache them (RFC 9111 5.2.2.5).
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Correlation-ID": correlation_id,
        **extra_headers,
    }
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return ProblemResponse(
        status=status,
        headers=MappingProxyType(headers),
        body=MappingProxyType(body),
        content=content,
        correlation_id=correlation_id,
    )
