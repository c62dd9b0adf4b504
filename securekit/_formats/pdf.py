"""PDF structure and active content: header, startxref/xref/trailer, %%EOF last.

Follows ISO 32000-2 (PDF 2.0): 7.5.2 file header, 7.5.4-7.5.5 cross-reference
table and trailer, 7.5.8 cross-reference streams, 7.5.7 object streams,
7.3.5 names (``#xx`` escapes). Active content is looked for by name, after
decoding ``#xx`` escapes, in every part of the file outside stream data and
inside every object stream (inflated, bounded).
"""

from __future__ import annotations

import re
import zlib
from typing import Final

from securekit._formats._common import Buffer, reject
from securekit.errors import UploadReason

_HEADER: Final = re.compile(rb"%PDF-[12]\.[0-9][\x00\t\n\f\r ]")
_STARTXREF: Final = re.compile(rb"startxref[\x00\t\n\f\r ]+([0-9]{1,12})[\x00\t\n\f\r ]*\Z")
_OBJ_AT: Final = re.compile(
    rb"[\x00\t\n\f\r ]*[0-9]{1,10}[\x00\t\n\f\r ]+[0-9]{1,5}[\x00\t\n\f\r ]+obj\b"
)
#: 7.3.8.1: the keyword ``stream`` followed by CRLF or LF (CR tolerated).
_STREAM: Final = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\r|\n)")
#: The tokens that change the lexical state of PDF syntax (7.2.3 comments,
#: 7.3.4.2 literal strings with nesting and backslash escapes, 7.3.4.3 hex
#: strings, 7.3.7 ``<<``), the ``obj`` keyword and the ``stream`` keyword.
#: A ``stream`` inside a string or comment is not a stream: skipping from it
#: to ``endstream`` would hide live syntax (an ``/OpenAction`` dictionary)
#: from the scan while a reader parses it. Comments, hex strings and
#: strings without nesting are consumed whole, in one match.
_LEXICAL: Final = re.compile(
    # The lookahead skips, in C, every byte that cannot start a token.
    rb"(?=[()%<\\os])(?:"
    rb"\((?:[^()\\]|\\[\x00-\xff])*\)"
    rb"|%[^\r\n]*"
    rb"|<<|<[^>]*>?"
    rb"|[()\\]"
    rb"|(?<![A-Za-z])obj(?![A-Za-z])|(?<![A-Za-z])stream(?:\r\n|\r|\n))"
)
#: Inside a nested literal string only parentheses and escapes count.
_IN_STRING: Final = re.compile(rb"[()\\]")
#: Lexical tokens looked at outside stream data, per file. Genuine files
#: have a few per object; the cap bounds the work of hostile syntax such as
#: millions of nested parentheses (principle 4: hostile input cannot make
#: us slow).
MAX_TOKENS: Final = 500_000
#: An object or the end of one inside stream data: a reader that locates
#: objects by their xref offset would find it, while a scanner skipping
#: stream data would not. Real stream data never contains these.
#: Readers' lexers end a number at any non-digit, so ``4 0obj`` is an object
#: header too, and a comment counts as whitespace (7.2.3) between its tokens.
_HIDDEN_OBJECT: Final = re.compile(
    rb"endobj|endstream"
    rb"|[0-9](?:[\x00\t\n\f\r ]|%[^\r\n]*[\r\n])+[0-9]{1,5}"
    rb"(?:[\x00\t\n\f\r ]|%[^\r\n]*[\r\n])*obj\b"
)
#: 7.3.5: a name is a solidus followed by regular characters.
_NAME: Final = re.compile(rb"/([^\x00\t\n\f\r ()<>\[\]{}/%]*)")
_ESCAPE: Final = re.compile(rb"#([0-9A-Fa-f]{2})")
_WHITESPACE: Final = b"\x00\t\n\f\r "

#: Names whose presence makes a PDF active: script, launching programs,
#: embedded files, forms that submit or import, multimedia and 3D players,
#: remote go-to actions (ISO 32000-2 12.6.4 action types, 7.11.4 embedded
#: files and the ``/EF`` entry of a file specification that carries one,
#: 13.6 3D annotations whose artwork runs JavaScript, 12.7.8 XFA; OWASP File
#: Upload Cheat Sheet).
ACTIVE_NAMES: Final = frozenset(
    {
        b"3D",
        b"AA",
        b"EF",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"FileAttachment",
        b"GoTo3DView",
        b"GoToE",
        b"GoToR",
        b"ImportData",
        b"JS",
        b"JavaScript",
        b"Launch",
        b"Movie",
        b"RichMedia",
        b"RichMediaExecute",
        b"Rendition",
        b"Sound",
        b"SubmitForm",
        b"XFA",
    }
)


def _spelled(byte: int) -> bytes:
    """A pattern for one name character, literal or ``#xx``-escaped (7.3.5)."""
    high, low = (f"[{c}{c.upper()}]".encode() for c in f"{byte:02x}")
    return b"(?:" + re.escape(bytes([byte])) + b"|#" + high + low + b")"


def _trie(names: set[bytes]) -> bytes:
    """An alternation of ``names`` as a prefix tree, so a failed match costs little."""
    branches = []
    for first in sorted({name[0] for name in names if name}):
        rest = {name[1:] for name in names if name[:1] == bytes([first])}
        tail = _trie(rest - {b""})
        if tail and b"" in rest:
            tail = b"(?:" + tail + b")?"
        branches.append(_spelled(first) + tail)
    return b"(?:" + b"|".join(branches) + b")" if branches else b""


#: Every spelling of the names :func:`_scan` acts on, as a complete name.
_WATCHED_NAME: Final = re.compile(
    # The lookahead fails fast on names that cannot start a watched one.
    rb"/(?=[3AEFGIJLMORSX]|#[2-7][0-9A-Fa-f])("
    + _trie(set(ACTIVE_NAMES) | {b"Encrypt", b"OpenAction"})
    + rb")(?![^\x00\t\n\f\r ()<>\[\]{}/%])"
)


#: Inflated object-stream bytes allowed in one file (principle 4: bounded work).
MAX_INFLATE: Final = 64 << 20
#: Object streams are inflated and scanned this much at a time, so memory
#: stays bounded whatever their size.
_PIECE: Final = 256 * 1024
#: Bytes repeated between two windows of inflated data (longer than any name
#: checked plus the 64 bytes looked at after /OpenAction).
_CARRY: Final = 512


def _next_stream(
    data: Buffer, pos: int, eof: int, budget: _Budget
) -> tuple[re.Match[bytes], int] | None:
    """The next ``stream`` keyword outside strings and comments, and its object's start.

    Returns the keyword's match and the offset just after the last ``obj``
    keyword before it (``pos`` when there is none), or None when the rest of
    the file holds no stream.
    """
    depth = 0
    obj = pos
    while True:
        token = (_IN_STRING if depth else _LEXICAL).search(data, pos, eof)
        if token is None:
            return None
        budget.tokens -= 1
        if budget.tokens < 0:
            reject(UploadReason.MALFORMED)
        first = data[token.start()]
        pos = token.end()
        if first == 0x5C:
            # A backslash escapes the next byte inside a string only; outside
            # one it is junk, and "\\(" still opens a string for a reader.
            pos += 1 if depth else 0
        elif first == 0x28 and pos - token.start() == 1:  # "(" opening a nested string
            depth += 1
        elif first == 0x29:  # ")"
            depth = max(depth - 1, 0)
        elif first == 0x6F:  # "obj"
            obj = pos
        elif first == 0x73:  # "stream"
            return token, obj


def _decode_name(raw: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def _names(data: Buffer, start: int, end: int) -> set[bytes]:
    """The decoded names in ``data[start:end]``, read in place."""
    # findall runs in C; only the distinct names with escapes are decoded.
    raw: set[bytes] = set(_NAME.findall(data, start, end))
    return {_decode_name(name) if b"#" in name else name for name in raw}


def _scan(data: Buffer, start: int, end: int, *, final: bool = True) -> None:
    """Reject active content in ``data[start:end]`` (PDF syntax, not stream data).

    With ``final`` false the window continues later: a name touching its end
    is left for the next window, which repeats the last bytes of this one.
    """
    # Only names that decode to a watched name match, so the loop below runs
    # in Python for those alone, not for every name in the file.
    for match in _WATCHED_NAME.finditer(data, start, end):
        if not final and match.end() > end - _CARRY // 2:
            break
        name = _decode_name(match.group(1))
        if name in ACTIVE_NAMES:
            reject(UploadReason.ACTIVE_CONTENT)
        if name == b"Encrypt":
            # Encrypted strings and streams cannot be inspected: fail closed.
            reject(UploadReason.ACTIVE_CONTENT)
        # 7.7.2: an OpenAction that is a destination (an array, or a
        # reference to one: pdfTeX, Word) only moves the view. An inline
        # action dictionary is refused; a referenced action object is scanned
        # like every other object, and its dangerous types are refused there.
        following = data[match.end() : min(match.end() + 64, end)]
        if name == b"OpenAction" and following.lstrip(_WHITESPACE)[:2] == b"<<":
            reject(UploadReason.ACTIVE_CONTENT)


class _Budget:
    __slots__ = ("left", "tokens")

    def __init__(self) -> None:
        self.left = MAX_INFLATE
        self.tokens = MAX_TOKENS


def _object_stream(data: Buffer, start: int, end: int, names: set[bytes], budget: _Budget) -> None:
    """Inflate an object stream piece by piece and scan the objects packed in it."""
    filters = {n for n in names if n.endswith(b"Decode") or n in {b"Fl", b"AHx", b"A85", b"LZW"}}
    if b"DecodeParms" in names or b"DP" in names or not filters <= {b"FlateDecode"}:
        # Predictors or other filters would need a full decoder chain; no
        # common producer writes object streams that way. Fail closed.
        reject(UploadReason.ACTIVE_CONTENT)
    if not filters:
        _scan(data, start, end)
        return
    inflater = zlib.decompressobj()
    carry = b""
    for offset in range(start, end, _PIECE):
        pending = data[offset : min(offset + _PIECE, end)]
        while pending:
            try:
                out = inflater.decompress(pending, _PIECE)
            except zlib.error:
                reject(UploadReason.MALFORMED)
            budget.left -= len(out)
            if budget.left < 0:
                reject(UploadReason.ARCHIVE_BOMB)
            window = carry + out
            _scan(window, 0, len(window), final=False)
            carry = window[-_CARRY:]
            pending = inflater.unconsumed_tail
    _scan(carry, 0, len(carry))


def _check_xref(data: Buffer, offset: int, eof: int) -> None:
    """7.5.5 / 7.5.8: startxref points at a table with a trailer, or an xref stream."""
    if offset >= eof:
        reject(UploadReason.MALFORMED)
    window = data[offset : min(eof, offset + 64)]
    if window.lstrip(_WHITESPACE).startswith(b"xref"):
        trailer = data.find(b"trailer", offset, eof)
        if trailer < 0:
            reject(UploadReason.MALFORMED)
        names = _names(data, trailer, eof)
    elif _OBJ_AT.match(window):
        start = _STREAM.search(data, offset, eof)
        if start is None:
            reject(UploadReason.MALFORMED)
        names = _names(data, offset, start.start())
        if b"XRef" not in names:
            reject(UploadReason.MALFORMED)
    else:
        reject(UploadReason.MALFORMED)
    if b"Root" not in names:
        reject(UploadReason.MALFORMED)


def check(data: Buffer, *, max_pixels: int) -> None:  # noqa: ARG001 - same signature as images
    """Reject a PDF that is malformed, carries trailing data or active content."""
    size = len(data)
    # 7.5.2: the header must be the first bytes; a header further in is how
    # PDF polyglots (HTML, ZIP or JPEG first) are built.
    if _HEADER.match(data[:16]) is None:
        reject(UploadReason.MALFORMED)
    eof = data.rfind(b"%%EOF")
    if eof < 0:
        reject(UploadReason.MALFORMED)
    if data[eof + 5 : size].strip(_WHITESPACE):
        reject(UploadReason.TRAILING_DATA)
    if size - eof > 1029:
        # More than 1 KiB of padding after %%EOF is not written by producers.
        reject(UploadReason.TRAILING_DATA)
    found = _STARTXREF.search(data[max(0, eof - 48) : eof])
    if found is None:
        reject(UploadReason.MALFORMED)
    budget = _Budget()
    pos = 0
    while True:
        found_stream = _next_stream(data, pos, eof, budget)
        if found_stream is None:
            _scan(data, pos, eof)
            break
        match, obj = found_stream
        _scan(data, pos, match.start())
        # The stream's own dictionary: from its "obj" keyword (found outside
        # strings, so "(obj)" cannot hide "/Type /ObjStm") to "stream".
        names = _names(data, obj, match.start())
        end = data.find(b"endstream", match.end(), eof)
        if end < 0:
            reject(UploadReason.MALFORMED)
        if _HIDDEN_OBJECT.search(data, match.end(), end) is not None:
            reject(UploadReason.MALFORMED)
        # 7.5.7: object streams hold ordinary objects compressed; a reader
        # also accepts one without /Type /ObjStm as long as /N and /First exist.
        if b"ObjStm" in names or {b"N", b"First"} <= names:
            _object_stream(data, match.end(), end, names, budget)
        pos = end + len(b"endstream")
    _check_xref(data, int(found.group(1)), eof)
