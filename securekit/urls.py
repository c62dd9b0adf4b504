"""Where the server sends browsers, and where it connects.

* :func:`is_safe_redirect` / :func:`safe_redirect_target`: refuse open
  redirects (``?next=//evil.example``) while allowing relative targets and
  your own hosts.
* :class:`OutboundGuard`: fetch a user-supplied URL without server-side
  request forgery (SSRF): every address of the host must be public, the
  connection goes to the address that was checked, and every redirect hop is
  checked again.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import ssl
import time
import unicodedata
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote, urljoin

import idna

from securekit._ssrf import (
    IPAddress,
    PinnedHTTPConnection,
    PinnedHTTPSConnection,
    Resolver,
    denied_name,
    is_public_address,
    looks_numeric,
    system_resolver,
)
from securekit.errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    UnavailableError,
    UnsafeURLError,
    URLReason,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_FETCH_PORTS",
    "DEFAULT_FETCH_SCHEMES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_URL_LENGTH",
    "CheckedURL",
    "FetchResponse",
    "OutboundGuard",
    "is_safe_redirect",
    "safe_redirect_target",
]

#: Longest URL considered at all (RFC 9110 section 4.1 recommends supporting
#: 8000 octets; longer redirect targets or fetch URLs are refused unparsed).
MAX_URL_LENGTH: Final = 8000
#: Ports an outbound fetch may use (OWASP SSRF Prevention Cheat Sheet: allow
#: only the expected ports; internal admin services listen elsewhere).
DEFAULT_FETCH_PORTS: Final = frozenset({80, 443})
#: Schemes an outbound fetch may use (OWASP SSRF Prevention Cheat Sheet).
DEFAULT_FETCH_SCHEMES: Final = frozenset({"http", "https"})
#: Redirect hops followed, each re-checked (RFC 9110 section 15.4 leaves the
#: limit to clients; browsers stop at 20, a server fetch needs far fewer).
DEFAULT_MAX_REDIRECTS: Final = 5
#: Largest response body read (OWASP SSRF Prevention Cheat Sheet: bound the
#: response; the cap is checked while reading, not after).
DEFAULT_MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024
#: Whole-fetch deadline in seconds, across all hops and reads (a slow server
#: must not hold a worker).
DEFAULT_TIMEOUT_SECONDS: Final = 10.0

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT_RE: Final = re.compile(r"[0-9]{1,5}")
_FIRST_SEGMENT_RE: Final = re.compile(r"[/?#]")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
_LABEL_RE: Final = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cookie", "proxy-authorization"})


def _forbidden_character(url: str) -> bool:
    # Browsers drop tabs and newlines anywhere and strip leading controls and
    # spaces (WHATWG URL), so "/\t/evil" is "//evil"; backslash is read as "/"
    # in http(s) URLs. Unicode format and separator characters (RLO, ZWSP,
    # U+3000) are refused too: nothing legitimate needs them in a redirect.
    for char in url:
        code = ord(char)
        if code <= 0x20 or 0x7F <= code <= 0xA0 or char == "\\":
            return True
        if code > 0x7F and unicodedata.category(char) in {"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs"}:
            return True
    return False


def _encoded_escape(path: str) -> bool:
    """True if percent-decoding the path (up to 3 rounds) makes it leave the origin.

    ``/%2F%2Fevil.example`` is harmless to a browser, but servers and proxies
    that normalize paths (or decode ``next`` twice) turn it into
    ``//evil.example``; such targets are refused rather than trusted to every
    layer in between.
    """
    current = _FIRST_SEGMENT_RE.split(path, 1)[0] if not path.startswith("/") else path
    current = re.split(r"[?#]", current, maxsplit=1)[0]
    for _ in range(3):
        if "%" not in current:
            return False
        decoded = unquote(current)
        if decoded.startswith("//") or "\\" in decoded or _CONTROL_RE.search(decoded):
            return True
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", decoded) and not path.startswith("/"):
            return True
        current = decoded
    return False


@dataclass(frozen=True, slots=True)
class _Authority:
    host: str  # IDNA-mapped ASCII host, lower case, or an IP literal without brackets
    port: int | None
    is_ip: bool
    trailing_dot: bool = False  # the name ended in "." (removed from host)


def _parse_authority(authority: str) -> _Authority | None:
    """Split ``host[:port]``; return None for anything malformed or with userinfo."""
    if "@" in authority or "%" in authority or authority == "":
        return None
    port_text: str | None = None
    trailing_dot = False
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host_text, rest = authority[1:end], authority[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
        try:
            literal = ipaddress.IPv6Address(host_text)
        except ValueError:
            return None
        host, is_ip = str(literal), True
    else:
        host_text, sep, port_text_raw = authority.partition(":")
        port_text = port_text_raw if sep else None
        mapped = _map_host(host_text)
        if mapped is None:
            return None
        host, is_ip = mapped
        trailing_dot = _ends_with_dot(host_text)
    port: int | None = None
    if port_text is not None:
        if not _PORT_RE.fullmatch(port_text) or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    return _Authority(host=host, port=port, is_ip=is_ip, trailing_dot=trailing_dot)


def _ends_with_dot(host: str) -> bool:
    # UTS 46 maps the ideographic and fullwidth full stops to "." too.
    return host.endswith((".", "\u3002", "\uff0e", "\uff61"))


def _map_host(host: str) -> tuple[str, bool] | None:
    """IDNA-map a registered name (UTS 46, as browsers do) or read an IPv4 literal."""
    if host == "" or len(host) > 253:
        return None
    try:
        mapped = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    mapped = mapped.lower()
    if mapped.endswith("."):
        mapped = mapped[:-1]
    if looks_numeric(mapped):
        # Only canonical dotted decimal; 2130706433, 0177.0.0.1, 0x7f.1 and
        # 127.1 are all 127.0.0.1 to a browser or getaddrinfo.
        try:
            return str(ipaddress.IPv4Address(mapped)), True
        except ValueError:
            return None
    if not all(_LABEL_RE.fullmatch(label) for label in mapped.split(".")):
        return None
    return mapped, False


@dataclass(frozen=True, slots=True)
class _Entry:
    host: str
    port: int | None


def _parse_allowed(allowed_hosts: Collection[str]) -> tuple[_Entry, ...]:
    if isinstance(allowed_hosts, str):
        raise TypeError("allowed_hosts must be a collection of host names, not a str")
    entries: list[_Entry] = []
    for item in allowed_hosts:
        if not isinstance(item, str):
            raise TypeError("allowed_hosts must hold str host names")
        parsed = _parse_authority(item) if item and not _forbidden_character(item) else None
        if parsed is None or "/" in item:
            raise ConfigurationError(
                f"allowed_hosts entry {item!r} is not a host name or host:port "
                "(no scheme, path, wildcard or userinfo)"
            )
        entries.append(_Entry(host=parsed.host, port=parsed.port))
    return tuple(entries)


def _split_absolute(url: str) -> tuple[str, str, str] | None:
    """``scheme://authority/rest`` -> (lower scheme, authority, rest) or None."""
    match = _SCHEME_RE.match(url)
    if match is None:
        return None
    rest = url[match.end() :]
    if not rest.startswith("//"):
        return None  # "https:evil.com" and "https:/evil.com": refused, browsers differ
    rest = rest[2:]
    end = len(rest)
    for delimiter in "/?#":
        index = rest.find(delimiter)
        if 0 <= index < end:
            end = index
    return match.group(1).lower(), rest[:end], rest[end:]


def is_safe_redirect(
    url: str, *, allowed_hosts: Collection[str], require_https: bool = False
) -> bool:
    """Return True if redirecting a browser to ``url`` keeps it on your sites.

    Allowed: relative paths (``/account``, ``page?x=1``), query-only
    (``?next=1``) and fragment-only (``#top``) targets, absolute http(s) URLs
    and scheme-relative URLs (``//example.com/path``) whose host is in
    ``allowed_hosts``. Refused: everything else, including ``//evil``,
    ``/\\evil``, ``https:evil``, ``https://good@evil``, control characters,
    tabs, newlines and spaces anywhere, every scheme but http(s), and paths
    that percent-decode to one of those (``/%2F%2Fevil``).

    Hosts compare case-insensitively after IDNA (UTS 46) mapping, as a browser
    maps them: fullwidth letters map to ASCII, so a fullwidth spelling of
    ``example.com`` *is* ``example.com`` (the browser goes there), while a
    Cyrillic look-alike is another host. A trailing dot (``example.com.``)
    is refused: the browser keeps it, so the page would have another origin
    than yours (no cookies, CORS or CSP of yours apply; Django refuses it
    too). An ``allowed_hosts`` entry may carry a port
    (``example.com:8443``), which must then match; an entry without a port
    allows the scheme's default port only (80 for http, 443 for https). A
    scheme-relative URL inherits the page's scheme, which is unknown here, so
    it may carry an explicit port only when an entry names that port (or,
    with ``require_https=True``, when the port is 443).

    By default both ``http`` and ``https`` URLs to an allowed host are safe
    (as Django's ``url_has_allowed_host_and_scheme``): a redirect to your own
    host over http is a downgrade, not an open redirect, and HSTS is the
    control for downgrades. Pass ``require_https=True`` to refuse them too.

    Args:
        url: the untrusted target (for example the ``next`` parameter).
        allowed_hosts: your host names, optionally ``host:port``.
        require_https: also refuse absolute ``http:`` URLs to allowed hosts
            (default False; opt in for the stricter mode).

    Returns:
        True if the target is safe, False otherwise (never raises for a
        ``str``).

    Raises:
        TypeError: ``url`` is not a ``str`` or ``allowed_hosts`` is a ``str``.
        ConfigurationError: an ``allowed_hosts`` entry is malformed.
    """
    if not isinstance(url, str):
        raise TypeError("url must be a str")
    entries = _parse_allowed(allowed_hosts)
    if url == "" or len(url) > MAX_URL_LENGTH or _forbidden_character(url):
        return False
    if url.startswith(("?", "#")):
        return True
    if url.startswith("//"):
        scheme = "https" if require_https else ""
        authority_and_rest = url[2:]
        end = min((i for i in map(authority_and_rest.find, "/?#") if i >= 0), default=None)
        authority = authority_and_rest[:end]
    elif url.startswith("/"):
        # A path on this origin ("//" and "/\" were handled above).
        return not _encoded_escape(url)
    else:
        split = _split_absolute(url)
        if split is None:
            # No scheme at all is a relative path; a scheme without "//"
            # ("javascript:", "https:evil") is refused.
            first = _FIRST_SEGMENT_RE.split(url, 1)[0]
            return _SCHEME_RE.match(url) is None and ":" not in first and not _encoded_escape(url)
        scheme, authority, _rest = split
        if scheme not in ("https", "http") or (require_https and scheme != "https"):
            return False
    parsed = _parse_authority(authority)
    if parsed is None or parsed.trailing_dot:
        return False
    default_port = _DEFAULT_PORTS.get(scheme)
    for entry in entries:
        if entry.host != parsed.host:
            continue
        if entry.port is None:
            if parsed.port is None or parsed.port == default_port:
                return True
        elif parsed.port == entry.port or (parsed.port is None and entry.port == default_port):
            return True
    return False


def safe_redirect_target(
    url: str | None,
    fallback: str = "/",
    *,
    allowed_hosts: Collection[str],
    require_https: bool = False,
) -> str:
    """Return ``url`` if :func:`is_safe_redirect` accepts it, else ``fallback``.

    ``None`` (a missing ``next`` parameter) also gives the fallback.

    Args:
        url: the untrusted target, or None.
        fallback: where to go instead (your own path, such as ``"/"``).
        allowed_hosts: as for :func:`is_safe_redirect`.
        require_https: as for :func:`is_safe_redirect` (default False).

    Returns:
        ``url`` when it is safe, otherwise ``fallback``.

    Raises:
        ConfigurationError: ``fallback`` is not itself a safe target.
    """
    if not isinstance(fallback, str) or not is_safe_redirect(
        fallback, allowed_hosts=allowed_hosts, require_https=require_https
    ):
        raise ConfigurationError("fallback must itself be a safe redirect target, such as '/'")
    if url is None:
        return fallback
    if is_safe_redirect(url, allowed_hosts=allowed_hosts, require_https=require_https):
        return url
    return fallback


@dataclass(frozen=True, slots=True)
class CheckedURL:
    """A URL that passed :meth:`OutboundGuard.check`, with its checked addresses.

    Attributes:
        url: the URL as checked (fragment removed).
        scheme: ``http`` or ``https``.
        host: the ASCII host name (``Host`` header, TLS server name).
        port: the port connected to.
        target: the request target (path and query, percent-encoded).
        addresses: every address the name resolved to; all are public.
    """

    url: str
    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """The final response of :meth:`OutboundGuard.fetch`.

    Attributes:
        url: the URL of the final hop.
        status: the HTTP status code.
        headers: the response headers in order received.
        body: the body (at most ``max_response_bytes``).
        redirects: how many redirects were followed.
    """

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    redirects: int

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class OutboundGuard:
    """Fetch user-supplied URLs without server-side request forgery.

    Every fetch: parse the URL strictly (http/https, allowed port, no
    userinfo, no odd numeric hosts), resolve the host once, refuse it unless
    *every* address is public (no loopback, private, link-local, CGNAT,
    multicast, reserved, metadata, IPv4-mapped, NAT64, 6to4, Teredo...),
    connect to the checked address itself, and re-check each redirect hop.
    The response is capped in size and the whole fetch has one deadline.
    ``Accept-Encoding`` is not sent, so no decompression happens.

    Args:
        schemes: allowed schemes (subset of http/https).
        ports: allowed ports.
        allowed_hosts: if given, only these host names may be fetched.
        resolver: ``resolver(host, port) -> [address, ...]``; the system
            resolver by default (tests inject a stub).
        max_redirects: redirect hops followed.
        max_response_bytes: largest body read.
        timeout: seconds for the whole fetch.
        ssl_context: TLS settings for https (default: system trust, TLS 1.2+).
        insecure_allow_loopback: also allow 127.0.0.0/8 and ::1. **Danger:**
            for tests against local servers only; in production it reopens
            SSRF to every service on the machine.

    Raises:
        ConfigurationError: an unknown scheme, a port outside 1-65535, or a
            non-positive limit.
    """

    def __init__(
        self,
        *,
        schemes: Collection[str] = DEFAULT_FETCH_SCHEMES,
        ports: Collection[int] = DEFAULT_FETCH_PORTS,
        allowed_hosts: Collection[str] | None = None,
        resolver: Resolver | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
        insecure_allow_loopback: bool = False,
    ) -> None:
        self.schemes = frozenset(schemes)
        if not self.schemes or not self.schemes <= DEFAULT_FETCH_SCHEMES:
            raise ConfigurationError("schemes must be a non-empty subset of {'http', 'https'}")
        self.ports = frozenset(ports)
        if not self.ports or any(type(p) is not int or not 0 < p < 65536 for p in self.ports):
            raise ConfigurationError("ports must be a non-empty set of ints in 1..65535")
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(_parse_allowed(allowed_hosts))
        )
        for name, value in (("max_redirects", max_redirects), ("max_bytes", max_response_bytes)):
            if type(value) is not int or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative int")
        if not isinstance(timeout, int | float) or not 0 < timeout <= 300:
            raise ConfigurationError("timeout must be a number of seconds in (0, 300]")
        self.max_redirects = max_redirects
        self.max_response_bytes = max_response_bytes
        self.timeout = float(timeout)
        self.resolver: Resolver = resolver or system_resolver
        self.ssl_context = ssl_context or _default_ssl_context()
        self.allow_loopback = insecure_allow_loopback
        if insecure_allow_loopback:
            warnings.warn(
                "OutboundGuard(insecure_allow_loopback=True) lets fetches reach this machine",
                InsecureConfigurationWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return (
            f"OutboundGuard(schemes={sorted(self.schemes)}, ports={sorted(self.ports)}, "
            f"max_redirects={self.max_redirects}, allow_loopback={self.allow_loopback})"
        )

    def _address_allowed(self, address: IPAddress) -> bool:
        if is_public_address(address):
            return True
        return self.allow_loopback and address.is_loopback and not _is_mapped(address)

    def check(self, url: str) -> CheckedURL:
        """Parse ``url``, resolve its host once and check every address.

        Returns:
            The checked URL with the addresses to connect to.

        Raises:
            UnsafeURLError: the URL is malformed, uses another scheme or
                port, carries userinfo, names a refused host, or resolves to
                a non-public address (``reason`` says which).
            TypeError: ``url`` is not a ``str``.
        """
        if not isinstance(url, str):
            raise TypeError("url must be a str")
        if len(url) > MAX_URL_LENGTH or _forbidden_character(url):
            raise UnsafeURLError(URLReason.FORBIDDEN_CHARACTER)
        split = _split_absolute(url)
        if split is None:
            raise UnsafeURLError(URLReason.MALFORMED)
        scheme, authority, rest = split
        if scheme not in self.schemes:
            raise UnsafeURLError(URLReason.SCHEME_NOT_ALLOWED)
        if "@" in authority:
            raise UnsafeURLError(URLReason.USERINFO)
        parsed = _parse_authority(authority)
        if parsed is None:
            raise UnsafeURLError(URLReason.MALFORMED)
        port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
        if port not in self.ports:
            raise UnsafeURLError(URLReason.PORT_NOT_ALLOWED)
        if self.allowed_hosts is not None and not any(
            entry.host == parsed.host and entry.port in (None, port) for entry in self.allowed_hosts
        ):
            raise UnsafeURLError(URLReason.HOST_NOT_ALLOWED)
        if parsed.is_ip:
            addresses: tuple[IPAddress, ...] = (ipaddress.ip_address(parsed.host),)
        else:
            if denied_name(parsed.host):
                raise UnsafeURLError(URLReason.HOST_NOT_ALLOWED)
            addresses = self._resolve(parsed.host, port)
        # Every address must pass: a name that also resolves to an internal
        # address could be connected to that one by any retry logic.
        if not all(self._address_allowed(address) for address in addresses):
            raise UnsafeURLError(URLReason.ADDRESS_NOT_ALLOWED)
        path = rest.split("#", 1)[0]
        if not path.startswith("/"):
            path = "/" + path
        target = quote(path, safe="!$&'()*+,/:;=?@[]~%-._")
        host_text = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
        default = _DEFAULT_PORTS[scheme]
        netloc = host_text if port == default else f"{host_text}:{port}"
        return CheckedURL(
            url=f"{scheme}://{netloc}{target}",
            scheme=scheme,
            host=parsed.host,
            port=port,
            target=target,
            addresses=addresses,
        )

    def _resolve(self, host: str, port: int) -> tuple[IPAddress, ...]:
        try:
            answers = list(self.resolver(host, port))
        except (OSError, UnicodeError, ValueError):
            raise UnsafeURLError(URLReason.RESOLUTION_FAILED) from None
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except (ValueError, TypeError):
                raise UnsafeURLError(URLReason.RESOLUTION_FAILED) from None
        if not addresses:
            raise UnsafeURLError(URLReason.RESOLUTION_FAILED)
        return tuple(dict.fromkeys(addresses))

    def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> FetchResponse:
        """Fetch ``url``, checking it and every redirect hop.

        Args:
            url: the untrusted URL.
            method: the HTTP method (``GET``, ``HEAD``, ``POST``...).
            headers: extra request headers; credentials (``Authorization``,
                ``Cookie``) are dropped when a redirect changes origin.
            body: the request body, if any (dropped when a 301/302/303
                redirect turns the request into a GET).

        Returns:
            The final response.

        Raises:
            UnsafeURLError: a hop was refused (see :meth:`check`), too many
                redirects, a body over the cap, or the deadline passed.
            UnavailableError: the server could not be reached or broke the
                HTTP protocol.
        """
        if not isinstance(method, str) or not re.fullmatch(r"[A-Z]{1,16}", method):
            raise ConfigurationError("method must be an upper-case HTTP method name")
        request_headers = dict(headers or {})
        for key, value in request_headers.items():
            if _forbidden_header(key) or _forbidden_header(value, value=True):
                raise ConfigurationError("header names and values must not hold CR, LF or NUL")
        deadline = time.monotonic() + self.timeout
        current = self.check(url)
        for hop in range(self.max_redirects + 1):
            status, response_headers, data = self._one(
                current, method, request_headers, body, deadline
            )
            location = next(
                (v for k, v in response_headers if k.lower() == "location"),
                None,
            )
            if status not in _REDIRECT_STATUSES or location is None:
                return FetchResponse(
                    url=current.url,
                    status=status,
                    headers=response_headers,
                    body=data,
                    redirects=hop,
                )
            if hop == self.max_redirects:
                break
            try:
                next_url = urljoin(current.url, location.strip())
            except ValueError:
                raise UnsafeURLError(URLReason.MALFORMED) from None
            following = self.check(next_url)
            if (following.scheme, following.host, following.port) != (
                current.scheme,
                current.host,
                current.port,
            ):
                request_headers = {
                    k: v for k, v in request_headers.items() if k.lower() not in _CREDENTIAL_HEADERS
                }
            # RFC 9110 section 15.4: 303 always becomes GET; browsers do the
            # same for POST on 301/302.
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = ("HEAD", None) if method == "HEAD" else ("GET", None)
            current = following
        raise UnsafeURLError(URLReason.TOO_MANY_REDIRECTS)

    def _one(
        self,
        checked: CheckedURL,
        method: str,
        headers: Mapping[str, str],
        body: bytes | None,
        deadline: float,
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        for address in checked.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnsafeURLError(URLReason.TIMEOUT)
            connection: http.client.HTTPConnection
            if checked.scheme == "https":
                connection = PinnedHTTPSConnection(
                    checked.host,
                    checked.port,
                    address=address,
                    timeout=remaining,
                    context=self.ssl_context,
                )
            else:
                connection = PinnedHTTPConnection(
                    checked.host, checked.port, address=address, timeout=remaining
                )
            try:
                connection.request(method, checked.target, body=body, headers=dict(headers))
                response = connection.getresponse()
                return self._read(connection, response, method, deadline)
            except TimeoutError:
                raise UnsafeURLError(URLReason.TIMEOUT) from None
            except (OSError, http.client.HTTPException):
                continue  # try the next checked address; never a fresh resolution
            finally:
                connection.close()
        raise UnavailableError("the URL could not be fetched")

    def _read(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        method: str,
        deadline: float,
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        response_headers = tuple(response.getheaders())
        if method == "HEAD" or response.status in (204, 304):
            return response.status, response_headers, b""
        length = response.getheader("Content-Length")
        if (
            length is not None
            and length.strip().isdigit()
            and int(length.strip()) > self.max_response_bytes
        ):
            raise UnsafeURLError(URLReason.RESPONSE_TOO_LARGE)
        chunks: list[bytes] = []
        total = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnsafeURLError(URLReason.TIMEOUT)
            if connection.sock is not None:
                connection.sock.settimeout(remaining)
            chunk = response.read1(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > self.max_response_bytes:
                raise UnsafeURLError(URLReason.RESPONSE_TOO_LARGE)
            chunks.append(chunk)
        return response.status, response_headers, b"".join(chunks)

    def httpx_transport(self) -> httpx.BaseTransport:
        """An ``httpx`` transport that checks and pins every request (each hop).

        Use :meth:`httpx_client` unless you build the client yourself; then
        pass ``trust_env=False`` (a proxy from the environment would resolve
        the name again) and a small ``max_redirects``.
        """
        import httpx  # noqa: PLC0415 - optional dependency

        guard = self

        class _GuardedTransport(httpx.BaseTransport):
            def __init__(self) -> None:
                self._inner = httpx.HTTPTransport(verify=guard.ssl_context, trust_env=False)

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                checked = guard.check(str(request.url))
                address = checked.addresses[0]
                request.url = request.url.copy_with(host=str(address))
                request.headers["Accept-Encoding"] = "identity"
                request.extensions = {**request.extensions, "sni_hostname": checked.host}
                response = self._inner.handle_request(request)
                try:
                    total = 0
                    chunks: list[bytes] = []
                    for chunk in response.stream:  # type: ignore[union-attr]
                        total += len(chunk)
                        if total > guard.max_response_bytes:
                            raise UnsafeURLError(URLReason.RESPONSE_TOO_LARGE)
                        chunks.append(chunk)
                finally:
                    response.close()
                return httpx.Response(
                    response.status_code,
                    headers=response.headers,
                    content=b"".join(chunks),
                    extensions=response.extensions,
                )

            def close(self) -> None:
                self._inner.close()

        return _GuardedTransport()

    def httpx_client(self, **kwargs: object) -> httpx.Client:
        """An ``httpx.Client`` using :meth:`httpx_transport` and this guard's limits."""
        import httpx  # noqa: PLC0415 - optional dependency

        return httpx.Client(
            transport=self.httpx_transport(),
            follow_redirects=True,
            max_redirects=self.max_redirects,
            timeout=self.timeout,
            trust_env=False,
            **kwargs,  # type: ignore[arg-type]
        )


def _is_mapped(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None


def _forbidden_header(text: str, *, value: bool = False) -> bool:
    if not isinstance(text, str):
        raise TypeError("header names and values must be str")
    return any(c in text for c in "\r\n\x00") or (not value and (text == "" or ":" in text))


def _default_ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    # TLS 1.2 floor (RFC 8996 deprecates 1.0 and 1.1).
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
