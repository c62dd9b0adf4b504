"""Address classification and pinned connections for the SSRF guard (private).

The public API is :class:`securekit.urls.OutboundGuard`. This module decides
which IP addresses a server-side fetch may reach, and opens HTTP(S)
connections to an address that was already checked, so the host name is
never resolved a second time (DNS rebinding).
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Final

__all__ = [
    "IPAddress",
    "PinnedHTTPConnection",
    "PinnedHTTPSConnection",
    "Resolver",
    "denied_name",
    "is_public_address",
    "looks_numeric",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``resolver(host, port)`` returns the IP addresses (as text) of ``host``.
Resolver = Callable[[str, int], Sequence[str]]


def _nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates), plus
# multicast and the reserved class E. Nothing here is reachable as a public
# web server; several are where cloud metadata and internal services live.
DENIED_V4: Final = _nets(
    "0.0.0.0/8",  # "this network", incl. the unspecified address (RFC 791)
    "10.0.0.0/8",  # private (RFC 1918)
    "100.64.0.0/10",  # shared address space / CGNAT (RFC 6598); Alibaba metadata
    "127.0.0.0/8",  # loopback (RFC 1122)
    # Azure WireServer / platform DNS and health probe: a "public" address
    # that every Azure VM reaches and that hands out VM extension settings.
    "168.63.129.16/32",
    "169.254.0.0/16",  # link-local (RFC 3927); AWS/GCP/Azure metadata 169.254.169.254
    "172.16.0.0/12",  # private (RFC 1918)
    "192.0.0.0/24",  # IETF protocol assignments (RFC 6890); Oracle metadata 192.0.0.192
    "192.0.2.0/24",  # TEST-NET-1 (RFC 5737)
    "192.88.99.0/24",  # 6to4 relay anycast (RFC 7526)
    "192.168.0.0/16",  # private (RFC 1918)
    "198.18.0.0/15",  # benchmarking (RFC 2544)
    "198.51.100.0/24",  # TEST-NET-2 (RFC 5737)
    "203.0.113.0/24",  # TEST-NET-3 (RFC 5737)
    "224.0.0.0/4",  # multicast (RFC 5771)
    "240.0.0.0/4",  # reserved (RFC 1112), incl. broadcast 255.255.255.255
)

#: Only global unicast space (RFC 4291 section 2.4) can hold a public server.
GLOBAL_UNICAST_V6: Final = ipaddress.ip_network("2000::/3")

# IANA IPv6 Special-Purpose Address Registry: ranges inside 2000::/3 that
# are not ordinary public hosts, or that tunnel to an IPv4 address we would
# otherwise have to decode (refused whole: fail closed).
DENIED_V6: Final = _nets(
    "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32 (RFC 4380)
    "2001:db8::/32",  # documentation (RFC 3849)
    "2002::/16",  # 6to4, embeds an IPv4 address (RFC 3056)
    "3fff::/20",  # documentation (RFC 9637)
    "5f00::/16",  # SRv6 SIDs (RFC 9602)
)
# Outside 2000::/3 and named here only for documentation and tests: loopback,
# unspecified, IPv4-mapped ::ffff:0:0/96 and -compatible ::/96, NAT64
# 64:ff9b::/96 and 64:ff9b:1::/48, discard 100::/64, ULA fc00::/7 (AWS
# metadata fd00:ec2::254), link-local fe80::/10, site-local fec0::/10,
# multicast ff00::/8.

# Names that never belong to a public host (RFC 6761 localhost, RFC 6762
# .local, RFC 8375 .home.arpa, ICANN's private-use .internal) and the cloud
# metadata names.
_DENIED_SUFFIXES: Final = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_DENIED_NAMES: Final = frozenset(
    {"localhost", "localhost.localdomain", "metadata", "instance-data", "metadata.google.internal"}
)

_HEX_RE: Final = re.compile(r"0[xX][0-9a-fA-F]*")


def is_public_address(address: IPAddress) -> bool:
    """Return True only for a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in net for net in DENIED_V4) and address.is_global
    if address.scope_id is not None or address not in GLOBAL_UNICAST_V6:
        return False
    return not any(address in net for net in DENIED_V6) and address.is_global


def looks_numeric(host: str) -> bool:
    """WHATWG URL "ends in a number": the host would be read as an IPv4 address.

    Browsers, curl and ``inet_aton`` read ``2130706433``, ``0177.0.0.1``,
    ``0x7f.1`` and ``127.1`` as 127.0.0.1. Such hosts are only accepted in
    canonical dotted-decimal form.
    """
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last != "" and last.isascii() and last.isdigit()) or bool(_HEX_RE.fullmatch(last))


def denied_name(host: str) -> bool:
    """Return True for names reserved for local or metadata services."""
    return host in _DENIED_NAMES or host.endswith(_DENIED_SUFFIXES)


def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve ``host`` with the system resolver (``getaddrinfo``)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _connect(address: IPAddress, port: int, timeout: float | None) -> socket.socket:
    """Open a TCP connection to ``address`` itself: no name lookup at all."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address; ``Host`` stays the name."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        """Connect to the pinned address, never to a fresh resolution of the name."""
        self.sock = _connect(self._address, self.port, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address, verifying the *name*'s certificate."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: IPAddress,
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._ssl_context = context

    def connect(self) -> None:
        """Connect to the pinned address; SNI and certificate check use the name."""
        sock = _connect(self._address, self.port, self.timeout)
        self.sock = self._ssl_context.wrap_socket(sock, server_hostname=self.host)
