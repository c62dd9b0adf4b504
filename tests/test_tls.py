"""securekit.tls against real TLS servers on 127.0.0.1, with a CA made here."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from securekit.errors import ConfigurationError, InsecureConfigurationWarning
from securekit.tls import (
    TLS12_CIPHERS,
    ContextReport,
    Verdict,
    client_context,
    inspect_context,
    server_context,
)
from tests._pki import key_pem, make_ca, make_leaf, pem

pytestmark = pytest.mark.network

NOW = dt.datetime.now(dt.UTC)
#: OpenSSL's reasons for "no protocol version in common".
PROTOCOL_VERSION_REFUSALS = {
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_VERSION_NUMBER",
}
KEY_PASSWORD = b"test-key-password"  # pragma: allowlist secret


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    encrypted_key: Path
    other_ca: Path
    expired_cert: Path
    expired_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca, ca_key = make_ca("securekit test CA")
    other, _ = make_ca("some other CA")
    leaf, leaf_key = make_leaf(ca, ca_key, not_after=NOW + dt.timedelta(days=7))
    old, old_key = make_leaf(ca, ca_key, not_after=NOW - dt.timedelta(days=1))
    client, client_key = make_leaf(
        ca, ca_key, not_after=NOW + dt.timedelta(days=7), usage=ExtendedKeyUsageOID.CLIENT_AUTH
    )
    files = {
        "ca": pem(ca),
        "cert": pem(leaf),
        "key": key_pem(leaf_key),
        "encrypted_key": key_pem(leaf_key, KEY_PASSWORD),
        "other_ca": pem(other),
        "expired_cert": pem(old),
        "expired_key": key_pem(old_key),
        "client_cert": pem(client),
        "client_key": key_pem(client_key),
    }
    paths = {}
    for name, data in files.items():
        path = root / f"{name}.pem"
        path.write_bytes(data)
        paths[name] = path
    return Pki(**paths)


class Server:
    """A TLS server on 127.0.0.1 that answers each connection with b"hello"."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port: int = self.sock.getsockname()[1]
        self.versions: list[str | None] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    with self.ctx.wrap_socket(conn, server_side=True) as tls:
                        self.versions.append(tls.version())
                        tls.sendall(b"hello")
                except (OSError, ssl.SSLError):
                    continue

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept() (close() alone does not).
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[[ssl.SSLContext], Server]]:
    servers: list[Server] = []

    def start(ctx: ssl.SSLContext) -> Server:
        server = Server(ctx)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def fetch(ctx: ssl.SSLContext, port: int, hostname: str = "localhost") -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        return tls.recv(5)


def legacy_server(pki: Pki, version: ssl.TLSVersion) -> ssl.SSLContext:
    """A server that speaks only ``version`` (TLS 1.0 or 1.1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl deprecates TLSv1/TLSv1_1
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = version
        ctx.maximum_version = version
    # The system OpenSSL refuses TLS 1.0/1.1 at its default security level;
    # level 0 on the *server only* makes it offer them, so a refusal can only
    # come from the client's own minimum version.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_cert_chain(pki.cert, pki.key)
    return ctx


def legacy_client(pki: Pki, version: ssl.TLSVersion) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = version
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_verify_locations(pki.ca)
    return ctx


# --- real servers -----------------------------------------------------------


def test_good_server_works(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    server = serve(server_context(pki.cert, pki.key))
    assert fetch(client_context(cafile=pki.ca), server.port) == b"hello"
    assert server.versions == ["TLSv1.3"]


def test_tls12_only_server_works(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    ctx = server_context(pki.cert, pki.key)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    server = serve(ctx)
    assert fetch(client_context(cafile=pki.ca), server.port) == b"hello"
    assert server.versions == ["TLSv1.2"]


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_legacy_only_server_is_refused(
    pki: Pki, serve: Callable[[ssl.SSLContext], Server], version: ssl.TLSVersion
) -> None:
    server = serve(legacy_server(pki, version))
    # Control: the server really speaks the old version to a client that allows it.
    assert fetch(legacy_client(pki, version), server.port) == b"hello"
    with pytest.raises(ssl.SSLError) as info:
        fetch(client_context(cafile=pki.ca), server.port)
    assert info.value.reason in PROTOCOL_VERSION_REFUSALS, info.value.reason
    # Lowering the client's security level alone does not help: the refusal
    # comes from the TLS 1.2 minimum, not from OpenSSL's policy.
    relaxed = client_context(cafile=pki.ca)
    relaxed.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as info:
        fetch(relaxed, server.port)
    assert info.value.reason in PROTOCOL_VERSION_REFUSALS, info.value.reason
    # ... and lowering its minimum as well makes the same context connect.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        relaxed.minimum_version = version
    assert fetch(relaxed, server.port) == b"hello"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_server_refuses_legacy_only_client(
    pki: Pki, serve: Callable[[ssl.SSLContext], Server], version: ssl.TLSVersion
) -> None:
    server = serve(server_context(pki.cert, pki.key))
    client = legacy_client(pki, version)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.maximum_version = version
    with pytest.raises(ssl.SSLError) as info:
        fetch(client, server.port)
    assert info.value.reason in PROTOCOL_VERSION_REFUSALS, info.value.reason
    assert server.versions == []


def test_wrong_hostname_is_refused(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    server = serve(server_context(pki.cert, pki.key))
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        fetch(client_context(cafile=pki.ca), server.port, hostname="wrong.example")
    assert "hostname" in str(info.value).lower() or "match" in str(info.value).lower()


def test_ip_address_in_san_works(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    server = serve(server_context(pki.cert, pki.key))
    assert fetch(client_context(cafile=pki.ca), server.port, hostname="127.0.0.1") == b"hello"


def test_untrusted_ca_is_refused(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    server = serve(server_context(pki.cert, pki.key))
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(client_context(cafile=pki.other_ca), server.port)
    # The system trust store does not know the test CA either.
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(client_context(), server.port)


def test_expired_certificate_is_refused(
    pki: Pki, serve: Callable[[ssl.SSLContext], Server]
) -> None:
    server = serve(server_context(pki.expired_cert, pki.expired_key))
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(client_context(cafile=pki.ca), server.port)


def test_insecure_no_hostname_check_accepts_wrong_name(
    pki: Pki, serve: Callable[[ssl.SSLContext], Server]
) -> None:
    server = serve(server_context(pki.cert, pki.key))
    with pytest.warns(InsecureConfigurationWarning):
        ctx = client_context(cafile=pki.ca, insecure_no_hostname_check=True)
    assert fetch(ctx, server.port, hostname="wrong.example") == b"hello"
    # ... but still verifies the certificate chain.
    with pytest.warns(InsecureConfigurationWarning):
        other = client_context(cafile=pki.other_ca, insecure_no_hostname_check=True)
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(other, server.port)
    assert inspect_context(ctx).verdict is Verdict.INSECURE


def test_insecure_no_verify_accepts_anything(
    pki: Pki, serve: Callable[[ssl.SSLContext], Server]
) -> None:
    server = serve(server_context(pki.cert, pki.key))
    with pytest.warns(InsecureConfigurationWarning):
        ctx = client_context(cafile=pki.other_ca, insecure_no_verify=True)
    assert fetch(ctx, server.port, hostname="wrong.example") == b"hello"
    report = inspect_context(ctx)
    assert report.verdict is Verdict.INSECURE
    assert "server certificates are not verified" in report.problems


def test_encrypted_key_and_mutual_tls(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    ctx = server_context(
        pki.cert,
        pki.encrypted_key,
        key_password=KEY_PASSWORD,
        client_ca=pki.ca,
        require_client_cert=True,
    )
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    server = serve(ctx)
    # Without a client certificate the server refuses (the alert arrives on read in TLS 1.3).
    with pytest.raises((ssl.SSLError, OSError)):
        fetch(client_context(cafile=pki.ca), server.port)
    client = client_context(cafile=pki.ca, certfile=pki.client_cert, keyfile=pki.client_key)
    assert fetch(client, server.port) == b"hello"


def test_optional_client_ca(pki: Pki) -> None:
    ctx = server_context(pki.cert, pki.key, client_ca=pki.ca)
    assert ctx.verify_mode is ssl.CERT_OPTIONAL


# --- context settings -------------------------------------------------------


def test_client_defaults() -> None:
    ctx = client_context()
    assert ctx.minimum_version is ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version is ssl.TLSVersion.MAXIMUM_SUPPORTED
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.options & ssl.OP_NO_RENEGOTIATION
    assert ctx.verify_flags & ssl.VERIFY_X509_STRICT
    names = {c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"}
    assert names == set(TLS12_CIPHERS.split(":"))
    assert inspect_context(ctx).ok


def test_server_defaults(pki: Pki) -> None:
    ctx = server_context(pki.cert, pki.key)
    assert ctx.minimum_version is ssl.TLSVersion.TLSv1_2
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.options & ssl.OP_NO_RENEGOTIATION
    assert ctx.options & ssl.OP_NO_TICKET
    assert ctx.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    report = inspect_context(ctx)
    assert report.side == "server"
    assert report.ok, report.problems


def test_tls13_minimum(pki: Pki, serve: Callable[[ssl.SSLContext], Server]) -> None:
    ctx = client_context(cafile=pki.ca, minimum_version=ssl.TLSVersion.TLSv1_3)
    assert inspect_context(ctx).minimum_version is ssl.TLSVersion.TLSv1_3
    old = server_context(pki.cert, pki.key)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    server = serve(old)
    with pytest.raises(ssl.SSLError):
        fetch(ctx, server.port)


def test_cadata_is_accepted(pki: Pki) -> None:
    ctx = client_context(cadata=pki.ca.read_text())
    assert len(ctx.get_ca_certs()) == 1


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_minimum_below_tls12_is_a_configuration_error(version: ssl.TLSVersion, pki: Pki) -> None:
    with pytest.raises(ConfigurationError, match="RFC 8996"):
        client_context(minimum_version=version)
    with pytest.raises(ConfigurationError, match="RFC 8996"):
        server_context(pki.cert, pki.key, minimum_version=version)


def test_minimum_version_wrong_type() -> None:
    with pytest.raises(TypeError):
        client_context(minimum_version=771)  # type: ignore[arg-type]


def test_bad_material_is_a_configuration_error(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigurationError):
        client_context(cafile=missing)
    with pytest.raises(ConfigurationError):
        client_context(cadata="not a certificate")
    with pytest.raises(ConfigurationError):
        server_context(missing, missing)
    with pytest.raises(ConfigurationError):
        server_context(pki.cert, pki.expired_key)  # key does not match the certificate
    with pytest.raises(ConfigurationError):
        server_context(pki.cert, pki.key, client_ca=missing)
    with pytest.raises(ConfigurationError, match="client_ca"):
        server_context(pki.cert, pki.key, require_client_cert=True)
    with pytest.raises(ConfigurationError, match="certfile"):
        client_context(keyfile=pki.key)


def test_wrong_key_password_does_not_leak(pki: Pki) -> None:
    from tests._leak import assert_no_leak

    wrong = b"wrong-password-value"  # pragma: allowlist secret
    with pytest.raises(ConfigurationError) as info:
        server_context(pki.cert, pki.encrypted_key, key_password=wrong)
    assert_no_leak(info.value, wrong, KEY_PASSWORD)


# --- the checker ------------------------------------------------------------


def _legacy_context(side: ssl._SSLMethod) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(side)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    return ctx


def test_inspect_flags_old_minimum() -> None:
    report = inspect_context(_legacy_context(ssl.PROTOCOL_TLS_CLIENT))
    assert report.verdict is Verdict.INSECURE
    assert report.minimum_version is ssl.TLSVersion.TLSv1
    assert any("below TLS 1.2" in p for p in report.problems)
    assert not report.ok


def test_inspect_flags_unset_minimum() -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    report = inspect_context(ctx)
    assert report.minimum_version is None
    assert report.verdict is Verdict.INSECURE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.options |= ssl.OP_NO_SSLv3 | ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1
    assert not any("below TLS 1.2" in p for p in inspect_context(ctx).problems)


def test_inspect_flags_client_without_verification() -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    report = inspect_context(ctx)
    assert report.verdict is Verdict.INSECURE
    assert "the server hostname is not checked" in report.problems
    assert "server certificates are not verified" not in report.problems
    ctx.verify_mode = ssl.CERT_NONE
    assert "server certificates are not verified" in inspect_context(ctx).problems


def test_inspect_weak_settings() -> None:
    ctx = ssl.create_default_context()
    report = inspect_context(ctx)
    assert report.verdict is Verdict.WEAK
    assert report.renegotiation
    assert report.weak_ciphers
    ctx.options &= ~ssl.OP_NO_COMPRESSION
    report = inspect_context(ctx)
    assert report.compression
    assert any("compression" in p for p in report.problems)
    ctx.set_ciphers("ECDHE+AESGCM:RSA+AESGCM")
    assert any(name.startswith("AES") for name in inspect_context(ctx).weak_ciphers)


def test_inspect_tls13_only_ignores_tls12_suites() -> None:
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    report = inspect_context(ctx)
    assert report.weak_ciphers == ()
    assert report.ok
    assert report.maximum_version is None
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    assert inspect_context(ctx).maximum_version is ssl.TLSVersion.TLSv1_3


def test_inspect_wrong_type() -> None:
    with pytest.raises(TypeError):
        inspect_context("context")  # type: ignore[arg-type]


def test_report_is_frozen() -> None:
    report = inspect_context(client_context())
    assert isinstance(report, ContextReport)
    with pytest.raises(AttributeError):
        report.verdict = Verdict.INSECURE  # type: ignore[misc]


INSECURE_CALLS = {
    "securekit.tls.client_context:insecure_no_verify": lambda: client_context(
        insecure_no_verify=True
    ),
    "securekit.tls.client_context:insecure_no_hostname_check": lambda: client_context(
        insecure_no_hostname_check=True
    ),
}


@pytest.mark.parametrize("field", ["cert", "key", "client_ca"])
def test_paths_with_nul_are_configuration_errors(pki: Pki, field: str) -> None:
    # load_cert_chain and load_verify_locations raise ValueError for NUL.
    paths: dict[str, Any] = {"cert": pki.cert, "key": pki.key, "client_ca": pki.ca}
    paths[field] = str(paths[field]) + "\x00"
    with pytest.raises(ConfigurationError):
        server_context(paths["cert"], paths["key"], client_ca=paths["client_ca"])


def test_client_certfile_with_nul_is_a_configuration_error(pki: Pki) -> None:
    with pytest.raises(ConfigurationError):
        client_context(cafile=pki.ca, certfile=str(pki.client_cert) + "\x00")
