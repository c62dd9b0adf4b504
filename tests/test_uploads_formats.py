"""The structural parsers, one rule at a time (each test fails if its guard goes)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from securekit._formats import gif, jpeg, pdf, png, text, webp
from securekit._formats._common import Buffer, check_pixels, inflate_bounded
from securekit.errors import UploadReason, UploadRejectedError

FILES = Path(__file__).resolve().parent / "corpora" / "uploads" / "files"
BIG = 10**9
M = UploadReason.MALFORMED


def reason_of(parser: Callable[..., None], data: Buffer, **kw: object) -> UploadReason | None:
    try:
        parser(data, **kw)
    except UploadRejectedError as exc:
        return exc.reason
    return None


# --- common -------------------------------------------------------------------


def test_inflate_bounded() -> None:
    assert inflate_bounded(zlib.compress(b"abc")) == b"abc"
    with pytest.raises(UploadRejectedError) as info:
        inflate_bounded(b"not zlib")
    assert info.value.reason is M
    with pytest.raises(UploadRejectedError) as info:
        inflate_bounded(zlib.compress(b"abc")[:-3])
    assert info.value.reason is M
    with pytest.raises(UploadRejectedError) as info:
        inflate_bounded(zlib.compress(bytes(100)), limit=99)
    assert info.value.reason is UploadReason.ARCHIVE_BOMB
    assert inflate_bounded(zlib.compress(bytes(100)), limit=100) == bytes(100)


def test_check_pixels() -> None:
    check_pixels(10, 10, 1, 100)
    check_pixels(10, 10, 0, 100)
    for args, expected in [
        ((0, 5, 1, 100), M),
        ((5, 0, 1, 100), M),
        ((10, 10, 2, 100), UploadReason.TOO_MANY_PIXELS),
        ((11, 10, 1, 100), UploadReason.TOO_MANY_PIXELS),
    ]:
        with pytest.raises(UploadRejectedError) as info:
            check_pixels(*args)
        assert info.value.reason is expected


# --- PNG ----------------------------------------------------------------------


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def ihdr(
    width: int = 2, height: int = 2, depth: int = 8, color: int = 0, interlace: int = 0
) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))


IDAT = chunk(b"IDAT", zlib.compress(b"\x00\x00\x00" * 2))
IEND = chunk(b"IEND", b"")
SIG = png.SIGNATURE


def test_png_minimal_passes() -> None:
    assert reason_of(png.check, SIG + ihdr() + IDAT + IEND, max_pixels=BIG) is None
    palette = SIG + ihdr(color=3) + chunk(b"PLTE", b"\x00" * 6) + IDAT + IEND
    assert reason_of(png.check, palette, max_pixels=BIG) is None
    apng = SIG + ihdr() + chunk(b"acTL", struct.pack(">II", 2, 0)) + IDAT + IEND
    assert reason_of(png.check, apng, max_pixels=8) is None
    assert reason_of(png.check, apng, max_pixels=7) is UploadReason.TOO_MANY_PIXELS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\x0a"[:7] + b"x" + ihdr() + IDAT + IEND, M),
        (SIG + ihdr()[:-2], M),
        (SIG + struct.pack(">I", 1 << 31) + b"IDAT" + bytes(20), M),
        (SIG + ihdr() + chunk(b"ID4T", b"") + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"tEXt", b"no separator") + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"tEXt", b"\x00empty keyword") + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"zTXt", b"k\x00\x01" + zlib.compress(b"x")) + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"zTXt", b"k\x00") + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"iTXt", b"k\x00\x02\x00\x00\x00t") + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"iTXt", b"k\x00\x00\x00lang") + IDAT + IEND, M),
        (
            SIG
            + ihdr()
            + chunk(b"iTXt", b"k\x00\x01\x00\x00\x00" + zlib.compress(b"<script>"))
            + IDAT
            + IEND,
            UploadReason.EMBEDDED_MARKUP,
        ),
        (
            SIG + ihdr() + chunk(b"iTXt", b"k\x00\x00\x00\x00\x00<?php") + IDAT + IEND,
            UploadReason.EMBEDDED_MARKUP,
        ),
        (SIG + chunk(b"IHDR", bytes(12)) + IDAT + IEND, M),
        (SIG + ihdr(width=1 << 31) + IDAT + IEND, M),
        (SIG + ihdr(width=0) + IDAT + IEND, M),
        (SIG + ihdr(depth=3) + IDAT + IEND, M),
        (SIG + ihdr(color=5) + IDAT + IEND, M),
        (SIG + ihdr(interlace=2) + IDAT + IEND, M),
        (SIG + ihdr() + ihdr() + IDAT + IEND, M),
        (SIG + ihdr() + IDAT + chunk(b"acTL", struct.pack(">II", 1, 0)) + IEND, M),
        (SIG + ihdr() + chunk(b"acTL", b"\x00" * 4) + IDAT + IEND, M),
        (SIG + ihdr() + chunk(b"acTL", struct.pack(">II", 0, 0)) + IDAT + IEND, M),
        (SIG + ihdr(color=3) + chunk(b"PLTE", b"\x00" * 4) + IDAT + IEND, M),
        (
            SIG
            + ihdr(color=3)
            + chunk(b"PLTE", b"\x00" * 3)
            + chunk(b"PLTE", b"\x00" * 3)
            + IDAT
            + IEND,
            M,
        ),
        (SIG + ihdr(color=3) + IDAT + IEND, M),
        (SIG + ihdr() + IDAT + chunk(b"tEXt", b"a\x00b") + IDAT + IEND, M),
        (SIG + ihdr() + IDAT + chunk(b"IEND", b"x"), M),
        (SIG + ihdr() + IEND, M),
        (
            SIG + ihdr() + chunk(b"vpAg", b"\x00" * 9) + IDAT + IEND + b"\x00",
            UploadReason.TRAILING_DATA,
        ),
    ],
)
def test_png_rules(data: bytes, expected: UploadReason) -> None:
    assert reason_of(png.check, data, max_pixels=BIG) is expected


# --- GIF ----------------------------------------------------------------------


def gif_image(width: int = 1, height: int = 1, local_table: bool = False, lzw: int = 2) -> bytes:
    flags = 0x80 if local_table else 0
    table = b"\x00" * 6 if local_table else b""
    return (
        b"\x2c"
        + struct.pack("<HHHHB", 0, 0, width, height, flags)
        + table
        + bytes([lzw])
        + b"\x02\x4c\x01\x00"
    )


GIF_HEAD = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00" * 6


def test_gif_minimal_passes() -> None:
    assert reason_of(gif.check, GIF_HEAD + gif_image() + b"\x3b", max_pixels=BIG) is None
    extensions = (
        b"\x21\xf9\x04\x00\x00\x00\x00\x00" + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    )
    assert (
        reason_of(
            gif.check, GIF_HEAD + extensions + gif_image(local_table=True) + b"\x3b", max_pixels=BIG
        )
        is None
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GIF90a" + bytes(20), M),
        (b"GIF89a\x01", M),
        (GIF_HEAD, M),
        (GIF_HEAD + b"\x3b", M),
        (GIF_HEAD + b"\x99" + b"\x3b", M),
        (GIF_HEAD + b"\x2c\x00\x00", M),
        (GIF_HEAD + gif_image(lzw=0) + b"\x3b", M),
        (GIF_HEAD + gif_image(lzw=12) + b"\x3b", M),
        (GIF_HEAD + gif_image()[:-1], M),
        (GIF_HEAD + gif_image()[:-3] + b"\x09", M),
        (GIF_HEAD + b"\x21", M),
        (GIF_HEAD + b"\x21\xfe\x05ab", M),
        (GIF_HEAD + b"\x21\xfe\x05abcde", M),
        (
            GIF_HEAD + b"\x21\x01\x06<svg/>\x00" + gif_image() + b"\x3b",
            UploadReason.EMBEDDED_MARKUP,
        ),
        (GIF_HEAD + gif_image(width=100, height=100) + b"\x3b", UploadReason.TOO_MANY_PIXELS),
        (GIF_HEAD + gif_image() * 3 + b"\x3b", UploadReason.TOO_MANY_PIXELS),
        (GIF_HEAD + gif_image() + b"\x3b\x3b", UploadReason.TRAILING_DATA),
    ],
)
def test_gif_rules(data: bytes, expected: UploadReason) -> None:
    assert reason_of(gif.check, data, max_pixels=2) is expected


# --- JPEG ---------------------------------------------------------------------


def seg(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


SOF = seg(0xC0, struct.pack(">BHHB", 8, 2, 2, 1) + b"\x01\x11\x00")
SOS = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\xff\x00\x34\xff\xd0\x56"
EOI = b"\xff\xd9"


def test_jpeg_minimal_passes() -> None:
    assert reason_of(jpeg.check, b"\xff\xd8" + SOF + SOS + EOI, max_pixels=BIG) is None
    fill = b"\xff\xd8\xff" + SOF + SOS + b"\xff" + EOI
    assert reason_of(jpeg.check, fill, max_pixels=BIG) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\x00" + SOF, M),
        (b"\xff\xd8" + SOF + b"\x00\x00", M),
        (b"\xff\xd8" + SOF + b"\xff", M),
        (b"\xff\xd8" + SOF + b"\xff\xff\xff", M),
        (b"\xff\xd8" + SOF + b"\xff\xd8" + SOS + EOI, M),
        (b"\xff\xd8" + SOF + b"\xff\xd3" + SOS + EOI, M),
        (b"\xff\xd8" + SOF + b"\xff\xe0\x00", M),
        (b"\xff\xd8" + SOF + b"\xff\xe0\x00\x01" + SOS + EOI, M),
        (b"\xff\xd8" + SOF + b"\xff\xe0\x00\x50abc", M),
        (b"\xff\xd8" + SOF + SOF + SOS + EOI, M),
        (b"\xff\xd8" + seg(0xC0, b"\x08\x00") + SOS + EOI, M),
        (
            b"\xff\xd8" + seg(0xC0, struct.pack(">BHHB", 8, 2, 2, 2) + b"\x01\x11\x00") + SOS + EOI,
            M,
        ),
        (
            b"\xff\xd8" + seg(0xC2, struct.pack(">BHHB", 8, 0, 2, 1) + b"\x01\x11\x00") + SOS + EOI,
            M,
        ),
        (
            b"\xff\xd8"
            + seg(0xC0, struct.pack(">BHHB", 8, 9000, 9000, 1) + b"\x01\x11\x00")
            + SOS
            + EOI,
            UploadReason.TOO_MANY_PIXELS,
        ),
        (b"\xff\xd8" + SOS + EOI, M),
        (b"\xff\xd8" + SOF + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34\xff", M),
        (b"\xff\xd8" + SOF + EOI, M),
        (
            b"\xff\xd8" + seg(0xFE, b"<svg onload=x>") + SOF + SOS + EOI,
            UploadReason.EMBEDDED_MARKUP,
        ),
        (
            b"\xff\xd8" + seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<?php") + SOF + SOS + EOI,
            UploadReason.EMBEDDED_MARKUP,
        ),
        (b"\xff\xd8" + SOF + SOS + EOI + b"\x00", UploadReason.TRAILING_DATA),
    ],
)
def test_jpeg_rules(data: bytes, expected: UploadReason) -> None:
    assert reason_of(jpeg.check, data, max_pixels=1000) is expected


# --- WebP ---------------------------------------------------------------------


def wchunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def riff(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


VP8L = wchunk(b"VP8L", b"\x2f" + struct.pack("<I", (1 << 14) | 1) + b"\x00\x00")  # 2 x 2
VP8 = wchunk(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 2, 2) + b"\x00\x00")


def vp8x(width: int = 2, height: int = 2) -> bytes:
    return wchunk(
        b"VP8X",
        b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little"),
    )


def anmf(inner: bytes) -> bytes:
    return wchunk(b"ANMF", bytes(16) + inner)


def test_webp_minimal_passes() -> None:
    for data in (
        riff(VP8L),
        riff(VP8),
        riff(vp8x() + VP8L),
        riff(vp8x() + wchunk(b"ICCP", b"abc") + VP8 + wchunk(b"EXIF", b"x")),
        riff(vp8x() + wchunk(b"ANIM", bytes(6)) + anmf(VP8L) + anmf(VP8L)),
    ):
        assert reason_of(webp.check, data, max_pixels=BIG) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"RIFX" + bytes(20), M),
        (riff(VP8L) + b"\x00\x00", UploadReason.TRAILING_DATA),
        (riff(VP8L)[:-1], M),
        (b"RIFF" + struct.pack("<I", 13) + b"WEBP" + VP8L[:9], M),
        (riff(VP8L + b"\x00\x00"), M),
        (riff(wchunk(b"VP8L", b"\x2f" + bytes(20) + b"\x00" * 100)[:-50]), M),
        (riff(wchunk(b"VP8 ", b"\x00" * 12)), M),
        (riff(wchunk(b"VP8L", b"\x00" * 6)), M),
        (riff(VP8 + VP8), M),
        (riff(VP8L + VP8L), M),
        (riff(wchunk(b"ALPH", b"\x00" * 4)), M),
        (riff(wchunk(b"VP8X", b"\x00" * 8)), M),
        (riff(vp8x()), M),
        (riff(vp8x() + VP8L + VP8L), M),
        (riff(vp8x() + VP8L + anmf(VP8L)), M),
        (riff(vp8x(2, 3) + VP8L), M),
        (riff(vp8x() + VP8L + vp8x()), M),
        (riff(vp8x() + wchunk(b"ANMF", bytes(8))), M),
        (riff(vp8x() + anmf(wchunk(b"ALPH", b"\x00\x00"))), M),
        (riff(vp8x(5000, 5000) + VP8L), UploadReason.TOO_MANY_PIXELS),
        (riff(vp8x() + anmf(VP8L) * 3), UploadReason.TOO_MANY_PIXELS),
        (
            riff(
                wchunk(
                    b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 90, 90) + b"\x00\x00"
                )
            ),
            UploadReason.TOO_MANY_PIXELS,
        ),
        (
            riff(vp8x() + VP8L + wchunk(b"XMP ", b"<x:xmpmeta><script>")),
            UploadReason.EMBEDDED_MARKUP,
        ),
    ],
)
def test_webp_rules(data: bytes, expected: UploadReason) -> None:
    assert reason_of(webp.check, data, max_pixels=8) is expected


# --- PDF ----------------------------------------------------------------------

CLASSIC = (FILES / "classic_xref.pdf").read_bytes()
OBJSTM = (FILES / "object_streams.pdf").read_bytes()


def test_pdf_samples_pass() -> None:
    assert reason_of(pdf.check, CLASSIC, max_pixels=1) is None
    assert reason_of(pdf.check, OBJSTM, max_pixels=1) is None
    assert reason_of(pdf.check, CLASSIC + b"\r\n\x00\x00" * 10, max_pixels=1) is None


def fix_startxref(data: bytes) -> bytes:
    """Point startxref at the (moved) xref table again."""
    head, _, _ = data.rpartition(b"startxref\n")
    return head + b"startxref\n%d\n%%%%EOF\n" % data.rindex(b"xref\n0 ")


def replace_catalog(extra: bytes) -> bytes:
    return fix_startxref(CLASSIC.replace(b"/Pages 2 0 R >>", b"/Pages 2 0 R " + extra + b">>", 1))


def raw_stream(dictionary: bytes, body: bytes) -> bytes:
    tail = CLASSIC.index(b"xref")
    return fix_startxref(
        CLASSIC[:tail]
        + b"9 0 obj\n"
        + dictionary
        + b"\nstream\n"
        + body
        + b"\nendstream\nendobj\n"
        + CLASSIC[tail:]
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.x\n" + CLASSIC[9:], M),
        (b" " + CLASSIC, M),
        (CLASSIC.replace(b"%%EOF", b"%%EOX"), M),
        (CLASSIC + b"x", UploadReason.TRAILING_DATA),
        (CLASSIC + b" " * 2000, UploadReason.TRAILING_DATA),
        (CLASSIC.replace(b"startxref", b"startxreg"), M),
        (CLASSIC.replace(b"trailer", b"trailex"), M),
        (CLASSIC.replace(b"/Root", b"/Rooo"), M),
        (replace_catalog(b"/OpenAction<</S/GoTo/D[3 0 R/Fit]>>"), UploadReason.ACTIVE_CONTENT),
        (replace_catalog(b"/AA 3 0 R"), UploadReason.ACTIVE_CONTENT),
        (replace_catalog(b"/#41#41 3 0 R"), UploadReason.ACTIVE_CONTENT),
        (replace_catalog(b"/Launch"), UploadReason.ACTIVE_CONTENT),
        (replace_catalog(b"/Encrypt 3 0 R"), UploadReason.ACTIVE_CONTENT),
        (replace_catalog(b"/OpenAction 3 0 R"), None),
        (replace_catalog(b"/OpenAction [3 0 R /Fit]"), None),
        (
            raw_stream(
                b"<< /Type /ObjStm /N 1 /First 4 /Length 30 >>", b"1 0 << /S /JavaScript >>"
            ),
            UploadReason.ACTIVE_CONTENT,
        ),
        (raw_stream(b"<< /Type /ObjStm /N 1 /First 4 /Length 30 >>", b"1 0 << /S /GoTo >>"), None),
        (
            raw_stream(b"<< /Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode >>", b"00"),
            UploadReason.ACTIVE_CONTENT,
        ),
        (
            raw_stream(
                b"<< /Type /ObjStm /Filter /FlateDecode /DecodeParms << /Predictor 12 >> >>", b"00"
            ),
            UploadReason.ACTIVE_CONTENT,
        ),
        (
            raw_stream(b"<< /Type /ObjStm /Filter [/FlateDecode /LZW] >>", b"00"),
            UploadReason.ACTIVE_CONTENT,
        ),
        (raw_stream(b"<< /Type /ObjStm /Filter /FlateDecode >>", b"not zlib"), M),
        (
            raw_stream(
                b"<< /N 1 /First 4 /Filter /FlateDecode >>", zlib.compress(b"1 0 << /JS (x) >>")
            ),
            UploadReason.ACTIVE_CONTENT,
        ),
        (raw_stream(b"<< /Length 5 >>", b"12 0 obj << >>"), M),
        (raw_stream(b"<< /Length 5 >>", b"abc endobj"), M),
        (CLASSIC[: CLASSIC.index(b"xref")] + b"9 0 obj\n<< >>\nstream\nabc\n", M),
    ],
)
def test_pdf_rules(data: bytes, expected: UploadReason | None) -> None:
    assert reason_of(pdf.check, data, max_pixels=1) is expected


def test_pdf_object_stream_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "MAX_INFLATE", 1000)
    data = raw_stream(b"<< /Type /ObjStm /Filter /FlateDecode >>", zlib.compress(b" " * 5000))
    assert reason_of(pdf.check, data, max_pixels=1) is UploadReason.ARCHIVE_BOMB


def test_pdf_startxref_must_point_at_a_table_or_stream() -> None:
    offset = CLASSIC.index(b"xref")
    pointing = CLASSIC.replace(b"startxref\n%d" % offset, b"startxref\n%d" % (offset + 5))
    assert reason_of(pdf.check, pointing, max_pixels=1) is M
    beyond = CLASSIC.replace(b"startxref\n%d" % offset, b"startxref\n%d" % 10**9)
    assert reason_of(pdf.check, beyond, max_pixels=1) is M
    xref_stream = OBJSTM.rindex(b"7 0 obj")
    not_xref = OBJSTM.replace(b"/Type /XRef", b"/Type /XRex")
    assert reason_of(pdf.check, not_xref, max_pixels=1) is M
    no_stream = (
        OBJSTM[:xref_stream]
        + b"7 0 obj\n<< /Type /XRef /Root 1 0 R >>\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_stream
    )
    assert reason_of(pdf.check, no_stream, max_pixels=1) is M


# --- text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "csv", "expected"),
    [
        (b"hello\n", False, None),
        (b"\xef\xbb\xbf", False, None),
        ("\u00e9".encode() * 40000, False, None),
        (b"a" * 70000 + b"<scr" + b"ipt>", False, UploadReason.EMBEDDED_MARKUP),
        (b"a" * 65535 + b"<" + b"script>", False, UploadReason.EMBEDDED_MARKUP),
        (b"a" * 65535 + "\u00e9".encode(), False, None),
        (b"a\x00b", False, M),
        (b"a\xc2\x85b", False, M),
        (b"\xff\xfe", False, M),
        (b"a,b\n" * 20000 + b"=1+1,b\n", True, UploadReason.ACTIVE_CONTENT),
        (b"a," * 70000 + b"\n", True, M),
        (b"a,\t=1\n", True, UploadReason.ACTIVE_CONTENT),
        (b"a, +x\n", True, UploadReason.ACTIVE_CONTENT),
        (b"a,'-1e5\n", True, None),
        (b"a,-\n", True, None),
        (b"x=1\n", True, None),
        (b"x,a@b\n", True, None),
        (b"=1\n", False, None),
    ],
)
def test_text_rules(data: bytes, csv: bool, expected: UploadReason | None) -> None:
    assert reason_of(text.check, data, csv=csv) is expected


# --- bounded copies of metadata ------------------------------------------------


def test_metadata_copies_are_bounded() -> None:
    huge = b"x" * ((1 << 20) + 1)
    data = SIG + ihdr() + chunk(b"tEXt", b"k\x00" + huge) + IDAT + IEND
    assert reason_of(png.check, data, max_pixels=BIG) is M
    blocks = (b"\xff" + b"x" * 255) * 4200 + b"\x00"
    assert (
        reason_of(
            gif.check, GIF_HEAD + b"\x21\xfe" + blocks + gif_image() + b"\x3b", max_pixels=BIG
        )
        is M
    )
    xmp = riff(vp8x() + VP8L + wchunk(b"XMP ", huge + b"x"))
    assert reason_of(webp.check, xmp, max_pixels=BIG) is M


def test_jpeg_scan_count_is_limited() -> None:
    scan = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12"
    ok = b"\xff\xd8" + SOF + scan * 256 + EOI
    assert reason_of(jpeg.check, ok, max_pixels=BIG) is None
    assert reason_of(jpeg.check, b"\xff\xd8" + SOF + scan * 257 + EOI, max_pixels=BIG) is M


def test_jpeg_app0_comment_opener_is_a_polyglot() -> None:
    data = b"\xff\xd8\xff\xe0\x2f\x2a" + bytes(12072) + SOF + SOS + EOI
    assert reason_of(jpeg.check, data, max_pixels=BIG) is UploadReason.EMBEDDED_MARKUP


@pytest.mark.parametrize(
    "comment",
    [b"*/=alert(1)//", b"x; eval (atob('x'))", b"document.cookie", b"String.fromCharCode(60)"],
)
def test_script_without_tags_in_image_comments(comment: bytes) -> None:
    data = b"\xff\xd8" + seg(0xFE, comment) + SOF + SOS + EOI
    assert reason_of(jpeg.check, data, max_pixels=BIG) is UploadReason.EMBEDDED_MARKUP


def test_plain_prose_in_image_comments_passes() -> None:
    data = (
        b"\xff\xd8"
        + seg(0xFE, b"Holiday 2024 (Rome) - an alert cat; see document 5.")
        + SOF
        + SOS
        + EOI
    )
    assert reason_of(jpeg.check, data, max_pixels=BIG) is None


def test_gif_application_data_is_text_scanned_only_for_xmp() -> None:
    icc = b"\x21\xff\x0bICCRGBG1012\x06ab<%cd\x00"
    assert reason_of(gif.check, GIF_HEAD + icc + gif_image() + b"\x3b", max_pixels=BIG) is None
    xmp = b"\x21\xff\x0bXMP DataXMP\x08<script>\x00"
    got = reason_of(gif.check, GIF_HEAD + xmp + gif_image() + b"\x3b", max_pixels=BIG)
    assert got is UploadReason.EMBEDDED_MARKUP


def test_png_iccp_is_inflated_bounded() -> None:
    good = chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(b"profile" * 10))
    assert reason_of(png.check, SIG + ihdr() + good + IDAT + IEND, max_pixels=BIG) is None
    bomb = chunk(b"iCCP", b"x\x00\x00" + zlib.compress(bytes(png.MAX_ICC_INFLATE + 1)))
    got = reason_of(png.check, SIG + ihdr() + bomb + IDAT + IEND, max_pixels=BIG)
    assert got is UploadReason.ARCHIVE_BOMB
    for body in (b"no separator", b"x\x00", b"x\x00\x01abc"):
        bad = SIG + ihdr() + chunk(b"iCCP", body) + IDAT + IEND
        assert reason_of(png.check, bad, max_pixels=BIG) is M


# --- review regressions: PDF lexical state and active names --------------------


@pytest.mark.parametrize(
    "extra",
    [
        # "stream" inside a literal string: skipping to "endstream" would hide
        # the OpenAction dictionary a reader parses.
        b"/X (stream\n) /OpenAction << /S /JavaScript /JS (app.alert(1)) >> /Y (endstream)",
        # ... with an escaped parenthesis before it.
        b"/X (a\\) stream\n) /AA << /O << /S /URI >> >> /Y (endstream)",
        # "stream" inside a comment.
        b"% stream\n/OpenAction << /S /JavaScript /JS (x) >>\n% endstream\n",
        # "stream" after a "%" inside a hex string (not a comment there).
        b"/X <% \n stream\n > /OpenAction << /S /Launch /F (calc) >> /Y (endstream)",
    ],
)
def test_pdf_stream_keyword_in_string_or_comment_is_not_a_stream(extra: bytes) -> None:
    assert reason_of(pdf.check, replace_catalog(extra), max_pixels=1) is (
        UploadReason.ACTIVE_CONTENT
    )


def test_pdf_obj_keyword_in_string_does_not_hide_an_object_stream() -> None:
    body = zlib.compress(b"1 0 << /S /JavaScript /JS (x) >>")
    data = raw_stream(b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /X (obj) >>", body)
    assert reason_of(pdf.check, data, max_pixels=1) is UploadReason.ACTIVE_CONTENT


def test_pdf_strings_and_comments_before_a_real_stream_pass() -> None:
    data = raw_stream(b"<< /Length 3 /Title (a (nested\\) string) %x) <414243> >>", b"abc")
    assert reason_of(pdf.check, data, max_pixels=1) is None
    commented = raw_stream(b"% a comment (\n<< /Length 3 >>", b"abc")
    assert reason_of(pdf.check, commented, max_pixels=1) is None


@pytest.mark.parametrize(
    "extra",
    [
        b"/Names << /X << /Type /Filespec /F (calc.exe) /EF << /F 3 0 R >> >> >>",
        b"/X << /Type /Annot /Subtype /3D /3DD 3 0 R >>",
        b"/X << /S /GoTo3DView /TA 3 0 R >>",
    ],
)
def test_pdf_embedded_file_specs_and_3d_are_active(extra: bytes) -> None:
    assert reason_of(pdf.check, replace_catalog(extra), max_pixels=1) is (
        UploadReason.ACTIVE_CONTENT
    )


@pytest.mark.parametrize("cut", [b"(unterminated", b"<abc"])
def test_pdf_unterminated_string_scans_the_rest(cut: bytes) -> None:
    # No stream is skipped after an unterminated string: everything is scanned.
    data = raw_stream(b"<< /Length 3 " + cut, b"/JS")
    assert reason_of(pdf.check, data, max_pixels=1) is UploadReason.ACTIVE_CONTENT


def test_pdf_comment_without_end_of_line_runs_to_the_end() -> None:
    tail = CLASSIC.rindex(b"startxref")
    data = CLASSIC[:tail] + CLASSIC[tail:].replace(b"\n", b"\x00").replace(
        b"startxref", b"%startxref"
    )
    data = data.replace(b"%startxref", b"/JS %startxref")
    assert reason_of(pdf.check, data, max_pixels=1) is UploadReason.ACTIVE_CONTENT


# --- review regressions: server script in binary metadata ---------------------

SHORT_PHP = b"<? system($_GET['c']); ?>"
ASP = b'<% eval request("c") %>'
E = UploadReason.EMBEDDED_MARKUP


@pytest.mark.parametrize("payload", [SHORT_PHP, b"<?\tpassthru($x);", ASP, b"<%@ Page %>"])
def test_server_script_in_binary_metadata_is_refused(payload: bytes) -> None:
    for parser, data in (
        # A JPEG APPn segment that is neither a comment nor XMP, and a DQT.
        (jpeg.check, b"\xff\xd8" + seg(0xE5, b"XYZ\x00" + payload) + SOF + SOS + EOI),
        (jpeg.check, b"\xff\xd8" + seg(0xDB, b"\x00" + payload) + SOF + SOS + EOI),
        # A private PNG chunk, eXIf and a palette.
        (png.check, SIG + ihdr() + chunk(b"prVt", payload) + IDAT + IEND),
        (png.check, SIG + ihdr() + chunk(b"eXIf", b"MM\x00*" + payload) + IDAT + IEND),
        (png.check, SIG + ihdr(color=3) + chunk(b"PLTE", payload[:24]) + IDAT + IEND),
        # A GIF application extension that is not XMP, and a colour table.
        (
            gif.check,
            GIF_HEAD + b"\x21\xff" + bytes([len(payload)]) + payload + b"\x00" + gif_image() + b";",
        ),
        (
            gif.check,
            b"GIF89a"
            + struct.pack("<HHBBB", 1, 1, 0x84, 0, 0)
            + payload.ljust(96, b" ")
            + gif_image()
            + b";",
        ),
        (
            gif.check,
            GIF_HEAD
            + b"\x2c"
            + struct.pack("<HHHHB", 0, 0, 1, 1, 0x84)
            + payload.ljust(96, b" ")
            + b"\x02\x02\x4c\x01\x00;",
        ),
        # WebP EXIF and unknown chunks.
        (webp.check, riff(vp8x() + VP8 + wchunk(b"EXIF", payload))),
        (webp.check, riff(vp8x() + wchunk(b"ZZZZ", payload) + VP8)),
    ):
        if parser is png.check and b"PLTE" in data and len(payload[:24]) % 3:
            continue
        assert reason_of(parser, data, max_pixels=BIG) is E, (parser, payload)


@pytest.mark.parametrize(
    "benign",
    [b"<?xpacket begin", b"a <? b", b"<?>", b"<%", b"100 <% 5", b"x<?\x00\x01;", b"<?\n\xff\xfe;"],
)
def test_binary_metadata_without_server_script_passes(benign: bytes) -> None:
    data = b"\xff\xd8" + seg(0xE5, b"XYZ\x00" + benign) + SOF + SOS + EOI
    assert reason_of(jpeg.check, data, max_pixels=BIG) is None
    assert (
        reason_of(png.check, SIG + ihdr() + chunk(b"prVt", benign) + IDAT + IEND, max_pixels=BIG)
        is None
    )


def test_short_php_tag_in_pixel_data_is_left_to_the_whole_file_scan() -> None:
    # Compressed pixel data is random-looking: a 3-byte pattern would give
    # false rejects there, so IDAT is not searched with the metadata pattern.
    idat = chunk(b"IDAT", SHORT_PHP)
    data = SIG + ihdr() + idat + IEND
    assert reason_of(png.check, data, max_pixels=BIG) is None


@pytest.mark.parametrize(
    "screen", [b"/*\x01\x00\x00\x00\x00", b"\x01\x00/*\x00\x00\x00", b"=1/*\x00\x00\x00"]
)
def test_gif_javascript_polyglot_header_is_refused(screen: bytes) -> None:
    # "GIF89a/*" opens a JavaScript comment closed by "*/=alert(1)" in the
    # image data, which no metadata scan sees.
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x0d*/=alert(1)//\x00"
    data = b"GIF89a" + screen + image + b";"
    assert reason_of(gif.check, data, max_pixels=BIG) is E


def test_webp_javascript_polyglot_header_is_refused() -> None:
    # "RIFF /*\x00" is a valid RIFF size (0x002A2F20, about 2.7 MB) that
    # opens a JavaScript comment after the identifier RIFF.
    head = vp8x() + VP8L
    filler = 0x2A2F20 - 4 - len(head) - 8
    padded = riff(head + wchunk(b"ZZZZ", bytes(filler - 13) + b"*/=alert(1)//"))
    assert padded[4:8] == b" /*\x00"
    assert reason_of(webp.check, padded, max_pixels=BIG) is E
    assert reason_of(webp.check, riff(head + wchunk(b"ZZZZ", bytes(filler))), max_pixels=BIG) is E
    assert reason_of(webp.check, riff(head + wchunk(b"ZZZZ", bytes(100))), max_pixels=BIG) is None


@pytest.mark.parametrize(
    "hidden", [b"4 0obj << /S /JavaScript >>", b"4 %c\n0 obj << >>", b"4 0%c\nobj << >>"]
)
def test_pdf_object_headers_hidden_in_stream_data_in_every_spelling(hidden: bytes) -> None:
    # A reader locating objects by xref offset (or rebuilding the xref by
    # scanning) would find these inside what a scanner skips as stream data.
    assert reason_of(pdf.check, raw_stream(b"<< /Length 40 >>", hidden), max_pixels=1) is M


def test_pdf_stream_without_endstream_is_malformed() -> None:
    data = raw_stream(b"<< /Length 3 >>", b"abc").replace(b"endstream", b"endstreax")
    assert reason_of(pdf.check, data, max_pixels=1) is M


def test_gif_without_global_colour_table_passes() -> None:
    data = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0) + gif_image(local_table=True) + b";"
    assert reason_of(gif.check, data, max_pixels=BIG) is None


def test_pdf_lexical_work_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Millions of nested parentheses cost one Python step each: capped.
    monkeypatch.setattr(pdf, "MAX_TOKENS", 1000)
    assert reason_of(pdf.check, replace_catalog(b"/X " + b"(" * 2000), max_pixels=1) is M
    assert reason_of(pdf.check, replace_catalog(b"/X " + b"()" * 200), max_pixels=1) is None


@pytest.mark.parametrize("name", sorted(pdf.ACTIVE_NAMES | {b"Encrypt"}))
def test_pdf_every_spelling_of_an_active_name_is_found(name: bytes) -> None:
    escaped = b"".join(b"#%02X" % c if i % 2 else b"#%02x" % c for i, c in enumerate(name))
    mixed = b"".join(b"#%02x" % c if i % 2 else bytes([c]) for i, c in enumerate(name))
    for spelling in (name, escaped, mixed):
        # Many harmless names first: only watched names reach Python code.
        data = replace_catalog(b"/a /A /E " * 2000 + b"/" + spelling + b" 3 0 R")
        assert reason_of(pdf.check, data, max_pixels=1) is UploadReason.ACTIVE_CONTENT
    longer = replace_catalog(b"/" + name + b"x 3 0 R /x" + name + b" 3 0 R")
    assert reason_of(pdf.check, longer, max_pixels=1) is None
