"""safe_filename and safe_join: hostile names are rejected, never repaired."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securekit.errors import ConfigurationError, UploadReason, UploadRejectedError
from securekit.uploads import safe_filename, safe_join
from tests._leak import assert_no_leak

GOOD_NAMES = [
    "cat.png",
    "Report 2024.pdf",
    "holiday.2024.final.jpg",
    "\u5199\u771f.png",
    "\u041f\u0440\u0438\u0432\u0435\u0442.txt",
    "\u0645\u0631\u062d\u0628\u0627.png",
    "r\u00e9sum\u00e9 \u00fcber.pdf",
    "\u0930\u093f\u092a\u094b\u0930\u094d\u091f.csv",
    "100%.txt",
    "a",
    "\uff43\uff41\uff54.png",
    "\u30ab\u30bf\u30ab\u30ca\u3000\u30d5\u30a1\u30a4\u30eb.txt",
    "x" * 251 + ".png",
    "con-notes.txt",
    "company.png",
    "COM10.png",
]

BAD_NAMES = [
    "",
    ".",
    "..",
    "../cat.png",
    "..\\cat.png",
    "a/b.png",
    "a\\b.png",
    "/etc/passwd",
    "C:cat.png",
    "C:\\cat.png",
    "\\\\server\\share\\cat.png",
    "cat.png::$DATA",
    "cat.png:stream",
    "a..b.png",
    ".png",
    ".htaccess",
    ".cat.png",
    "-rf.png",
    "cat.png.",
    "cat.png ",
    " cat.png",
    "cat.png\u00a0",
    "cat\x00.png",
    "cat\n.png",
    "cat\r.png",
    "cat\t.png",
    "cat\x7f.png",
    "cat\x85.png",
    "cat\u202egnp.exe",
    "cat\u200b.png",
    "cat\u2028.png",
    "cat\ud800.png",
    "cat\ue000.png",
    "cat<1>.png",
    'cat".png',
    "cat|.png",
    "cat?.png",
    "cat*.png",
    "..%2fcat.png",
    "%2e%2e%2fcat.png",
    "cat%00.png",
    "cat%2Epng",
    "CON",
    "con",
    "CON.png",
    "con.tar.gz",
    "Con .png",
    "aux.pdf",
    "NUL.txt",
    "PRN",
    "COM1",
    "com9.png",
    "LPT1.txt",
    "LPT\u00b9.png",
    "COM\u00b2",
    "CONIN$",
    "conout$.txt",
    "\uff43\uff4f\uff4e.png",
    "shell\uff0ephp",
    "shell\u2024php.png",
    "a\uff0f..\uff0fb.png",
    "a\u2025png",
    "x" * 252 + ".png",
    "\u5199" * 86,
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names_are_returned_unchanged(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize("name", BAD_NAMES, ids=[ascii(n)[:40] for n in BAD_NAMES])
def test_bad_names_are_rejected(name: str) -> None:
    with pytest.raises(UploadRejectedError) as info:
        safe_filename(name)
    assert info.value.reason is UploadReason.BAD_FILENAME
    if len(name) > 5:
        assert_no_leak(info.value, name)


def test_max_bytes_counts_utf8_bytes() -> None:
    assert safe_filename("\u5199" * 3, max_bytes=9) == "\u5199" * 3
    with pytest.raises(UploadRejectedError):
        safe_filename("\u5199" * 4, max_bytes=9)
    with pytest.raises(UploadRejectedError):
        safe_filename("abcd", max_bytes=3)


@pytest.mark.parametrize("value", [0, 256, -1, True, 1.5])
def test_max_bytes_configuration(value: object) -> None:
    with pytest.raises(ConfigurationError):
        safe_filename("a.png", max_bytes=value)  # type: ignore[arg-type]


def test_wrong_type() -> None:
    with pytest.raises(TypeError):
        safe_filename(b"a.png")  # type: ignore[arg-type]


DEVICES = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"} | {
    f"{k}{d}" for k in ("com", "lpt") for d in "0123456789"
}


@settings(max_examples=250, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[A-Za-z.\\/ %\x00]{0,12}", fullmatch=True))
def test_safe_filename_never_returns_a_dangerous_name(name: str) -> None:
    try:
        result = safe_filename(name)
    except UploadRejectedError:
        return
    assert result == name
    for form in (result, unicodedata.normalize("NFKC", result)):
        assert "/" not in form
        assert "\\" not in form
        assert ".." not in form
        assert not form.startswith(".")
        assert all(unicodedata.category(c) not in {"Cc", "Cf", "Cs"} for c in form)
        assert form.split(".")[0].rstrip(" ").casefold() not in DEVICES


# --- safe_join ---------------------------------------------------------------


def test_join_inside(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "a.txt") == tmp_path.resolve() / "a.txt"
    assert safe_join(tmp_path, "2024", "05/report.pdf") == tmp_path.resolve() / "2024/05/report.pdf"
    assert safe_join(str(tmp_path), ".gitignore") == tmp_path.resolve() / ".gitignore"
    assert safe_join(tmp_path) == tmp_path.resolve()


BAD_PARTS = [
    "",
    ".",
    "..",
    "../x",
    "a/../../x",
    "a/./b",
    "a//b",
    "a/",
    "/etc/passwd",
    "//server/share",
    "..\\x",
    "a\\b",
    "C:x",
    "C:/x",
    "\\\\server\\share",
    "file.txt::$DATA",
    "a\x00b",
    "a\nb",
    "a\u202eb",
    "..%2fx",
    "%2e%2e",
    "con",
    "AUX.txt",
    "lpt\u00b9",
    "x.",
    "x ",
    " x",
    "\uff0e\uff0e",
    "a\uff0fb",
    "x" * 256,
    "a/" * 3000,
]


@pytest.mark.parametrize("part", BAD_PARTS, ids=[ascii(p)[:30] for p in BAD_PARTS])
def test_join_rejects(tmp_path: Path, part: str) -> None:
    with pytest.raises(UploadRejectedError) as info:
        safe_join(tmp_path, "ok", part)
    assert info.value.reason is UploadReason.UNSAFE_PATH


def test_join_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        safe_join(tmp_path, b"a")  # type: ignore[arg-type]


def test_join_refuses_links_even_inside_base(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    base = tmp_path / "base"
    (base / "real").mkdir(parents=True)
    (base / "escape").symlink_to(outside)
    (base / "inner").symlink_to(base / "real")
    (base / "file-link").symlink_to(outside / "target.txt")
    for part in ("escape/x.txt", "inner/x.txt", "file-link", "escape"):
        with pytest.raises(UploadRejectedError):
            safe_join(base, part)
    assert safe_join(base, "real/x.txt") == base.resolve() / "real/x.txt"


def test_join_resolves_a_linked_base(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert safe_join(tmp_path / "link", "x.txt") == real.resolve() / "x.txt"


def test_join_through_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UploadRejectedError):
        safe_join(tmp_path, "file.txt/child")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.text(max_size=20)
        | st.sampled_from(["..", ".", "/", "\\", "C:", "//x", "a/..", "..\\..", "%2e%2e%2f", "~"]),
        max_size=5,
    )
)
def test_safe_join_never_leaves_base(tmp_path: Path, parts: list[str]) -> None:
    base = tmp_path / "base"
    base.mkdir(exist_ok=True)
    try:
        result = safe_join(base, *parts)
    except UploadRejectedError:
        return
    root = base.resolve()
    assert result.is_absolute()
    assert result.resolve().is_relative_to(root)
    assert os.path.commonpath([root, os.path.normpath(result)]) == str(root)
