"""securekit.jwt.RemoteJWKS against a local HTTPS server with a test CA made here."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason, UnavailableError
from securekit.jwt import JWTIssuer, JWTVerifier, RemoteJWKS
from securekit.keys import KeyRing
from securekit.testing import FixedClock
from tests._pki import key_pem, make_ca, make_leaf, pem

pytestmark = pytest.mark.network

ISS = "https://issuer.example"
AUD = "api.example"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Server:
    url: str
    ca_file: Path
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("tls")
    ca, ca_key = make_ca("securekit test CA")
    leaf, leaf_key = make_leaf(ca, ca_key, not_after=datetime.now(UTC) + timedelta(days=2))
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(pem(ca))
    cert_file = directory / "leaf.pem"
    cert_file.write_bytes(pem(leaf) + key_pem(leaf_key))
    state = Server(url="", ca_file=ca_file)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            status, body = state.routes.get(self.path, (404, b"not found"))
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "http://127.0.0.1:1/jwks.json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://localhost:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_remote_jwks_fetch_cache_and_rotation(server: Server) -> None:
    ring = KeyRing.generate("signing", alg="ES256")
    server.routes["/jwks.json"] = (200, json.dumps(ring.public_jwks()).encode())
    clock = FixedClock(NOW)
    mono = FakeMonotonic()
    remote = RemoteJWKS(server.url + "/jwks.json", ssl_context=server.context(), monotonic=mono)
    assert "RemoteJWKS" in repr(remote)
    verifier = JWTVerifier(remote, issuer=ISS, audience=AUD, clock=clock)
    issuer = JWTIssuer(ring, issuer=ISS, audience=AUD, clock=clock)
    server.hits.clear()
    assert verifier.verify(issuer.issue(subject="u")).subject == "u"
    assert verifier.verify(issuer.issue(subject="u")).subject == "u"
    assert len(server.hits) == 1  # cached

    # The issuer rotates: an unknown kid triggers one refetch.
    rotated = ring.rotate()
    server.routes["/jwks.json"] = (200, json.dumps(rotated.public_jwks()).encode())
    new_issuer = JWTIssuer(rotated, issuer=ISS, audience=AUD, clock=clock)
    assert verifier.verify(new_issuer.issue(subject="n")).subject == "n"
    assert len(server.hits) == 2

    # Random kids cannot make us hammer the issuer: cooldown.
    other = JWTIssuer(KeyRing.generate("signing", alg="ES256"), issuer=ISS, audience=AUD)
    for _ in range(5):
        with pytest.raises(InvalidTokenError) as info:
            verifier.verify(other.issue(subject="x", now=NOW))
        assert info.value.reason is TokenReason.UNKNOWN_KEY
    # The rotation's refetch started the cooldown: no fetch for these.
    assert len(server.hits) == 2
    mono.now += 61
    with pytest.raises(InvalidTokenError):
        verifier.verify(other.issue(subject="x", now=NOW))
    assert len(server.hits) == 3
    with pytest.raises(InvalidTokenError):
        verifier.verify(other.issue(subject="x", now=NOW))
    assert len(server.hits) == 3

    # Max age: the set is refetched after it.
    mono.now += 601
    assert verifier.verify(new_issuer.issue(subject="n")).subject == "n"
    assert len(server.hits) == 4


def test_remote_jwks_skips_unusable_keys(server: Server) -> None:
    ring = KeyRing.generate("signing")
    keys = [
        {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB", "kid": "enc"},
        {"kty": "oct", "k": "AAAA", "kid": "oct"},
        *ring.public_jwks()["keys"],
    ]
    server.routes["/mixed.json"] = (200, json.dumps({"keys": keys}).encode())
    remote = RemoteJWKS(server.url + "/mixed.json", ssl_context=server.context())
    verifier = JWTVerifier(remote, issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    token = JWTIssuer(ring, issuer=ISS, audience=AUD).issue(subject="u", now=NOW)
    assert verifier.verify(token).subject == "u"


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/missing.json", 404, b""),
        ("/redirect.json", 302, b""),
        ("/large.json", 200, b'{"keys": []' + b" " * 70000 + b"}"),
        ("/junk.json", 200, b"not json"),
        ("/dupe.json", 200, b'{"keys": [], "keys": []}'),
        ("/empty.json", 200, b'{"keys": []}'),
        ("/nokeys.json", 200, b'{"x": 1}'),
        ("/nocontent.json", 204, b""),
    ],
)
def test_remote_jwks_failures_fail_closed(
    server: Server, path: str, status: int, body: bytes
) -> None:
    if status:
        server.routes[path] = (status, body)
    remote = RemoteJWKS(server.url + path, ssl_context=server.context())
    verifier = JWTVerifier(remote, issuer=ISS, audience=AUD, clock=FixedClock(NOW))
    token = JWTIssuer(KeyRing.generate("signing"), issuer=ISS, audience=AUD).issue(
        subject="u", now=NOW
    )
    with pytest.raises(UnavailableError):
        verifier.verify(token)


def test_remote_jwks_untrusted_certificate(server: Server) -> None:
    ring = KeyRing.generate("signing")
    server.routes["/jwks.json"] = (200, json.dumps(ring.public_jwks()).encode())
    # The default context trusts the system store, not our test CA.
    remote = RemoteJWKS(server.url + "/jwks.json")
    with pytest.raises(UnavailableError):
        remote.refresh()


def test_remote_jwks_configuration() -> None:
    for url in ("http://issuer.example/jwks", "file:///etc/passwd", "https://a b", "ftp://x"):
        with pytest.raises(ConfigurationError):
            RemoteJWKS(url)
    with pytest.raises(TypeError):
        RemoteJWKS(b"https://x")  # type: ignore[arg-type]
    for kwargs in (
        {"timeout": timedelta(0)},
        {"timeout": timedelta(minutes=5)},
        {"max_bytes": 10},
        {"max_age": timedelta(0)},
        {"unknown_kid_cooldown": timedelta(seconds=-1)},
    ):
        with pytest.raises(ConfigurationError):
            RemoteJWKS("https://issuer.example/jwks", **kwargs)
    with pytest.raises(TypeError):
        RemoteJWKS("https://issuer.example/jwks", max_bytes=1.5)  # type: ignore[arg-type]
