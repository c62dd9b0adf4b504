"""WebP structure: a RIFF container of even-padded chunks, with nothing after it.

Follows RFC 9649 (WebP Image Format), section 2: RIFF header, simple lossy
(``VP8 ``), simple lossless (``VP8L``) and extended (``VP8X``) formats.
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

_IMAGE_CHUNKS: Final = {b"VP8 ", b"VP8L"}


def _vp8_size(body: bytes) -> tuple[int, int]:
    """RFC 9649 2.5 / RFC 6386 9.1: frame tag, start code, 14-bit dimensions."""
    if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
        reject(UploadReason.MALFORMED)
    width, height = struct.unpack_from("<HH", body, 6)
    return width & 0x3FFF, height & 0x3FFF


def _vp8l_size(body: bytes) -> tuple[int, int]:
    """RFC 9649 3.2.2: signature 0x2F, then 14-bit width - 1 and height - 1."""
    if len(body) < 5 or body[0] != 0x2F:
        reject(UploadReason.MALFORMED)
    (bits,) = struct.unpack_from("<I", body, 1)
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def _chunks(data: Buffer, pos: int, end: int) -> list[tuple[bytes, int, int]]:
    """Split ``data[pos:end]`` into (fourcc, start, length) triples, padding checked.

    Offsets, not copies: image data stays in the buffer, so memory does not
    grow with the file.
    """
    chunks: list[tuple[bytes, int, int]] = []
    while pos < end:
        if pos + 8 > end:
            reject(UploadReason.MALFORMED)
        fourcc, length = struct.unpack_from("<4sI", data, pos)
        padded = length + (length & 1)
        if pos + 8 + padded > end:
            reject(UploadReason.MALFORMED)
        chunks.append((fourcc, pos + 8, length))
        pos += 8 + padded
    return chunks


def _head(data: Buffer, start: int, length: int) -> bytes:
    """The first bytes of a chunk, enough for any header read here."""
    return data[start : start + min(length, 32)]


def check(data: Buffer, *, max_pixels: int) -> None:
    """Reject anything but one well-formed WebP RIFF file."""
    size = len(data)
    if size < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        reject(UploadReason.MALFORMED)
    if b"/*" in data[4:8]:
        # A WebP/JavaScript polyglot: "RIFF" is an identifier, and a comment
        # opened in the size field ("RIFF/*") hides the rest up to a "*/".
        reject(UploadReason.EMBEDDED_MARKUP)
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 < size:
        reject(UploadReason.TRAILING_DATA)
    if riff_size + 8 > size or riff_size & 1:
        reject(UploadReason.MALFORMED)
    chunks = _chunks(data, 12, size)
    first, start, length = chunks[0]
    if first in _IMAGE_CHUNKS:
        body = _head(data, start, length)
        width, height = _vp8_size(body) if first == b"VP8 " else _vp8l_size(body)
        check_pixels(width, height, 1, max_pixels)
        if len(chunks) != 1:
            reject(UploadReason.MALFORMED)
        return
    if first != b"VP8X" or length != 10:
        reject(UploadReason.MALFORMED)
    body = _head(data, start, length)
    # 2.7: canvas width - 1 and height - 1 as 24-bit little-endian numbers.
    width = int.from_bytes(body[4:7], "little") + 1
    height = int.from_bytes(body[7:10], "little") + 1
    check_pixels(width, height, 1, max_pixels)
    frames = 0
    images = 0
    for fourcc, start, length in chunks[1:]:
        if fourcc == b"ANMF":
            if length < 16:
                reject(UploadReason.MALFORMED)
            frames += 1
            check_pixels(width, height, frames, max_pixels)
            inner = _chunks(data, start + 16, start + length)
            if not any(kind in _IMAGE_CHUNKS for kind, _, _ in inner):
                reject(UploadReason.MALFORMED)
        elif fourcc in _IMAGE_CHUNKS:
            images += 1
            head = _head(data, start, length)
            w, h = _vp8_size(head) if fourcc == b"VP8 " else _vp8l_size(head)
            if w != width or h != height:
                reject(UploadReason.MALFORMED)
        elif fourcc == b"XMP ":
            if length > MAX_METADATA_INFLATE:
                reject(UploadReason.MALFORMED)
            check_text_markup(data[start : start + length])
        elif fourcc == b"VP8X":
            reject(UploadReason.MALFORMED)
        elif fourcc != b"ALPH":
            # EXIF, ICCP and unknown chunks: metadata a PHP include would run.
            check_metadata_script(data, start, start + length)
    if images + frames == 0 or (images and frames) or images > 1:
        reject(UploadReason.MALFORMED)
