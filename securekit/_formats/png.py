"""PNG structure: signature, chunks with CRCs, IHDR first, IDAT run, IEND last.

Follows the PNG specification (W3C, third edition, section 5: datastream
structure; section 11: chunk specifications) and APNG's ``acTL`` frame count.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from securekit._formats._common import (
    MAX_METADATA_INFLATE,
    Buffer,
    check_metadata_script,
    check_pixels,
    check_text_markup,
    inflate_bounded,
    reject,
)
from securekit.errors import UploadReason

SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
#: PNG section 5.3: chunk lengths are at most 2**31 - 1.
MAX_CHUNK: Final = (1 << 31) - 1
#: PNG section 11.2.1: allowed bit depths per colour type.
_DEPTHS: Final = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_TEXT_CHUNKS: Final = {b"tEXt", b"zTXt", b"iTXt"}
#: Compressed pixel data (IDAT, APNG fdAT): left to the whole-file scan.
_IMAGE_DATA: Final = {b"IDAT", b"fdAT"}
_KNOWN_CRITICAL: Final = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}
_CRC_SLICE: Final = 64 * 1024
#: ICC profiles are a few KiB to a few hundred KiB; libpng caps chunk
#: allocations at 8 MB by default (``PNG_USER_CHUNK_MALLOC_MAX``).
MAX_ICC_INFLATE: Final = 8 * 1024 * 1024


def _crc(data: Buffer, kind: bytes, start: int, length: int) -> int:
    """CRC-32 of type and data (PNG 5.3), computed in slices without copying it all."""
    crc = zlib.crc32(kind)
    for offset in range(start, start + length, _CRC_SLICE):
        crc = zlib.crc32(data[offset : min(offset + _CRC_SLICE, start + length)], crc)
    return crc


def _text(kind: bytes, body: bytes) -> bytes:
    """Return the text of a tEXt/zTXt/iTXt chunk (inflated, bounded)."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or not 1 <= len(keyword) <= 79:
        reject(UploadReason.MALFORMED)
    if kind == b"tEXt":
        return keyword + b"\x00" + rest
    if kind == b"zTXt":
        # PNG 11.3.3.3: one compression-method byte (0 = zlib), then the data.
        if not rest or rest[0] != 0:
            reject(UploadReason.MALFORMED)
        return keyword + b"\x00" + inflate_bounded(rest[1:])
    # iTXt (11.3.3.4): flag, method, language\0, translated keyword\0, text.
    if len(rest) < 2 or rest[0] not in (0, 1) or rest[1] != 0:
        reject(UploadReason.MALFORMED)
    fields = rest[2:].split(b"\x00", 2)
    if len(fields) != 3:
        reject(UploadReason.MALFORMED)
    text = inflate_bounded(fields[2]) if rest[0] == 1 else fields[2]
    return keyword + b"\x00" + fields[0] + b"\x00" + fields[1] + b"\x00" + text


def check(data: Buffer, *, max_pixels: int) -> None:
    """Reject anything but one well-formed PNG datastream with nothing after it."""
    size = len(data)
    if data[:8] != SIGNATURE:
        reject(UploadReason.MALFORMED)
    pos = 8
    index = 0
    width = height = 0
    color_type = -1
    frames = 1
    seen_plte = seen_idat = idat_ended = False
    while True:
        if pos + 12 > size:
            reject(UploadReason.MALFORMED)
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > MAX_CHUNK or pos + 12 + length > size:
            reject(UploadReason.MALFORMED)
        if not kind.isalpha() or not kind.isascii():
            reject(UploadReason.MALFORMED)
        body_start = pos + 8
        (crc,) = struct.unpack_from(">I", data, body_start + length)
        if _crc(data, kind, body_start, length) != crc:
            reject(UploadReason.MALFORMED)
        # Only small chunks are copied: image data is checked in place, so
        # memory does not grow with the file.
        if (kind in _TEXT_CHUNKS or kind == b"iCCP") and length > MAX_METADATA_INFLATE:
            reject(UploadReason.MALFORMED)
        body = (
            data[body_start : body_start + length] if kind != b"IDAT" and length <= 1 << 20 else b""
        )
        pos = body_start + length + 4
        if kind not in _IMAGE_DATA:
            # Ancillary and private chunks, searched in place whatever their size.
            check_metadata_script(data, body_start, body_start + length)
        if index == 0:
            # 5.6: IHDR must come first; read the dimensions before any IDAT.
            if kind != b"IHDR" or length != 13:
                reject(UploadReason.MALFORMED)
            width, height, depth, color_type, comp, filt, interlace = struct.unpack(
                ">IIBBBBB", body
            )
            if width > MAX_CHUNK or height > MAX_CHUNK:
                reject(UploadReason.MALFORMED)
            if depth not in _DEPTHS.get(color_type, set()) or comp or filt or interlace > 1:
                reject(UploadReason.MALFORMED)
            check_pixels(width, height, frames, max_pixels)
        elif kind == b"IHDR":
            reject(UploadReason.MALFORMED)
        elif kind == b"acTL":
            # APNG: every frame is decoded into a canvas-sized buffer.
            if length != 8 or seen_idat:
                reject(UploadReason.MALFORMED)
            frames, _plays = struct.unpack(">II", body)
            if frames == 0:
                reject(UploadReason.MALFORMED)
            check_pixels(width, height, frames, max_pixels)
        elif kind == b"PLTE":
            if seen_plte or seen_idat or length % 3 or not 3 <= length <= 768:
                reject(UploadReason.MALFORMED)
            seen_plte = True
        elif kind == b"IDAT":
            # 5.6: IDAT chunks are consecutive.
            if idat_ended:
                reject(UploadReason.MALFORMED)
            seen_idat = True
        elif kind == b"IEND":
            if length or not seen_idat:
                reject(UploadReason.MALFORMED)
            if color_type == 3 and not seen_plte:
                reject(UploadReason.MALFORMED)
            break
        elif kind[0:1].isupper() and kind not in _KNOWN_CRITICAL:
            # 5.4: an unknown critical chunk means the file cannot be decoded.
            reject(UploadReason.MALFORMED)
        elif kind in _TEXT_CHUNKS:
            check_text_markup(_text(kind, body))
        elif kind == b"iCCP":
            # 11.3.2.1: name, NUL, method 0, zlib data. Decoders inflate the
            # profile, so a bomb hidden here is refused like a zTXt bomb.
            _name, sep, rest = body.partition(b"\x00")
            if not sep or not rest or rest[0] != 0:
                reject(UploadReason.MALFORMED)
            inflate_bounded(rest[1:], MAX_ICC_INFLATE)
        if seen_idat and kind != b"IDAT":
            idat_ended = True
        index += 1
    if pos != size:
        # Anything after IEND (a zip, a script) is a polyglot.
        reject(UploadReason.TRAILING_DATA)
