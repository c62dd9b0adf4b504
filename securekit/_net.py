"""Host-name helpers shared by the modules that talk to configured endpoints."""

from __future__ import annotations

import ipaddress
from typing import Final

__all__ = ["is_loopback"]

# Names that always resolve to the local machine (RFC 6761 section 6.3).
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's hostname, no brackets) is the loopback interface.

    Plain HTTP is allowed only there: traffic to it never leaves the machine
    (RFC 8252 section 8.3).
    """
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
