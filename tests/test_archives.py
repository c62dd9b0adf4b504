"""ArchivePolicy: zip and tar extraction without slip, links or bombs."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securekit.archives import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_RATIO,
    DEFAULT_MAX_TOTAL_BYTES,
    ArchivePolicy,
)
from securekit.errors import ConfigurationError, UploadReason, UploadRejectedError

POLICY = ArchivePolicy()


def make_zip(path: Path, entries: Sequence[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def tar_member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **kw: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    for key, value in kw.items():
        setattr(info, key, value)
    return info, data


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as archive:  # type: ignore[call-overload]
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def rejected(fn: Callable[[], object]) -> UploadReason:
    with pytest.raises(UploadRejectedError) as info:
        fn()
    return info.value.reason


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_defaults() -> None:
    assert (DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_RATIO) == (
        1000,
        100 << 20,
        100,
    )
    assert (
        repr(POLICY) == "ArchivePolicy(max_entries=1000, max_total_bytes=104857600, max_ratio=100)"
    )


@pytest.mark.parametrize(
    "kwargs", [{"max_entries": 0}, {"max_total_bytes": -1}, {"max_ratio": True}, {"max_ratio": 2.5}]
)
def test_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        ArchivePolicy(**kwargs)  # type: ignore[arg-type]


def test_destination_must_exist(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"x")])
    with pytest.raises(ConfigurationError):
        POLICY.extract(archive, tmp_path / "missing")


def test_zip_extracts(tmp_path: Path, out: Path) -> None:
    archive = make_zip(
        tmp_path / "a.zip", [("a.txt", b"hello " * 10), ("docs/", b""), ("docs/b.txt", b"b" * 40)]
    )
    paths = POLICY.extract(archive, out)
    assert paths == [out.resolve() / "a.txt", out.resolve() / "docs/b.txt"]
    assert (out / "a.txt").read_bytes() == b"hello " * 10
    assert stat.S_IMODE((out / "a.txt").stat().st_mode) == 0o600


def test_empty_zip(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [])
    assert POLICY.extract(archive, out) == []


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_extracts(tmp_path: Path, out: Path, mode: str) -> None:
    archive = make_tar(
        tmp_path / "a.tar",
        [
            tar_member("dir", kind=tarfile.DIRTYPE),
            tar_member("dir/a.txt", b"hello " * 10),
            tar_member("b.txt", b"b" * 30),
        ],
        mode,
    )
    paths = POLICY.extract(archive, out)
    assert paths == [out.resolve() / "dir/a.txt", out.resolve() / "b.txt"]
    assert (out / "dir/a.txt").read_bytes() == b"hello " * 10


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "a/../../evil.txt",
        "/etc/evil",
        "C:/evil.txt",
        "C:evil",
        "a\\..\\evil.txt",
        "con.txt",
        "a:b",
        "x/./y",
    ],
)
def test_zip_slip_is_refused(tmp_path: Path, out: Path, name: str) -> None:
    archive = make_zip(tmp_path / "a.zip", [("fine.txt", b"x" * 10), (name, b"x" * 10)])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil"])
def test_tar_slip_is_refused(tmp_path: Path, out: Path, name: str) -> None:
    archive = make_tar(
        tmp_path / "a.tar", [tar_member("fine.txt", b"x" * 10), tar_member(name, b"x")]
    )
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []


def test_zip_symlink_entry_is_refused(tmp_path: Path, out: Path) -> None:
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip(tmp_path / "a.zip", [(info, b"/etc/passwd")])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY


def test_zip_encrypted_entry_is_refused(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"x" * 20)])
    data = bytearray(archive.read_bytes())
    # Set the "encrypted" flag bit in the local header and the central directory.
    data[6] |= 1
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    archive.write_bytes(bytes(data))
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY


@pytest.mark.parametrize(
    "member",
    [
        tar_member("link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
        tar_member("hard", kind=tarfile.LNKTYPE, linkname="/etc/passwd"),
        tar_member("dev", kind=tarfile.CHRTYPE, devmajor=1, devminor=3),
        tar_member("blk", kind=tarfile.BLKTYPE),
        tar_member("fifo", kind=tarfile.FIFOTYPE),
    ],
    ids=["symlink", "hardlink", "chardev", "blockdev", "fifo"],
)
def test_tar_special_members_are_refused(
    tmp_path: Path, out: Path, member: tuple[tarfile.TarInfo, bytes]
) -> None:
    archive = make_tar(tmp_path / "a.tar", [tar_member("ok.txt", b"fine" * 5), member])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []


@pytest.mark.parametrize(
    "names",
    [
        ["a.txt", "A.TXT"],
        ["caf\u00e9.txt", "cafe\u0301.txt"],
        ["a", "a/b.txt"],
        ["d/x.txt", "d"],
        ["x.txt", "x.txt"],
    ],
)
def test_colliding_names_are_refused(tmp_path: Path, out: Path, names: list[str]) -> None:
    archive = make_tar(tmp_path / "a.tar", [tar_member(n, b"data" * 5) for n in names])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []


def test_existing_files_are_not_overwritten(tmp_path: Path, out: Path) -> None:
    (out / "a.txt").write_bytes(b"original")
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"replaced" * 3)])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert (out / "a.txt").read_bytes() == b"original"


def test_links_in_destination_are_not_followed(tmp_path: Path, out: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "docs").symlink_to(elsewhere)
    archive = make_zip(tmp_path / "a.zip", [("docs/a.txt", b"x" * 20)])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert list(elsewhere.iterdir()) == []


def test_too_many_entries(tmp_path: Path, out: Path) -> None:
    small = ArchivePolicy(max_entries=3)
    entries = [(f"f{i}.txt", b"x" * 10) for i in range(4)]
    assert (
        rejected(lambda: small.extract(make_zip(tmp_path / "a.zip", entries), out))
        is UploadReason.ARCHIVE_BOMB
    )
    members = [tar_member(f"f{i}.txt", b"x" * 10) for i in range(4)]
    assert (
        rejected(lambda: small.extract(make_tar(tmp_path / "a.tar", members), out))
        is UploadReason.ARCHIVE_BOMB
    )
    assert listing(out) == []
    small.extract(make_zip(tmp_path / "b.zip", entries[:3]), out)


def test_zip_bomb_by_ratio(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("zeros.bin", bytes(5_000_000))])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_BOMB
    assert listing(out) == []


def test_zip_bomb_counted_while_inflating(tmp_path: Path, out: Path) -> None:
    # The central directory understates the size: only counting catches it.
    archive = make_zip(tmp_path / "a.zip", [("zeros.bin", bytes(2_000_000))])
    data = bytearray(archive.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    policy = ArchivePolicy(max_ratio=1_000_000, max_total_bytes=1000)
    assert rejected(lambda: policy.extract(archive, out)) in {
        UploadReason.ARCHIVE_BOMB,
        UploadReason.MALFORMED,
    }
    assert listing(out) == []


def test_total_size_cap(tmp_path: Path, out: Path) -> None:
    policy = ArchivePolicy(max_total_bytes=1000, max_ratio=1_000_000)
    entries = [(f"f{i}.bin", bytes(range(256)) * 2) for i in range(3)]
    assert (
        rejected(lambda: policy.extract(make_zip(tmp_path / "a.zip", entries), out))
        is UploadReason.ARCHIVE_BOMB
    )
    members = [tar_member(f"f{i}.bin", bytes(range(256)) * 2) for i in range(3)]
    assert (
        rejected(lambda: policy.extract(make_tar(tmp_path / "a.tar", members), out))
        is UploadReason.ARCHIVE_BOMB
    )
    assert listing(out) == []


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_tar_bomb(tmp_path: Path, out: Path, compress: Callable[[bytes], bytes]) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 3_000_000
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    path = tmp_path / "bomb.tar.x"
    path.write_bytes(compress(raw.getvalue()))
    assert rejected(lambda: POLICY.extract(path, out)) is UploadReason.ARCHIVE_BOMB
    assert listing(out) == []


def test_pax_header_bomb_is_bounded(tmp_path: Path, out: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("a.txt")
        info.pax_headers = {"comment": "x" * 3_000_000}
        archive.addfile(info, io.BytesIO(b""))
    path = tmp_path / "pax.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue()))
    assert rejected(lambda: POLICY.extract(path, out)) is UploadReason.ARCHIVE_BOMB


@pytest.mark.parametrize(
    "data",
    [
        b"not an archive at all",
        b"PK\x03\x04" + bytes(50),
        b"\x1f\x8b" + bytes(40),
        b"BZh9" + bytes(30),
        b"\xfd7zXZ\x00" + bytes(30),
    ],
)
def test_malformed(tmp_path: Path, out: Path, data: bytes) -> None:
    path = tmp_path / "junk"
    path.write_bytes(data)
    assert rejected(lambda: POLICY.extract(path, out)) is UploadReason.MALFORMED


def test_truncated_archives(tmp_path: Path, out: Path) -> None:
    zipped = make_zip(tmp_path / "a.zip", [("a.txt", bytes(range(256)) * 50)])
    zipped.write_bytes(zipped.read_bytes()[:-40])
    assert rejected(lambda: POLICY.extract(zipped, out)) is UploadReason.MALFORMED
    tarred = make_tar(tmp_path / "a.tar.gz", [tar_member("a.txt", bytes(range(256)) * 50)], "w:gz")
    tarred.write_bytes(tarred.read_bytes()[:-30])
    assert rejected(lambda: POLICY.extract(tarred, out)) is UploadReason.MALFORMED
    assert listing(out) == []


def test_empty_tar_is_malformed(tmp_path: Path, out: Path) -> None:
    path = tmp_path / "empty.tar"
    path.write_bytes(bytes(257) + b"ustar" + bytes(10240 - 262))
    assert rejected(lambda: POLICY.extract(path, out)) is UploadReason.MALFORMED


def test_corrupt_member_data_rolls_back(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"a" * 30), ("b.txt", bytes(range(256)) * 4)])
    data = bytearray(archive.read_bytes())
    second = data.find(b"PK\x03\x04", 4)
    data[second + 60] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.MALFORMED
    assert listing(out) == []


PREFIXES = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b\x08\x00",
    b"BZh9",
    b"\xfd7zXZ\x00",
    bytes(257) + b"ustar",
]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
def test_junk_only_raises_the_documented_error(tmp_path: Path, prefix: bytes, body: bytes) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(prefix + body)
    folder = tmp_path / "junk-out"
    folder.mkdir(exist_ok=True)
    try:
        POLICY.extract(path, folder)
    except UploadRejectedError:
        assert listing(folder) == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3)
)
def test_mutated_archives_only_raise_the_documented_error(
    tmp_path: Path, flips: list[tuple[int, int]]
) -> None:
    source = make_zip(tmp_path / "src.zip", [("a.txt", b"hello " * 30), ("d/b.txt", b"b" * 100)])
    data = bytearray(source.read_bytes())
    for offset, value in flips:
        data[offset % len(data)] = value
    path = tmp_path / "mutated.zip"
    path.write_bytes(bytes(data))
    folder = tmp_path / "mutated-out"
    if folder.exists():
        for item in sorted(folder.rglob("*"), reverse=True):
            item.rmdir() if item.is_dir() else item.unlink()
    folder.mkdir(exist_ok=True)
    try:
        POLICY.extract(path, folder)
    except UploadRejectedError:
        assert listing(folder) == []


def test_library_bug_denies(tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"x" * 20)])

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(zipfile, "ZipFile", broken)
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.MALFORMED


@pytest.mark.parametrize(
    "name", [".htaccess", "img/.HTACCESS", "a/.user.ini", "Web.Config", "x/.htpasswd"]
)
def test_web_server_config_files_are_refused(tmp_path: Path, out: Path, name: str) -> None:
    # Extracted under a served directory, these turn on script handlers there.
    archive = make_zip(tmp_path / "a.zip", [("ok.txt", b"x"), (name, b"AddType x .png")])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []


def test_other_hidden_files_still_extract(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("__MACOSX/._photo.jpg", b"x"), (".keep", b"")])
    assert [p.name for p in POLICY.extract(archive, out)] == ["._photo.jpg", ".keep"]


def test_file_then_folder_of_the_same_name_is_refused(tmp_path: Path, out: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a", b"x"), ("A/b.txt", b"y")])
    assert rejected(lambda: POLICY.extract(archive, out)) is UploadReason.ARCHIVE_UNSAFE_ENTRY
    assert listing(out) == []
