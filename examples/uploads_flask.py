"""A Flask upload endpoint that checks, stores and serves files safely.

Run it: ``python examples/uploads_flask.py``. It starts the app with Flask's
test client, uploads a genuine PNG and a GIF/PHP polyglot, shows what was
stored and how it is served, and exits.
"""

from __future__ import annotations

import io
import logging
import struct
import tempfile
import zlib
from pathlib import Path

from flask import Flask, Response, abort, jsonify, request

from securekit.errors import UploadRejectedError
from securekit.uploads import CheckedUpload, UploadPolicy, download_headers, safe_join

log = logging.getLogger("uploads")

# Checked once at start-up: images and PDFs up to 5 MiB.
POLICY = UploadPolicy(
    allowed={"png", "jpg", "jpeg", "gif", "webp", "pdf"}, max_bytes=5 * 1024 * 1024
)


def create_app(storage: Path) -> Flask:
    """Build the app; uploads are stored under generated names in ``storage``."""
    app = Flask(__name__)
    # Defence in depth: werkzeug refuses bigger request bodies before we read them.
    app.config["MAX_CONTENT_LENGTH"] = POLICY.max_bytes + 64 * 1024
    # In a real app this lives in the database, next to the owner's id.
    stored: dict[str, tuple[CheckedUpload, str]] = {}

    @app.post("/upload")
    def upload() -> tuple[Response, int]:
        part = request.files.get("file")
        if part is None:
            return jsonify(error="no file"), 400
        try:
            checked = POLICY.save(
                part.stream,
                storage,
                filename=part.filename or "",
                declared_type=part.content_type,
            )
        except UploadRejectedError as exc:
            # The reason goes to the logs; the client gets the constant message.
            log.warning("upload rejected: %s", exc.reason.value)
            return jsonify(error=str(exc)), 400
        stored[checked.storage_name] = (checked, part.filename or checked.storage_name)
        return jsonify(id=checked.storage_name, type=checked.mime, size=checked.size), 201

    @app.get("/files/<name>")
    def download(name: str) -> Response:
        entry = stored.get(name)
        if entry is None:
            abort(404)
        checked, display_name = entry
        path = safe_join(storage, checked.storage_name)
        return Response(
            path.read_bytes(),
            headers=download_headers(checked, filename=display_name),
        )

    return app


def tiny_png() -> bytes:
    """A genuine 2x2 grey PNG, built byte by byte."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80\x80\x00\x80\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def main() -> None:
    """Upload a good and a bad file, then fetch the stored one."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as folder:
        storage = Path(folder)
        client = create_app(storage).test_client()

        good = client.post(
            "/upload",
            data={"file": (io.BytesIO(tiny_png()), "holiday photo.png", "image/png")},
            content_type="multipart/form-data",
        )
        print("genuine PNG:", good.status_code, good.get_json())
        assert good.status_code == 201

        polyglot = b"GIF89a;<?php system($_GET['c']); ?>"
        bad = client.post(
            "/upload",
            data={"file": (io.BytesIO(polyglot), "avatar.gif", "image/gif")},
            content_type="multipart/form-data",
        )
        print("GIF/PHP polyglot:", bad.status_code, bad.get_json())
        assert bad.status_code == 400

        traversal = client.post(
            "/upload",
            data={"file": (io.BytesIO(tiny_png()), "..%2f..%2fshell.png", "image/png")},
            content_type="multipart/form-data",
        )
        print("traversal name:", traversal.status_code, traversal.get_json())
        assert traversal.status_code == 400

        stored_name = good.get_json()["id"]
        print("files on disk:", sorted(p.name for p in storage.iterdir()))
        served = client.get(f"/files/{stored_name}")
        print("served:", served.status_code, len(served.data), "bytes")
        for header in (
            "Content-Type",
            "Content-Disposition",
            "X-Content-Type-Options",
            "Content-Security-Policy",
        ):
            print(f"  {header}: {served.headers[header]}")
        assert served.data == tiny_png()


if __name__ == "__main__":
    main()
