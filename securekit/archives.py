"""Extract zip and tar archives without zip slip, links or decompression bombs.

Archives are opt-in: :class:`securekit.uploads.UploadPolicy` does not accept
them. An application that must take archives extracts them with
:class:`ArchivePolicy`, which checks every entry before writing it and counts
the bytes actually inflated (declared sizes are never trusted), and then
checks each extracted file with an :class:`~securekit.uploads.UploadPolicy`
if it serves them.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import tarfile
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import IO, BinaryIO, Final, NoReturn, Protocol

from securekit.errors import ConfigurationError, UploadReason, UploadRejectedError
from securekit.uploads import safe_join

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_TOTAL_BYTES",
    "ArchivePolicy",
]

#: Entries per archive. Each costs a file system entry and a header parse;
#: real upload archives (a photo set, a document bundle) hold far fewer.
DEFAULT_MAX_ENTRIES: Final = 1000
#: Total uncompressed bytes, counted while inflating.
DEFAULT_MAX_TOTAL_BYTES: Final = 100 * 1024 * 1024
#: Total uncompressed size over archive size. Text and office files compress
#: about 3-10x; zip bombs reach 1000x and far beyond (D. Fifield, "A better
#: zip bomb", WOOT 2019; OWASP File Upload Cheat Sheet, "zip bomb").
DEFAULT_MAX_RATIO: Final = 100

_CHUNK: Final = 64 * 1024
#: Header blocks, padding and end-of-archive blocks a tar stream may add on
#: top of its members' data (512-byte blocks; a PAX header is a few blocks).
_TAR_OVERHEAD_PER_ENTRY: Final = 4 * 512
#: Files that reconfigure the web server for the directory they land in
#: (Apache ``.htaccess`` turning on PHP for ``.png``, PHP's per-directory
#: ``.user.ini`` with ``auto_prepend_file``, IIS ``web.config`` handlers):
#: an archive extracted under a served directory must not carry them
#: (OWASP File Upload Cheat Sheet, "Upload and Download Limits").
_SERVER_CONFIG_NAMES: Final = frozenset({".htaccess", ".htpasswd", ".user.ini", "web.config"})
_OPEN_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_READ_ERRORS: Final = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


def _reject(reason: UploadReason) -> NoReturn:
    raise UploadRejectedError(reason) from None


class _Extraction:
    """The state of one extraction: budgets, names seen, what to undo."""

    def __init__(self, policy: ArchivePolicy, destination: Path, archive_size: int) -> None:
        self.policy = policy
        self.destination = destination
        # Both limits apply to inflated bytes: the absolute cap and the ratio.
        self.budget = min(policy.max_total_bytes, policy.max_ratio * archive_size)
        self.written = 0
        self.entries = 0
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        self.created: list[tuple[Path, bool]] = []

    def entry(self, name: str, *, is_dir: bool) -> Path:
        """Check one entry's name; return where it goes."""
        self.entries += 1
        if self.entries > self.policy.max_entries:
            _reject(UploadReason.ARCHIVE_BOMB)
        clean = name.removesuffix("/") if is_dir else name
        if not clean or "\\" in clean:
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
        try:
            target = safe_join(self.destination, clean)
        except UploadRejectedError:
            # Absolute paths, "..", drive letters, devices: zip slip.
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
        # Names that differ only by case or Unicode form land on one file on
        # macOS and Windows; a later entry would silently replace an earlier one.
        key = unicodedata.normalize("NFKC", clean).casefold()
        parts = key.split("/")
        if not _SERVER_CONFIG_NAMES.isdisjoint(parts):
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in self.files:
                _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
            self.dirs.add(prefix)
        if key in self.files or (key in self.dirs and not is_dir):
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
        if is_dir:
            self.dirs.add(key)
        else:
            self.files.add(key)
        return target

    def make_dirs(self, target: Path) -> None:
        """Create ``target`` and its parents under the destination, never through links."""
        missing: list[Path] = []
        current = target
        while current != self.destination and not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            path.mkdir(mode=0o700)
            self.created.append((path, True))
        if not target.is_dir() or target.is_symlink():
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)

    def write(self, target: Path, source: IO[bytes]) -> None:
        """Copy one member, counting inflated bytes against the budget."""
        self.make_dirs(target.parent)
        try:
            fd = os.open(target, _OPEN_FLAGS, 0o600)
        except FileExistsError:
            _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
        self.created.append((target, False))
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = source.read(_CHUNK)
                if not chunk:
                    return
                self.written += len(chunk)
                if self.written > self.budget:
                    _reject(UploadReason.ARCHIVE_BOMB)
                out.write(chunk)

    def undo(self) -> None:
        """Remove everything this extraction created (fail closed: all or nothing)."""
        for path, is_dir in reversed(self.created):
            try:
                if is_dir:
                    path.rmdir()
                else:
                    path.unlink()
            except OSError:  # pragma: no cover - removed by someone else meanwhile
                continue


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader:
    """A read-only stream that refuses to yield more than ``limit`` bytes.

    Tar has no central directory: headers and data come out of the
    decompressor one after another. Counting below tarfile bounds the work
    and memory of everything it reads, including PAX headers.
    """

    def __init__(self, inner: _Readable, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        want = self.limit + 1 - self.count if size < 0 else min(size, self.limit + 1 - self.count)
        data = self.inner.read(max(want, 0))
        self.count += len(data)
        if self.count > self.limit:
            _reject(UploadReason.ARCHIVE_BOMB)
        return data


class ArchivePolicy:
    """Limits and rules for extracting an untrusted zip or tar archive.

    Refused: more than ``max_entries`` entries; more than ``max_total_bytes``
    inflated bytes, or more than ``max_ratio`` times the archive's size
    (both counted while inflating); symbolic and hard links, devices, FIFOs
    and sparse files; encrypted zip entries; absolute names, ``..``,
    backslashes, drive letters and every name :func:`safe_join` refuses (zip
    slip); two names that collide after NFKC normalization and case folding,
    or a file used as a directory. Files are created with ``O_EXCL`` and
    ``O_NOFOLLOW``, mode 0600 (permissions, owners and times in the archive
    are ignored). On any rejection, everything extracted so far is removed.
    """

    __slots__ = ("max_entries", "max_ratio", "max_total_bytes")

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        max_ratio: int = DEFAULT_MAX_RATIO,
    ) -> None:
        """Check and keep the limits.

        Args:
            max_entries: the most entries (files and directories) accepted.
            max_total_bytes: the most bytes all files may inflate to.
            max_ratio: the most inflated bytes per byte of archive.

        Raises:
            ConfigurationError: a limit is not a positive int.
        """
        for name, value in (
            ("max_entries", max_entries),
            ("max_total_bytes", max_total_bytes),
            ("max_ratio", max_ratio),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive int")
        self.max_entries = max_entries
        self.max_total_bytes = max_total_bytes
        self.max_ratio = max_ratio

    def __repr__(self) -> str:
        return (
            f"ArchivePolicy(max_entries={self.max_entries}, "
            f"max_total_bytes={self.max_total_bytes}, max_ratio={self.max_ratio})"
        )

    def extract(
        self, archive: str | os.PathLike[str], destination: str | os.PathLike[str]
    ) -> list[Path]:
        """Extract ``archive`` (zip, tar, tar.gz, tar.bz2, tar.xz) into ``destination``.

        Args:
            archive: the archive file.
            destination: an existing directory; entries go below it only.

        Returns:
            The paths of the extracted files, in archive order.

        Raises:
            UploadRejectedError: ``ARCHIVE_BOMB``, ``ARCHIVE_UNSAFE_ENTRY`` or
                ``MALFORMED``; nothing is left extracted.
            ConfigurationError: ``destination`` is not a directory.
        """
        root = Path(os.fspath(destination)).resolve()
        if not root.is_dir():
            raise ConfigurationError("destination must be an existing directory")
        with Path(os.fspath(archive)).open("rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            head = raw.read(262)
            raw.seek(0)
            state = _Extraction(self, root, size)
            try:
                if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
                    return self._zip(raw, state)
                return self._tar(raw, head, state)
            except UploadRejectedError:
                state.undo()
                raise
            except _READ_ERRORS:
                state.undo()
                _reject(UploadReason.MALFORMED)
            except Exception:  # noqa: BLE001 - a zipfile/tarfile bug on hostile bytes must deny
                state.undo()
                _reject(UploadReason.MALFORMED)

    def _zip(self, raw: BinaryIO, state: _Extraction) -> list[Path]:
        out: list[Path] = []
        with zipfile.ZipFile(raw) as archive:
            infos = archive.infolist()
            # The central directory is read in full by zipfile: count first.
            if len(infos) > self.max_entries:
                _reject(UploadReason.ARCHIVE_BOMB)
            targets: list[tuple[zipfile.ZipInfo, Path]] = []
            declared = 0
            for info in infos:
                mode = info.external_attr >> 16
                kind = stat.S_IFMT(mode)
                if info.flag_bits & 0x1 or kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    # Encrypted entries cannot be inspected; links and devices
                    # point outside the destination.
                    _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
                declared += info.file_size
                if declared > state.budget:
                    _reject(UploadReason.ARCHIVE_BOMB)
                targets.append((info, state.entry(info.filename, is_dir=info.is_dir())))
            state.entries = 0
            for info, target in targets:
                if info.is_dir():
                    state.make_dirs(target)
                    continue
                with archive.open(info) as source:
                    state.write(target, source)
                out.append(target)
        return out

    def _tar(self, raw: BinaryIO, head: bytes, state: _Extraction) -> list[Path]:
        stream: _Readable
        if head.startswith(b"\x1f\x8b"):
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        elif head.startswith(b"BZh"):
            stream = bz2.BZ2File(raw, mode="rb")
        elif head.startswith(b"\xfd7zXZ\x00"):
            stream = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115 - raw's owner closes
        elif head[257:262] == b"ustar":
            stream = raw
        else:
            _reject(UploadReason.MALFORMED)
        limit = state.budget + (self.max_entries + 2) * _TAR_OVERHEAD_PER_ENTRY
        counted = _CountingReader(stream, limit)
        out: list[Path] = []
        with tarfile.open(fileobj=counted, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                if not (member.isreg() or member.isdir()) or member.issparse():
                    _reject(UploadReason.ARCHIVE_UNSAFE_ENTRY)
                target = state.entry(member.name, is_dir=member.isdir())
                if member.isdir():
                    state.make_dirs(target)
                    continue
                if state.written + member.size > state.budget:
                    _reject(UploadReason.ARCHIVE_BOMB)
                source = archive.extractfile(member)
                if source is None:  # pragma: no cover - isreg() members always have data
                    _reject(UploadReason.MALFORMED)
                state.write(target, source)
                out.append(target)
        if not out and state.entries == 0:
            _reject(UploadReason.MALFORMED)
        return out
