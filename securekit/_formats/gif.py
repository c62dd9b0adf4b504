"""GIF structure: header, screen descriptor, blocks, sub-blocks, trailer last.

Follows the GIF89a specification (CompuServe, 1990), sections 17-27.
"""

from __future__ import annotations

import struct
from typing import Final

from securekit._formats._common import (
    MAX_METADATA_INFLATE,
    Buffer,
    check_metadata_script,
    check_pixels,
    check_text_markup,
    reject,
)
from securekit.errors import UploadReason

_IMAGE: Final = 0x2C
_EXTENSION: Final = 0x21
_TRAILER: Final = 0x3B
_COMMENT: Final = 0xFE
_PLAIN_TEXT: Final = 0x01
_APPLICATION: Final = 0xFF
_CONTROL: Final = 0xF9
#: The 11-byte application block of XMP in GIF (XMP spec part 3, 1.1.2).
_XMP_APPLICATION: Final = b"XMP DataXMP"


def _sub_blocks(data: Buffer, pos: int) -> tuple[int, bytes]:
    """Skip a sub-block chain (section 15); return the end and its joined data."""
    size = len(data)
    parts: list[bytes] = []
    total = 0
    while True:
        if pos >= size:
            reject(UploadReason.MALFORMED)
        count = data[pos]
        pos += 1
        if count == 0:
            return pos, b"".join(parts)
        if pos + count > size:
            reject(UploadReason.MALFORMED)
        parts.append(data[pos : pos + count])
        pos += count
        total += count
        if total > MAX_METADATA_INFLATE:
            # Comments and application data are small; bound what is copied.
            reject(UploadReason.MALFORMED)


def _skip_sub_blocks(data: Buffer, pos: int) -> int:
    """Skip a sub-block chain without copying it (image data)."""
    size = len(data)
    while True:
        if pos >= size:
            reject(UploadReason.MALFORMED)
        count = data[pos]
        pos += 1 + count
        if count == 0:
            return pos


def check(data: Buffer, *, max_pixels: int) -> None:
    """Reject anything but one well-formed GIF with the trailer as its last byte."""
    size = len(data)
    if size < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        reject(UploadReason.MALFORMED)
    if b"/*" in data[6:13]:
        # A GIF/JavaScript polyglot: "GIF89a" is an identifier, and a comment
        # opened in the screen descriptor hides the binary up to a "*/" in the
        # image data ("GIF89a/*...*/=alert(1)"), run when loaded as a script.
        reject(UploadReason.EMBEDDED_MARKUP)
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    # Section 18: the logical screen is what a decoder allocates.
    check_pixels(width, height, 1, max_pixels)
    pos = 13
    if flags & 0x80:
        pos += 3 << ((flags & 0x07) + 1)
    # The screen descriptor and global colour table are free-form bytes.
    check_metadata_script(data, 0, min(pos, size))
    frames = 0
    while True:
        if pos >= size:
            reject(UploadReason.MALFORMED)
        introducer = data[pos]
        if introducer == _TRAILER:
            pos += 1
            break
        if introducer == _IMAGE:
            if pos + 10 > size:
                reject(UploadReason.MALFORMED)
            fw, fh, fflags = struct.unpack_from("<HHB", data, pos + 5)
            check_pixels(fw, fh, 1, max_pixels)
            frames += 1
            check_pixels(width, height, frames, max_pixels)
            table = pos + 10
            pos = table
            if fflags & 0x80:
                pos += 3 << ((fflags & 0x07) + 1)
                check_metadata_script(data, table, min(pos, size))
            # Section 22: LZW minimum code size, 2..8 for real images (1 is
            # tolerated by decoders for bilevel images; above 11 is invalid).
            if pos >= size or not 1 <= data[pos] <= 11:
                reject(UploadReason.MALFORMED)
            pos = _skip_sub_blocks(data, pos + 1)
        elif introducer == _EXTENSION:
            if pos + 2 > size:
                reject(UploadReason.MALFORMED)
            label = data[pos + 1]
            end, payload = _sub_blocks(data, pos + 2)
            check_metadata_script(payload)
            # Comments, plain text and XMP are where GIF polyglots hide markup
            # and script. Other application data (ICC profiles, NETSCAPE
            # loops) is binary: the whole-file scan covers it without the
            # false positives short text patterns would give on binary bytes.
            if label in (_COMMENT, _PLAIN_TEXT) or (
                label == _APPLICATION and payload.startswith(_XMP_APPLICATION)
            ):
                check_text_markup(payload)
            pos = end
        else:
            reject(UploadReason.MALFORMED)
    if frames == 0:
        reject(UploadReason.MALFORMED)
    if pos != size:
        reject(UploadReason.TRAILING_DATA)
