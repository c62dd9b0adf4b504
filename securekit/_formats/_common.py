"""Shared pieces of the structural checks: the buffer type, rejection, markup scans.

Every parser reads from a read-only buffer (an ``mmap`` of the spooled upload,
or ``bytes`` in tests) with explicit bounds, and rejects by raising
:class:`~securekit.errors.UploadRejectedError`. The uploads module wraps each
parser so that nothing else can escape for any input bytes.
"""

from __future__ import annotations

import mmap
import re
import zlib
from typing import Final, NoReturn

from securekit.errors import UploadReason, UploadRejectedError

Buffer = bytes | mmap.mmap

#: Markup or server-side script in *textual* metadata (PNG text chunks, GIF and
#: JPEG comments, XMP packets, plain text files, trailing data). Browsers sniff
#: these and PHP/ASP/JSP interpreters execute them when a file is included
#: (OWASP File Upload Cheat Sheet, "Content-Type validation"). XMP packets open
#: with ``<?xpacket`` or ``<?xml``, which are allowed.
TEXT_MARKUP: Final = re.compile(
    rb"<\?(?!xpacket|xml[\s?])"
    rb"|<%"
    rb"|<\s*/?\s*(?:script|svg|html|body|iframe|frame|object|embed|applet|meta|link|style|"
    rb"base|form|img|image|foreignobject|a\s|xsl|math|video|audio|source|template|"
    rb"h[1-6]|div|span|p|table|input|button|textarea|select|marquee|details|dialog|"
    rb"noscript|title|head|xmp|plaintext|bgsound|canvas|picture|portal|animate|set|use)\b"
    rb"|<!doctype|<!entity|<!\[cdata\["
    rb"|javascript\s*:|vbscript\s*:",
    re.IGNORECASE,
)

#: Script without tags, looked for in image metadata only: image/JavaScript
#: polyglots close a comment opened by the header bytes (``GIF89a/*``, a
#: JPEG whose APP0 length reads ``/*``) and run ``*/=alert(1)`` when the file
#: is loaded as a script (PortSwigger, "Bypassing CSP using polyglot JPEGs").
METADATA_SCRIPT: Final = re.compile(
    rb"\*/\s*[=;(+]|\b(?:alert|confirm|prompt|eval|Function|setTimeout|fetch)\s*\("
    rb"|document\s*\.\s*(?:cookie|write|location|domain)|window\s*\.\s*location"
    rb"|fromCharCode|\bimport\s*\(",
)

#: Markup that may be searched over *any* bytes of a file, including compressed
#: pixel data, without false positives on genuine files: every pattern is at
#: least five fixed bytes long (chance of a random match below 2**-36 per
#: offset). It catches script hidden in pixel data (the "PHP in IDAT" trick),
#: in binary metadata (EXIF) and in polyglots.
BINARY_MARKUP: Final = re.compile(
    rb"<\?php|<\?=[\s$]|<%@\s*page|<script|<svg[\s/>]|<html[\s>]|<body[\s>]|<iframe"
    rb"|<object[\s>]|<embed[\s>]|<!doctype\s|javascript:",
    re.IGNORECASE,
)

#: Server-side script in *binary* metadata (JPEG marker segments, PNG
#: ancillary chunks, GIF extensions and colour tables, WebP EXIF/ICC/unknown
#: chunks): PHP's short open tag (``<? system($x); ?>``, run when
#: ``short_open_tag`` is on) and ASP/JSP blocks, which :data:`BINARY_MARKUP`
#: leaves out because two or three fixed bytes match random pixel data too
#: often. Here they must be followed by a run of printable code that ends in
#: ``;``, ``?>`` or ``%>``, so a random match in binary metadata is below
#: 2**-34 per offset; pixel data is not searched with it.
METADATA_SERVER_SCRIPT: Final = re.compile(
    rb"<\?(?:php|=|\s+[A-Za-z_$][\x20-\x7e]{2,200}?(?:;|\?>))|<%[=@!\s][\x20-\x7e]{0,200}?%>",
    re.IGNORECASE,
)

#: The most text (decompressed) a single metadata item may expand to before we
#: give up: metadata is small, and inflating is bounded so that a zTXt or
#: iTXt bomb cannot exhaust memory (principle 4, checks before work).
MAX_METADATA_INFLATE: Final = 1 << 20


def reject(reason: UploadReason) -> NoReturn:
    """Raise the one upload error with ``reason`` and no cause."""
    raise UploadRejectedError(reason) from None


def check_text_markup(segment: bytes) -> None:
    """Reject ``segment`` (image metadata) if it holds markup or script."""
    if TEXT_MARKUP.search(segment) is not None or METADATA_SCRIPT.search(segment) is not None:
        reject(UploadReason.EMBEDDED_MARKUP)


def check_metadata_script(data: Buffer, start: int = 0, end: int | None = None) -> None:
    """Reject binary metadata ``data[start:end]`` (searched in place) holding server script."""
    stop = len(data) if end is None else end
    if METADATA_SERVER_SCRIPT.search(data, start, stop) is not None:
        reject(UploadReason.EMBEDDED_MARKUP)


def check_binary_markup(data: Buffer) -> None:
    """Reject the whole file if script or markup appears anywhere in its bytes."""
    if BINARY_MARKUP.search(data) is not None:
        reject(UploadReason.EMBEDDED_MARKUP)


def inflate_bounded(compressed: bytes, limit: int = MAX_METADATA_INFLATE) -> bytes:
    """Inflate zlib data, rejecting output over ``limit`` bytes or a broken stream."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(compressed, limit + 1)
    except zlib.error:
        reject(UploadReason.MALFORMED)
    if len(out) > limit or inflater.unconsumed_tail:
        reject(UploadReason.ARCHIVE_BOMB)
    if not inflater.eof:
        reject(UploadReason.MALFORMED)
    return out


def check_pixels(width: int, height: int, frames: int, max_pixels: int) -> None:
    """Reject empty or over-large images from their header dimensions alone.

    The limit applies to the pixels a decoder would allocate for all frames
    (width x height x frames), read before anything is decompressed.
    """
    if width <= 0 or height <= 0:
        reject(UploadReason.MALFORMED)
    if width * height * max(frames, 1) > max_pixels:
        reject(UploadReason.TOO_MANY_PIXELS)
