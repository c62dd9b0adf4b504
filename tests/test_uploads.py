"""UploadPolicy: configuration, streaming, the verdict rules, storage and serving."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securekit import uploads
from securekit._formats import CATALOGUE
from securekit.errors import (
    ConfigurationError,
    UnavailableError,
    UploadReason,
    UploadRejectedError,
)
from securekit.uploads import (
    DEFAULT_ALLOWED,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    CheckedUpload,
    UploadPolicy,
    download_headers,
    known_extensions,
)
from tests._leak import assert_no_leak

#: uploads has no insecure_* switch: nothing can weaken the checks.
INSECURE_CALLS: dict[str, Callable[[], object]] = {}

FILES = Path(__file__).resolve().parent / "corpora" / "uploads" / "files"
PNG = (FILES / "pillow_rgb.png").read_bytes()
JPEG = (FILES / "pillow.jpg").read_bytes()
PDF = (FILES / "classic_xref.pdf").read_bytes()
ALL = UploadPolicy(allowed=known_extensions())


def reason(fn: Callable[[], object]) -> UploadReason:
    with pytest.raises(UploadRejectedError) as info:
        fn()
    return info.value.reason


# --- configuration -------------------------------------------------------------


def test_defaults() -> None:
    policy = UploadPolicy()
    assert policy.allowed == DEFAULT_ALLOWED
    assert policy.max_bytes == DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    assert DEFAULT_MAX_PIXELS == 89_478_485
    assert "txt" not in policy.allowed
    assert "UploadPolicy(allowed=" in repr(policy)


def test_extensions_are_normalized() -> None:
    assert UploadPolicy(allowed={".PNG", "Jpg"}).allowed == {"png", "jpg"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allowed": "png"}, "set of extensions"),
        ({"allowed": 5}, "set of extensions"),
        ({"allowed": [b"png"]}, "as str"),
        ({"allowed": {"svg"}}, "SVG"),
        ({"allowed": {"html"}}, "no structural check"),
        ({"allowed": {"php"}}, "no structural check"),
        ({"allowed": set()}, "at least one"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": -1}, "max_bytes"),
        ({"max_bytes": True}, "max_bytes"),
        ({"max_bytes": 1.5}, "max_bytes"),
        ({"max_pixels": 0}, "max_pixels"),
    ],
)
def test_configuration_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        UploadPolicy(**kwargs)  # type: ignore[arg-type]


# --- accepted uploads ----------------------------------------------------------


def test_check_returns_facts_and_a_random_storage_name() -> None:
    first = ALL.check(io.BytesIO(PNG), filename="cat.png", declared_type="image/png")
    second = ALL.check(io.BytesIO(PNG), filename="Cat.PNG")
    assert first.extension == "png"
    assert second.extension == "png"
    assert first.mime == "image/png"
    assert first.size == len(PNG)
    assert first.sha256 == hashlib.sha256(PNG).hexdigest()
    assert first.storage_name != second.storage_name
    stem, ext = first.storage_name.split(".")
    assert ext == "png"
    assert len(stem) == 32
    int(stem, 16)
    assert "cat" not in first.storage_name


def test_storage_name_keeps_the_alias_extension() -> None:
    checked = ALL.check(io.BytesIO(JPEG), filename="photo.jpeg")
    assert checked.storage_name.endswith(".jpeg")
    assert checked.mime == "image/jpeg"


@pytest.mark.parametrize(
    "declared",
    [
        None,
        "",
        "   ",
        "application/octet-stream",
        "Application/Octet-Stream; x=1",
        "binary/octet-stream",
        "image/jpeg",
        "IMAGE/JPEG",
        "image/jpg",
        "image/pjpeg",
        " image/jpeg ; charset=binary",
    ],
)
def test_declared_type_accepted_forms(declared: str | None) -> None:
    ALL.check(io.BytesIO(JPEG), filename="a.jpg", declared_type=declared)


@pytest.mark.parametrize(
    "declared",
    ["image/png", "text/html", "image/svg+xml", "image/jpeg\n", "image", "x" * 300, "imäge/jpeg"],
)
def test_declared_type_mismatch(declared: str) -> None:
    got = reason(lambda: ALL.check(io.BytesIO(JPEG), filename="a.jpg", declared_type=declared))
    assert got is UploadReason.DECLARED_TYPE_MISMATCH


def test_extension_must_be_allowed_by_this_policy() -> None:
    images = UploadPolicy(allowed={"png"})
    got = reason(lambda: images.check(io.BytesIO(JPEG), filename="a.jpg"))
    assert got is UploadReason.EXTENSION_NOT_ALLOWED
    got = reason(lambda: images.check(io.BytesIO(PNG), filename="a.pn\u0261"))
    assert got is UploadReason.EXTENSION_NOT_ALLOWED


@pytest.mark.parametrize(
    "name", ["shell.php.png", "a.PHTML.png", "x.svg.png", "y.jsp.png", "z.asp;.png", "w.php5 x.png"]
)
def test_script_extension_before_the_last_is_refused(name: str) -> None:
    assert reason(lambda: ALL.check(io.BytesIO(PNG), filename=name)) is UploadReason.BAD_FILENAME


def test_inner_dots_without_script_extensions_pass() -> None:
    ALL.check(io.BytesIO(PNG), filename="holiday.2024.final.png")


def test_pixel_limit_is_read_from_headers() -> None:
    small = UploadPolicy(allowed={"png", "jpg"}, max_pixels=24 * 16 - 1)
    assert reason(lambda: small.check(io.BytesIO(PNG), filename="a.png")) is (
        UploadReason.TOO_MANY_PIXELS
    )
    assert reason(lambda: small.check(io.BytesIO(JPEG), filename="a.jpg")) is (
        UploadReason.TOO_MANY_PIXELS
    )
    UploadPolicy(allowed={"png"}, max_pixels=24 * 16).check(io.BytesIO(PNG), filename="a.png")


# --- streaming -----------------------------------------------------------------


class Endless(io.RawIOBase):
    """An upload that never ends; records how much was read."""

    def __init__(self) -> None:
        self.total = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size < 0 else size
        self.total += size
        return b"a" * size


def test_reading_stops_at_limit_plus_one() -> None:
    policy = UploadPolicy(allowed={"txt"}, max_bytes=100_000)
    stream = Endless()
    got = reason(lambda: policy.check(stream, filename="a.txt"))  # type: ignore[arg-type]
    assert got is UploadReason.TOO_LARGE
    assert stream.total == 100_001


def test_limit_is_inclusive() -> None:
    policy = UploadPolicy(allowed={"txt"}, max_bytes=1000)
    policy.check(io.BytesIO(b"a" * 1000), filename="a.txt")
    got = reason(lambda: policy.check(io.BytesIO(b"a" * 1001), filename="a.txt"))
    assert got is UploadReason.TOO_LARGE


def test_a_reader_returning_too_much_is_still_limited() -> None:
    class Greedy(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            return b"a" * 5000

    policy = UploadPolicy(allowed={"txt"}, max_bytes=1000)
    got = reason(lambda: policy.check(Greedy(), filename="a.txt"))  # type: ignore[arg-type]
    assert got is UploadReason.TOO_LARGE


def test_empty_upload() -> None:
    assert reason(lambda: ALL.check(io.BytesIO(b""), filename="a.png")) is UploadReason.EMPTY


def test_read_error_is_a_rejection(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("connection reset")

    policy = UploadPolicy(temp_dir=tmp_path)
    got = reason(lambda: policy.check(Broken(), filename="a.png"))  # type: ignore[arg-type]
    assert got is UploadReason.READ_ERROR
    assert list(tmp_path.iterdir()) == []


def test_text_mode_file_is_a_type_error(tmp_path: Path) -> None:
    policy = UploadPolicy(temp_dir=tmp_path)
    with pytest.raises(TypeError, match="binary"):
        policy.check(io.StringIO("hello"), filename="a.png")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError):
        ALL.check(io.BytesIO(PNG), filename=b"a.png")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ALL.check(io.BytesIO(PNG), filename="a.png", declared_type=b"image/png")  # type: ignore[arg-type]


def test_temp_files_are_removed_on_every_path(tmp_path: Path) -> None:
    policy = UploadPolicy(allowed=known_extensions(), temp_dir=tmp_path)
    policy.check(io.BytesIO(PNG), filename="a.png")
    reason(lambda: policy.check(io.BytesIO(PNG + b"junk"), filename="a.png"))
    reason(lambda: policy.check(io.BytesIO(PNG), filename="a.gif"))
    reason(
        lambda: UploadPolicy(max_bytes=10, temp_dir=tmp_path).check(
            io.BytesIO(PNG), filename="a.png"
        )
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_temp_dir_is_unavailable(tmp_path: Path) -> None:
    policy = UploadPolicy(temp_dir=tmp_path / "missing")
    with pytest.raises(UnavailableError):
        policy.check(io.BytesIO(PNG), filename="a.png")


def test_write_failure_is_unavailable() -> None:
    class Full(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError("no space left on device")

    with pytest.raises(UnavailableError):
        ALL._spool(io.BytesIO(PNG), Full())


# --- defence in depth ------------------------------------------------------------


def test_libmagic_failure_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(buffer: bytes) -> str:
        raise RuntimeError("libmagic failed")

    monkeypatch.setattr(uploads._MAGIC.handle, "from_buffer", boom)
    assert (
        reason(lambda: ALL.check(io.BytesIO(PNG), filename="a.png")) is UploadReason.TYPE_MISMATCH
    )


def test_parser_bug_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    def buggy(data: object, max_pixels: int) -> None:
        raise KeyError("bug")

    monkeypatch.setitem(CATALOGUE, "png", replace(CATALOGUE["png"], check=buggy))
    assert reason(lambda: ALL.check(io.BytesIO(PNG), filename="a.png")) is UploadReason.MALFORMED


def test_one_libmagic_handle_per_thread() -> None:
    handles: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                ALL.check(io.BytesIO(PNG), filename="a.png")
                ALL.check(io.BytesIO(PDF), filename="a.pdf")
            handles.append(uploads._MAGIC.handle)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({id(handle) for handle in handles}) == 4


def test_rejections_do_not_leak_name_or_content() -> None:
    # Built at run time so that the test's own source lines, which tracebacks
    # quote, do not hold the values searched for.
    name, command = "-".join(["private", "name"]), "-".join(["private", "cmd"])
    payload = b"GIF89a;<?php system($_GET['" + command.encode() + b"']); ?>"
    with pytest.raises(UploadRejectedError) as info:
        ALL.check(io.BytesIO(payload), filename=name + ".gif", declared_type="image/gif")
    assert_no_leak(info.value, name, command, payload)
    with pytest.raises(UploadRejectedError) as info:
        ALL.check(io.BytesIO(PNG), filename="../" + name + ".png")
    assert_no_leak(info.value, name)


# --- save ---------------------------------------------------------------------


def test_save_stores_under_the_storage_name(tmp_path: Path) -> None:
    checked = ALL.save(io.BytesIO(PNG), tmp_path, filename="cat.png", declared_type="image/png")
    assert [p.name for p in tmp_path.iterdir()] == [checked.storage_name]
    assert (tmp_path / checked.storage_name).read_bytes() == PNG


def test_save_leaves_nothing_on_rejection(tmp_path: Path) -> None:
    reason(lambda: ALL.save(io.BytesIO(PNG + b"<?php"), tmp_path, filename="cat.png"))
    assert list(tmp_path.iterdir()) == []


def test_save_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("securekit.uploads.secrets.token_hex", lambda _n: "0" * 32)
    ALL.save(io.BytesIO(PNG), tmp_path, filename="cat.png")
    with pytest.raises(UnavailableError):
        ALL.save(io.BytesIO(PNG), tmp_path, filename="dog.png")
    assert [p.name for p in tmp_path.iterdir()] == ["0" * 32 + ".png"]
    assert (tmp_path / ("0" * 32 + ".png")).read_bytes() == PNG


def test_save_to_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError):
        ALL.save(io.BytesIO(PNG), tmp_path / "missing", filename="cat.png")


# --- download headers -------------------------------------------------------------


def test_download_headers_default() -> None:
    checked = ALL.check(io.BytesIO(PNG), filename="cat.png")
    headers = download_headers(checked)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == (
        f"attachment; filename=\"{checked.storage_name}\"; filename*=UTF-8''{checked.storage_name}"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_download_headers_display_name_is_encoded() -> None:
    checked = ALL.check(io.BytesIO(PNG), filename="cat.png")
    headers = download_headers(checked, filename="\u732b 100%.png")
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"_ 100_.png\"; filename*=UTF-8''%E7%8C%AB%20100%25.png"
    )


def test_download_headers_refuse_unsafe_display_names() -> None:
    checked = ALL.check(io.BytesIO(PNG), filename="cat.png")
    for name in ("../x.png", "a\r\nSet-Cookie: x=1", "a\x00.png"):

        def headers(name: str = name) -> object:
            return download_headers(checked, filename=name)

        assert reason(headers) is UploadReason.BAD_FILENAME


def test_inline_only_for_raster_images() -> None:
    image = ALL.check(io.BytesIO(PNG), filename="cat.png")
    assert download_headers(image, inline=True)["Content-Disposition"].startswith("inline;")
    document = ALL.check(io.BytesIO(PDF), filename="a.pdf")
    with pytest.raises(ConfigurationError):
        download_headers(document, inline=True)
    forged = CheckedUpload(
        storage_name="a.svg", extension="svg", mime="image/svg+xml", size=1, sha256=""
    )
    with pytest.raises(ConfigurationError):
        download_headers(forged, inline=True)


def test_text_is_served_with_a_charset() -> None:
    checked = ALL.check(io.BytesIO(b"hello\n"), filename="a.txt")
    assert download_headers(checked)["Content-Type"] == "text/plain; charset=utf-8"


def test_download_headers_type_error() -> None:
    with pytest.raises(TypeError):
        download_headers({"storage_name": "x"})  # type: ignore[arg-type]


# --- properties -------------------------------------------------------------------

PREFIXES = [
    b"",
    PNG[:40],
    JPEG[:30],
    b"GIF89a",
    b"%PDF-1.4\n",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
    b"a,b\n",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.binary(max_size=300),
    name=st.one_of(
        st.text(max_size=40),
        st.sampled_from(["a.png", "a.jpg", "a.gif", "a.pdf", "a.webp", "a.txt", "a.csv"]),
    ),
    declared=st.one_of(st.none(), st.text(max_size=30)),
)
def test_junk_only_raises_the_documented_error(
    tmp_path: Path, prefix: bytes, body: bytes, name: str, declared: str | None
) -> None:
    policy = UploadPolicy(allowed=known_extensions(), temp_dir=tmp_path)
    try:
        checked = policy.check(io.BytesIO(prefix + body), filename=name, declared_type=declared)
    except UploadRejectedError:
        pass
    else:
        assert checked.extension in known_extensions()
    assert list(tmp_path.iterdir()) == []


GENUINE = sorted(
    p
    for p in FILES.iterdir()
    if p.name.startswith(("pillow", "matplotlib", "classic", "object_streams"))
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(GENUINE),
    cut=st.integers(min_value=0, max_value=5000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5000), st.integers(0, 255)), max_size=4
    ),
)
def test_mutated_genuine_files_only_raise_the_documented_error(
    tmp_path: Path, path: Path, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(path.read_bytes())
    for offset, value in flips:
        data[offset % len(data)] = value
    if cut:
        del data[len(data) - cut % len(data) :]
    policy = UploadPolicy(allowed=known_extensions(), temp_dir=tmp_path)
    try:
        policy.check(io.BytesIO(bytes(data)), filename="x." + path.suffix[1:].lower())
    except UploadRejectedError:
        pass
    assert list(tmp_path.iterdir()) == []


def test_antivirus_test_file_is_refused() -> None:
    eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS" + b"-TEST-FILE!$H+H*\n"
    got = reason(lambda: ALL.check(io.BytesIO(eicar), filename="eicar.txt"))
    assert got is UploadReason.ACTIVE_CONTENT


# --- review regressions ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "shell.\uff50\uff48\uff50.png",  # fullwidth "php": NFKC folds it to ASCII
        "page.cshtml.png",
        "svc.svc.png",
        "a.phpt.png",
        "b.pgif.png",
    ],
)
def test_script_extension_in_any_normal_form_is_refused(name: str) -> None:
    assert reason(lambda: ALL.check(io.BytesIO(PNG), filename=name)) is UploadReason.BAD_FILENAME


@pytest.mark.parametrize(
    "body", ["a,b\n\uff1d1+1,2\n", "a,b\n1,\uff20SUM(A1)\n", "a\n\uff0bcmd\n", "a\n\uff0d1+1\n"]
)
def test_csv_fullwidth_formula_starts_are_refused(body: str) -> None:
    got = reason(lambda: ALL.check(io.BytesIO(body.encode()), filename="t.csv"))
    assert got is UploadReason.ACTIVE_CONTENT


@pytest.mark.parametrize("body", [b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-\n", b"x +adw-svg"])
def test_utf7_markup_in_text_is_refused(body: bytes) -> None:
    got = reason(lambda: ALL.check(io.BytesIO(body), filename="t.txt"))
    assert got is UploadReason.EMBEDDED_MARKUP


def test_plus_signs_in_prose_pass() -> None:
    ALL.check(io.BytesIO(b"C++ and A+B, +ADD the rest\n"), filename="t.txt")
