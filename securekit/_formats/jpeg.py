"""JPEG structure: SOI, marker segments, frame header, scans, EOI last.

Follows ITU-T T.81 (JPEG), annex B (syntax): marker segments carry a 2-byte
length; entropy-coded data ends at the first ``FF`` not followed by ``00``
(byte stuffing) or a restart marker ``D0``-``D7``.
"""

from __future__ import annotations

import re
import struct
from typing import Final

from securekit._formats._common import (
    Buffer,
    check_metadata_script,
    check_pixels,
    check_text_markup,
    reject,
)
from securekit.errors import UploadReason

#: T.81 table B.1: start-of-frame markers (C4 = DHT, C8 = JPG, CC = DAC excluded).
_SOF: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_SOS: Final = 0xDA
_EOI: Final = 0xD9
_SOI: Final = 0xD8
_COM: Final = 0xFE
_APP1: Final = 0xE1
_APP0: Final = 0xE0
_XMP: Final = b"http://ns.adobe.com/xap/1.0/\x00"
#: libjpeg-turbo's advice against progressive-JPEG scan-count DoS is a limit
#: of a few hundred scans; real progressive files have about ten.
_MAX_SCANS: Final = 256
#: The end of entropy-coded data: FF followed by anything but 00 or RSTn.
_SCAN_END: Final = re.compile(rb"\xff(?=[^\x00\xd0-\xd7])")


def check(data: Buffer, *, max_pixels: int) -> None:
    """Reject anything but one well-formed JPEG with EOI as its last marker."""
    size = len(data)
    if data[:3] != b"\xff\xd8\xff":
        reject(UploadReason.MALFORMED)
    pos = 2
    seen_frame = seen_scan = False
    scans = 0
    while True:
        if pos + 2 > size or data[pos] != 0xFF:
            reject(UploadReason.MALFORMED)
        # B.1.1.2: any number of FF fill bytes may precede a marker.
        while pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > size:
            reject(UploadReason.MALFORMED)
        marker = data[pos + 1]
        pos += 2
        if marker == _EOI:
            break
        if marker in (0x00, 0x01, _SOI) or 0xD0 <= marker <= 0xD7:
            # A stray SOI, TEM, stuffed zero or restart outside a scan.
            reject(UploadReason.MALFORMED)
        if pos + 2 > size:
            reject(UploadReason.MALFORMED)
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > size:
            reject(UploadReason.MALFORMED)
        if marker == _APP0 and data[pos : pos + 2] == b"/*":
            # A JPEG/JavaScript polyglot: FF D8 FF E0 "/*" opens a comment.
            reject(UploadReason.EMBEDDED_MARKUP)
        body = data[pos + 2 : pos + length]
        # Every marker segment (APPn, tables, comments) is metadata a PHP
        # include would run; only entropy-coded data is left to the
        # whole-file scan.
        check_metadata_script(body)
        pos += length
        if marker in _SOF:
            # B.2.2: P, Y (lines), X (samples per line), Nf.
            if seen_frame or len(body) < 6:
                reject(UploadReason.MALFORMED)
            _precision, height, width, components = struct.unpack_from(">BHHB", body)
            if len(body) != 6 + 3 * components or components == 0:
                reject(UploadReason.MALFORMED)
            # A zero height (defined later by DNL) is not supported by browsers.
            check_pixels(width, height, 1, max_pixels)
            seen_frame = True
        elif marker == _SOS:
            scans += 1
            if not seen_frame or scans > _MAX_SCANS:
                reject(UploadReason.MALFORMED)
            seen_scan = True
            found = _SCAN_END.search(data, pos)
            if found is None:
                reject(UploadReason.MALFORMED)
            pos = found.start()
        elif marker == _COM or (marker == _APP1 and body.startswith(_XMP)):
            check_text_markup(body)
    if not seen_scan:
        reject(UploadReason.MALFORMED)
    if pos != size:
        reject(UploadReason.TRAILING_DATA)
