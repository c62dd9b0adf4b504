"""TLS contexts with a TLS 1.2 floor, and a checker for any ``ssl.SSLContext``.

Use :func:`client_context` wherever code would call
``ssl.create_default_context()`` or build an ``ssl.SSLContext`` by hand, and
:func:`server_context` for a server certificate and key.
:func:`inspect_context` reports what an existing context allows (minimum
version, verification, hostname checking, compression, renegotiation, TLS 1.2
cipher suites) with a verdict, for audits and tests.

Example:
    >>> ctx = client_context()
    >>> inspect_context(ctx).verdict
    <Verdict.OK: 'ok'>
"""

from __future__ import annotations

import enum
import os
import ssl
import warnings
from dataclasses import dataclass
from typing import Final

from securekit.errors import ConfigurationError, InsecureConfigurationWarning

__all__ = [
    "DEFAULT_MINIMUM_VERSION",
    "TLS12_CIPHERS",
    "ContextReport",
    "Verdict",
    "client_context",
    "inspect_context",
    "server_context",
]

#: TLS 1.2 is the floor: RFC 8996 deprecates TLS 1.0 and 1.1, and NIST SP
#: 800-52r2 section 3.1 requires TLS 1.2 at least (TLS 1.3 is negotiated
#: whenever both sides support it, since no maximum is set).
DEFAULT_MINIMUM_VERSION: Final = ssl.TLSVersion.TLSv1_2

#: TLS 1.2 suites: forward-secret ECDHE key exchange with AEAD ciphers only,
#: the Mozilla "intermediate" profile (Server Side TLS v5.7) minus finite-field
#: DHE (RFC 7919 groups cannot be pinned through the ``ssl`` module) and
#: matching RFC 9325 section 4.2. TLS 1.3 suites are all AEAD and are not
#: affected by this string.
TLS12_CIPHERS: Final = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]
)

_ALLOWED_MINIMUMS: Final = frozenset({ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3})
# Options every context gets. Compression enables CRIME (RFC 9325 section
# 3.3); renegotiation has a history of attacks (RFC 5746) and is not needed
# by any modern peer (TLS 1.3 removed it).
_HARDENING_OPTIONS: Final = ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
# The legacy switches that, all set, mean "nothing below TLS 1.2" for a
# context whose minimum_version was left at MINIMUM_SUPPORTED.
_LEGACY_OFF: Final = ssl.OP_NO_SSLv3 | ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1
_FORWARD_SECRET_KEX: Final = frozenset({"kx-ecdhe", "kx-dhe", "kx-any"})

Path = str | os.PathLike[str]


class Verdict(enum.StrEnum):
    """The overall judgement of :func:`inspect_context`."""

    #: Everything securekit requires is in place.
    OK = "ok"
    #: Usable but weaker than it should be (compression, renegotiation,
    #: non-forward-secret or non-AEAD TLS 1.2 suites).
    WEAK = "weak"
    #: Broken protection: versions below TLS 1.2, or a client that does not
    #: verify the certificate or the hostname.
    INSECURE = "insecure"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextReport:
    """What an ``ssl.SSLContext`` allows, and a verdict.

    Attributes:
        side: ``"client"`` or ``"server"``.
        minimum_version: the lowest protocol version the context negotiates,
            or ``None`` when left to the library default (``MINIMUM_SUPPORTED``).
        maximum_version: the highest version, or ``None`` for no maximum.
        verify_mode: the certificate verification mode.
        check_hostname: whether the hostname is checked against the
            certificate.
        compression: whether TLS compression may be used.
        renegotiation: whether renegotiation may be used.
        weak_ciphers: enabled TLS 1.2 (or older) suites that are not AEAD with
            forward secrecy, by OpenSSL name.
        problems: one short sentence per finding.
        verdict: the overall judgement.
    """

    side: str
    minimum_version: ssl.TLSVersion | None
    maximum_version: ssl.TLSVersion | None
    verify_mode: ssl.VerifyMode
    check_hostname: bool
    compression: bool
    renegotiation: bool
    weak_ciphers: tuple[str, ...]
    problems: tuple[str, ...]
    verdict: Verdict

    @property
    def ok(self) -> bool:
        """True when the verdict is :attr:`Verdict.OK`."""
        return self.verdict is Verdict.OK


def _check_minimum(minimum_version: ssl.TLSVersion) -> None:
    if not isinstance(minimum_version, ssl.TLSVersion):
        raise TypeError("minimum_version must be an ssl.TLSVersion")
    if minimum_version not in _ALLOWED_MINIMUMS:
        raise ConfigurationError(
            "minimum_version must be ssl.TLSVersion.TLSv1_2 or TLSv1_3 "
            "(TLS 1.0 and 1.1 are deprecated by RFC 8996)"
        )


def _harden(ctx: ssl.SSLContext, minimum_version: ssl.TLSVersion) -> None:
    ctx.minimum_version = minimum_version
    ctx.options |= _HARDENING_OPTIONS
    ctx.set_ciphers(TLS12_CIPHERS)


def _load_chain(ctx: ssl.SSLContext, cert: Path, key: Path | None, password: bytes | None) -> None:
    try:
        ctx.load_cert_chain(os.fspath(cert), None if key is None else os.fspath(key), password)
    except (OSError, ssl.SSLError, ValueError) as exc:
        # The message names the problem class only; OpenSSL's text may quote
        # file content, and the password never appears. ValueError: a NUL in
        # a path, or a password over OpenSSL's length limit.
        raise ConfigurationError(
            f"could not load the certificate chain and private key ({type(exc).__name__}); "
            "check both paths, that the key matches the certificate and the key password"
        ) from None


def client_context(
    *,
    cafile: Path | None = None,
    capath: Path | None = None,
    cadata: str | bytes | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    key_password: bytes | None = None,
    minimum_version: ssl.TLSVersion = DEFAULT_MINIMUM_VERSION,
    insecure_no_verify: bool = False,
    insecure_no_hostname_check: bool = False,
) -> ssl.SSLContext:
    """Return a TLS client context that verifies the server.

    Certificates are verified against the system trust store, or only against
    ``cafile``/``capath``/``cadata`` when one is given (a private CA), and the
    hostname passed as ``server_hostname`` is checked against the
    certificate. The context negotiates TLS 1.2 at least (TLS 1.3 when the
    server supports it), without compression or renegotiation, and with
    forward-secret AEAD suites only for TLS 1.2.

    Args:
        cafile: PEM file of trusted CA certificates (replaces the system store).
        capath: directory of hashed CA certificates (replaces the system store).
        cadata: PEM text or DER bytes of trusted CA certificates.
        certfile: client certificate chain for mutual TLS.
        keyfile: the client certificate's private key (default: in certfile).
        key_password: the private key's password, if it is encrypted.
        minimum_version: ``TLSv1_2`` (default) or ``TLSv1_3``.
        insecure_no_verify: **Danger**: accept any certificate, so anyone on
            the network path can impersonate the server. Also turns off the
            hostname check. For local debugging only.
        insecure_no_hostname_check: **Danger**: accept a valid certificate for
            any name, so any certificate the CA ever issued impersonates this
            server.

    Returns:
        A new ``ssl.SSLContext`` for ``PROTOCOL_TLS_CLIENT``.

    Raises:
        ConfigurationError: a minimum below TLS 1.2, or unreadable or
            mismatched certificate, key or CA material.
        TypeError: ``minimum_version`` is not an ``ssl.TLSVersion``.
    """
    _check_minimum(minimum_version)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _harden(ctx, minimum_version)
    # RFC 5280 strictness (as Python 3.13's create_default_context does):
    # reject certificates that OpenSSL would otherwise accept leniently.
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    if cafile is None and capath is None and cadata is None:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        try:
            ctx.load_verify_locations(
                None if cafile is None else os.fspath(cafile),
                None if capath is None else os.fspath(capath),
                cadata,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigurationError(
                f"could not load the trusted CA certificates ({type(exc).__name__}); "
                "check cafile/capath/cadata"
            ) from None
    if certfile is not None:
        _load_chain(ctx, certfile, keyfile, key_password)
    elif keyfile is not None:
        raise ConfigurationError("keyfile was given without certfile")
    if insecure_no_verify:
        warnings.warn(
            "client_context(insecure_no_verify=True): server certificates are not verified",
            InsecureConfigurationWarning,
            stacklevel=2,
        )
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif insecure_no_hostname_check:
        warnings.warn(
            "client_context(insecure_no_hostname_check=True): the server's name is not checked",
            InsecureConfigurationWarning,
            stacklevel=2,
        )
        ctx.check_hostname = False
    return ctx


def server_context(
    cert: Path,
    key: Path | None = None,
    *,
    key_password: bytes | None = None,
    client_ca: Path | None = None,
    require_client_cert: bool = False,
    minimum_version: ssl.TLSVersion = DEFAULT_MINIMUM_VERSION,
) -> ssl.SSLContext:
    """Return a TLS server context for a certificate chain and private key.

    TLS 1.2 at least (TLS 1.3 preferred by OpenSSL whenever the client offers
    it), the server's cipher order, forward-secret AEAD suites only for
    TLS 1.2, no compression, no renegotiation, no session tickets (fresh
    ECDHE keys per connection, RFC 9325 section 3.4 on ticket keys).

    Args:
        cert: PEM file with the server certificate chain (leaf first).
        key: PEM file with the private key (default: in ``cert``).
        key_password: the private key's password, if it is encrypted.
        client_ca: PEM file of CAs that issue client certificates (mutual TLS).
        require_client_cert: refuse clients without a certificate from
            ``client_ca`` (needs ``client_ca``).
        minimum_version: ``TLSv1_2`` (default) or ``TLSv1_3``.

    Returns:
        A new ``ssl.SSLContext`` for ``PROTOCOL_TLS_SERVER``.

    Raises:
        ConfigurationError: a minimum below TLS 1.2, unreadable or mismatched
            certificate and key, or ``require_client_cert`` without
            ``client_ca``.
        TypeError: ``minimum_version`` is not an ``ssl.TLSVersion``.
    """
    _check_minimum(minimum_version)
    if require_client_cert and client_ca is None:
        raise ConfigurationError("require_client_cert=True needs client_ca (the CA file)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(ctx, minimum_version)
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_TICKET
    _load_chain(ctx, cert, key, key_password)
    if client_ca is not None:
        try:
            ctx.load_verify_locations(cafile=os.fspath(client_ca))
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise ConfigurationError(
                f"could not load client_ca ({type(exc).__name__}); check the path"
            ) from None
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return ctx


def _weak_ciphers(ctx: ssl.SSLContext) -> tuple[str, ...]:
    weak: list[str] = []
    for suite in ctx.get_ciphers():
        if suite.get("protocol") == "TLSv1.3":
            continue  # every TLS 1.3 suite is AEAD with (EC)DHE (RFC 8446 section 9.1)
        if not suite.get("aead") or suite.get("kea") not in _FORWARD_SECRET_KEX:
            weak.append(str(suite.get("name")))
    return tuple(weak)


def inspect_context(ctx: ssl.SSLContext) -> ContextReport:
    """Report what ``ctx`` allows, with a verdict.

    ``INSECURE``: a version below TLS 1.2 is possible, or (for a client)
    certificates or hostnames are not verified. ``WEAK``: compression or
    renegotiation is possible, or a TLS 1.2 suite lacks AEAD or forward
    secrecy (unless the context is TLS 1.3 only). ``OK`` otherwise.

    Args:
        ctx: any ``ssl.SSLContext`` (from securekit, ``ssl`` or a library).

    Returns:
        A :class:`ContextReport`.

    Raises:
        TypeError: ``ctx`` is not an ``ssl.SSLContext``.
    """
    if not isinstance(ctx, ssl.SSLContext):
        raise TypeError("ctx must be an ssl.SSLContext")
    side = "server" if ctx.protocol is ssl.PROTOCOL_TLS_SERVER else "client"
    insecure: list[str] = []
    weak: list[str] = []

    minimum: ssl.TLSVersion | None = ctx.minimum_version
    if minimum is ssl.TLSVersion.MINIMUM_SUPPORTED:
        minimum = None
    maximum: ssl.TLSVersion | None = ctx.maximum_version
    if maximum is ssl.TLSVersion.MAXIMUM_SUPPORTED:
        maximum = None
    if minimum is None:
        if (ctx.options & _LEGACY_OFF) != _LEGACY_OFF:
            insecure.append("versions below TLS 1.2 are allowed (minimum_version not set)")
    elif minimum < ssl.TLSVersion.TLSv1_2:
        insecure.append(f"versions below TLS 1.2 are allowed (minimum {minimum.name})")

    if side == "client":
        if ctx.verify_mode is not ssl.CERT_REQUIRED:
            insecure.append("server certificates are not verified")
        if not ctx.check_hostname:
            insecure.append("the server hostname is not checked")

    compression = not ctx.options & ssl.OP_NO_COMPRESSION
    if compression:
        weak.append("TLS compression is allowed (CRIME)")
    renegotiation = not ctx.options & ssl.OP_NO_RENEGOTIATION
    if renegotiation:
        weak.append("renegotiation is allowed")
    tls13_only = minimum is ssl.TLSVersion.TLSv1_3
    weak_ciphers = () if tls13_only else _weak_ciphers(ctx)
    if weak_ciphers:
        weak.append(f"{len(weak_ciphers)} TLS 1.2 cipher suites lack AEAD or forward secrecy")

    if insecure:
        verdict = Verdict.INSECURE
    elif weak:
        verdict = Verdict.WEAK
    else:
        verdict = Verdict.OK
    return ContextReport(
        side=side,
        minimum_version=minimum,
        maximum_version=maximum,
        verify_mode=ctx.verify_mode,
        check_hostname=ctx.check_hostname,
        compression=compression,
        renegotiation=renegotiation,
        weak_ciphers=weak_ciphers,
        problems=tuple(insecure + weak),
        verdict=verdict,
    )
