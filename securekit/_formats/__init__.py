"""Structural checks of upload formats, and the catalogue of known types.

Each entry ties the extensions of a type to the MIME types libmagic may
report for it, the Content-Type aliases clients send, and the parser that
checks its structure. The parsers are private: applications reach them only
through :class:`securekit.uploads.UploadPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Final

from securekit._formats import gif, jpeg, pdf, png, text, webp
from securekit._formats._common import Buffer

__all__ = ["CATALOGUE", "Buffer", "FileType"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileType:
    """One known upload type."""

    #: The MIME type served for it (``Content-Type``).
    mime: str
    #: What libmagic may report for genuine files of this type.
    detected: frozenset[str]
    #: What clients may declare (case-insensitive, parameters dropped).
    declared: frozenset[str]
    #: The structural check: raises UploadRejectedError or returns.
    check: Callable[[Buffer, int], None]
    #: Whether ``Content-Disposition: inline`` is safe for it.
    raster_image: bool = False


def _image(parser: Callable[..., None]) -> Callable[[Buffer, int], None]:
    def run(data: Buffer, max_pixels: int) -> None:
        parser(data, max_pixels=max_pixels)

    return run


def _text(*, csv: bool) -> Callable[[Buffer, int], None]:
    checker = partial(text.check, csv=csv)

    def run(data: Buffer, max_pixels: int) -> None:  # noqa: ARG001 - same signature
        checker(data)

    return run


_JPEG: Final = FileType(
    mime="image/jpeg",
    detected=frozenset({"image/jpeg"}),
    declared=frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
    check=_image(jpeg.check),
    raster_image=True,
)
_PLAIN: Final = FileType(
    mime="text/plain",
    detected=frozenset({"text/plain", "text/csv", "application/csv"}),
    declared=frozenset({"text/plain"}),
    check=_text(csv=False),
)

#: Extension (lower case, no dot) -> type. SVG, HTML and XML are absent on
#: purpose: they are documents that run script when served.
CATALOGUE: Final[dict[str, FileType]] = {
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "png": FileType(
        mime="image/png",
        detected=frozenset({"image/png", "image/apng"}),
        declared=frozenset({"image/png", "image/x-png", "image/apng"}),
        check=_image(png.check),
        raster_image=True,
    ),
    "gif": FileType(
        mime="image/gif",
        detected=frozenset({"image/gif"}),
        declared=frozenset({"image/gif"}),
        check=_image(gif.check),
        raster_image=True,
    ),
    "webp": FileType(
        mime="image/webp",
        detected=frozenset({"image/webp"}),
        declared=frozenset({"image/webp"}),
        check=_image(webp.check),
        raster_image=True,
    ),
    "pdf": FileType(
        mime="application/pdf",
        detected=frozenset({"application/pdf"}),
        declared=frozenset({"application/pdf", "application/x-pdf"}),
        check=_image(pdf.check),
    ),
    "txt": _PLAIN,
    "csv": FileType(
        mime="text/csv",
        detected=frozenset({"text/plain", "text/csv", "application/csv"}),
        # Browsers on Windows declare CSV as Excel's type when Excel is installed.
        declared=frozenset(
            {"text/csv", "text/plain", "application/csv", "text/x-csv", "application/vnd.ms-excel"}
        ),
        check=_text(csv=True),
    ),
}
