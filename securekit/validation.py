"""Allowlist validators, strict pydantic types and a strict JSON loader.

Every validator here is written so that it cannot be wrong in the usual ways:

* the whole string must match (``re.fullmatch``; ``re.match`` with ``$``
  accepts a trailing newline);
* character classes are spelled out in ASCII (``\\d`` and ``\\w`` match
  Arabic-Indic digits and non-Latin letters);
* the length is checked before any normalization or regex, and every pattern
  is linear-time (no nested quantifiers);
* text is NFKC-normalized first, then control, format (bidi override,
  zero-width) and surrogate characters are rejected, then the rule applies;
* the Python type is checked first: a field meant to be ``str`` rejects
  ``{"$ne": ""}``, lists, numbers and booleans (NoSQL operator injection and
  type confusion).

Each validator accepts any object and either returns the validated value or
raises :class:`~securekit.errors.InputValidationError` with a ``reason``; it
never raises anything else for any input. The same rules are available as
pydantic ``Annotated`` types (:data:`Username`, :data:`Email`, ...), as
markers for parametrized rules (``Annotated[int, IntRange(...)]``) and as the
:class:`SecureModel` base class.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Self, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from securekit._json import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, load_json
from securekit.errors import ConfigurationError, InputReason, InputValidationError

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "EMAIL_MAX_LENGTH",
    "STRICT_CONFIG",
    "TEXT_MAX_LENGTH",
    "URL_MAX_LENGTH",
    "USERNAME_MAX_LENGTH",
    "USERNAME_MIN_LENGTH",
    "Email",
    "FloatRange",
    "Identifier",
    "IntRange",
    "OneOf",
    "SafeText",
    "SecureModel",
    "Slug",
    "StrictUUID",
    "URLRule",
    "Username",
    "load_json",
    "normalize_text",
    "validate_choice",
    "validate_email",
    "validate_float",
    "validate_identifier",
    "validate_int",
    "validate_slug",
    "validate_sql_identifier",
    "validate_text",
    "validate_url",
    "validate_username",
    "validate_uuid",
]

# --- limits ----------------------------------------------------------------

#: DESIGN.md contract: usernames are 3 to 32 ASCII characters (the common
#: range of GitHub, Slack and Unix ``useradd`` conventions).
USERNAME_MIN_LENGTH: Final = 3
USERNAME_MAX_LENGTH: Final = 32
#: RFC 5321 section 4.5.3.1.3: a path is at most 256 octets including the
#: angle brackets, so an address is at most 254 (RFC 3696 erratum 1690).
EMAIL_MAX_LENGTH: Final = 254
#: RFC 5321 section 4.5.3.1.1: the local part is at most 64 octets.
EMAIL_LOCAL_MAX_LENGTH: Final = 64
#: RFC 1035 section 2.3.4: labels are at most 63 octets, names 253 characters.
DNS_LABEL_MAX_LENGTH: Final = 63
#: Browsers and CDNs commonly cap URLs near 2 KiB (RFC 9110 section 4.1
#: recommends supporting at least 8000 octets; 2048 is the safe interop floor).
URL_MAX_LENGTH: Final = 2048
#: Django's SlugField default is 50; 64 leaves room for dates in slugs.
SLUG_MAX_LENGTH: Final = 64
#: Identifiers (programming-style names): 64 matches PostgreSQL's NAMEDATALEN-1
#: (63) rounded to the MySQL identifier limit (64).
IDENTIFIER_MAX_LENGTH: Final = 64
#: OWASP Input Validation Cheat Sheet: every string has a maximum length.
#: 10 000 characters is the default cap for free text (override per field).
TEXT_MAX_LENGTH: Final = 10_000
#: Integers given as text: 4300 is Python's int() digit cap (CVE-2020-10735);
#: real ranges need far fewer, so text longer than this is refused first.
_INT_TEXT_MAX_LENGTH: Final = 40
#: Floats given as text: generous for 17 significant digits and an exponent.
_FLOAT_TEXT_MAX_LENGTH: Final = 64
#: RFC 9562 section 4: the canonical hex-and-dash form is 36 characters.
_UUID_LENGTH: Final = 36

# --- patterns (ASCII classes only, anchored by fullmatch, linear-time) -----

_USERNAME_RE: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_SLUG_RE: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_IDENTIFIER_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SQL_IDENTIFIER_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_INT_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
# JSON number grammar (RFC 8259 section 6): no "+", no leading zeros, no
# "inf"/"nan", no underscores, no whitespace.
_FLOAT_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?")
# RFC 5322 section 3.2.3 dot-atom (ASCII atext), no quoted strings, no comments.
_ATEXT: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+"
_EMAIL_LOCAL_RE: Final = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
# RFC 1123 section 2.1 host name labels (letters, digits, hyphen inside),
# at least two, the last alphabetic or an IDNA "xn--" label. Each label's
# repetition is bounded and ends at a ".", so matching stays linear.
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE: Final = re.compile(rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9\-]{{1,59}})")
_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_PORT_RE: Final = re.compile(r"[0-9]{1,5}")
# Characters never accepted in a URL (RFC 3986 section 2 minus what browsers
# "repair"): whitespace, controls, backslash (WHATWG treats it as "/"), and
# characters outside ASCII (IDNs must arrive in their xn-- form).
_URL_FORBIDDEN_RE: Final = re.compile(r"[^\x21-\x7e]|[\\<>\"`{}|^]")

# Unicode general categories rejected after NFKC: Cc controls, Cf format
# characters (bidi overrides U+202A-202E/U+2066-2069, zero-width joiners,
# BOM), Cs surrogates, Co private use, Cn unassigned, and Zl/Zp (U+2028 and
# U+2029 end lines in JavaScript and many log viewers).
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MULTILINE_ALLOWED: Final = frozenset({"\n", "\t"})
_NON_FINITE_WORDS: Final = frozenset({"nan", "inf", "infinity", "snan"})


def _fail(reason: InputReason) -> InputValidationError:
    return InputValidationError(reason)


def _require_str(value: object) -> str:
    # bool is not str; but str subclasses (e.g. markupsafe.Markup) are
    # converted to a plain str so no subclass behaviour survives validation.
    if not isinstance(value, str):
        raise _fail(InputReason.WRONG_TYPE)
    return str(value)


def _check_min_length(text: str, min_length: int) -> None:
    # The maximum is already enforced by normalize_text (before and after NFKC).
    if len(text) < min_length:
        raise _fail(InputReason.TOO_SHORT)


def normalize_text(value: object, *, max_length: int, multiline: bool = False) -> str:
    """NFKC-normalize text and reject control, format and surrogate characters.

    The length is checked on the raw input (NFKC can expand one character
    into 18) and again on the result.

    Args:
        value: untrusted input; must be a ``str``.
        max_length: the largest accepted length, in code points.
        multiline: also accept ``\\n`` and ``\\t`` (``\\r`` is never
            accepted: it enables header and log injection).

    Returns:
        The normalized text.

    Raises:
        ConfigurationError: ``max_length`` is not a positive int.
        InputValidationError: wrong type (``WRONG_TYPE``), too long
            (``TOO_LONG``) or a forbidden character (``FORBIDDEN_CHARACTER``).
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ConfigurationError("max_length must be a positive int")
    text = _require_str(value)
    if len(text) > max_length:
        raise _fail(InputReason.TOO_LONG)
    if not text.isascii():
        try:
            text = unicodedata.normalize("NFKC", text)
        except UnicodeError:  # pragma: no cover - NFKC does not raise for str
            raise _fail(InputReason.BAD_ENCODING) from None
        if len(text) > max_length:
            raise _fail(InputReason.TOO_LONG)
    if text.isprintable():
        # Fast path: isprintable() is False for every Cc/Cf/Cs/Co/Cn character
        # (and for Zs/Zl/Zp other than the ASCII space).
        return text
    for char in text:
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise _fail(InputReason.FORBIDDEN_CHARACTER)
    return text


def validate_text(
    value: object,
    *,
    max_length: int = TEXT_MAX_LENGTH,
    min_length: int = 0,
    multiline: bool = False,
) -> str:
    """Validate free text: NFKC, no control/bidi characters, length caps.

    Args:
        value: untrusted input; must be a ``str``.
        max_length: the largest accepted length after normalization.
        min_length: the smallest accepted length after normalization.
        multiline: also accept ``\\n`` and ``\\t``.

    Returns:
        The normalized text.

    Raises:
        ConfigurationError: a length limit is out of range.
        InputValidationError: see :func:`normalize_text`; also ``TOO_SHORT``.
    """
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 0:
        raise ConfigurationError("min_length must be a non-negative int")
    text = normalize_text(value, max_length=max_length, multiline=multiline)
    _check_min_length(text, min_length)
    return text


def _pattern(value: object, pattern: re.Pattern[str], min_length: int, max_length: int) -> str:
    text = normalize_text(value, max_length=max_length)
    _check_min_length(text, min_length)
    if not text.isascii():
        raise _fail(InputReason.FORBIDDEN_CHARACTER)
    if pattern.fullmatch(text) is None:
        raise _fail(InputReason.BAD_FORMAT)
    return text


def validate_username(value: object) -> str:
    """Validate a username: ASCII letters, digits, ``_``, ``.``, ``-``; 3 to 32.

    Full-width forms are NFKC-normalized to ASCII first (``\\uff41\\uff4c...`` becomes
    ``al...``); case is preserved, so compare usernames with ``casefold()``
    if they should be case-insensitive.

    Raises:
        InputValidationError: the value is not a valid username.
    """
    return _pattern(value, _USERNAME_RE, USERNAME_MIN_LENGTH, USERNAME_MAX_LENGTH)


def validate_slug(value: object) -> str:
    """Validate a URL slug: lowercase ASCII words joined by single hyphens.

    Raises:
        InputValidationError: the value is not a valid slug (1 to 64 chars).
    """
    return _pattern(value, _SLUG_RE, 1, SLUG_MAX_LENGTH)


def validate_identifier(value: object) -> str:
    """Validate an identifier: an ASCII letter or ``_``, then letters, digits, ``_``.

    Raises:
        InputValidationError: the value is not a valid identifier (1 to 64).
    """
    return _pattern(value, _IDENTIFIER_RE, 1, IDENTIFIER_MAX_LENGTH)


def validate_uuid(value: object) -> uuid.UUID:
    """Validate a UUID in its canonical 36-character form (RFC 9562 section 4).

    ``uuid.UUID()`` also accepts braces, ``urn:uuid:`` prefixes, missing
    hyphens and surrounding whitespace; this accepts only the canonical form
    (either case) or a :class:`uuid.UUID` instance.

    Raises:
        InputValidationError: the value is not a canonical UUID.
    """
    if isinstance(value, uuid.UUID):
        return value
    text = _require_str(value)
    if len(text) != _UUID_LENGTH:
        raise _fail(InputReason.BAD_FORMAT)
    if _UUID_RE.fullmatch(text) is None:
        raise _fail(InputReason.BAD_FORMAT)
    return uuid.UUID(text)


def _check_bounds(
    min_value: float | None, max_value: float | None, *, integer: bool = False
) -> None:
    for bound in (min_value, max_value):
        if bound is None and not integer:
            continue
        # A NaN bound compares False both ways and would accept every value;
        # a bool or str bound is a typo that must not silently work.
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise ConfigurationError(
                "min_value and max_value must be int" if integer else "bounds must be numbers"
            )
        if integer and not isinstance(bound, int):
            raise ConfigurationError("min_value and max_value must be int")
        if isinstance(bound, float) and math.isnan(bound):
            raise ConfigurationError("bounds must not be NaN")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ConfigurationError("min_value must not be greater than max_value")


def validate_int(value: object, *, min_value: int, max_value: int) -> int:
    """Validate an integer in ``[min_value, max_value]``.

    Accepts an ``int`` (never ``bool``) or text in plain ASCII decimal
    (``-?(0|[1-9][0-9]*)``): ``int()`` would also accept ``'١٢٣'``,
    ``' 1_000 '``, ``'+1'`` and ``'0001'``; floats are refused even when
    integral.

    Raises:
        ConfigurationError: ``min_value`` is greater than ``max_value``.
        InputValidationError: wrong type, bad format, or out of range.
    """
    _check_bounds(min_value, max_value, integer=True)
    if isinstance(value, bool):
        raise _fail(InputReason.WRONG_TYPE)
    if isinstance(value, int):
        number = int(value)
    elif isinstance(value, str):
        if len(value) > _INT_TEXT_MAX_LENGTH:
            raise _fail(InputReason.TOO_LONG)
        if _INT_RE.fullmatch(value) is None:
            raise _fail(InputReason.BAD_FORMAT)
        number = int(value)
    else:
        raise _fail(InputReason.WRONG_TYPE)
    if not min_value <= number <= max_value:
        raise _fail(InputReason.OUT_OF_RANGE)
    return number


def validate_float(
    value: object, *, min_value: float | None = None, max_value: float | None = None
) -> float:
    """Validate a finite float, optionally in ``[min_value, max_value]``.

    Accepts ``float`` or ``int`` (never ``bool``) or text in JSON number
    syntax; ``NaN`` and infinities are refused in every form (``float()``
    accepts ``'nan'``, ``'inf'``, ``'1e999'`` and non-ASCII digits).

    Raises:
        ConfigurationError: ``min_value`` is greater than ``max_value``.
        InputValidationError: wrong type, bad format, not finite, or out of range.
    """
    _check_bounds(min_value, max_value)
    if isinstance(value, bool):
        raise _fail(InputReason.WRONG_TYPE)
    if isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:
            raise _fail(InputReason.OUT_OF_RANGE) from None
    elif isinstance(value, float):
        number = float(value)
    elif isinstance(value, str):
        if len(value) > _FLOAT_TEXT_MAX_LENGTH:
            raise _fail(InputReason.TOO_LONG)
        if _FLOAT_RE.fullmatch(value) is None:
            # The spellings float() would turn into NaN or an infinity get
            # the reason that says so (they are refused either way).
            if value.strip().lower().lstrip("+-") in _NON_FINITE_WORDS:
                raise _fail(InputReason.NOT_FINITE)
            raise _fail(InputReason.BAD_FORMAT)
        number = float(value)
    else:
        raise _fail(InputReason.WRONG_TYPE)
    if not math.isfinite(number):
        raise _fail(InputReason.NOT_FINITE)
    if (min_value is not None and number < min_value) or (
        max_value is not None and number > max_value
    ):
        raise _fail(InputReason.OUT_OF_RANGE)
    return number


def _choices(choices: Collection[str]) -> frozenset[str]:
    if isinstance(choices, str) or not choices:
        raise ConfigurationError("choices must be a non-empty collection of str (not one str)")
    if not all(isinstance(choice, str) for choice in choices):
        raise ConfigurationError("every choice must be a str")
    return frozenset(choices)


def validate_choice(value: object, *, choices: Collection[str]) -> str:
    """Validate that ``value`` is exactly one of ``choices`` (no normalization).

    For an ``enum.Enum``, pass ``choices={m.value for m in MyEnum}`` and look
    the member up with ``MyEnum(result)``.

    Raises:
        ConfigurationError: ``choices`` is empty, a ``str`` or holds non-str.
        InputValidationError: the value is not one of the choices.
    """
    allowed = _choices(choices)
    text = _require_str(value)
    if text not in allowed:
        raise _fail(InputReason.NOT_ALLOWED)
    return text


def _valid_hostname(host: str) -> bool:
    # RFC 1035 section 2.3.4: at most 253 characters (checked before the regex).
    return len(host) <= 253 and _HOSTNAME_RE.fullmatch(host) is not None


def validate_email(value: object) -> str:
    """Validate an email address by syntax only (no DNS, no delivery check).

    Accepts ``local@domain`` where the local part is an RFC 5322 dot-atom in
    ASCII (no quoted strings or comments) of at most 64 characters and the
    domain is a host name with at least one dot and an alphabetic (or
    ``xn--``) top-level label; at most 254 characters overall. The domain is
    returned lowercased; the local part keeps its case.

    Raises:
        InputValidationError: the value is not a valid address.
    """
    text = normalize_text(value, max_length=EMAIL_MAX_LENGTH)
    if not text.isascii():
        raise _fail(InputReason.FORBIDDEN_CHARACTER)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise _fail(InputReason.BAD_FORMAT)
    if len(local) > EMAIL_LOCAL_MAX_LENGTH:
        raise _fail(InputReason.TOO_LONG)
    if _EMAIL_LOCAL_RE.fullmatch(local) is None or not _valid_hostname(domain):
        raise _fail(InputReason.BAD_FORMAT)
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class _HostRule:
    exact: frozenset[str]
    suffixes: tuple[str, ...]


def _host_rule(allowed_hosts: Collection[str]) -> _HostRule:
    if isinstance(allowed_hosts, str) or not allowed_hosts:
        raise ConfigurationError("allowed_hosts must be a non-empty collection of host names")
    exact: set[str] = set()
    suffixes: list[str] = []
    for entry in allowed_hosts:
        if not isinstance(entry, str):
            raise ConfigurationError("every allowed host must be a str")
        host = entry.lower()
        wildcard = host.startswith("*.")
        name = host[2:] if wildcard else host
        if not _valid_hostname(name) and name != "localhost":
            raise ConfigurationError(
                "allowed_hosts entries must be host names such as 'example.com' or "
                "'*.example.com' (subdomains only)"
            )
        if wildcard:
            suffixes.append("." + name)
        else:
            exact.add(name)
    return _HostRule(exact=frozenset(exact), suffixes=tuple(suffixes))


def _schemes(schemes: Collection[str]) -> frozenset[str]:
    if isinstance(schemes, str) or not schemes:
        raise ConfigurationError("schemes must be a non-empty collection such as {'https'}")
    result = set()
    for scheme in schemes:
        if not isinstance(scheme, str) or _SCHEME_RE.fullmatch(scheme) is None:
            raise ConfigurationError("every scheme must be a URL scheme name such as 'https'")
        result.add(scheme.lower())
    if result & {"javascript", "data", "vbscript", "file"}:
        raise ConfigurationError("javascript:, data:, vbscript: and file: URLs cannot be allowed")
    return frozenset(result)


def _check_url(text: str, schemes: frozenset[str], hosts: _HostRule) -> str:
    if len(text) > URL_MAX_LENGTH:
        raise _fail(InputReason.TOO_LONG)
    if _URL_FORBIDDEN_RE.search(text) is not None:
        raise _fail(InputReason.FORBIDDEN_CHARACTER)
    scheme, sep, rest = text.partition("://")
    if not sep or _SCHEME_RE.fullmatch(scheme) is None:
        raise _fail(InputReason.BAD_FORMAT)
    if scheme.lower() not in schemes:
        raise _fail(InputReason.NOT_ALLOWED)
    # RFC 3986 section 3.2: the authority ends at the first "/", "?" or "#".
    end = len(rest)
    for delimiter in "/?#":
        index = rest.find(delimiter)
        if index != -1:
            end = min(end, index)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        # Userinfo is refused: "https://trusted.com@evil.com" fools readers.
        raise _fail(InputReason.NOT_ALLOWED)
    host, colon, port = authority.partition(":")
    if colon and (
        _PORT_RE.fullmatch(port) is None or not 0 < int(port) <= 65535 or port.startswith("0")
    ):
        raise _fail(InputReason.BAD_FORMAT)
    host = host.lower()
    if not _valid_hostname(host) and host != "localhost":
        # IP literals and single labels are refused; list them explicitly
        # by name if needed (SSRF guards live in securekit.urls).
        raise _fail(InputReason.BAD_FORMAT)
    if host not in hosts.exact and not host.endswith(hosts.suffixes):
        raise _fail(InputReason.NOT_ALLOWED)
    return f"{scheme.lower()}://{authority.lower()}{tail}"


def validate_url(
    value: object,
    *,
    allowed_hosts: Collection[str],
    schemes: Collection[str] = frozenset({"https"}),
) -> str:
    """Validate an absolute URL against a scheme and host allowlist.

    The URL must be printable ASCII without spaces, backslashes or quotes, at
    most 2048 characters, with ``scheme://host[:port]`` where the scheme is
    in ``schemes`` (default ``https`` only) and the host is a DNS name in
    ``allowed_hosts`` (``'*.example.com'`` allows subdomains of
    ``example.com``, not ``example.com`` itself). Userinfo (``user@``) is
    refused. Scheme and host are returned lowercased.

    Raises:
        ConfigurationError: ``allowed_hosts`` or ``schemes`` is invalid.
        InputValidationError: the URL is malformed or not allowed.
    """
    rule = _host_rule(allowed_hosts)
    allowed_schemes = _schemes(schemes)
    text = _require_str(value)
    return _check_url(text, allowed_schemes, rule)


def _identifier_map(allowed: Mapping[str, str] | Collection[str]) -> dict[str, str]:
    if isinstance(allowed, str) or not allowed:
        raise ConfigurationError("allowed must be a non-empty mapping or collection of names")
    pairs = list(allowed.items()) if isinstance(allowed, Mapping) else [(a, a) for a in allowed]
    result: dict[str, str] = {}
    for public, column in pairs:
        if not isinstance(public, str) or not isinstance(column, str):
            raise ConfigurationError("allowed SQL identifiers must be str")
        if _SQL_IDENTIFIER_RE.fullmatch(column) is None or len(column) > 2 * IDENTIFIER_MAX_LENGTH:
            raise ConfigurationError(
                "allowed SQL identifiers must be plain names such as 'created_at' or "
                "'users.created_at'"
            )
        result[public] = column
    return result


def validate_sql_identifier(value: object, *, allowed: Mapping[str, str] | Collection[str]) -> str:
    """Map user input to one of a fixed set of SQL identifiers.

    Identifiers (column names in ``ORDER BY``, table names) cannot be bound
    as query parameters, so they must never come from input. This returns the
    identifier from ``allowed`` (a mapping from public names to column names,
    or a collection of column names), never the input itself.

    Args:
        value: the untrusted name, e.g. a ``sort`` query parameter.
        allowed: ``{"newest": "created_at", "name": "users.name"}`` or
            ``{"created_at", "name"}``.

    Returns:
        The allowlisted identifier, safe to interpolate into SQL.

    Raises:
        ConfigurationError: ``allowed`` is empty or holds a non-identifier.
        InputValidationError: the value is not an allowed name.
    """
    mapping = _identifier_map(allowed)
    text = _require_str(value)
    column = mapping.get(text)
    if column is None:
        raise _fail(InputReason.NOT_ALLOWED)
    return column


# --- pydantic integration ---------------------------------------------------

_ERROR_TYPE: Final = "securekit_input"
_ERROR_MESSAGE: Final = "the input is not valid ({reason})"


def _pydantic_validator(fn: Callable[[object], object]) -> Callable[[object], object]:
    """Wrap a validator so pydantic reports its failure as a field error."""

    def validate(value: object) -> object:
        try:
            return fn(value)
        except InputValidationError as exc:
            # A PydanticCustomError keeps pydantic's per-field location; its
            # context holds only the reason code, never the input.
            raise PydanticCustomError(
                _ERROR_TYPE, _ERROR_MESSAGE, {"reason": exc.reason.value}
            ) from None

    return validate


def _string_schema(**extra: object) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **extra})


#: A username (see :func:`validate_username`), for pydantic models.
Username = Annotated[
    str,
    PlainValidator(_pydantic_validator(validate_username)),
    _string_schema(
        minLength=USERNAME_MIN_LENGTH, maxLength=USERNAME_MAX_LENGTH, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
#: A slug (see :func:`validate_slug`).
Slug = Annotated[
    str,
    PlainValidator(_pydantic_validator(validate_slug)),
    _string_schema(minLength=1, maxLength=SLUG_MAX_LENGTH, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
]
#: An identifier (see :func:`validate_identifier`).
Identifier = Annotated[
    str,
    PlainValidator(_pydantic_validator(validate_identifier)),
    _string_schema(
        minLength=1, maxLength=IDENTIFIER_MAX_LENGTH, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    ),
]
#: An email address, syntax only (see :func:`validate_email`).
Email = Annotated[
    str,
    PlainValidator(_pydantic_validator(validate_email)),
    _string_schema(format="email", maxLength=EMAIL_MAX_LENGTH),
]
#: A UUID in canonical text form (see :func:`validate_uuid`).
StrictUUID = Annotated[
    uuid.UUID,
    PlainValidator(_pydantic_validator(validate_uuid)),
    _string_schema(format="uuid", minLength=_UUID_LENGTH, maxLength=_UUID_LENGTH),
]


class _Marker:
    """Base of the parametrized ``Annotated`` markers."""

    __slots__ = ()

    def _validate(self, value: object) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    def _json_schema(self) -> dict[str, object]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # The marker replaces pydantic's own validation of the field: the
        # securekit rule (including its type check) is the whole check.
        return core_schema.no_info_plain_validator_function(_pydantic_validator(self._validate))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(self._json_schema())


@dataclass(frozen=True, slots=True, kw_only=True)
class IntRange(_Marker):
    """``Annotated[int, IntRange(min_value=1, max_value=100)]`` (see :func:`validate_int`)."""

    min_value: int
    max_value: int
    #: Also accept decimal text such as ``"42"`` (query strings, form
    #: fields). Off by default: in a JSON body, ``"42"`` is a type confusion.
    from_text: bool = False

    def __post_init__(self) -> None:
        _check_bounds(self.min_value, self.max_value, integer=True)

    def _validate(self, value: object) -> object:
        if isinstance(value, str) and not self.from_text:
            raise _fail(InputReason.WRONG_TYPE)
        return validate_int(value, min_value=self.min_value, max_value=self.max_value)

    def _json_schema(self) -> dict[str, object]:
        return {"type": "integer", "minimum": self.min_value, "maximum": self.max_value}


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatRange(_Marker):
    """``Annotated[float, FloatRange(min_value=0.0)]``: finite (see :func:`validate_float`)."""

    min_value: float | None = None
    max_value: float | None = None
    #: Also accept text in JSON number syntax (off by default, see IntRange).
    from_text: bool = False

    def __post_init__(self) -> None:
        _check_bounds(self.min_value, self.max_value)

    def _validate(self, value: object) -> object:
        if isinstance(value, str) and not self.from_text:
            raise _fail(InputReason.WRONG_TYPE)
        return validate_float(value, min_value=self.min_value, max_value=self.max_value)

    def _json_schema(self) -> dict[str, object]:
        schema: dict[str, object] = {"type": "number"}
        if self.min_value is not None:
            schema["minimum"] = self.min_value
        if self.max_value is not None:
            schema["maximum"] = self.max_value
        return schema


@dataclass(frozen=True, slots=True, kw_only=True)
class OneOf(_Marker):
    """``Annotated[str, OneOf(choices={"asc", "desc"})]`` (see :func:`validate_choice`)."""

    choices: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", _choices(self.choices))

    def _validate(self, value: object) -> object:
        return validate_choice(value, choices=self.choices)

    def _json_schema(self) -> dict[str, object]:
        return {"type": "string", "enum": sorted(self.choices)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SafeText(_Marker):
    """``Annotated[str, SafeText(max_length=200)]`` (see :func:`validate_text`)."""

    max_length: int = TEXT_MAX_LENGTH
    min_length: int = 0
    multiline: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.min_length <= self.max_length:
            raise ConfigurationError("need 0 <= min_length <= max_length")

    def _validate(self, value: object) -> object:
        return validate_text(
            value, max_length=self.max_length, min_length=self.min_length, multiline=self.multiline
        )

    def _json_schema(self) -> dict[str, object]:
        return {"type": "string", "minLength": self.min_length, "maxLength": self.max_length}


@dataclass(frozen=True, slots=True, kw_only=True)
class URLRule(_Marker):
    """``Annotated[str, URLRule(allowed_hosts={"example.com"})]`` (see :func:`validate_url`)."""

    allowed_hosts: frozenset[str]
    schemes: frozenset[str] = frozenset({"https"})
    _rule: _HostRule | None = None
    _schemes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Checked once at class-definition time, not per request.
        object.__setattr__(self, "_rule", _host_rule(self.allowed_hosts))
        object.__setattr__(self, "_schemes", _schemes(self.schemes))

    def _validate(self, value: object) -> object:
        rule = self._rule
        if rule is None:  # pragma: no cover - set in __post_init__
            raise ConfigurationError("URLRule was not initialised")
        return _check_url(_require_str(value), self._schemes, rule)

    def _json_schema(self) -> dict[str, object]:
        return {"type": "string", "format": "uri", "maxLength": URL_MAX_LENGTH}


#: The pydantic configuration of :class:`SecureModel`; pass it to
#: ``TypeAdapter(..., config=STRICT_CONFIG)`` so adapter errors do not echo
#: the input either.
STRICT_CONFIG: Final = ConfigDict(
    # Unknown fields are refused (mass assignment: {"is_admin": true}).
    extra="forbid",
    # No coercion: "1" is not an int, 1 is not a str, {"$ne": ""} is not a str.
    strict=True,
    # NaN and infinities are refused for float fields.
    allow_inf_nan=False,
    # OWASP Input Validation: every string is length-capped (override with
    # Field(max_length=...) or SafeText).
    str_max_length=TEXT_MAX_LENGTH,
    # pydantic's ValidationError text includes the rejected input by default.
    hide_input_in_errors=True,
    # Assignments are validated too, so an instance stays valid.
    validate_assignment=True,
    # Model instances passed in are re-validated, never trusted.
    revalidate_instances="always",
)

_REASONS_BY_TYPE: Final[Mapping[str, InputReason]] = {
    "missing": InputReason.MISSING_FIELD,
    "extra_forbidden": InputReason.EXTRA_FIELD,
    "string_too_long": InputReason.TOO_LONG,
    "too_long": InputReason.TOO_LONG,
    "string_too_short": InputReason.TOO_SHORT,
    "too_short": InputReason.TOO_SHORT,
    "finite_number": InputReason.NOT_FINITE,
    "greater_than": InputReason.OUT_OF_RANGE,
    "greater_than_equal": InputReason.OUT_OF_RANGE,
    "less_than": InputReason.OUT_OF_RANGE,
    "less_than_equal": InputReason.OUT_OF_RANGE,
    "multiple_of": InputReason.OUT_OF_RANGE,
    "literal_error": InputReason.NOT_ALLOWED,
    "enum": InputReason.NOT_ALLOWED,
    "string_pattern_mismatch": InputReason.BAD_FORMAT,
    "json_invalid": InputReason.INVALID_JSON,
}


_V = TypeVar("_V")


def _converted(model: type[BaseModel], validate: Callable[[], _V]) -> _V:
    """Run a pydantic validation; its ``ValidationError`` becomes ``InputValidationError``."""
    try:
        return validate()
    except ValidationError as exc:
        error = _convert(model, exc)
    # Raised outside the handler: pydantic's ValidationError keeps the
    # input, and a suppressed __context__ is still reachable.
    raise error


def _convert(model: type[BaseModel], error: ValidationError) -> InputValidationError:
    """Turn pydantic's error into one InputValidationError, without the input."""
    first = error.errors(include_url=False, include_context=True, include_input=False)[0]
    kind = first["type"]
    if kind == _ERROR_TYPE:
        reason = InputReason(first.get("ctx", {}).get("reason", InputReason.BAD_FORMAT))
    elif kind in _REASONS_BY_TYPE:
        reason = _REASONS_BY_TYPE[kind]
    elif kind.endswith(("_type", "_parsing")) or kind == "is_instance_of":
        reason = InputReason.WRONG_TYPE
    else:
        reason = InputReason.BAD_FORMAT
    # Only a name declared by the schema may be reported: the location of an
    # extra field or of a dict entry is a key chosen by the client.
    names = set(model.model_fields) | {
        info.alias for info in model.model_fields.values() if info.alias
    }
    loc = first["loc"]
    field = loc[0] if loc and isinstance(loc[0], str) and loc[0] in names else None
    if kind == "extra_forbidden" and len(loc) == 1:
        field = None
    return InputValidationError(reason, field=field)


class SecureModel(BaseModel):
    """A strict pydantic base model for untrusted input.

    Configured by :data:`STRICT_CONFIG`: extra fields forbidden, no type
    coercion, finite numbers only, every string capped at 10 000 characters,
    assignments validated. Validation failures raise
    :class:`~securekit.errors.InputValidationError` (never pydantic's
    ``ValidationError``), whose ``field`` is a top-level field name from the
    schema and whose ``reason`` says what failed; nothing carries the input.
    :meth:`model_validate_json` first applies :func:`load_json` (size, depth,
    duplicate keys, NaN).

    Example::

        class Signup(SecureModel):
            username: Username
            email: Email
    """

    model_config: ClassVar[ConfigDict] = STRICT_CONFIG

    def __init__(self, /, **data: Any) -> None:
        """Validate keyword arguments; raises ``InputValidationError``."""
        _converted(type(self), functools.partial(super().__init__, **data))

    # Tell pydantic this __init__ only wraps the base one: otherwise pydantic
    # routes every validation (model_validate, nested models) through it and
    # nested errors lose the outer field name.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate an assignment; raises ``InputValidationError``."""
        _converted(type(self), functools.partial(super().__setattr__, name, value))

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a Python object (e.g. from :func:`load_json`)."""
        validate = functools.partial(
            super().model_validate,
            obj,
            strict=strict,
            extra=extra,
            from_attributes=from_attributes,
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )
        return _converted(cls, validate)

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a JSON document after :func:`load_json`'s strict checks."""
        # pydantic's JSON parser keeps the last duplicate key and has no
        # depth or size limit: run the strict loader first, then let pydantic
        # validate in JSON mode (where "2024-01-01" is a valid date).
        load_json(bytes(json_data) if isinstance(json_data, bytearray) else json_data)
        validate = functools.partial(
            super().model_validate_json,
            json_data,
            strict=strict,
            extra=extra,
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )
        return _converted(cls, validate)
