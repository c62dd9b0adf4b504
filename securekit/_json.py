"""Strict JSON loading shared by validation, JWT, signing and sessions.

The standard library parser is fast (C) but permissive: it accepts ``NaN`` and
``Infinity``, keeps the last of duplicate keys, turns ``1e999`` into infinity,
decodes ``\\ud800`` into a lone surrogate, guesses UTF-16/32 for bytes and
raises ``RecursionError`` on deep nesting. :func:`load_json` keeps the C parser
and closes each of those gaps with cheap checks before and hooks during
parsing, so it stays within a small factor of ``json.loads``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Final

from securekit.errors import ConfigurationError, InputReason, InputValidationError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "MAX_DEPTH_LIMIT", "load_json"]

#: 1 MiB: the default body limit of common servers and frameworks (nginx's
#: ``client_max_body_size``, Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 2.5 MB).
#: Callers parsing tokens or headers pass a much smaller value.
DEFAULT_MAX_BYTES: Final = 1024 * 1024
#: 64 levels: far beyond any real API document (RFC 8259 section 9 allows
#: parsers to limit nesting depth), far below the interpreter's recursion limit.
DEFAULT_MAX_DEPTH: Final = 64
#: The C parser recurses once per level; beyond ~1000 levels Python raises
#: RecursionError, so a configured limit above this could never be honoured.
MAX_DEPTH_LIMIT: Final = 512
#: Python refuses int() on more than 4300 digits (CVE-2020-10735 mitigation);
#: checking first gives one clear reason and avoids the quadratic conversion.
_MAX_INT_DIGITS: Final = 4300

# A possibly escaped surrogate (``\ud800``-``\udfff``). A match can be a false
# positive (an escaped backslash followed by "ud8..."); it only enables the
# exact post-parse check, so false positives cost time, never correctness.
_ESCAPED_SURROGATE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _reject(reason: InputReason) -> InputValidationError:
    return InputValidationError(reason)


def _parse_constant(_name: str) -> object:
    # NaN, Infinity and -Infinity are not JSON (RFC 8259 section 6).
    raise _reject(InputReason.NOT_FINITE)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # "1e999" is valid JSON syntax but overflows to infinity.
        raise _reject(InputReason.NOT_FINITE)
    return value


def _parse_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise _reject(InputReason.TOO_LARGE)
    # Installed only when the interpreter's limit is off or above ours, so
    # int() cannot refuse what passed the check above.
    return int(text)


def _object_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # RFC 8259 section 4: names SHOULD be unique; parsers disagree on which
        # duplicate wins, which enables parser-differential attacks (RFC 7493).
        raise _reject(InputReason.DUPLICATE_KEY)
    return result


def _decoder(*, floats: bool, ints: bool) -> json.JSONDecoder:
    return json.JSONDecoder(
        object_pairs_hook=_object_pairs,
        parse_float=_parse_float if floats else None,
        parse_int=_parse_int if ints else None,
        parse_constant=_parse_constant,
        strict=True,
    )


# parse_float is always installed (a Python call per float literal is cheaper
# than any pre-scan for overflowing literals); parse_int only when the
# interpreter's own digit limit is off or above ours, since int() enforces
# it in C otherwise.
_DECODERS: Final = {ints: _decoder(floats=True, ints=ints) for ints in (False, True)}

# Depth pre-scan on the UTF-8 bytes (multi-byte sequences never contain ASCII
# bytes): drop escapes, keep only quotes and brackets (bytes.translate), drop
# string contents, then peel innermost pairs one level per pass.
_ESCAPE: Final = re.compile(rb"\\.", re.DOTALL)
_STRING: Final = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE: Final = bytes(c for c in range(256) if c not in b'"[]{}')


def _too_deep(data: bytes, max_depth: int) -> bool:
    """True when ``data`` (JSON text) nests deeper than ``max_depth``.

    Exact for valid JSON; for invalid JSON the parser reports the error.
    """
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    # After escapes are gone, two adjacent quotes are either an empty string
    # or the end of one string and the start of the next with no structure
    # between them: removing them never changes the structure.
    structure = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        structure = _STRING.sub(b"", structure)
    for _ in range(max_depth):
        if not structure:
            return False
        peeled = structure.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == structure:
            return False  # mismatched brackets: invalid JSON, the parser says so
        structure = peeled
    return bool(structure)


def _check_limits(max_bytes: int, max_depth: int) -> None:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ConfigurationError("max_bytes must be a positive int")
    if (
        isinstance(max_depth, bool)
        or not isinstance(max_depth, int)
        or not 1 <= max_depth <= MAX_DEPTH_LIMIT
    ):
        raise ConfigurationError(f"max_depth must be an int from 1 to {MAX_DEPTH_LIMIT}")


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_strings(value: object) -> None:
    """Refuse lone surrogates in decoded keys and strings (iteratively)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if _has_lone_surrogate(key):
                    raise _reject(InputReason.BAD_ENCODING)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and _has_lone_surrogate(item):
            raise _reject(InputReason.BAD_ENCODING)


def load_json(
    body: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> object:
    """Parse untrusted JSON strictly.

    Rejects, with :class:`~securekit.errors.InputValidationError`: bodies over
    ``max_bytes`` (checked before decoding or parsing), invalid UTF-8 (bytes
    must be UTF-8, RFC 8259 section 8.1; no BOM, no UTF-16/32 guessing), lone
    surrogates (literal or ``\\u`` escaped), invalid JSON, duplicate object
    keys, ``NaN``/``Infinity`` and numbers that overflow to infinity, integers
    over 4300 digits, and nesting deeper than ``max_depth`` arrays/objects.

    Args:
        body: the JSON text, as ``str`` or UTF-8 ``bytes``.
        max_bytes: the largest accepted body, in UTF-8 bytes.
        max_depth: the deepest accepted nesting of arrays and objects
            (``1`` allows ``[1]`` but not ``[[1]]``).

    Returns:
        The parsed value (``dict``, ``list``, ``str``, ``int``, ``float``,
        ``bool`` or ``None``).

    Raises:
        TypeError: ``body`` is not ``str`` or ``bytes``.
        ConfigurationError: ``max_bytes`` or ``max_depth`` is out of range.
        InputValidationError: the body was rejected; ``reason`` says why.
    """
    _check_limits(max_bytes, max_depth)
    if isinstance(body, bytes | bytearray | memoryview):
        if len(body) > max_bytes:
            raise _reject(InputReason.TOO_LARGE)
        data = bytes(body)
        try:
            # Strict UTF-8 also refuses encoded surrogates (CESU-8) and
            # overlong forms.
            decoded: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            decoded = None  # UnicodeDecodeError.object is the input: not chained
        if decoded is None:
            raise _reject(InputReason.BAD_ENCODING)
        text = decoded
    elif isinstance(body, str):
        # A str cannot be shorter in UTF-8 than in code points, so the cheap
        # length check comes first, before encoding.
        if len(body) > max_bytes:
            raise _reject(InputReason.TOO_LARGE)
        try:
            encoded: bytes | None = body.encode("utf-8")
        except UnicodeEncodeError:
            encoded = None  # a lone surrogate in the str itself
        if encoded is None:
            raise _reject(InputReason.BAD_ENCODING)
        data = encoded
        if len(data) > max_bytes:
            raise _reject(InputReason.TOO_LARGE)
        text = body
    else:
        raise TypeError(f"body must be str or bytes, not {type(body).__name__}")
    if text.startswith("\ufeff"):
        # RFC 8259 section 8.1: a BOM MUST NOT be added; treat as malformed.
        raise _reject(InputReason.INVALID_JSON)
    # Each level needs two bytes ("[]"), so short bodies cannot be too deep.
    if len(data) > 2 * max_depth and _too_deep(data, max_depth):
        raise _reject(InputReason.TOO_DEEP)
    check_strings = "\\u" in text and _ESCAPED_SURROGATE.search(text) is not None
    limit = sys.get_int_max_str_digits()
    decoder = _DECODERS[limit == 0 or limit > _MAX_INT_DIGITS]
    failure: InputReason | None = None
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError:
        failure = InputReason.INVALID_JSON
    except ValueError:
        # int() refused a literal over the interpreter's digit limit.
        failure = InputReason.TOO_LARGE
    except RecursionError:
        failure = InputReason.TOO_DEEP
    if failure is not None:
        # Raised outside the handler: JSONDecodeError.doc holds the whole
        # input, and even a suppressed __context__ is reachable by reporters.
        raise _reject(failure)
    if check_strings:
        _check_strings(value)
    return value
