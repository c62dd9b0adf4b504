"""securekit.passwords: PasswordPolicy, the bundled blocklist, breach checkers, calibrate.

The range-API checker is tested against a local fake server on 127.0.0.1
(``http.server`` in a thread), never the real service.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import itertools
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import timedelta
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    PasswordReason,
    UnavailableError,
    WeakPasswordError,
)
from securekit.passwords import (
    MAX_PASSWORD_LENGTH,
    RFC_9106_LOW_MEMORY,
    Argon2Parameters,
    BreachChecker,
    OfflineBreachChecker,
    PasswordPolicy,
    RangeAPIBreachChecker,
    calibrate,
    is_common_password,
)
from tests._leak import assert_no_leak

GOOD = "correct horse battery staple"

INSECURE_CALLS: dict[str, Callable[[], object]] = {
    "securekit.passwords.RangeAPIBreachChecker.__init__:insecure_fail_open": lambda: (
        RangeAPIBreachChecker("https://api.example", insecure_fail_open=True)
    ),
}


# -- blocklist -------------------------------------------------------------------


def test_bundled_blocklist_is_large_normalized_and_documented() -> None:
    data = resources.files("securekit").joinpath("data/common-passwords.txt.gz").read_bytes()
    entries = gzip.decompress(data).decode("utf-8").split("\n")
    entries = [e for e in entries if e]
    assert len(entries) >= 10_000
    assert len(set(entries)) == len(entries)
    for entry in entries:
        assert unicodedata.normalize("NFKC", entry.casefold()) == entry
    readme = resources.files("securekit").joinpath("data/README.md").read_text("utf-8")
    assert "BSD" in readme
    assert "Royce Williams" in readme
    assert resources.files("securekit").joinpath("data/LICENSE-django.txt").is_file()


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "PassWord",
        "qwerty",
        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",
        "123456789",
    ],
)
def test_common_passwords_detected_after_nfkc_and_casefold(password: str) -> None:
    assert is_common_password(password)


def test_uncommon_and_oversized_are_not_common() -> None:
    assert not is_common_password(GOOD)
    assert not is_common_password("password" * 200)
    with pytest.raises(TypeError):
        is_common_password(None)  # type: ignore[arg-type]


# -- policy ----------------------------------------------------------------------


def test_default_policy_nist_lengths() -> None:
    policy = PasswordPolicy()
    assert policy.min_length == 15
    assert policy.max_length >= 64
    policy.check(GOOD)
    policy.check("x7#Kp2!vQ9zR4wL" + "é" * 49)  # 64 code points allowed
    with pytest.raises(WeakPasswordError) as info:
        policy.check("Tr0ub4dor&3xyz")  # 14 characters
    assert info.value.reason is PasswordReason.TOO_SHORT


def test_no_composition_rules() -> None:
    # All lower case, no digits, no symbols: fine when long and not common.
    PasswordPolicy().check("lowercase words only here")
    # Emoji and other scripts count as one code point each.
    PasswordPolicy().check("😀🐍🔐" * 2 + "длинный пароль")


def test_mfa_minimum_is_eight_never_lower() -> None:
    policy = PasswordPolicy(used_with_mfa=True)
    assert policy.min_length == 8
    policy.check("zq8#vLp2")
    with pytest.raises(ConfigurationError, match="at least 8"):
        PasswordPolicy(used_with_mfa=True, min_length=7)
    with pytest.raises(ConfigurationError, match="used_with_mfa"):
        PasswordPolicy(min_length=8)
    assert PasswordPolicy(min_length=20).min_length == 20


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_length": 63}, ConfigurationError),
        ({"max_length": MAX_PASSWORD_LENGTH + 1}, ConfigurationError),
        ({"min_length": 100, "max_length": 64}, ConfigurationError),
        ({"min_length": 0}, ConfigurationError),
        ({"min_length": "15"}, TypeError),
        ({"breach_checker": object()}, TypeError),
        ({"service_words": "acme"}, TypeError),
    ],
)
def test_policy_misuse(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        PasswordPolicy(**kwargs)  # type: ignore[arg-type]


def test_check_misuse() -> None:
    policy = PasswordPolicy()
    with pytest.raises(TypeError):
        policy.check(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        policy.check(GOOD, context="alice")
    with pytest.raises(TypeError):
        policy.check(GOOD, context=[1])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        policy.check(GOOD, context=["word"] * 33)
    with pytest.raises(ConfigurationError):
        policy.check(GOOD, context=itertools.repeat("endless"))


@pytest.mark.parametrize(
    ("password", "context", "reason"),
    [
        ("passwordpassword", (), PasswordReason.REPETITIVE),
        ("aaaaaaaaaaaaaaaaaaaa", (), PasswordReason.REPETITIVE),
        ("abcabcabcabcabcabc", (), PasswordReason.REPETITIVE),
        ("abcdefghijklmnopq", (), PasswordReason.REPETITIVE),
        ("9876543210", (), PasswordReason.TOO_SHORT),
        ("alice-loves-her-bike", ("alice",), PasswordReason.CONTEXT),
        ("my Wonderland password!", ("x", "alice.wonderland@example.com"), PasswordReason.CONTEXT),
        ("ACMEcorp-is-my-employer", (), PasswordReason.CONTEXT),
        ("\x00" * 20, (), PasswordReason.FORBIDDEN_CHARACTER),
        ("control\x07characters here", (), PasswordReason.FORBIDDEN_CHARACTER),
        ("lone surrogate \ud800 here", (), PasswordReason.FORBIDDEN_CHARACTER),
        ("x" * (MAX_PASSWORD_LENGTH + 1), (), PasswordReason.TOO_LONG),
    ],
)
def test_policy_rejections_have_reason_codes(
    password: str, context: tuple[str, ...], reason: PasswordReason
) -> None:
    policy = PasswordPolicy(service_words=("acmecorp",))
    with pytest.raises(WeakPasswordError) as info:
        policy.check(password, context=context)
    assert info.value.reason is reason
    assert_no_leak(info.value, password)


def test_common_password_rejected_with_mfa_policy() -> None:
    policy = PasswordPolicy(used_with_mfa=True)
    with pytest.raises(WeakPasswordError) as info:
        policy.check("Password1")
    assert info.value.reason is PasswordReason.COMMON
    assert policy.evaluate("password") == (PasswordReason.COMMON,)
    assert PasswordPolicy().evaluate("password") == (
        PasswordReason.TOO_SHORT,
        PasswordReason.COMMON,
    )


def test_nfkc_expansion_over_max_is_too_long() -> None:
    # U+FDFA expands to 18 code points under NFKC.
    policy = PasswordPolicy(max_length=64)
    assert PasswordReason.TOO_LONG in policy.evaluate("\ufdfa" * 10)


def test_short_context_words_ignored() -> None:
    PasswordPolicy().check("bob has a very long passphrase", context=("bob", "b@x.io"))


def test_huge_context_is_linear() -> None:
    # Django CVE-2021-45115: a huge user attribute must not make the check slow.
    policy = PasswordPolicy()
    start = time.perf_counter()
    policy.evaluate("y" + "ab" * 500, context=("ab" * 1_000_000, "x" * 5_000_000))
    assert time.perf_counter() - start < 1.0


@settings(max_examples=100, deadline=None)
@given(password=st.text(max_size=80), context=st.lists(st.text(max_size=40), max_size=4))
def test_property_policy_raises_only_weak_password_error(password: str, context: list[str]) -> None:
    policy = PasswordPolicy(used_with_mfa=True)
    try:
        policy.check(password, context=context)
    except WeakPasswordError as error:
        assert isinstance(error.reason, PasswordReason)


# -- breach checkers ---------------------------------------------------------------


def test_offline_breach_checker() -> None:
    sha1 = hashlib.sha1(b"leaked-in-2031-breach!", usedforsecurity=False).hexdigest()
    checker = OfflineBreachChecker(passwords=["Our-Old-Default-Password"], sha1_hashes=[sha1])
    assert isinstance(checker, BreachChecker)
    assert checker.is_breached("password")
    assert checker.is_breached("our-old-default-password")
    assert checker.is_breached("leaked-in-2031-breach!")
    assert not checker.is_breached(GOOD)
    assert not checker.is_breached("\ud800 lone")
    assert not checker.is_breached("x" * (MAX_PASSWORD_LENGTH + 1))
    with pytest.raises(TypeError):
        checker.is_breached(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        OfflineBreachChecker(sha1_hashes=["not-hex"])
    policy = PasswordPolicy(breach_checker=checker)
    with pytest.raises(WeakPasswordError) as info:
        policy.check("Our-Old-Default-Password")
    assert info.value.reason is PasswordReason.BREACHED


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """A fake range API: behaviour chosen by the server's ``mode``."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server: RangeServer = self.server  # type: ignore[assignment]
        server.requests.append((self.path, self.headers.get("Add-Padding")))
        mode = server.mode
        if mode == "error":
            self.send_response(503)
            self.end_headers()
            return
        prefix = self.path.rsplit("/", 1)[-1]
        lines = [f"{'0' * 35}:0"]  # padding entry
        for password, count in server.breached.items():
            digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
            if digest.startswith(prefix):
                lines.append(f"{digest[5:].lower() if mode == 'lower' else digest[5:]}:{count}")
        body = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if mode == "malformed":
            body += b"\r\nnot a range line"
        if mode == "huge":
            body = (f"{'A' * 35}:1\r\n" * 40_000).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "slow":
            self.wfile.write(body[:10])
            self.wfile.flush()
            server.release.wait(5)
            return
        self.wfile.write(body)


class RangeServer(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.mode = "ok"
        self.breached: dict[str, int] = {"Pa$$w0rd-from-a-breach": 42, "zero-count-padding": 0}
        self.requests: list[tuple[str, str | None]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


@pytest.fixture
def range_server() -> Iterator[RangeServer]:
    server = RangeServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.network
def test_range_api_k_anonymity(range_server: RangeServer) -> None:
    checker = RangeAPIBreachChecker(range_server.url)
    assert checker.is_breached("Pa$$w0rd-from-a-breach")
    assert not checker.is_breached(GOOD)
    # Count-0 padding entries never count as breached.
    assert not checker.is_breached("zero-count-padding")
    path, padding = range_server.requests[0]
    digest = hashlib.sha1(b"Pa$$w0rd-from-a-breach", usedforsecurity=False).hexdigest().upper()
    # Only the 5-character prefix leaves the machine.
    assert path == f"/api/range/{digest[:5]}"
    assert padding == "true"
    assert digest[5:] not in "".join(p for p, _ in range_server.requests)
    range_server.mode = "lower"
    assert checker.is_breached("Pa$$w0rd-from-a-breach")
    policy = PasswordPolicy(breach_checker=checker)
    with pytest.raises(WeakPasswordError) as info:
        policy.check("Pa$$w0rd-from-a-breach")
    assert info.value.reason is PasswordReason.BREACHED


@pytest.mark.network
def test_range_api_min_count(range_server: RangeServer) -> None:
    assert not RangeAPIBreachChecker(range_server.url, min_count=100).is_breached(
        "Pa$$w0rd-from-a-breach"
    )


@pytest.mark.network
@pytest.mark.parametrize("mode", ["error", "malformed", "huge", "slow"])
def test_range_api_fails_closed(range_server: RangeServer, mode: str) -> None:
    range_server.mode = mode
    checker = RangeAPIBreachChecker(range_server.url, timeout=0.5, max_response_bytes=64 * 1024)
    secret = "Pa$$w0rd-from-a-breach"  # pragma: allowlist secret
    with pytest.raises(UnavailableError) as info:
        checker.is_breached(secret)
    assert_no_leak(info.value, secret)
    policy = PasswordPolicy(breach_checker=checker)
    with pytest.raises(UnavailableError):
        policy.check(GOOD)


@pytest.mark.network
def test_range_api_fail_open_is_explicit(range_server: RangeServer) -> None:
    range_server.mode = "error"
    with pytest.warns(InsecureConfigurationWarning):
        checker = RangeAPIBreachChecker(range_server.url, insecure_fail_open=True)
    assert not checker.is_breached(GOOD)


def test_range_api_unreachable_fails_closed() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for scheme in ("http", "https"):
        checker = RangeAPIBreachChecker(f"{scheme}://127.0.0.1:{port}", timeout=0.5)
        with pytest.raises(UnavailableError):
            checker.is_breached(GOOD)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.pwnedpasswords.com",
        "ftp://127.0.0.1",
        "https://user:pw@api.example",  # pragma: allowlist secret
        "https://api.example/?q=1",
        "https://api.example/#frag",
        "https://",
        "https://api.example:99999",
        "http://10.0.0.1",
    ],
)
def test_range_api_url_misuse(url: str) -> None:
    with pytest.raises(ConfigurationError):
        RangeAPIBreachChecker(url)


def test_range_api_other_misuse() -> None:
    with pytest.raises(TypeError):
        RangeAPIBreachChecker(b"https://api.example")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RangeAPIBreachChecker("https://api.example", timeout=0)
    with pytest.raises(ConfigurationError):
        RangeAPIBreachChecker("https://api.example", max_response_bytes=0)
    checker = RangeAPIBreachChecker("https://api.example/base/")
    assert repr(checker) == "RangeAPIBreachChecker(https://api.example/base)"
    assert (
        repr(RangeAPIBreachChecker("http://localhost:1"))
        == "RangeAPIBreachChecker(http://localhost)"
    )
    with pytest.raises(TypeError):
        checker.is_breached(None)  # type: ignore[arg-type]


# -- calibrate -------------------------------------------------------------------


def test_calibrate_raises_memory_then_passes_never_below_floor() -> None:
    seen: list[Argon2Parameters] = []

    def timer(params: Argon2Parameters) -> float:
        seen.append(params)
        return params.memory_cost * params.time_cost / (64 * 1024 * 3) * 0.05

    params, took = calibrate(
        target=timedelta(milliseconds=250), max_memory_kib=256 * 1024, timer=timer
    )
    assert seen[0].memory_cost == RFC_9106_LOW_MEMORY.memory_cost
    assert seen[0].time_cost == RFC_9106_LOW_MEMORY.time_cost
    assert params.memory_cost == 256 * 1024  # memory first (RFC 9106 section 4)
    assert params.time_cost == 4
    assert took >= 0.25


def test_calibrate_stops_at_the_time_cost_cap() -> None:
    params, _ = calibrate(max_memory_kib=64 * 1024, timer=lambda _: 0.0)
    assert params.time_cost == 10
    assert params.memory_cost == 64 * 1024


def test_calibrate_misuse() -> None:
    with pytest.raises(TypeError):
        calibrate(target=0.25)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        calibrate(target=timedelta(0))
    with pytest.raises(ConfigurationError):
        calibrate(max_memory_kib=1024)
    with pytest.raises(ConfigurationError):
        calibrate(parallelism=0)
