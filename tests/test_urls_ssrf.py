"""securekit.urls.OutboundGuard: the SSRF guard against local servers and a stub resolver.

Real public addresses are not reachable here, so the tests that fetch map
test names to 127.0.0.1 with ``insecure_allow_loopback=True`` (acknowledged
with ``pytest.warns``) and prove that everything else stays refused: the
address classes, odd numeric forms, redirects to internal addresses, DNS
rebinding, oversize and slow responses.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit._ssrf import is_public_address, looks_numeric, system_resolver
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    UnavailableError,
    UnsafeURLError,
    URLReason,
)
from securekit.urls import OutboundGuard
from tests._leak import assert_no_leak

pytestmark = pytest.mark.network


def _loopback_guard(**kwargs: object) -> OutboundGuard:
    with pytest.warns(InsecureConfigurationWarning):
        return OutboundGuard(insecure_allow_loopback=True, **kwargs)  # type: ignore[arg-type]


INSECURE_CALLS = {
    "securekit.urls.OutboundGuard.__init__:insecure_allow_loopback": lambda: OutboundGuard(
        insecure_allow_loopback=True
    ),
}

# -- address classes -------------------------------------------------------------

DENIED = {
    "loopback": ["127.0.0.1", "127.255.255.254", "::1"],
    "private": ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1"],
    "link-local": ["169.254.1.1", "fe80::1", "fe80::1%eth0"],
    "cgnat": ["100.64.0.1", "100.127.255.254"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1"],
    "reserved": ["240.0.0.1", "250.1.2.3"],
    "broadcast": ["255.255.255.255"],
    "unspecified": ["0.0.0.0", "::", "0.1.2.3"],
    "metadata": [
        "169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "192.0.0.192",
        "168.63.129.16",  # review: Azure WireServer, globally routable yet internal
    ],
    "ipv4-mapped": ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:8.8.8.8", "::ffff:7f00:1"],
    "ipv4-compatible": ["::127.0.0.1", "::10.0.0.1"],
    "nat64": ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::808:808", "64:ff9b:1::a00:1"],
    "6to4": ["2002:7f00:1::", "2002:a00:1::1", "2002:c0a8:101::1", "2002:a9fe:a9fe::"],
    "teredo": ["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "ula": ["fc00::1", "fd12:3456::1"],
    "site-local": ["fec0::1"],
    "documentation": ["192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "3fff::1"],
    "benchmarking": ["198.18.0.1", "198.19.255.255"],
    "discard": ["100::1"],
    "protocol": ["192.0.0.1", "192.88.99.1"],
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1"]
ALL_DENIED = [(cls, addr) for cls, addrs in DENIED.items() for addr in addrs]


def _stub(mapping: dict[str, Sequence[str]]) -> tuple[list[str], OutboundGuard]:
    calls: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in mapping:
            raise socket.gaierror("no such name")
        return mapping[host]

    return calls, OutboundGuard(resolver=resolver)


@pytest.mark.parametrize(("cls", "address"), ALL_DENIED, ids=[f"{c}:{a}" for c, a in ALL_DENIED])
def test_every_non_public_address_class_is_refused(cls: str, address: str) -> None:
    _, guard = _stub({"target.test": [address]})
    with pytest.raises(UnsafeURLError) as info:
        guard.check("https://target.test/")
    assert info.value.reason is URLReason.ADDRESS_NOT_ALLOWED
    literal = address.split("%", maxsplit=1)[0]
    if ":" in literal:
        literal = f"[{literal}]"
    with pytest.raises(UnsafeURLError):
        guard.check(f"https://{literal}/")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    _, guard = _stub({"public.test": [address]})
    checked = guard.check("https://public.test/a b?q=1#frag".replace(" ", "%20"))
    assert checked.addresses == (ipaddress.ip_address(address),)
    assert checked.target == "/a%20b?q=1"
    assert checked.host == "public.test"
    assert checked.port == 443


def test_one_bad_address_among_good_ones_refuses_the_host() -> None:
    _, guard = _stub({"mixed.test": ["93.184.216.34", "10.0.0.1"]})
    with pytest.raises(UnsafeURLError) as info:
        guard.check("http://mixed.test/")
    assert info.value.reason is URLReason.ADDRESS_NOT_ALLOWED


def test_loopback_opt_in_still_refuses_mapped_and_private() -> None:
    guard = _loopback_guard(resolver=lambda _h, _p: ["::ffff:127.0.0.1"])
    with pytest.raises(UnsafeURLError):
        guard.check("http://a.test/")
    guard = _loopback_guard(resolver=lambda _h, _p: ["10.0.0.1"])
    with pytest.raises(UnsafeURLError):
        guard.check("http://a.test/")
    assert _loopback_guard(resolver=lambda _h, _p: ["::1"]).check("http://a.test/").port == 80


@pytest.mark.parametrize(
    "host",
    [
        "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "0x7f000001", "017700000001", "0x7f.0.0.1",
        "127.000.000.001", "0177.1", "0300.0250.0.1", "3232235777", "0xa9fea9fe", "169.254.43518",
        "0x", "1.2.3.4.5", "00000000000000000000127.0.0.1",
    ],
)  # fmt: skip
def test_odd_numeric_forms_are_refused(host: str) -> None:
    assert looks_numeric(host)
    _, guard = _stub({})
    with pytest.raises(UnsafeURLError) as info:
        guard.check(f"http://{host}/")
    assert info.value.reason in {URLReason.MALFORMED, URLReason.ADDRESS_NOT_ALLOWED}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1./", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://\u2460\u2461\u2466.0.0.1/", "http://\uff11\uff12\uff17.0.0.1/",
        "http://127\u30020\u30020\u30021/",
    ],
)  # fmt: skip
def test_unicode_and_ipv6_spellings_of_loopback_are_refused(url: str) -> None:
    _, guard = _stub({})
    with pytest.raises(UnsafeURLError):
        guard.check(url)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "app.localhost", "printer.local", "metadata.google.internal",
     "metadata", "router.home.arpa", "x.internal"],
)  # fmt: skip
def test_local_and_metadata_names_are_refused_without_resolving(host: str) -> None:
    calls, guard = _stub({host.lower(): ["93.184.216.34"]})
    with pytest.raises(UnsafeURLError) as info:
        guard.check(f"http://{host}/")
    assert info.value.reason is URLReason.HOST_NOT_ALLOWED
    assert calls == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://public.test/", URLReason.SCHEME_NOT_ALLOWED),
        ("file:///etc/passwd", URLReason.SCHEME_NOT_ALLOWED),
        ("gopher://public.test/", URLReason.SCHEME_NOT_ALLOWED),
        ("http://user:pw@public.test/", URLReason.USERINFO),
        ("http://public.test@evil.test/", URLReason.USERINFO),
        ("http://public.test:8080/", URLReason.PORT_NOT_ALLOWED),
        ("http://public.test:0/", URLReason.MALFORMED),
        ("http://public.test:99999/", URLReason.MALFORMED),
        ("http:public.test", URLReason.MALFORMED),
        ("//public.test/", URLReason.MALFORMED),
        ("/relative", URLReason.MALFORMED),
        ("http://public.test\\@evil.test/", URLReason.FORBIDDEN_CHARACTER),
        ("http://public.test/\r\nX-Injected: 1", URLReason.FORBIDDEN_CHARACTER),
        ("http://pub lic.test/", URLReason.FORBIDDEN_CHARACTER),
        ("http://public.test%2f@evil/", URLReason.USERINFO),
        ("http://[::1/", URLReason.MALFORMED),
        ("http://unknown.test/", URLReason.RESOLUTION_FAILED),
        ("http://" + "a" * 9000 + ".test/", URLReason.FORBIDDEN_CHARACTER),
    ],
)
def test_malformed_or_refused_urls(url: str, reason: URLReason) -> None:
    _, guard = _stub({"public.test": ["93.184.216.34"]})
    with pytest.raises(UnsafeURLError) as info:
        guard.check(url)
    assert info.value.reason is reason


def test_resolver_garbage_is_a_resolution_failure() -> None:
    for answer in ([], ["not-an-ip"], [None]):
        guard = OutboundGuard(resolver=lambda _h, _p, a=answer: a)  # type: ignore[misc]
        with pytest.raises(UnsafeURLError) as info:
            guard.check("http://x.test/")
        assert info.value.reason is URLReason.RESOLUTION_FAILED


def test_allowed_hosts_restricts_fetches() -> None:
    guard = OutboundGuard(allowed_hosts={"api.test"}, resolver=lambda _h, _p: ["93.184.216.34"])
    assert guard.check("https://API.test/x").host == "api.test"
    with pytest.raises(UnsafeURLError) as info:
        guard.check("https://other.test/")
    assert info.value.reason is URLReason.HOST_NOT_ALLOWED


def test_errors_do_not_leak_the_url() -> None:
    _, guard = _stub({})
    secret = "tok-3b9f1c2a7d"
    host = ".".join(["10", "9", "8", "7"])
    with pytest.raises(UnsafeURLError) as info:
        guard.check(f"http://{host}/?token={secret}")
    assert_no_leak(info.value, secret, host)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"schemes": {"ftp"}},
        {"schemes": set()},
        {"ports": {0}},
        {"ports": {"80"}},
        {"ports": set()},
        {"max_redirects": -1},
        {"max_response_bytes": 1.5},
        {"timeout": 0},
        {"timeout": "10"},
        {"allowed_hosts": {"http://x"}},
    ],
)
def test_guard_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        OutboundGuard(**kwargs)  # type: ignore[arg-type]


def test_check_misuse() -> None:
    with pytest.raises(TypeError):
        OutboundGuard().check(b"http://x/")  # type: ignore[arg-type]


def test_system_resolver_resolves_loopback_name() -> None:
    assert "127.0.0.1" in system_resolver("127.0.0.1", 80)


def test_default_guard_refuses_localhost_for_real() -> None:
    with pytest.raises(UnsafeURLError):
        OutboundGuard().check("http://127.0.0.1/")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_decision_matches_the_stdlib_view(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    if is_public_address(address):
        assert address.is_global
        assert not address.is_private
        assert not address.is_multicast
        assert not address.is_reserved


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_urls_raise_only_unsafe_url_error(url: str) -> None:
    guard = OutboundGuard(resolver=lambda _h, _p: ["10.0.0.1"])
    with pytest.raises(UnsafeURLError):
        guard.check(url)


# -- local servers ----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    release = threading.Event()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/ok":
            self._send(200, b"hello", {"Content-Type": "text/plain"})
        elif parts.path == "/redirect":
            self._send(int(query.get("status", "302")), b"", {"Location": query["to"]})
        elif parts.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif parts.path == "/echo":
            lines = [f"{self.command} {self.path}"] + [f"{k}: {v}" for k, v in self.headers.items()]
            self._send(200, "\n".join(lines).encode())
        elif parts.path == "/big":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            self.close_connection = True
        elif parts.path == "/biglen":
            self._send(200, b"", {"Content-Length": str(10**9)})
        elif parts.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            self.release.wait(5)
        elif parts.path == "/nocontent":
            self._send(204)
        else:
            self._send(404, b"no")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(303, b"", {"Location": "/echo"})

    def do_HEAD(self) -> None:
        self._send(200, b"", {"Content-Length": "5"})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


def _mapping_resolver(calls: list[str] | None = None) -> object:
    table = {
        "public.test": ["127.0.0.1"],
        "other.test": ["127.0.0.1"],
        "internal.test": ["10.0.0.5"],
        "meta.test": ["169.254.169.254"],
        "mapped.test": ["::ffff:127.0.0.1"],
    }

    def resolver(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror("unknown")
        return table[host]

    return resolver


def _guard(port: int, **kwargs: object) -> OutboundGuard:
    options: dict[str, object] = {"ports": {port, 80}, "resolver": _mapping_resolver()}
    options.update(kwargs)
    return _loopback_guard(**options)


def test_fetch_reaches_the_checked_address(server: int) -> None:
    response = _guard(server).fetch(f"http://public.test:{server}/ok")
    assert (response.status, response.body, response.redirects) == (200, b"hello", 0)
    assert response.header("content-type") == "text/plain"
    assert response.header("x-missing") is None
    assert response.url == f"http://public.test:{server}/ok"


def test_host_header_is_the_name_not_the_address(server: int) -> None:
    body = _guard(server).fetch(f"http://public.test:{server}/echo").body.decode()
    assert f"Host: public.test:{server}" in body


def test_no_second_resolution_dns_rebinding(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return next(answers)

    def no_dns(*args: object, **kwargs: object) -> object:
        raise AssertionError("the connection must not resolve the name again")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    guard = _guard(server, resolver=rebinding)
    assert guard.fetch(f"http://rebind.test:{server}/ok").body == b"hello"
    assert calls == ["rebind.test"]
    # The next lookup answers with a private address: refused, not connected.
    with pytest.raises(UnsafeURLError) as info:
        guard.fetch(f"http://rebind.test:{server}/ok")
    assert info.value.reason is URLReason.ADDRESS_NOT_ALLOWED


@pytest.mark.parametrize(
    "target",
    [
        "http://internal.test/",
        "http://meta.test/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://mapped.test/",
        "http://10.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://localhost/",
        "file:///etc/passwd",
        "gopher://public.test/",
        "http://user@public.test/",
    ],
)
def test_redirects_to_internal_targets_are_refused(server: int, target: str) -> None:
    guard = _guard(server)
    with pytest.raises(UnsafeURLError):
        guard.fetch(f"http://public.test:{server}/redirect?to={target}")


def test_redirects_are_followed_and_rechecked(server: int) -> None:
    calls: list[str] = []
    guard = _guard(server, resolver=_mapping_resolver(calls))
    nxt = f"http://other.test:{server}/ok"
    response = guard.fetch(f"http://public.test:{server}/redirect?to={nxt}&status=307")
    assert (response.status, response.body, response.redirects) == (200, b"hello", 1)
    assert calls == ["public.test", "other.test"]
    relative = guard.fetch(f"http://public.test:{server}/redirect?to=/ok")
    assert relative.body == b"hello"


def test_redirect_limit(server: int) -> None:
    with pytest.raises(UnsafeURLError) as info:
        _guard(server, max_redirects=3).fetch(f"http://public.test:{server}/loop")
    assert info.value.reason is URLReason.TOO_MANY_REDIRECTS
    no_follow = _guard(server, max_redirects=0).fetch
    with pytest.raises(UnsafeURLError):
        no_follow(f"http://public.test:{server}/loop")


def test_credentials_are_dropped_on_cross_origin_redirect(server: int) -> None:
    guard = _guard(server)
    headers = {"Authorization": "Bearer s3cr3t", "X-Trace": "1"}
    same = guard.fetch(f"http://public.test:{server}/redirect?to=/echo", headers=headers)
    assert "Bearer s3cr3t" in same.body.decode()
    cross = guard.fetch(
        f"http://public.test:{server}/redirect?to=http://other.test:{server}/echo",
        headers=headers,
    )
    assert "s3cr3t" not in cross.body.decode()
    assert "X-Trace: 1" in cross.body.decode()


def test_post_303_becomes_get_without_body(server: int) -> None:
    response = _guard(server).fetch(f"http://public.test:{server}/form", method="POST", body=b"a")
    assert response.body.decode().startswith("GET /echo")


def test_head_and_no_content(server: int) -> None:
    guard = _guard(server)
    assert guard.fetch(f"http://public.test:{server}/ok", method="HEAD").body == b""
    assert guard.fetch(f"http://public.test:{server}/nocontent").status == 204


def test_response_size_cap(server: int) -> None:
    guard = _guard(server, max_response_bytes=1000)
    for path in ("/big", "/biglen"):
        with pytest.raises(UnsafeURLError) as info:
            guard.fetch(f"http://public.test:{server}{path}")
        assert info.value.reason is URLReason.RESPONSE_TOO_LARGE
    assert len(_guard(server).fetch(f"http://public.test:{server}/big").body) == 5000


def test_whole_fetch_deadline(server: int) -> None:
    guard = _guard(server, timeout=0.3)
    with pytest.raises(UnsafeURLError) as info:
        guard.fetch(f"http://public.test:{server}/slow")
    assert info.value.reason is URLReason.TIMEOUT


def test_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    guard = _guard(port)
    with pytest.raises(UnavailableError):
        guard.fetch(f"http://public.test:{port}/")


def test_fetch_misuse(server: int) -> None:
    guard = _guard(server)
    with pytest.raises(ConfigurationError):
        guard.fetch(f"http://public.test:{server}/ok", method="get")
    with pytest.raises(ConfigurationError):
        guard.fetch(f"http://public.test:{server}/ok", headers={"X": "a\r\nB: c"})
    with pytest.raises(ConfigurationError):
        guard.fetch(f"http://public.test:{server}/ok", headers={"X:Y": "a"})
    with pytest.raises(TypeError):
        guard.fetch(f"http://public.test:{server}/ok", headers={"X": 1})  # type: ignore[dict-item]


# -- httpx adapter -----------------------------------------------------------------


def test_httpx_client_checks_every_hop(server: int) -> None:
    guard = _guard(server)
    with guard.httpx_client() as client:
        response = client.get(f"http://public.test:{server}/ok")
        assert (response.status_code, response.content) == (200, b"hello")
        echoed = client.get(f"http://public.test:{server}/echo").text
        assert f"host: public.test:{server}" in echoed.lower()
        with pytest.raises(UnsafeURLError):
            client.get(f"http://public.test:{server}/redirect?to=http://internal.test/")
        with pytest.raises(UnsafeURLError):
            client.get("http://10.0.0.1/")
    small = _guard(server, max_response_bytes=100)
    with small.httpx_client() as client, pytest.raises(UnsafeURLError) as info:
        client.get(f"http://public.test:{server}/big")
    assert info.value.reason is URLReason.RESPONSE_TOO_LARGE
    transport = guard.httpx_transport()
    assert isinstance(transport, httpx.BaseTransport)
    transport.close()


# -- HTTPS: connect to the checked address, verify the name's certificate ---------


def _certificate(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "public.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("public.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


def test_https_pins_the_address_and_verifies_the_name(tmp_path: Path) -> None:
    cert_path, key_path, pem = _certificate(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = int(httpd.server_address[1])
    try:
        client_context = ssl.create_default_context(cadata=pem.decode())
        guard = _guard(port, ssl_context=client_context)
        assert guard.fetch(f"https://public.test:{port}/ok").body == b"hello"
        # The same address under another name: the certificate check fails.
        with pytest.raises(UnavailableError):
            guard.fetch(f"https://other.test:{port}/ok")
        with guard.httpx_client() as client:
            assert client.get(f"https://public.test:{port}/ok").content == b"hello"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_ipv6_literal_with_port_and_empty_path() -> None:
    guard = OutboundGuard(resolver=lambda _h, _p: ["93.184.216.34"])
    checked = guard.check("https://[2606:4700::1]:443")
    assert (checked.port, checked.target, checked.url) == (443, "/", "https://[2606:4700::1]/")
    assert guard.check("http://public.test?x=1").target == "/?x=1"
    assert repr(guard).startswith("OutboundGuard(schemes=['http', 'https']")
