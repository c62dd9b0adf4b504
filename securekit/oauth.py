"""OAuth 2.0 / OpenID Connect client helpers: code flow with PKCE, state, nonce.

Only the authorization code flow is supported, always with PKCE (S256):
the implicit and hybrid flows put tokens in the browser's URL and are
deprecated (RFC 9700 section 2.1.2). :class:`AuthorizationCodeFlow` builds
the authorization URL, checks the callback (``state`` in constant time, the
``iss`` parameter of RFC 9207, exact ``redirect_uri``), builds the token
request, and validates the ID token through
:class:`~securekit.jwt.JWTVerifier` (signature, ``iss``, ``aud``, ``azp``,
``exp``, ``nonce``).

Example:
    >>> verifier = pkce_verifier()
    >>> challenge = pkce_challenge(verifier)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from securekit._clock import Clock, aware, resolve, system_clock
from securekit._net import is_loopback
from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason
from securekit.jwt import Claims, JWTVerifier, RemoteJWKS
from securekit.keys import KeyRing
from securekit.stores import MemoryStore, Store

__all__ = [
    "DEFAULT_ID_TOKEN_MAX_AGE",
    "DEFAULT_ID_TOKEN_MAX_LIFETIME",
    "DEFAULT_PENDING_LIFETIME",
    "AuthorizationCodeFlow",
    "AuthorizationRequest",
    "IDToken",
    "PendingAuthorization",
    "TokenRequest",
    "pkce_challenge",
    "pkce_verifier",
    "redirect_uri_matches",
]

#: How long a started login may take before its callback is refused
#: (state and nonce are short-lived; RFC 9700 section 4.7.1 spirit).
DEFAULT_PENDING_LIFETIME: Final = timedelta(minutes=10)
#: An ID token must have been issued at most this long ago when we check
#: it: it comes straight from the token endpoint (OIDC Core 1.0 section
#: 3.1.3.7 step 10, "iat ... reject tokens issued too far away from now").
DEFAULT_ID_TOKEN_MAX_AGE: Final = timedelta(minutes=10)
#: Largest ``exp - iat`` accepted for ID tokens: providers use 1 to 10 hours.
DEFAULT_ID_TOKEN_MAX_LIFETIME: Final = timedelta(hours=24)

# RFC 7636 section 4.1: 32 random octets, base64url -> 43 characters.
_VERIFIER_BYTES: Final = 32
# RFC 7636 section 4.1: code_verifier = 43*128 unreserved characters.
_VERIFIER_RE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# state and nonce: 256 bits each (RFC 6749 section 10.10: >= 128 bits).
_STATE_BYTES: Final = 32
# Bounds on callback parameters, checked before any other work.
_MAX_PARAM: Final = 4096
_TOKEN_ISH_RE: Final = re.compile(r"[\x21-\x7e]+")
_IMPLICIT_PARAMS: Final = frozenset({"access_token", "id_token", "token_type"})


def pkce_verifier() -> str:
    """Return a new PKCE ``code_verifier`` (RFC 7636 section 4.1): 256 random bits."""
    return _b64url(secrets.token_bytes(_VERIFIER_BYTES))


def pkce_challenge(verifier: str) -> str:
    """Return the S256 ``code_challenge`` of ``verifier`` (RFC 7636 section 4.2).

    Only S256 exists here: ``plain`` sends the verifier itself and defeats
    the purpose (RFC 9700 section 2.1.1).

    Raises:
        TypeError: ``verifier`` is not a str.
        InvalidTokenError: ``MALFORMED`` when ``verifier`` is not 43 to 128
            unreserved characters (a provider receives it from the network).
    """
    if not isinstance(verifier, str):
        raise TypeError("verifier must be a str")
    if not _VERIFIER_RE.fullmatch(verifier):
        raise InvalidTokenError(TokenReason.MALFORMED)
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def redirect_uri_matches(candidate: str, registered: Collection[str]) -> bool:
    """Return True only if ``candidate`` equals one registered URI exactly.

    Simple string comparison, with no normalization, prefix or pattern
    matching (RFC 9700 section 4.1.3; OAuth 2.1 section 4.1.3).
    """
    if not isinstance(candidate, str):
        raise TypeError("candidate must be a str")
    if isinstance(registered, str) or not isinstance(registered, Collection):
        raise TypeError("registered must be a collection of str")
    found = False
    for uri in registered:
        if not isinstance(uri, str):
            raise TypeError("registered must be a collection of str")
        # Every entry is compared, in constant time, so timing reveals nothing.
        found |= hmac.compare_digest(_utf8(candidate), _utf8(uri))
    return found


def _utf8(text: str) -> bytes:
    # surrogatepass: a lone surrogate compares unequal instead of raising.
    return text.encode("utf-8", "surrogatepass")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _endpoint(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise ConfigurationError(f"{what} is not a valid URL") from None
    if not value.isascii() or any(c.isspace() or ord(c) < 0x20 for c in value):
        raise ConfigurationError(f"{what} must be ASCII without spaces or control characters")
    if parts.fragment or "#" in value:
        # RFC 6749 section 3.1.2: redirection and endpoint URIs have no fragment.
        raise ConfigurationError(f"{what} must not contain a fragment")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{what} must not contain user information")
    if not host:
        raise ConfigurationError(f"{what} must be an absolute URL")
    # RFC 9700 section 2.6 / RFC 8252 section 8.3: TLS everywhere except the
    # loopback interface, where traffic never leaves the machine.
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        raise ConfigurationError(f"{what} must use https (http only on loopback)")
    return value


def _param(params: Mapping[str, object], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_PARAM:
        raise InvalidTokenError(TokenReason.MALFORMED)
    if not _TOKEN_ISH_RE.fullmatch(value):
        raise InvalidTokenError(TokenReason.MALFORMED)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAuthorization:
    """What the client remembers between redirect and callback.

    Keep it in the user's server-side session (``to_dict`` /
    ``from_dict``), and remove it when the callback arrives: it binds
    ``state``, ``nonce`` and the PKCE verifier to that browser session.

    Attributes:
        state: the CSRF token echoed by the provider (RFC 6749 section 10.12).
        nonce: bound into the ID token (OIDC Core 1.0 section 3.1.2.1).
        code_verifier: the PKCE secret (RFC 7636).
        redirect_uri: the exact redirect URI sent in the request.
        created_at: when the login started.
    """

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    redirect_uri: str
    created_at: datetime

    def __post_init__(self) -> None:
        for name in ("state", "nonce", "code_verifier", "redirect_uri"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"PendingAuthorization.{name} must be a str")
        aware(self.created_at, name="created_at")

    def to_dict(self) -> dict[str, str | float]:
        """A JSON-ready form for the session store."""
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
            "created_at": self.created_at.timestamp(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PendingAuthorization:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            InvalidTokenError: ``MALFORMED`` when the data is not what
                ``to_dict`` produced.
        """
        if not isinstance(data, Mapping):
            raise InvalidTokenError(TokenReason.MALFORMED)
        texts = {}
        for name in ("state", "nonce", "code_verifier", "redirect_uri"):
            value = data.get(name)
            if not isinstance(value, str) or not 0 < len(value) <= _MAX_PARAM:
                raise InvalidTokenError(TokenReason.MALFORMED)
            if not _TOKEN_ISH_RE.fullmatch(value):
                raise InvalidTokenError(TokenReason.MALFORMED)
            texts[name] = value
        stamp = data.get("created_at")
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise InvalidTokenError(TokenReason.MALFORMED)
        try:
            created = datetime.fromtimestamp(stamp, tz=UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidTokenError(TokenReason.MALFORMED) from None
        return cls(created_at=created, **texts)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """The redirect to send the browser to, and what to keep in the session.

    Attributes:
        url: the provider's authorization URL with every parameter.
        pending: store this in the session until the callback.
    """

    url: str = field(repr=False)
    pending: PendingAuthorization


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRequest:
    """A token-endpoint request (RFC 6749 section 4.1.3 + RFC 7636 4.5).

    POST ``data`` form-encoded to ``url``, with client authentication if
    your client is confidential.
    """

    url: str
    data: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class IDToken:
    """A validated OpenID Connect ID token.

    Attributes:
        subject: ``sub``, the user's stable id at this provider. Key your
            accounts on (issuer, subject), never on the email address.
        issuer: ``iss``.
        claims: all verified claims.
    """

    subject: str
    issuer: str
    claims: Claims


class AuthorizationCodeFlow:
    """OAuth 2.0 authorization code flow with PKCE for one provider and client.

    Args:
        issuer: the provider's exact issuer identifier.
        client_id: your client id (the ID token's audience).
        authorization_endpoint: the provider's authorization endpoint.
        token_endpoint: the provider's token endpoint.
        redirect_uris: your registered redirect URIs (exact strings).
        keys: the provider's signing keys for ID tokens (a JWKS dict, a
            :class:`~securekit.jwt.RemoteJWKS`, a key ring or key list).
        scopes: requested scopes; ``openid`` is required.
        response_type: must be ``"code"``; anything else (implicit,
            hybrid) is refused.
        pending_lifetime: how long a started login stays valid.
        id_token_max_age: how old an ID token may be when checked.
        trusted_audiences: other audiences an ID token may also name
            (default none: a token for several parties is refused).
        store: where used ``state`` and ``nonce`` values are remembered,
            so each is accepted once (RFC 6749 section 10.12, OIDC Core
            1.0 section 15.5.2). Default: a :class:`~securekit.stores.MemoryStore`
            of this flow object; pass a shared store (SQLite, Redis) when
            several processes handle callbacks.
        require_iss: refuse a callback without the RFC 9207 ``iss``
            parameter. Set it when the provider's metadata has
            ``authorization_response_iss_parameter_supported: true``
            (RFC 9207 section 2.4: the client then MUST require it).
        clock: the time source.

    Raises:
        ConfigurationError: an endpoint is not https (except loopback),
            has a fragment, ``openid`` is missing, or the response type is
            not ``code``.
    """

    __slots__ = (
        "_audiences",
        "_auth_endpoint",
        "_client_id",
        "_clock",
        "_id_max_age",
        "_issuer",
        "_pending_lifetime",
        "_redirect_uris",
        "_require_iss",
        "_scopes",
        "_store",
        "_token_endpoint",
        "_verifier",
    )

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        authorization_endpoint: str,
        token_endpoint: str,
        redirect_uris: Collection[str],
        keys: KeyRing | Mapping[str, Any] | list[Any] | RemoteJWKS,
        scopes: Collection[str] = ("openid",),
        response_type: str = "code",
        pending_lifetime: timedelta = DEFAULT_PENDING_LIFETIME,
        id_token_max_age: timedelta = DEFAULT_ID_TOKEN_MAX_AGE,
        trusted_audiences: Collection[str] = (),
        store: Store | None = None,
        require_iss: bool = False,
        clock: Clock = system_clock,
    ) -> None:
        if response_type != "code":
            # RFC 9700 section 2.1.2: the implicit grant (response_type=token)
            # and other flows issuing tokens in the authorization response
            # SHOULD NOT be used; OAuth 2.1 removes them.
            raise ConfigurationError(
                "only response_type='code' is supported: the implicit and hybrid flows "
                "leak tokens through the browser (RFC 9700 section 2.1.2)"
            )
        if not isinstance(client_id, str) or not client_id or len(client_id) > 1024:
            raise ConfigurationError("client_id must be a non-empty string")
        self._client_id = client_id
        self._issuer = _endpoint(issuer, "issuer")
        self._auth_endpoint = _endpoint(authorization_endpoint, "authorization_endpoint")
        self._token_endpoint = _endpoint(token_endpoint, "token_endpoint")
        if isinstance(redirect_uris, str) or not isinstance(redirect_uris, Collection):
            raise TypeError("redirect_uris must be a collection of str")
        self._redirect_uris = tuple(_endpoint(u, "redirect_uri") for u in redirect_uris)
        if not self._redirect_uris:
            raise ConfigurationError("register at least one redirect_uri")
        if isinstance(scopes, str) or not isinstance(scopes, Collection):
            raise TypeError("scopes must be a collection of str")
        scope_list = tuple(scopes)
        for scope in scope_list:
            if not isinstance(scope, str) or not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", scope):
                raise ConfigurationError(
                    "each scope must be a non-empty scope-token (RFC 6749 3.3)"
                )
        if "openid" not in scope_list:
            raise ConfigurationError("scopes must include 'openid' to get an ID token")
        self._scopes = scope_list
        for name, value in (
            ("pending_lifetime", pending_lifetime),
            ("id_token_max_age", id_token_max_age),
        ):
            if not isinstance(value, timedelta):
                raise TypeError(f"{name} must be a timedelta")
            if not timedelta(seconds=30) <= value <= timedelta(hours=1):
                raise ConfigurationError(f"{name} must be between 30 seconds and 1 hour")
        self._pending_lifetime = pending_lifetime
        self._id_max_age = id_token_max_age
        if isinstance(trusted_audiences, str) or not isinstance(trusted_audiences, Collection):
            raise TypeError("trusted_audiences must be a collection of str")
        if not all(isinstance(a, str) and a for a in trusted_audiences):
            raise ConfigurationError("trusted_audiences must be non-empty strings")
        self._audiences = frozenset(trusted_audiences) | {client_id}
        if store is not None and not isinstance(store, Store):
            raise TypeError("store must implement securekit.stores.Store or be None")
        self._store: Store = store if store is not None else MemoryStore()
        if not isinstance(require_iss, bool):
            raise TypeError("require_iss must be a bool")
        self._require_iss = require_iss
        if not callable(clock):
            raise TypeError("clock must be a callable returning an aware datetime")
        self._clock = clock
        # OIDC Core 1.0 section 3.1.3.7: signature, iss exact, aud contains
        # client_id, exp; ID tokens are typed "JWT" or untyped and carry no jti.
        self._verifier = JWTVerifier(
            keys,
            issuer=issuer,
            audience=client_id,
            token_type="JWT",  # noqa: S106 - a media type, not a password
            require_type=False,
            require_jti=False,
            max_lifetime=DEFAULT_ID_TOKEN_MAX_LIFETIME,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"AuthorizationCodeFlow(issuer={self._issuer!r}, client_id={self._client_id!r})"

    def _use_once(self, kind: str, value: str) -> None:
        """Record ``value`` as used; raise ``REUSED`` if it already was."""
        # Hashed: the store never holds a live state or nonce.
        digest = hashlib.sha256(_utf8(f"{kind}\x00{value}")).hexdigest()
        # Remembered past the pending lifetime plus the accepted clock skew
        # (and the ID token's maximum age), after which the login is refused
        # as expired anyway.
        ttl = (self._pending_lifetime + self._id_max_age).total_seconds() + 120.0
        if not self._store.add(f"oauth:{kind}:{digest}", b"1", ttl=ttl):
            raise InvalidTokenError(TokenReason.REUSED)

    def start(
        self, *, redirect_uri: str | None = None, now: datetime | None = None
    ) -> AuthorizationRequest:
        """Begin a login: fresh state, nonce and PKCE verifier.

        Args:
            redirect_uri: one of the registered URIs (default: the first).
            now: the current time.

        Returns:
            The URL to redirect to and the pending state for the session.

        Raises:
            ConfigurationError: ``redirect_uri`` is not registered exactly.
        """
        if redirect_uri is None:
            redirect_uri = self._redirect_uris[0]
        elif not redirect_uri_matches(redirect_uri, self._redirect_uris):
            raise ConfigurationError("redirect_uri is not one of the registered redirect URIs")
        pending = PendingAuthorization(
            state=_b64url(secrets.token_bytes(_STATE_BYTES)),
            nonce=_b64url(secrets.token_bytes(_STATE_BYTES)),
            code_verifier=pkce_verifier(),
            redirect_uri=redirect_uri,
            created_at=resolve(now, self._clock),
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self._scopes),
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": pkce_challenge(pending.code_verifier),
                "code_challenge_method": "S256",
            },
            quote_via=urllib.parse.quote,
        )
        separator = "&" if urllib.parse.urlsplit(self._auth_endpoint).query else "?"
        return AuthorizationRequest(url=f"{self._auth_endpoint}{separator}{query}", pending=pending)

    def callback(
        self,
        params: Mapping[str, object],
        *,
        pending: PendingAuthorization | None,
        redirect_uri: str | None = None,
        now: datetime | None = None,
    ) -> TokenRequest:
        """Check the provider's redirect back to us and build the token request.

        Args:
            params: the callback's query parameters (one value each).
            pending: what :meth:`start` returned for this session (``None``
                when the session has none: always refused).
            redirect_uri: the URI the callback actually arrived on, without
                its query; when given it must equal the pending one exactly.
            now: the current time.

        Returns:
            The token request to POST.

        Raises:
            InvalidTokenError: ``STATE_MISMATCH`` (no pending login, or a
                state from another session: CSRF), ``EXPIRED`` (the login
                took too long), ``PROVIDER_ERROR`` (the provider returned an
                error), ``WRONG_ISSUER`` (RFC 9207 ``iss`` mismatch: mix-up),
                ``MALFORMED`` (tokens in the response, or bad parameters).
        """
        if not isinstance(params, Mapping):
            raise TypeError("params must be a mapping of query parameters")
        if pending is not None and not isinstance(pending, PendingAuthorization):
            raise TypeError("pending must be a PendingAuthorization or None")
        if _IMPLICIT_PARAMS & set(params):
            # Tokens in the authorization response: an implicit/hybrid
            # response we never asked for (RFC 9700 section 2.1.2).
            raise InvalidTokenError(TokenReason.MALFORMED)
        state = _param(params, "state")
        if pending is None or state is None:
            raise InvalidTokenError(TokenReason.STATE_MISMATCH)
        # RFC 6749 section 10.12: state binds the response to this session;
        # compared in constant time.
        if not hmac.compare_digest(state.encode("ascii"), _utf8(pending.state)):
            raise InvalidTokenError(TokenReason.STATE_MISMATCH)
        current = resolve(now, self._clock)
        age = current - pending.created_at
        if not timedelta(seconds=-60) <= age <= self._pending_lifetime:
            raise InvalidTokenError(TokenReason.EXPIRED)
        # RFC 9207 section 2.4: when the provider names itself, it must be
        # the provider we sent the user to (authorization server mix-up).
        issuer = _param(params, "iss")
        if issuer is None and self._require_iss:
            raise InvalidTokenError(TokenReason.WRONG_ISSUER)
        if issuer is not None and not hmac.compare_digest(
            issuer.encode("ascii"), self._issuer.encode("ascii")
        ):
            raise InvalidTokenError(TokenReason.WRONG_ISSUER)
        if params.get("error") is not None:
            raise InvalidTokenError(TokenReason.PROVIDER_ERROR)
        code = _param(params, "code")
        if code is None:
            raise InvalidTokenError(TokenReason.MALFORMED)
        if redirect_uri is not None and not redirect_uri_matches(
            redirect_uri, (pending.redirect_uri,)
        ):
            raise InvalidTokenError(TokenReason.MALFORMED)
        if not redirect_uri_matches(pending.redirect_uri, self._redirect_uris):
            raise InvalidTokenError(TokenReason.MALFORMED)
        # RFC 6749 section 10.12 / RFC 9700 section 4.7.1: a state value is
        # good for one callback. A replayed callback URL (browser history,
        # logs, a second tab) must not start a second token exchange.
        self._use_once("state", pending.state)
        return TokenRequest(
            url=self._token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending.redirect_uri,
                "client_id": self._client_id,
                "code_verifier": pending.code_verifier,
            },
        )

    def verify_id_token(
        self,
        id_token: str,
        *,
        pending: PendingAuthorization,
        now: datetime | None = None,
    ) -> IDToken:
        """Validate the ID token from the token response.

        Checks signature, ``iss``, ``aud`` (contains our client id),
        ``azp`` (must be our client id when present, and present when
        ``aud`` has several entries), ``exp``, ``iat`` freshness, and
        ``nonce`` (constant time) against the pending login.

        Raises:
            InvalidTokenError: any check failed; ``reason`` says which
                (``NONCE_MISMATCH``, ``WRONG_AUDIENCE`` for ``azp``,
                ``REUSED`` when an ID token for this login was already
                accepted, ...).
            UnavailableError: a remote key set could not be fetched, or the
                store is down.
        """
        if not isinstance(pending, PendingAuthorization):
            raise TypeError("pending must be a PendingAuthorization")
        current = resolve(now, self._clock)
        claims = self._verifier.verify(id_token, now=current)
        # OIDC Core 1.0 section 3.1.3.7 steps 4-5: azp.
        azp = claims.get("azp")
        if azp is not None and (not isinstance(azp, str) or azp != self._client_id):
            raise InvalidTokenError(TokenReason.WRONG_AUDIENCE)
        if len(claims.audience) > 1 and azp is None:
            raise InvalidTokenError(TokenReason.MISSING_CLAIM)
        # Step 3: reject "additional audiences not trusted by the Client".
        if not self._audiences.issuperset(claims.audience):
            raise InvalidTokenError(TokenReason.WRONG_AUDIENCE)
        # Step 10: the token comes straight from the token endpoint.
        if current - claims.issued_at > self._id_max_age:
            raise InvalidTokenError(TokenReason.EXPIRED)
        # Step 11 / section 15.5.2: nonce binds the token to this session.
        nonce = claims.get("nonce")
        if not isinstance(nonce, str):
            raise InvalidTokenError(TokenReason.NONCE_MISMATCH)
        if not hmac.compare_digest(_utf8(nonce), _utf8(pending.nonce)):
            raise InvalidTokenError(TokenReason.NONCE_MISMATCH)
        # OIDC Core 1.0 section 15.5.2: the nonce mitigates replay only if
        # an ID token carrying it is accepted once.
        self._use_once("nonce", pending.nonce)
        return IDToken(subject=claims.subject, issuer=claims.issuer, claims=claims)
