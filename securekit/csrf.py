"""Cross-site request forgery protection: Fetch Metadata, Origin, signed tokens.

Example:
    >>> from securekit.keys import KeyRing
    >>> csrf = CSRFProtect(KeyRing.generate("mac"), origins={"https://app.example"})
    >>> token = csrf.token(session_id="the-session-token")
    >>> csrf.verify(
    ...     method="POST",
    ...     headers={"Sec-Fetch-Site": "same-origin", "Origin": "https://app.example"},
    ...     token=token,
    ...     session_id="the-session-token",
    ... )

Checks, in order, for every state-changing request (safe methods are
exempt): the browser's ``Sec-Fetch-Site`` header, then the ``Origin`` header
against the configured origins, then a token bound to the session by HMAC
and masked afresh for every response (so its bytes in a compressed HTML page
differ each time: BREACH).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import warnings
from collections.abc import Collection, Mapping
from typing import Final
from urllib.parse import urlsplit

from securekit.errors import (
    ConfigurationError,
    CSRFError,
    CSRFReason,
    InsecureConfigurationWarning,
)
from securekit.keys import KeyKind, KeyRing

__all__ = [
    "FORM_FIELD",
    "HEADER_NAME",
    "SAFE_METHODS",
    "CSRFProtect",
]

#: Methods that must not change state (RFC 9110 section 9.2.1): exempt.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Conventional names for carrying the token.
FORM_FIELD: Final = "csrf_token"
HEADER_NAME: Final = "X-CSRF-Token"

_VERSION: Final = 1
_SECRET_BYTES: Final = 32  # HMAC-SHA256 output
_RAW_BYTES: Final = 1 + 4 + 2 * _SECRET_BYTES  # version | key id | mask | masked
_TOKEN_CHARS: Final = 92  # unpadded base64url of 69 bytes
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{92}")
_LABEL: Final = b"securekit/csrf/v1\x00"
_MAX_ORIGIN: Final = 2048
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
#: Fetch Metadata values that mean "this site itself (or the user) sent it"
#: (W3C Fetch Metadata Request Headers, section 2.1).
_SAME_ORIGIN: Final = frozenset({"same-origin", "none"})


def _origin(value: str) -> str | None:
    """Serialise an origin (RFC 6454 section 6.1), or None if it is not one."""
    if len(value) > _MAX_ORIGIN or not value.isascii() or not value.isprintable():
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.password:
        return None
    host = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def _binding(session_id: str) -> bytes:
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, not {type(session_id).__name__}")
    if not session_id or len(session_id) > 4096:
        raise ConfigurationError("session_id must be 1 to 4096 characters")
    # surrogatepass: any str binds, none raises UnicodeEncodeError.
    return _LABEL + session_id.encode("utf-8", "surrogatepass")


class CSRFProtect:
    """Checks that a state-changing request comes from this site.

    Args:
        ring: a ``mac`` key ring; the CSRF key is derived from it with
            ``ring.derive("csrf")``, so the ring may serve other recipes too.
            Tokens made with a retired key still verify (rotation).
        origins: this site's own origins (``"https://app.example"``,
            ``"https://app.example:8443"``) plus any other origin trusted
            to send state-changing requests.
        insecure_allow_same_site: accept ``Sec-Fetch-Site: same-site``
            (requests from sibling subdomains) without an allowed Origin.

    Danger:
        ``insecure_allow_same_site`` lets any subdomain (including a
        compromised or user-content one) pass the header checks; the token
        check still applies.

    Raises:
        ConfigurationError: the ring is not a ``mac`` ring or an origin is
            not a bare ``http(s)://host[:port]``.
    """

    def __init__(
        self,
        ring: KeyRing,
        *,
        origins: Collection[str],
        insecure_allow_same_site: bool = False,
    ) -> None:
        if not isinstance(ring, KeyRing):
            raise TypeError("ring must be a securekit.keys.KeyRing")
        if ring.kind is not KeyKind.MAC:
            raise ConfigurationError("CSRFProtect needs a 'mac' key ring")
        if isinstance(origins, str) or not isinstance(origins, Collection):
            raise TypeError("origins must be a collection of origin strings")
        allowed: set[str] = set()
        for item in origins:
            if not isinstance(item, str):
                raise TypeError("origins must be strings")
            parsed = _origin(item)
            if parsed is None:
                raise ConfigurationError(
                    "each origin must look like 'https://host' or 'https://host:port'"
                )
            allowed.add(parsed)
        if not allowed:
            raise ConfigurationError("origins must list at least this site's own origin")
        if insecure_allow_same_site:
            warnings.warn(
                "CSRFProtect accepts same-site (sibling subdomain) requests",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
        self._ring = ring.derive("csrf")
        self._origins = frozenset(allowed)
        self._allow_same_site = insecure_allow_same_site

    def __repr__(self) -> str:
        return f"CSRFProtect(origins={sorted(self._origins)!r})"

    def _secret(self, material: bytes, session_id: str) -> bytes:
        return hmac.new(material, _binding(session_id), hashlib.sha256).digest()

    def token(self, session_id: str) -> str:
        """Return a fresh masked token for the session (one per response).

        Args:
            session_id: the session's token, or any stable per-session secret
                string; rotating the session invalidates its CSRF tokens.
        """
        key = self._ring.primary
        secret = self._secret(key.material, session_id)
        mask = secrets.token_bytes(_SECRET_BYTES)
        masked = bytes(a ^ b for a, b in zip(secret, mask, strict=True))
        raw = struct.pack(">BI", _VERSION, key.id) + mask + masked
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def verify(
        self,
        *,
        method: str,
        headers: Mapping[str, str],
        token: str | None,
        session_id: str,
    ) -> None:
        """Refuse a cross-site state-changing request.

        Args:
            method: the HTTP method; GET, HEAD, OPTIONS and TRACE pass.
            headers: the request headers (names case-insensitive).
            token: the token from the form field or header, None if absent.
            session_id: the same value given to :meth:`token`.

        Raises:
            CSRFError: ``CROSS_SITE`` (Fetch Metadata), ``BAD_ORIGIN``,
                ``MISSING_TOKEN``, ``MALFORMED_TOKEN`` or ``BAD_TOKEN``.
        """
        if not isinstance(method, str):
            raise TypeError("method must be a str")
        if method.upper() in SAFE_METHODS:
            return
        self.check_headers(headers)
        self.check_token(token, session_id=session_id)

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Run only the Fetch Metadata and Origin checks (see :meth:`verify`).

        Raises:
            CSRFError: ``CROSS_SITE`` or ``BAD_ORIGIN``.
        """
        if not isinstance(headers, Mapping):
            raise TypeError("headers must be a mapping")
        lowered: dict[str, str] = {}
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("header names and values must be str")
            low = name.lower()
            if low in lowered and lowered[low] != value:
                # Two spellings of one header with different values: ambiguous.
                raise CSRFError(CSRFReason.BAD_ORIGIN)
            lowered[low] = value
        origin_header = lowered.get("origin")
        origin = None if origin_header is None else _origin(origin_header)
        if origin_header is not None and origin not in self._origins:
            # Includes "null" (sandboxed frames, some redirects) and garbage.
            raise CSRFError(CSRFReason.BAD_ORIGIN)
        site = lowered.get("sec-fetch-site")
        if site is not None:
            site = site.strip().lower()
            if site in _SAME_ORIGIN:
                return
            if origin is not None:
                return  # cross-origin but from an explicitly trusted origin
            if site == "same-site" and self._allow_same_site:
                return
            raise CSRFError(CSRFReason.CROSS_SITE)

    def check_token(self, token: str | None, *, session_id: str) -> None:
        """Run only the token check (see :meth:`verify`).

        Raises:
            CSRFError: ``MISSING_TOKEN``, ``MALFORMED_TOKEN`` or ``BAD_TOKEN``.
        """
        binding = _binding(session_id)  # argument checks before the token's
        if token is None or token == "":
            raise CSRFError(CSRFReason.MISSING_TOKEN)
        if not isinstance(token, str):
            raise TypeError("token must be a str or None")
        if len(token) != _TOKEN_CHARS or not _TOKEN_RE.fullmatch(token):
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        try:
            raw = base64.urlsafe_b64decode(token + "===")
        except (binascii.Error, ValueError):  # pragma: no cover - regex-checked
            raise CSRFError(CSRFReason.MALFORMED_TOKEN) from None
        if len(raw) != _RAW_BYTES or raw[0] != _VERSION:
            raise CSRFError(CSRFReason.MALFORMED_TOKEN)
        (key_id,) = struct.unpack(">I", raw[1:5])
        key = self._ring.get(key_id)
        if key is None:
            raise CSRFError(CSRFReason.BAD_TOKEN)
        mask, masked = raw[5 : 5 + _SECRET_BYTES], raw[5 + _SECRET_BYTES :]
        presented = bytes(a ^ b for a, b in zip(masked, mask, strict=True))
        expected = hmac.new(key.material, binding, hashlib.sha256).digest()
        if not hmac.compare_digest(presented, expected):
            raise CSRFError(CSRFReason.BAD_TOKEN)
