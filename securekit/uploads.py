"""Accept uploaded files safely: check them, name them, store them, serve them.

:class:`UploadPolicy` decides whether an uploaded file may be kept. A file is
accepted only when **all** of these hold:

* the client's filename passes :func:`safe_filename` as received and its
  extension is in the policy's allowlist (with no script extension hidden
  before it, as in ``shell.php.png``);
* the declared ``Content-Type`` agrees with the extension (or is absent or
  generic);
* the stream is not empty and not over ``max_bytes`` (counted while reading,
  never trusting ``Content-Length``);
* libmagic's detection of the content agrees with the extension;
* no script or markup appears anywhere in the bytes, and a structural parser
  of the format accepts the file: PNG chunks and CRCs with IEND last, GIF
  blocks and trailer, JPEG markers up to EOI, WebP RIFF chunks, PDF header,
  xref and trailer with no active content, UTF-8 text without controls;
* image dimensions, read from the headers before anything is decompressed,
  are within ``max_pixels``.

Accepted files get a random storage name (never the client's name).
:func:`download_headers` gives the headers to serve them with, and
:func:`safe_join` keeps paths inside a base directory.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import secrets
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, NoReturn
from urllib.parse import quote

import magic

from securekit._formats import CATALOGUE, Buffer, FileType
from securekit._formats._common import check_binary_markup
from securekit.errors import (
    ConfigurationError,
    UnavailableError,
    UploadReason,
    UploadRejectedError,
)

__all__ = [
    "DEFAULT_ALLOWED",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "MAX_FILENAME_BYTES",
    "CheckedUpload",
    "UploadPolicy",
    "download_headers",
    "known_extensions",
    "safe_filename",
    "safe_join",
]

#: Images and PDF: the common "attach a document or picture" set. Text and
#: CSV are known but opt-in (OWASP File Upload Cheat Sheet: allow only the
#: extensions the business needs).
DEFAULT_ALLOWED: Final = frozenset({"gif", "jpeg", "jpg", "pdf", "png", "webp"})
#: OWASP File Upload Cheat Sheet, "File Size Limitations": always set one.
#: 5 MiB fits photos from phones and typical documents.
DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024
#: Pillow's ``Image.MAX_IMAGE_PIXELS`` (its DecompressionBombWarning threshold,
#: about 0.25 GiB for a 24-bit image): the widely deployed default.
DEFAULT_MAX_PIXELS: Final = 89_478_485
#: POSIX ``NAME_MAX`` on ext4, XFS, APFS and Btrfs, and NTFS's 255 UTF-16
#: units: longer names fail to store on some system.
MAX_FILENAME_BYTES: Final = 255

_CHUNK: Final = 64 * 1024
#: libmagic needs the first bytes only; bounded so memory does not grow.
_MAGIC_BYTES: Final = 256 * 1024
_MAX_DECLARED_TYPE: Final = 255
#: RFC 9110 8.3 / RFC 2046 4.5.1: these say "unknown type", not a claim.
_GENERIC_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream"})
_MEDIA_TYPE: Final = re.compile(r"[a-z0-9!#$&^_.+-]{1,127}/[a-z0-9!#$&^_.+-]{1,127}")
#: Windows reserves these names in every directory, with any extension
#: ("aux.pdf"), and also with superscript digits (Microsoft, "Naming Files,
#: Paths, and Namespaces").
_DEVICE_NAMES: Final = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"}
    | {f"{kind}{digit}" for kind in ("com", "lpt") for digit in "0123456789\u00b9\u00b2\u00b3"}
)
#: Characters Windows forbids in names, plus both path separators.
_RESERVED_CHARACTERS: Final = frozenset('<>:"/\\|?*')
#: A percent-encoded byte: a name that is decoded later could turn into a
#: traversal (``..%2f``) or a NUL (``%00``), so it is refused as received.
_PERCENT_ESCAPE: Final = re.compile(r"%[0-9A-Fa-f]{2}")
#: Control, format (bidi overrides, zero-width), surrogate, private-use and
#: unassigned code points, and line/paragraph separators.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Extensions that a web server or a desktop would execute or render as a
#: document: refused anywhere before the final extension (``shell.php.png``
#: runs as PHP on Apache with ``AddHandler``; OWASP File Upload Cheat Sheet,
#: "Extension Validation").
_SCRIPT_EXTENSIONS: Final = frozenset(
    {
        "asa", "asax", "ascx", "ashx", "asmx", "asp", "aspx", "axd", "bat", "cer", "cfm",
        "cfml", "cgi", "cmd", "com", "config", "cshtml", "dll", "exe", "hta", "htaccess",
        "htm", "html", "inc", "jar", "jhtml", "js", "jsf", "jsp", "jspf", "jspx", "jsw",
        "jsv", "lnk", "mjs", "msi", "pgif", "phar", "php", "php2", "php3", "php4", "php5",
        "php6", "php7", "php8", "phps", "pht", "phpt", "phtm", "phtml", "pl", "ps1", "py",
        "rb", "scr", "sh", "shtm", "shtml", "svc", "svg", "svgz", "swf", "vbhtml", "vbs",
        "war", "wsf", "xht", "xhtml", "xml", "xsl",
    }
)  # fmt: skip


_NOT_WORD: Final = re.compile(r"[^a-z0-9]")
#: The distinctive part of the EICAR antivirus test file (eicar.org).
_EICAR: Final = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def _reject(reason: UploadReason) -> NoReturn:
    raise UploadRejectedError(reason) from None


def _unsafe_characters(name: str) -> bool:
    """Whether a filename or path component holds a reserved, forbidden or escaped character."""
    for char in name:
        if char in _RESERVED_CHARACTERS or unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return True
    return _PERCENT_ESCAPE.search(name) is not None


def _name_rules(name: str) -> None:
    """The rules every form of a filename must pass (raw and NFKC)."""
    if ".." in name or name.startswith((".", "-")):
        # "..": traversal and Windows "..." tricks; "."-prefixed: hidden files
        # and extension-only names (".png", ".htaccess"); "-": option injection.
        _reject(UploadReason.BAD_FILENAME)
    if name[0].isspace() or name[-1].isspace() or name.endswith("."):
        # Windows strips trailing dots and spaces ("shell.php." == "shell.php").
        _reject(UploadReason.BAD_FILENAME)
    if _unsafe_characters(name):
        _reject(UploadReason.BAD_FILENAME)
    stem = name.split(".", 1)[0].rstrip(" ").casefold()
    if stem in _DEVICE_NAMES:
        _reject(UploadReason.BAD_FILENAME)


def _compatibility_rules(name: str) -> None:
    """Reject NFKC tricks: characters that fold into ASCII punctuation."""
    folded = unicodedata.normalize("NFKC", name)
    if folded == name:
        return
    for char in name:
        mapped = unicodedata.normalize("NFKC", char)
        if mapped != char and any(c.isascii() and not c.isalnum() and c != " " for c in mapped):
            # U+FF0E fullwidth full stop, U+2024 one dot leader, U+FF0F
            # fullwidth solidus...: a later NFKC step (filesystems on macOS,
            # databases, werkzeug) would turn them into "." or "/".
            _reject(UploadReason.BAD_FILENAME)
    _name_rules(folded)


def safe_filename(name: str, *, max_bytes: int = MAX_FILENAME_BYTES) -> str:
    """Return ``name`` unchanged if it is safe as a single file name, else reject it.

    Nothing is repaired: a repaired name can collide with another one or mean
    something other than what the user sent. Letters of every script are kept.

    Rejected: empty names; path separators of both kinds and ``:`` (drive
    letters, NTFS alternate data streams); ``..``; names starting with ``.``
    (hidden files, extension-only names such as ``.png``) or ``-``; leading or
    trailing whitespace and trailing dots; NUL and other control characters,
    bidi overrides (U+202E) and other invisible format characters; characters
    Windows forbids (``<>:"|?*``); percent-encoded bytes (``%2e%2e%2f``);
    Windows device names with any extension (``CON``, ``aux.pdf``, ``LPT¹``)
    on every OS; characters that NFKC-normalize into ASCII punctuation
    (``shell\uff0ephp``, a fullwidth full stop); names over ``max_bytes`` bytes of UTF-8.

    Args:
        name: the name as received from the client (not URL-decoded).
        max_bytes: the longest name accepted, in UTF-8 bytes (1 to 255).

    Returns:
        ``name`` itself.

    Raises:
        UploadRejectedError: ``BAD_FILENAME``.
        ConfigurationError: ``max_bytes`` is out of range.
        TypeError: ``name`` is not a ``str``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
        raise ConfigurationError("max_bytes must be an int")
    if not 1 <= max_bytes <= MAX_FILENAME_BYTES:
        raise ConfigurationError(f"max_bytes must be between 1 and {MAX_FILENAME_BYTES}")
    # Length first: nothing else runs on an over-long name.
    if not name or len(name) > max_bytes:
        _reject(UploadReason.BAD_FILENAME)
    if len(name.encode("utf-8", "surrogatepass")) > max_bytes:
        _reject(UploadReason.BAD_FILENAME)
    _name_rules(name)
    _compatibility_rules(name)
    return name


def _path_component(component: str) -> None:
    """Rules for one component of a path given to :func:`safe_join`."""
    if component in ("", ".", ".."):
        _reject(UploadReason.UNSAFE_PATH)
    if len(component.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        _reject(UploadReason.UNSAFE_PATH)
    if component[-1] in ". " or component[0].isspace() or component[-1].isspace():
        _reject(UploadReason.UNSAFE_PATH)
    if _unsafe_characters(component):
        _reject(UploadReason.UNSAFE_PATH)
    folded = unicodedata.normalize("NFKC", component)
    for candidate in {component, folded}:
        if candidate.split(".", 1)[0].rstrip(" ").casefold() in _DEVICE_NAMES:
            _reject(UploadReason.UNSAFE_PATH)
    if folded != component and (folded in (".", "..") or any(c in folded for c in "/\\:")):
        _reject(UploadReason.UNSAFE_PATH)


def safe_join(base: str | os.PathLike[str], *parts: str) -> Path:
    """Join untrusted ``parts`` under ``base``; the result never leaves ``base``.

    Each part may hold ``/``-separated components (``"2024/report.pdf"``).
    Rejected: absolute parts, empty components, ``.`` and ``..``, backslashes,
    ``:`` (drive letters ``C:``, UNC prefixes, NTFS alternate data streams
    ``file::$DATA``), control and invisible characters, percent-encoded bytes,
    Windows device names, trailing dots and spaces, and any existing symbolic
    link on the way from ``base`` to the target, so a write to the returned
    path never follows a link planted inside ``base``.

    Args:
        base: the trusted directory (resolved, symbolic links included).
        *parts: untrusted path parts.

    Returns:
        The absolute path inside the resolved ``base``.

    Raises:
        UploadRejectedError: ``UNSAFE_PATH``.
        TypeError: a part is not a ``str``.
    """
    root = Path(os.fspath(base)).resolve()
    components: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"path parts must be str, not {type(part).__name__}")
        if not part or len(part) > 4096 or part.startswith("/"):
            _reject(UploadReason.UNSAFE_PATH)
        for component in part.split("/"):
            _path_component(component)
            components.append(component)
    target = root.joinpath(*components)
    current = root
    for component in components:
        current = current / component
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            break
        except (OSError, ValueError):
            _reject(UploadReason.UNSAFE_PATH)
        if stat.S_ISLNK(mode):
            _reject(UploadReason.UNSAFE_PATH)
    # Belt and braces: the lexical checks above already keep the path inside.
    if not target.resolve().is_relative_to(root):  # pragma: no cover - defence in depth
        _reject(UploadReason.UNSAFE_PATH)
    return target


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedUpload:
    """An accepted upload: what to store it as and what it is.

    Attributes:
        storage_name: a random name with the type's extension
            (128 random bits, hex); never derived from the client's name.
        extension: the extension (lower case, no dot), in the allowlist.
        mime: the detected MIME type (``image/png``, ``text/plain``, ...).
        size: the size in bytes.
        sha256: the SHA-256 digest of the content, hex.
    """

    storage_name: str
    extension: str
    mime: str
    size: int
    sha256: str


def known_extensions() -> frozenset[str]:
    """Return every extension :class:`UploadPolicy` has a structural check for."""
    return frozenset(CATALOGUE)


class _Magic(threading.local):
    """One libmagic handle per thread: a handle is not safe to share."""

    def __init__(self) -> None:
        self.handle = magic.Magic(mime=True)


_MAGIC: Final = _Magic()


def _detect(head: bytes) -> str:
    try:
        detected = _MAGIC.handle.from_buffer(head)
    except Exception:  # noqa: BLE001 - libmagic failing on hostile bytes must deny, not crash
        _reject(UploadReason.TYPE_MISMATCH)
    return str(detected).split(";", 1)[0].strip().lower()


def _declared_type(value: str | None) -> str | None:
    """Normalize a declared Content-Type; None when absent or generic."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"declared_type must be a str or None, not {type(value).__name__}")
    if len(value) > _MAX_DECLARED_TYPE:
        _reject(UploadReason.DECLARED_TYPE_MISMATCH)
    # RFC 9110 8.3.1: type and subtype are case-insensitive; parameters follow ";".
    essence = value.split(";", 1)[0].strip(" \t").lower()
    if not essence or essence in _GENERIC_TYPES:
        return None
    if _MEDIA_TYPE.fullmatch(essence) is None:
        _reject(UploadReason.DECLARED_TYPE_MISMATCH)
    return essence


def _inspect(view: Buffer, file_type: FileType, max_pixels: int) -> None:
    """Content checks, cheapest first, on the spooled file."""
    if _detect(bytes(view[:_MAGIC_BYTES])) not in file_type.detected:
        _reject(UploadReason.TYPE_MISMATCH)
    check_binary_markup(view)
    if view.find(_EICAR) >= 0:
        # The antivirus test file: whatever scanner runs later would flag it.
        _reject(UploadReason.ACTIVE_CONTENT)
    try:
        file_type.check(view, max_pixels)
    except UploadRejectedError:
        raise
    except Exception:  # noqa: BLE001 - a parser bug on hostile bytes must deny, not crash
        _reject(UploadReason.MALFORMED)


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive int")
    return value


class UploadPolicy:
    """Decide whether an uploaded file may be kept.

    Example:
        >>> policy = UploadPolicy(allowed={"png", "pdf"}, max_bytes=5 * 1024 * 1024)
        >>> # checked = policy.check(request_file, filename="cat.png", declared_type="image/png")

    Check the configuration once at start-up; :meth:`check` and :meth:`save`
    are safe to call from many threads.
    """

    __slots__ = ("_allowed", "_max_bytes", "_max_pixels", "_temp_dir")

    def __init__(
        self,
        *,
        allowed: Collection[str] = DEFAULT_ALLOWED,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """Check and keep the policy.

        Args:
            allowed: extensions to accept (no dot, any case); each must be one
                of :func:`known_extensions`. SVG, HTML and XML are not
                offered: they run script when served.
            max_bytes: the largest file accepted, in bytes.
            max_pixels: the most pixels (width x height x frames) an image
                may declare in its headers.
            temp_dir: where :meth:`check` spools uploads (default: the
                system temporary directory).

        Raises:
            ConfigurationError: an unknown extension, an empty allowlist, or
                a non-positive limit.
        """
        if isinstance(allowed, str) or not isinstance(allowed, Collection):
            raise ConfigurationError('allowed must be a set of extensions, e.g. {"png", "pdf"}')
        normalized: set[str] = set()
        for ext in allowed:
            if not isinstance(ext, str):
                raise ConfigurationError("allowed must contain extensions as str")
            key = ext.lower().removeprefix(".")
            if key not in CATALOGUE:
                raise ConfigurationError(
                    f"no structural check for extension {ext!r}; known: "
                    f"{', '.join(sorted(CATALOGUE))} (SVG, HTML and XML are not accepted "
                    "because they run script when served)"
                )
            normalized.add(key)
        if not normalized:
            raise ConfigurationError("allowed must name at least one extension")
        self._allowed = frozenset(normalized)
        self._max_bytes = _positive_int(max_bytes, "max_bytes")
        self._max_pixels = _positive_int(max_pixels, "max_pixels")
        self._temp_dir = None if temp_dir is None else os.fspath(temp_dir)

    def __repr__(self) -> str:
        return (
            f"UploadPolicy(allowed={sorted(self._allowed)!r}, max_bytes={self._max_bytes}, "
            f"max_pixels={self._max_pixels})"
        )

    @property
    def allowed(self) -> frozenset[str]:
        """The accepted extensions (lower case, no dot)."""
        return self._allowed

    @property
    def max_bytes(self) -> int:
        """The largest file accepted, in bytes."""
        return self._max_bytes

    def _file_type(self, filename: str, declared_type: str | None) -> tuple[str, FileType]:
        """Name and declared-type checks: all before reading a byte."""
        if not isinstance(filename, str):
            raise TypeError(f"filename must be a str, not {type(filename).__name__}")
        declared = _declared_type(declared_type)
        safe_filename(filename)
        stem, dot, ext = filename.rpartition(".")
        if not dot:
            _reject(UploadReason.EXTENSION_NOT_ALLOWED)
        key = ext.lower()
        if not key.isascii() or key not in self._allowed:
            _reject(UploadReason.EXTENSION_NOT_ALLOWED)
        # The NFKC form too: fullwidth "php" (U+FF50 U+FF48 U+FF50) becomes "shell.php.png" on any
        # system that normalizes names later.
        folded_stem = unicodedata.normalize("NFKC", stem)
        for form in {stem, folded_stem}:
            for inner in form.lower().split(".")[1:]:
                # IIS runs "shell.asp;.jpg" as ASP: compare the leading letters.
                if _NOT_WORD.split(inner, maxsplit=1)[0] in _SCRIPT_EXTENSIONS:
                    _reject(UploadReason.BAD_FILENAME)
        file_type = CATALOGUE[key]
        if declared is not None and declared not in file_type.declared:
            _reject(UploadReason.DECLARED_TYPE_MISMATCH)
        return key, file_type

    def _spool(self, fileobj: IO[bytes], out: IO[bytes]) -> tuple[int, str]:
        """Copy at most ``max_bytes + 1`` bytes to ``out``; return size and digest."""
        digest = hashlib.sha256()
        size = 0
        limit = self._max_bytes
        while True:
            try:
                chunk = fileobj.read(min(_CHUNK, limit + 1 - size))
            except OSError:
                _reject(UploadReason.READ_ERROR)
            if not isinstance(chunk, bytes | bytearray):
                raise TypeError("fileobj must be a binary file object (read() returns bytes)")
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                # Never trust Content-Length: count what actually arrives.
                _reject(UploadReason.TOO_LARGE)
            digest.update(chunk)
            try:
                out.write(chunk)
            except OSError:
                raise UnavailableError("temporary storage for uploads is unavailable") from None
        if size == 0:
            _reject(UploadReason.EMPTY)
        try:
            out.flush()
        except OSError:  # pragma: no cover - a full disk at flush time
            raise UnavailableError("temporary storage for uploads is unavailable") from None
        return size, digest.hexdigest()

    def _run(
        self,
        fileobj: IO[bytes],
        filename: str,
        declared_type: str | None,
        directory: str | None,
        keep: Callable[[str, CheckedUpload], None] | None,
    ) -> CheckedUpload:
        ext, file_type = self._file_type(filename, declared_type)
        try:
            fd, temp_path = tempfile.mkstemp(
                prefix=".securekit-upload-", suffix=".part", dir=directory
            )
        except OSError:
            raise UnavailableError("temporary storage for uploads is unavailable") from None
        try:
            with os.fdopen(fd, "w+b") as out:
                size, sha256 = self._spool(fileobj, out)
                with mmap.mmap(out.fileno(), 0, access=mmap.ACCESS_READ) as view:
                    _inspect(view, file_type, self._max_pixels)
            checked = CheckedUpload(
                storage_name=f"{secrets.token_hex(16)}.{ext}",
                extension=ext,
                mime=file_type.mime,
                size=size,
                sha256=sha256,
            )
            if keep is not None:
                keep(temp_path, checked)
            return checked
        finally:
            # Removed on every path: rejected, accepted (a saved file is a
            # separate hard link), or interrupted.
            Path(temp_path).unlink(missing_ok=True)

    def check(
        self, fileobj: IO[bytes], *, filename: str, declared_type: str | None = None
    ) -> CheckedUpload:
        """Check an upload without keeping it.

        The stream is read once, in chunks, into a temporary file that is
        removed before this returns. To keep the file, use :meth:`save`
        (re-reading ``fileobj`` after the check would trust it twice).

        Args:
            fileobj: the upload, a binary file object (read to the end).
            filename: the client's filename, as received.
            declared_type: the client's ``Content-Type`` for the part, if any.

        Returns:
            What was accepted.

        Raises:
            UploadRejectedError: the file, its name or its declared type was
                rejected; ``reason`` says why.
            UnavailableError: the temporary directory could not be written.
            TypeError: ``fileobj`` is not binary, or an argument has the
                wrong type.
        """
        return self._run(fileobj, filename, declared_type, self._temp_dir, None)

    def save(
        self,
        fileobj: IO[bytes],
        directory: str | os.PathLike[str],
        *,
        filename: str,
        declared_type: str | None = None,
    ) -> CheckedUpload:
        """Check an upload and store it as ``directory / checked.storage_name``.

        The file is spooled inside ``directory`` and published with a hard
        link only once every check passed, so a rejected or half-written
        upload is never visible under a servable name, and an existing file
        is never overwritten.

        Args:
            fileobj: the upload, a binary file object (read to the end).
            directory: an existing directory (not served as-is by a web server
                that executes or sniffs files).
            filename: the client's filename, as received.
            declared_type: the client's ``Content-Type`` for the part, if any.

        Returns:
            What was accepted and stored.

        Raises:
            UploadRejectedError: the upload was rejected.
            UnavailableError: the directory could not be written.
        """
        folder = os.fspath(directory)

        def keep(temp_path: str, checked: CheckedUpload) -> None:
            final = safe_join(folder, checked.storage_name)
            try:
                os.link(temp_path, final)
            except OSError:
                raise UnavailableError("upload storage is unavailable") from None

        return self._run(fileobj, filename, declared_type, folder, keep)


def _ascii_fallback(name: str) -> str:
    """RFC 6266 4.3: a quoted-string fallback with only safe ASCII."""
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\%;' else "_" for c in name)


def download_headers(
    checked: CheckedUpload, *, filename: str | None = None, inline: bool = False
) -> dict[str, str]:
    """Headers to serve a stored upload safely.

    ``Content-Disposition: attachment`` (RFC 6266) with the filename in both
    an ASCII fallback and RFC 8187 ``filename*`` form, the detected type,
    ``X-Content-Type-Options: nosniff`` (no MIME sniffing), and a CSP that
    blocks every fetch and sandboxes the response should a browser render it.

    Args:
        checked: the accepted upload.
        filename: the name to offer the user (checked by
            :func:`safe_filename`); default: the storage name.
        inline: ``Content-Disposition: inline``, allowed for raster images
            only (PNG, JPEG, GIF, WebP), which cannot run script.

    Returns:
        Header name -> value.

    Raises:
        UploadRejectedError: ``BAD_FILENAME`` for an unsafe ``filename``.
        ConfigurationError: ``inline`` for a type that is not a raster image.
    """
    if not isinstance(checked, CheckedUpload):
        raise TypeError("checked must be a CheckedUpload")
    name = checked.storage_name if filename is None else safe_filename(filename)
    file_type = CATALOGUE.get(checked.extension)
    if inline and (file_type is None or not file_type.raster_image):
        raise ConfigurationError("inline is allowed for raster images only")
    content_type = checked.mime
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Type": content_type,
        "Content-Disposition": (
            f'{disposition}; filename="{_ascii_fallback(name)}"; '
            f"filename*=UTF-8''{quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "same-site",
        "Referrer-Policy": "no-referrer",
    }
