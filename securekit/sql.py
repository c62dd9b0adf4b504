r"""SQL helpers for the cases bound parameters cannot cover.

Bound parameters (``?`` in sqlite3, ``%s`` in psycopg) stay the rule for
every *value*. These helpers cover what parameters cannot express:

* :func:`in_list`: placeholders for ``IN (...)`` with a list of any length
  (capped), the values still bound as parameters;
* :func:`escape_like` / :func:`like_pattern`: LIKE/ILIKE patterns that match
  the user's text literally (``%`` and ``_`` escaped), used with
  ``ESCAPE '\'``;
* :func:`identifier`: a column or table name taken from an allowlist (via
  :func:`securekit.validation.validate_sql_identifier`) and quoted for SQLite
  or PostgreSQL; :func:`quote_identifier` for names the application chose;
* :func:`order_by` / :func:`sort_direction`: ``ORDER BY`` built from an
  allowlisted column and an ``ASC``/``DESC`` allowlist.

Example:
    >>> sql, params = in_list([3, 1, 2])
    >>> sql, params
    ('(?, ?, ?)', (3, 1, 2))
    >>> escape_like("50%_off")
    '50\\%\\_off'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Final, Literal

from securekit.errors import ConfigurationError, InputReason, InputValidationError
from securekit.validation import validate_sql_identifier

__all__ = [
    "DEFAULT_MAX_IN_ITEMS",
    "DEFAULT_MAX_LIKE_LENGTH",
    "Dialect",
    "Direction",
    "LikeMatch",
    "ParamStyle",
    "escape_like",
    "identifier",
    "in_list",
    "like_pattern",
    "order_by",
    "quote_identifier",
    "sort_direction",
]

Dialect = Literal["sqlite", "postgresql"]
ParamStyle = Literal["qmark", "format", "numeric", "dollar"]
Direction = Literal["ASC", "DESC"]
LikeMatch = Literal["contains", "prefix", "suffix", "exact"]

#: Items in one IN-list. Oracle caps IN-lists at 1000 (ORA-01795); SQLite
#: allows 32766 bound parameters (SQLITE_MAX_VARIABLE_NUMBER since 3.32) and
#: PostgreSQL 65535 per statement (wire protocol Int16 count). 1000 keeps a
#: hostile list from becoming a huge statement; raise it per call if needed.
DEFAULT_MAX_IN_ITEMS: Final = 1000
#: Characters of user text in one LIKE pattern. SQLite refuses patterns over
#: 50 000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH); 4096 characters escape to at
#: most 8194 characters, under that limit even at 4 bytes per character.
DEFAULT_MAX_LIKE_LENGTH: Final = 4096
#: Hard caps on the ``max_*`` arguments (the engines' own limits above).
_IN_ITEMS_LIMIT: Final = 32766
_LIKE_LENGTH_LIMIT: Final = 12_000
#: PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 = 63 bytes
#: (docs: "Identifiers and Key Words") silently: refused instead.
_POSTGRES_IDENTIFIER_BYTES: Final = 63
#: SQLite has no identifier limit; the same cap as securekit.validation.
_SQLITE_IDENTIFIER_CHARS: Final = 128
_DIALECTS: Final = frozenset({"sqlite", "postgresql"})
_LIKE_MATCHES: Final = frozenset({"contains", "prefix", "suffix", "exact"})
_STYLES: Final = frozenset({"qmark", "format", "numeric", "dollar"})
# The escape character must be one ASCII punctuation character that can sit
# in ESCAPE '...' as is: not a wildcard, not a quote, not a letter or digit.
_ESCAPE_FORBIDDEN: Final = frozenset("%_'\"")


def _fail(reason: InputReason) -> InputValidationError:
    return InputValidationError(reason)


def _check_dialect(dialect: str) -> None:
    if dialect not in _DIALECTS:
        raise ConfigurationError("dialect must be 'sqlite' or 'postgresql'")


def in_list(
    values: Sequence[object],
    *,
    paramstyle: ParamStyle = "qmark",
    start: int = 1,
    max_items: int = DEFAULT_MAX_IN_ITEMS,
) -> tuple[str, tuple[object, ...]]:
    """Return ``"(?, ?, ...)"`` for ``values`` and the values to bind.

    Use as ``f"SELECT ... WHERE id IN {sql}"`` and pass the returned tuple as
    the parameters: the SQL text holds only placeholders, never a value.

    Args:
        values: the values (untrusted); a list or tuple, not a str.
        paramstyle: ``"qmark"`` (``?``, sqlite3), ``"format"`` (``%s``,
            psycopg), ``"numeric"`` (``:1``, sqlite3) or ``"dollar"`` (``$1``,
            asyncpg, PostgreSQL PREPARE).
        start: the first number for ``numeric``/``dollar`` (after the
            parameters that come earlier in the statement).
        max_items: the most values accepted.

    Returns:
        The parenthesised placeholder list and the values as a tuple.

    Raises:
        TypeError: ``values`` is a ``str``/``bytes`` or not a sequence.
        ConfigurationError: unknown paramstyle, ``start`` below 1, or
            ``max_items`` outside 1..32766.
        InputValidationError: ``TOO_SHORT`` for an empty list (``IN ()`` is a
            syntax error in PostgreSQL; handle "no values" before querying),
            ``TOO_LARGE`` for more than ``max_items`` values.
    """
    if isinstance(values, str | bytes | bytearray) or not isinstance(values, Sequence):
        raise TypeError("values must be a list or tuple of values")
    if paramstyle not in _STYLES:
        raise ConfigurationError("paramstyle must be 'qmark', 'format', 'numeric' or 'dollar'")
    if isinstance(start, bool) or not isinstance(start, int) or start < 1:
        raise ConfigurationError("start must be an int >= 1")
    if isinstance(max_items, bool) or not isinstance(max_items, int):
        raise ConfigurationError("max_items must be an int")
    if not 1 <= max_items <= _IN_ITEMS_LIMIT:
        raise ConfigurationError(f"max_items must be between 1 and {_IN_ITEMS_LIMIT}")
    count = len(values)
    if count == 0:
        raise _fail(InputReason.TOO_SHORT)
    if count > max_items:
        raise _fail(InputReason.TOO_LARGE)
    if paramstyle == "qmark":
        marks = ["?"] * count
    elif paramstyle == "format":
        marks = ["%s"] * count
    elif paramstyle == "numeric":
        marks = [f":{n}" for n in range(start, start + count)]
    else:
        marks = [f"${n}" for n in range(start, start + count)]
    return "(" + ", ".join(marks) + ")", tuple(values)


def _check_escape(escape: str) -> None:
    if not isinstance(escape, str):
        raise TypeError("escape must be a str")
    if (
        len(escape) != 1
        or not ("!" <= escape <= "~")
        or escape.isalnum()
        or escape in _ESCAPE_FORBIDDEN
    ):
        raise ConfigurationError(
            "escape must be one ASCII punctuation character other than %, _ and quotes"
        )


def escape_like(
    value: str, *, escape: str = "\\", max_length: int = DEFAULT_MAX_LIKE_LENGTH
) -> str:
    r"""Escape ``value`` so that a LIKE/ILIKE pattern matches it literally.

    ``%``, ``_`` and the escape character itself are prefixed with
    ``escape``. Bind the result as a parameter and name the escape character
    in the query, on every engine (SQLite has no default escape character)::

        cur.execute("SELECT * FROM t WHERE name LIKE ? ESCAPE '\'",
                    ("%" + escape_like(term) + "%",))

    SQLite's LIKE ignores ASCII case by default and PostgreSQL's ILIKE ignores
    case: "literally" means up to those engines' case rules.

    Args:
        value: the untrusted text.
        escape: the escape character (default backslash).
        max_length: the most characters accepted (at most 12000).

    Returns:
        The escaped text, without wildcards of its own.

    Raises:
        TypeError: ``value`` is not a ``str``.
        ConfigurationError: a bad ``escape`` or ``max_length``.
        InputValidationError: ``TOO_LONG`` over ``max_length``;
            ``FORBIDDEN_CHARACTER`` for NUL (SQLite ends a pattern at NUL, so
            ``a\x00%`` would match plain ``a``; PostgreSQL refuses NUL);
            ``BAD_ENCODING`` for lone surrogates (not encodable as UTF-8).
    """
    if not isinstance(value, str):
        raise TypeError("value must be a str")
    _check_escape(escape)
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise ConfigurationError("max_length must be an int")
    if not 1 <= max_length <= _LIKE_LENGTH_LIMIT:
        raise ConfigurationError(f"max_length must be between 1 and {_LIKE_LENGTH_LIMIT}")
    if len(value) > max_length:
        raise _fail(InputReason.TOO_LONG)
    if "\x00" in value:
        raise _fail(InputReason.FORBIDDEN_CHARACTER)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates: no driver can send them; refuse here with our
            # own error rather than let the driver raise UnicodeEncodeError.
            raise _fail(InputReason.BAD_ENCODING) from None
    # The escape character first, so the escapes added next are not doubled.
    escaped = value.replace(escape, escape + escape)
    return escaped.replace("%", escape + "%").replace("_", escape + "_")


def like_pattern(
    value: str,
    *,
    match: LikeMatch = "contains",
    escape: str = "\\",
    max_length: int = DEFAULT_MAX_LIKE_LENGTH,
) -> str:
    r"""Return a LIKE pattern for ``value`` with wildcards only where asked.

    Args:
        value: the untrusted text.
        match: ``"contains"`` (``%text%``), ``"prefix"`` (``text%``),
            ``"suffix"`` (``%text``) or ``"exact"`` (``text``).
        escape: the escape character; the query must say ``ESCAPE '<it>'``.
        max_length: as for :func:`escape_like`.

    Returns:
        The pattern, to bind as a parameter.

    Raises:
        TypeError: ``value`` is not a ``str``.
        ConfigurationError: an unknown ``match`` or a bad ``escape``.
        InputValidationError: as for :func:`escape_like`.
    """
    if match not in _LIKE_MATCHES:
        raise ConfigurationError("match must be 'contains', 'prefix', 'suffix' or 'exact'")
    body = escape_like(value, escape=escape, max_length=max_length)
    head = "%" if match in {"contains", "suffix"} else ""
    tail = "%" if match in {"contains", "prefix"} else ""
    return head + body + tail


def quote_identifier(name: str, *, dialect: Dialect = "sqlite") -> str:
    """Quote one identifier (or ``schema.name``) for SQLite or PostgreSQL.

    Each dot-separated part is wrapped in double quotes with embedded double
    quotes doubled (SQL standard delimited identifiers; the only quoting both
    engines share). Use it for names the *application* chose; names that come
    from input go through :func:`identifier` (an allowlist) instead.

    Args:
        name: the identifier; a dot separates schema and name.
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Returns:
        The quoted identifier, e.g. ``"public"."users"``.

    Raises:
        TypeError: ``name`` is not a ``str``.
        ConfigurationError: unknown dialect.
        InputValidationError: an empty part (``TOO_SHORT``), NUL
            (``FORBIDDEN_CHARACTER``), a lone surrogate (``BAD_ENCODING``),
            or a part longer than PostgreSQL's 63
            bytes (which it would silently truncate) or 128 characters for
            SQLite (``TOO_LONG``).
    """
    if not isinstance(name, str):
        raise TypeError("name must be a str")
    _check_dialect(dialect)
    if len(name) > 2 * _SQLITE_IDENTIFIER_CHARS + 1:
        raise _fail(InputReason.TOO_LONG)
    quoted = []
    for part in name.split("."):
        if not part:
            raise _fail(InputReason.TOO_SHORT)
        if "\x00" in part:
            raise _fail(InputReason.FORBIDDEN_CHARACTER)
        try:
            size = len(part.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates: no driver can send them
            raise _fail(InputReason.BAD_ENCODING) from None
        if dialect == "postgresql":
            if size > _POSTGRES_IDENTIFIER_BYTES:
                raise _fail(InputReason.TOO_LONG)
        elif len(part) > _SQLITE_IDENTIFIER_CHARS:
            raise _fail(InputReason.TOO_LONG)
        quoted.append('"' + part.replace('"', '""') + '"')
    return ".".join(quoted)


def identifier(
    value: str,
    *,
    allowed: Mapping[str, str] | Collection[str],
    dialect: Dialect = "sqlite",
) -> str:
    """Map untrusted ``value`` to an allowlisted identifier, quoted.

    The result comes from ``allowed``, never from the input: a value that is
    not exactly one of the allowed names is refused.

    Args:
        value: the untrusted name (e.g. a ``sort`` query parameter).
        allowed: public name -> column (``{"newest": "created_at"}``) or a
            collection of column names; each column a plain identifier,
            optionally ``table.column``.
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Returns:
        The quoted identifier.

    Raises:
        ConfigurationError: ``allowed`` is empty or holds a non-identifier;
            unknown dialect.
        InputValidationError: ``NOT_ALLOWED`` (or ``WRONG_TYPE`` for a non-str).
    """
    _check_dialect(dialect)
    return quote_identifier(validate_sql_identifier(value, allowed=allowed), dialect=dialect)


def sort_direction(value: str | None, *, default: Direction = "ASC") -> Direction:
    """Map untrusted input to ``"ASC"`` or ``"DESC"``.

    Accepts ``asc``/``desc`` in any ASCII case; ``None`` or ``""`` gives
    ``default``; anything else is refused (never passed through).

    Raises:
        InputValidationError: ``NOT_ALLOWED`` (or ``WRONG_TYPE``).
        ConfigurationError: ``default`` is not ``"ASC"``/``"DESC"``.
    """
    if default not in {"ASC", "DESC"}:
        raise ConfigurationError("default must be 'ASC' or 'DESC'")
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise _fail(InputReason.WRONG_TYPE)
    # ASCII first: str.upper() maps some non-ASCII letters (e.g. U+017F long
    # s, U+0131 dotless i) onto ASCII ones.
    if not value.isascii():
        raise _fail(InputReason.NOT_ALLOWED)
    upper = value.upper()
    if upper == "ASC":
        return "ASC"
    if upper == "DESC":
        return "DESC"
    raise _fail(InputReason.NOT_ALLOWED)


def order_by(
    column: str,
    direction: str | None = None,
    *,
    allowed: Mapping[str, str] | Collection[str],
    dialect: Dialect = "sqlite",
    default_direction: Direction = "ASC",
) -> str:
    """Build ``ORDER BY "column" ASC|DESC`` from two untrusted values.

    Args:
        column: the untrusted column name, checked against ``allowed``.
        direction: the untrusted direction (``asc``/``desc``; ``None``: default).
        allowed: as for :func:`identifier`.
        dialect: ``"sqlite"`` or ``"postgresql"``.
        default_direction: used when ``direction`` is ``None`` or empty.

    Returns:
        The clause, e.g. ``ORDER BY "created_at" DESC``.

    Raises:
        ConfigurationError: as for :func:`identifier`.
        InputValidationError: the column or direction is not allowed.
    """
    quoted = identifier(column, allowed=allowed, dialect=dialect)
    return f"ORDER BY {quoted} {sort_direction(direction, default=default_direction)}"
