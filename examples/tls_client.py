"""TLS with a 1.2 floor: a server and a client on 127.0.0.1, and the checker.

Makes a throwaway CA and server certificate (in real life they come from your
PKI or ACME), serves TLS with ``server_context``, connects with
``client_context``, shows that a wrong hostname is refused, and audits two
contexts with ``inspect_context``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from securekit.tls import client_context, inspect_context, server_context


def make_pki(folder: Path) -> tuple[Path, Path, Path]:
    """Write ca.pem, cert.pem (for localhost) and key.pem; return their paths."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def serve(ctx: ssl.SSLContext, listener: socket.socket, connections: int) -> None:
    """Answer ``connections`` TLS connections with a greeting."""
    for _ in range(connections):
        conn, _ = listener.accept()
        with conn:
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(f"hello over {tls.version()}".encode())
            except (ssl.SSLError, OSError):
                pass  # the client refused us: nothing to send


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = make_pki(Path(tmp))
        server = server_context(cert, key)
        client = client_context(cafile=ca)  # a private CA; omit cafile for public sites

        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            thread = threading.Thread(target=serve, args=(server, listener, 2))
            thread.start()

            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                client.wrap_socket(raw, server_hostname="localhost") as tls,
            ):
                print("good server:", tls.recv(100).decode())

            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                    client.wrap_socket(raw, server_hostname="bank.example") as tls,
                ):
                    raise SystemExit("a wrong hostname must be refused")
            except ssl.SSLCertVerificationError as exc:
                print("wrong hostname refused:", exc.verify_message)
            thread.join(timeout=10)

    ours = inspect_context(client)
    minimum = ours.minimum_version.name if ours.minimum_version else "library default"
    print(f"client_context(): {ours.verdict.value}, minimum {minimum}")
    stdlib = inspect_context(ssl.create_default_context())
    print(f"ssl.create_default_context(): {stdlib.verdict.value}")
    for problem in stdlib.problems:
        print("  -", problem)
    assert ours.ok


if __name__ == "__main__":
    main()
