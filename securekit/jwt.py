"""JSON Web Tokens with every check PyJWT leaves to the caller.

Use :class:`JWTIssuer` to issue access tokens, :class:`JWTVerifier` to verify
them, :class:`RefreshTokens` for single-use rotating refresh tokens with reuse
detection, and :class:`JTIDenylist` to revoke tokens before they expire.

The verifier is built once from a pinned policy (keys, issuer, audience, token
type, leeway, maximum lifetime); each key is bound to exactly one algorithm,
so a token can never choose the algorithm or the key type (RFC 8725). Every
failure is one :class:`~securekit.errors.InvalidTokenError` with a ``reason``
for logs.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, Protocol

from securekit import _jwt_codec as codec
from securekit._clock import Clock, resolve, system_clock
from securekit._jwks import KeySet, KeySource, keys_from_jwks, mac_kid, to_key_source
from securekit._jwt_codec import VerifyKey
from securekit.errors import (
    ConfigurationError,
    InvalidTokenError,
    TokenReason,
    UnavailableError,
)
from securekit.keys import KeyKind, KeyRing

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "DEFAULT_ACCESS_LIFETIME",
    "DEFAULT_FAMILY_LIFETIME",
    "DEFAULT_JWKS_MAX_AGE",
    "DEFAULT_JWKS_MAX_BYTES",
    "DEFAULT_JWKS_TIMEOUT",
    "DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_LIFETIME",
    "DEFAULT_MAX_TOKEN_BYTES",
    "DEFAULT_REFRESH_LIFETIME",
    "MAX_LEEWAY",
    "REFRESH_TOKEN_TYPE",
    "Claims",
    "JTIDenylist",
    "JWTIssuer",
    "JWTVerifier",
    "RefreshTokens",
    "RemoteJWKS",
    "TokenPair",
    "TokenStore",
    "unverified_header",
]

#: ``typ`` of access tokens (RFC 9068 section 2.1, explicit typing per
#: RFC 8725 section 3.11).
ACCESS_TOKEN_TYPE: Final = "at+jwt"  # noqa: S105 - a media type, not a password
#: ``typ`` of securekit refresh tokens: a distinct type, so a refresh token is
#: never accepted where an access token is expected (RFC 8725 section 3.11).
REFRESH_TOKEN_TYPE: Final = "rt+jwt"  # noqa: S105 - a media type, not a password
#: Access-token lifetime: short, since a bearer token cannot be recalled
#: (OWASP JWT Cheat Sheet, "Token sidejacking"; RFC 9700 section 2.2.1).
DEFAULT_ACCESS_LIFETIME: Final = timedelta(minutes=15)
#: Lifetime of one refresh token; each use rotates it (RFC 9700 section 4.14.2).
DEFAULT_REFRESH_LIFETIME: Final = timedelta(days=14)
#: Absolute lifetime of a refresh-token family: after it, log in again
#: (RFC 9700 section 4.14.2, refresh tokens "expire" independently of use).
DEFAULT_FAMILY_LIFETIME: Final = timedelta(days=30)
#: Clock skew allowed on exp, nbf and iat (RFC 7519 section 4.1.4: "a small
#: leeway, usually no more than a few minutes").
DEFAULT_LEEWAY: Final = timedelta(seconds=30)
#: The largest leeway a verifier accepts ("a few minutes", RFC 7519 4.1.4).
MAX_LEEWAY: Final = timedelta(seconds=300)
#: Largest ``exp - iat`` a verifier accepts by default: our access lifetime.
DEFAULT_MAX_LIFETIME: Final = timedelta(minutes=15)
#: Largest ``max_lifetime`` of an access-token verifier: one day.
MAX_ACCESS_LIFETIME: Final = timedelta(days=1)
#: Size cap checked before any parsing (RFC 8725 section 3.9 spirit: bound
#: the work an unauthenticated party can cause; real tokens are < 2 KiB).
DEFAULT_MAX_TOKEN_BYTES: Final = 8 * 1024
#: Remote JWKS: network timeout.
DEFAULT_JWKS_TIMEOUT: Final = timedelta(seconds=5)
#: Remote JWKS: response size cap (real key sets are a few KiB).
DEFAULT_JWKS_MAX_BYTES: Final = 64 * 1024
#: Remote JWKS: how long a fetched key set is used before it is fetched again.
DEFAULT_JWKS_MAX_AGE: Final = timedelta(minutes=10)
#: Remote JWKS: minimum time between refetches caused by an unknown ``kid``,
#: so tokens with random kids cannot make us hammer the issuer.
DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN: Final = timedelta(seconds=60)

# Claims securekit sets itself; callers cannot override them.
_RESERVED_CLAIMS: Final = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "fam", "auth_time", "ext", "typ"}
)
# NumericDate range: 1970 to 9999-12-31 (datetime's range), so conversion
# never overflows (RFC 7519 section 2, NumericDate).
_MAX_NUMERIC_DATE: Final = 253402300799
_MAX_STRING_CLAIM: Final = 1024
_JTI_BYTES: Final = 16  # 128 bits: unguessable and collision-free (RFC 7519 4.1.7)


def _seconds(value: timedelta, name: str) -> float:
    if not isinstance(value, timedelta):
        raise TypeError(f"{name} must be a timedelta")
    return value.total_seconds()


def _non_empty(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str")
    if not value or len(value) > _MAX_STRING_CLAIM:
        raise ConfigurationError(f"{name} must be a non-empty string of at most 1024 characters")
    return value


def _audiences(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({_non_empty(value, "audience")})
    if not isinstance(value, Collection):
        raise TypeError("audience must be a str or a collection of str")
    found = frozenset(_non_empty(item, "audience") for item in value)
    if not found:
        raise ConfigurationError("audience must name at least one audience")
    return found


def _normalize_typ(value: str) -> str:
    # RFC 7515 section 4.1.9: typ is a media type, compared case-insensitively,
    # and "application/" may be omitted. Media types are ASCII (RFC 6838
    # section 4.2): a non-ASCII value is kept as-is so that it never matches,
    # since Unicode case folding maps some letters onto ASCII ones (U+212A
    # KELVIN SIGN lower-cases to "k").
    if not value.isascii():
        return value
    lowered = value.lower()
    return lowered.removeprefix("application/")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _check_json_value(value: object, depth: int = 0) -> None:
    # Caller-supplied claims must round-trip through strict JSON, or the
    # verifier would reject what the issuer produced.
    if depth > codec.MAX_JSON_DEPTH - 2:
        raise ConfigurationError("claims are nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigurationError("claims must not contain NaN or infinity")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json_value(item, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigurationError("claim object keys must be strings")
            _check_json_value(item, depth + 1)
        return
    raise ConfigurationError(f"claim values must be JSON values, not {type(value).__name__}")


def _dumps(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claims:
    """The verified claims of a token: typed, read-only.

    Attributes:
        issuer: ``iss``.
        subject: ``sub``.
        audience: ``aud`` as a tuple (a single string becomes one element).
        issued_at: ``iat``.
        expires_at: ``exp``.
        not_before: ``nbf`` when present.
        jwt_id: ``jti`` (``""`` when absent, only possible for a verifier
            built with ``require_jti=False``).
        token_type: the header ``typ``, normalized (``at+jwt``).
        key_id: the header ``kid`` when present.
        family_id: the refresh family of a refresh token (``None`` otherwise).
        extra: every other claim, deeply read-only.
    """

    issuer: str
    subject: str
    audience: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    not_before: datetime | None
    jwt_id: str
    token_type: str
    key_id: str | None
    family_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def _registered(self) -> dict[str, Any]:
        # RFC 7519 section 4.1 names, as the token carried them (NumericDates
        # as seconds since the epoch).
        names: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience[0] if len(self.audience) == 1 else list(self.audience),
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
        }
        if self.not_before is not None:
            names["nbf"] = int(self.not_before.timestamp())
        if self.jwt_id:
            names["jti"] = self.jwt_id
        return names

    def __getitem__(self, name: str) -> Any:
        """Return a claim by its JWT name: ``claims["sub"]``, ``claims["scope"]``.

        Raises:
            KeyError: the token has no such claim.
        """
        if name in self.extra:
            return self.extra[name]
        return self._registered()[name]

    def __contains__(self, name: object) -> bool:
        return name in self.extra or name in self._registered()

    def get(self, name: str, default: Any = None) -> Any:
        """Return the claim ``name`` (registered or custom), or ``default``."""
        try:
            return self[name]
        except KeyError:
            return default


def _date(value: object) -> float:
    # NumericDate (RFC 7519 section 2): a JSON number. Strings and booleans
    # are refused (Python's bool is an int), and so are non-finite values
    # such as 1e400, which json parses as infinity.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(TokenReason.BAD_CLAIM)
    if not 0 <= value <= _MAX_NUMERIC_DATE:  # also False for NaN
        raise InvalidTokenError(TokenReason.BAD_CLAIM)
    return float(value)


def _string_claim(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_STRING_CLAIM:
        raise InvalidTokenError(TokenReason.BAD_CLAIM)
    return value


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


class JWTVerifier:
    """Verifies JWTs against a policy pinned at construction.

    Example:
        >>> ring = KeyRing.generate("signing")
        >>> verifier = JWTVerifier(ring.public_jwks(), issuer="https://auth.example",
        ...                        audience="api.example")
        >>> claims = verifier.verify(token)  # doctest: +SKIP
    """

    __slots__ = (
        "_audiences",
        "_clock",
        "_is_revoked",
        "_issuer",
        "_keys",
        "_leeway",
        "_max_lifetime",
        "_max_size",
        "_require_jti",
        "_require_type",
        "_token_type",
    )

    def __init__(
        self,
        keys: KeyRing | Mapping[str, Any] | list[Any] | RemoteJWKS,
        *,
        issuer: str,
        audience: str | Collection[str],
        token_type: str = ACCESS_TOKEN_TYPE,
        leeway: timedelta = DEFAULT_LEEWAY,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
        is_revoked: Callable[[str], bool] | None = None,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        clock: Clock = system_clock,
        require_type: bool = True,
        require_jti: bool = True,
    ) -> None:
        """Build a verifier.

        Args:
            keys: a ``signing`` or ``mac`` :class:`~securekit.keys.KeyRing`
                (public parts are used), a JWKS dict (``{"keys": [...]}``), a
                list of public keys (``cryptography`` public key objects, PEM
                ``bytes`` or JWK dicts), or a :class:`RemoteJWKS`. HS256
                secrets and asymmetric keys are never mixed.
            issuer: the exact expected ``iss``.
            audience: our audience (or several); a token's ``aud`` must
                contain one of them.
            token_type: the expected header ``typ`` (``at+jwt``, RFC 9068).
                Refresh tokens are verified by :class:`RefreshTokens` only.
            leeway: clock skew allowed on ``exp``, ``nbf`` and ``iat``
                (0 to 300 seconds).
            max_lifetime: the largest ``exp - iat`` accepted (at most a day).
            is_revoked: a callable ``jti -> bool`` such as a
                :class:`JTIDenylist`; True rejects the token.
            max_token_bytes: size cap checked before parsing.
            clock: returns the current time (tests pass a FixedClock).
            require_type: keep the default True. ``False`` also accepts a
                token with no ``typ`` header, and is allowed only with
                ``token_type="JWT"``: OpenID Connect ID tokens carry
                ``typ: JWT`` or none at all (OIDC Core 1.0 section 2 does not
                type them), so :mod:`securekit.oauth` verifies them this way.
                Access-token verifiers always require ``typ`` (RFC 9068).
            require_jti: keep the default True. ``False`` accepts a token
                without ``jti`` (ID tokens rarely have one); its
                ``Claims.jwt_id`` is then ``""``. Not allowed together with
                ``is_revoked``, which needs a ``jti`` to look up.

        Raises:
            ConfigurationError: a weak, unsupported or mixed key set, or a
                policy value out of range.
        """
        if not isinstance(token_type, str) or not token_type:
            raise ConfigurationError("token_type must be a non-empty media type such as 'at+jwt'")
        if _normalize_typ(token_type) == REFRESH_TOKEN_TYPE:
            raise ConfigurationError(
                "refresh tokens are verified by RefreshTokens.rotate(), never by JWTVerifier"
            )
        lifetime = _seconds(max_lifetime, "max_lifetime")
        if not 0 < lifetime <= MAX_ACCESS_LIFETIME.total_seconds():
            raise ConfigurationError("max_lifetime must be positive and at most one day")
        if not isinstance(require_type, bool) or not isinstance(require_jti, bool):
            raise TypeError("require_type and require_jti must be bools")
        if not require_type and _normalize_typ(token_type) != "jwt":
            raise ConfigurationError(
                "require_type=False is only for ID tokens (token_type='JWT'); "
                "access tokens must be explicitly typed (RFC 9068 section 2.1)"
            )
        if not require_jti and is_revoked is not None:
            raise ConfigurationError("is_revoked needs require_jti=True: revocation looks up jti")
        self._setup(
            keys,
            issuer=issuer,
            audience=audience,
            token_type=token_type,
            leeway=leeway,
            max_lifetime=max_lifetime,
            is_revoked=is_revoked,
            max_token_bytes=max_token_bytes,
            clock=clock,
            require_type=require_type,
            require_jti=require_jti,
        )

    def _setup(
        self,
        keys: object,
        *,
        issuer: str,
        audience: str | Collection[str],
        token_type: str,
        leeway: timedelta,
        max_lifetime: timedelta,
        is_revoked: Callable[[str], bool] | None,
        max_token_bytes: int,
        clock: Clock,
        require_type: bool = True,
        require_jti: bool = True,
    ) -> None:
        self._require_type = require_type
        self._require_jti = require_jti
        self._keys: KeySource = to_key_source(keys)
        self._issuer = _non_empty(issuer, "issuer")
        self._audiences = _audiences(audience)
        self._token_type = _normalize_typ(token_type)
        self._leeway = _seconds(leeway, "leeway")
        if not 0 <= self._leeway <= MAX_LEEWAY.total_seconds():
            raise ConfigurationError("leeway must be between 0 and 300 seconds (RFC 7519 4.1.4)")
        self._max_lifetime = _seconds(max_lifetime, "max_lifetime")
        if is_revoked is not None and not callable(is_revoked):
            raise TypeError("is_revoked must be a callable jti -> bool")
        self._is_revoked = is_revoked
        if isinstance(max_token_bytes, bool) or not isinstance(max_token_bytes, int):
            raise TypeError("max_token_bytes must be an int")
        if not 256 <= max_token_bytes <= 64 * 1024:
            raise ConfigurationError("max_token_bytes must be between 256 and 65536")
        self._max_size = max_token_bytes
        if not callable(clock):
            raise TypeError("clock must be a callable returning an aware datetime")
        self._clock = clock

    @classmethod
    def _internal(cls, keys: object, **policy: Any) -> JWTVerifier:
        verifier = cls.__new__(cls)
        verifier._setup(keys, **policy)
        return verifier

    def __repr__(self) -> str:
        return f"JWTVerifier(issuer={self._issuer!r}, token_type={self._token_type!r})"

    def verify(self, token: str, *, now: datetime | None = None) -> Claims:
        """Verify ``token`` and return its claims.

        Args:
            token: the compact JWS, as received.
            now: the current time (defaults to the verifier's clock).

        Returns:
            The verified, read-only claims.

        Raises:
            TypeError: ``token`` is not a str, or ``now`` is naive.
            InvalidTokenError: the token failed any check; ``reason`` says which.
                Format and signature failures are reported before any claim.
            UnavailableError: the revocation store or remote key set is down.
        """
        current = resolve(now, self._clock).timestamp()
        parsed = codec.parse(token, max_size=self._max_size)
        key = self._keys.select(parsed.kid)
        codec.verify_signature(parsed, key)
        payload = codec.strict_json(parsed.payload)
        typ = parsed.header.get("typ")
        # RFC 8725 section 3.11 / RFC 9068 section 4: explicit typing stops
        # ID tokens, refresh tokens and other JWTs being used as access tokens.
        # Only an ID-token verifier (token_type "JWT") may accept an absent typ.
        if typ is None and not self._require_type:
            pass
        elif not isinstance(typ, str) or _normalize_typ(typ) != self._token_type:
            raise InvalidTokenError(TokenReason.WRONG_TYPE)
        return self._claims(payload, parsed, current)

    def _claims(self, payload: dict[str, Any], parsed: codec.ParsedToken, now: float) -> Claims:
        for name in ("iss", "sub", "aud", "exp", "iat"):
            if name not in payload:
                raise InvalidTokenError(TokenReason.MISSING_CLAIM)
        if self._require_jti and "jti" not in payload:
            raise InvalidTokenError(TokenReason.MISSING_CLAIM)
        issuer = _string_claim(payload["iss"])
        subject = _string_claim(payload["sub"])
        # Present jti is always type-checked; "" marks its permitted absence.
        jwt_id = _string_claim(payload["jti"]) if "jti" in payload else ""
        exp = _date(payload["exp"])
        iat = _date(payload["iat"])
        nbf = _date(payload["nbf"]) if "nbf" in payload else None
        aud = payload["aud"]
        if isinstance(aud, str):
            audience: tuple[str, ...] = (_string_claim(aud),)
        elif isinstance(aud, list) and aud:
            audience = tuple(_string_claim(item) for item in aud)
        else:
            raise InvalidTokenError(TokenReason.BAD_CLAIM)
        family = payload.get("fam")
        if family is not None:
            family = _string_claim(family)
        # RFC 7519 4.1.1 / 4.1.3: exact string comparison, no normalization.
        if issuer != self._issuer:
            raise InvalidTokenError(TokenReason.WRONG_ISSUER)
        if self._audiences.isdisjoint(audience):
            raise InvalidTokenError(TokenReason.WRONG_AUDIENCE)
        leeway = self._leeway
        # RFC 7519 4.1.4: the current time must be before exp.
        if now >= exp + leeway:
            raise InvalidTokenError(TokenReason.EXPIRED)
        if nbf is not None and now + leeway < nbf:
            raise InvalidTokenError(TokenReason.NOT_YET_VALID)
        if iat > now + leeway:
            raise InvalidTokenError(TokenReason.ISSUED_IN_FUTURE)
        if exp <= iat:
            raise InvalidTokenError(TokenReason.BAD_CLAIM)
        # A ten-year token is a credential that cannot be revoked: cap it.
        if exp - iat > self._max_lifetime:
            raise InvalidTokenError(TokenReason.LIFETIME_TOO_LONG)
        if self._is_revoked is not None and self._is_revoked(jwt_id):
            raise InvalidTokenError(TokenReason.REVOKED)
        extra = {k: v for k, v in payload.items() if k not in _REGISTERED}
        return Claims(
            issuer=issuer,
            subject=subject,
            audience=audience,
            issued_at=_utc(iat),
            expires_at=_utc(exp),
            not_before=None if nbf is None else _utc(nbf),
            jwt_id=jwt_id,
            token_type=self._token_type,
            key_id=parsed.kid,
            family_id=family,
            extra=_freeze(extra),
        )


_REGISTERED: Final = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "fam"})


@dataclass(frozen=True, slots=True)
class _Signer:
    kid: str
    alg: str
    key: Any = field(repr=False)


def _signer(ring: KeyRing) -> _Signer:
    primary = ring.primary
    if ring.kind is KeyKind.SIGNING:
        return _Signer(primary.thumbprint(), str(primary.alg), primary.private_key())
    if ring.kind is KeyKind.MAC:
        return _Signer(mac_kid(primary.id), "HS256", primary.material)
    raise ConfigurationError("JWTIssuer needs a 'signing' key ring (or a 'mac' ring for HS256)")


class JWTIssuer:
    """Issues access tokens (and, through :class:`RefreshTokens`, refresh tokens).

    Every token carries ``iss``, ``aud``, ``sub``, ``iat``, ``nbf``, ``exp``,
    ``jti`` and a header with ``alg``, ``kid`` and ``typ``. Callers add custom
    claims only; reserved claims and headers cannot be set.
    """

    __slots__ = (
        "_access_lifetime",
        "_audience",
        "_clock",
        "_issuer",
        "_max_size",
        "_ring",
        "_signer",
    )

    def __init__(
        self,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str | Collection[str],
        access_lifetime: timedelta = DEFAULT_ACCESS_LIFETIME,
        clock: Clock = system_clock,
    ) -> None:
        """Build an issuer.

        Args:
            keys: a ``signing`` ring (EdDSA default; ES256, RS256, PS256) or a
                ``mac`` ring for HS256 (secrets of 32 bytes or more). New
                tokens use the primary key; its ``kid`` is the RFC 7638
                thumbprint (``hs256-<key id>`` for mac keys).
            issuer: the ``iss`` of every token.
            audience: the ``aud`` of access tokens (one or several).
            access_lifetime: ``exp - iat`` of access tokens (at most a day).
            clock: returns the current time.

        Raises:
            ConfigurationError: an ``aead`` ring, or a lifetime out of range.
        """
        if not isinstance(keys, KeyRing):
            raise TypeError("JWTIssuer needs a KeyRing")
        self._ring = keys
        self._signer = _signer(keys)
        self._issuer = _non_empty(issuer, "issuer")
        audiences = _audiences(audience)
        self._audience: str | list[str] = (
            next(iter(audiences)) if len(audiences) == 1 else sorted(audiences)
        )
        lifetime = _seconds(access_lifetime, "access_lifetime")
        if not 0 < lifetime <= MAX_ACCESS_LIFETIME.total_seconds():
            raise ConfigurationError("access_lifetime must be positive and at most one day")
        self._access_lifetime = access_lifetime
        if not callable(clock):
            raise TypeError("clock must be a callable returning an aware datetime")
        self._clock = clock
        self._max_size = DEFAULT_MAX_TOKEN_BYTES

    def __repr__(self) -> str:
        return f"JWTIssuer(issuer={self._issuer!r}, alg={self._signer.alg!r})"

    @property
    def issuer(self) -> str:
        """The ``iss`` of every token."""
        return self._issuer

    @property
    def access_lifetime(self) -> timedelta:
        """The lifetime of access tokens."""
        return self._access_lifetime

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS to publish (``signing`` rings only; never for HS256)."""
        if self._ring.kind is not KeyKind.SIGNING:
            raise ConfigurationError("HS256 secrets are never published; share the mac ring")
        return self._ring.public_jwks()

    def verifier(self, **policy: Any) -> JWTVerifier:
        """A :class:`JWTVerifier` for this issuer's access tokens.

        Keyword arguments are passed to :class:`JWTVerifier` (``leeway``,
        ``is_revoked``, ...); the defaults match this issuer.
        """
        policy.setdefault("issuer", self._issuer)
        aud = self._audience
        policy.setdefault("audience", aud)
        policy.setdefault("max_lifetime", self._access_lifetime)
        policy.setdefault("clock", self._clock)
        return JWTVerifier(self._ring, **policy)

    def issue(
        self,
        *,
        subject: str,
        claims: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str:
        """Issue an access token (``typ`` ``at+jwt``) for ``subject``.

        Args:
            subject: the ``sub`` claim (a stable, non-empty user id).
            claims: custom claims (JSON values); reserved names are refused.
            now: the issue time (defaults to the clock).

        Returns:
            The compact JWS.

        Raises:
            ConfigurationError: a reserved claim name, a non-JSON value or a
                token over the size cap.
        """
        return self._issue(
            subject=subject,
            claims=claims,
            typ=ACCESS_TOKEN_TYPE,
            audience=self._audience,
            lifetime=self._access_lifetime,
            now=resolve(now, self._clock),
        )

    def _issue(
        self,
        *,
        subject: str,
        claims: Mapping[str, Any] | None,
        typ: str,
        audience: str | list[str],
        lifetime: timedelta,
        now: datetime,
        private: Mapping[str, Any] | None = None,
    ) -> str:
        payload: dict[str, Any] = {}
        if claims is not None:
            if not isinstance(claims, Mapping):
                raise TypeError("claims must be a mapping")
            reserved = _RESERVED_CLAIMS.intersection(claims)
            if reserved:
                raise ConfigurationError(
                    f"claims {sorted(reserved)} are set by securekit and cannot be passed"
                )
            _check_json_value(claims)
            payload.update(claims)
        iat = int(now.timestamp())
        payload.update(
            iss=self._issuer,
            sub=_non_empty(subject, "subject"),
            aud=audience,
            iat=iat,
            nbf=iat,
            exp=iat + int(lifetime.total_seconds()),
            jti=secrets.token_urlsafe(_JTI_BYTES),
        )
        if private:
            payload.update(private)
        signer = self._signer
        header = {"alg": signer.alg, "kid": signer.kid, "typ": typ}
        signing_input = (
            codec.b64url_encode(_dumps(header)) + "." + codec.b64url_encode(_dumps(payload))
        )
        signature = codec.sign(signing_input.encode("ascii"), signer.alg, signer.key)
        token = signing_input + "." + codec.b64url_encode(signature)
        if len(token) > self._max_size:
            raise ConfigurationError(
                f"the token would be {len(token)} bytes, over the verifier cap of "
                f"{self._max_size}; put fewer claims in it"
            )
        return token


def unverified_header(token: str) -> dict[str, Any]:
    """Return the header of ``token`` WITHOUT verifying anything (debugging only).

    The result is attacker-controlled: never choose a key, an algorithm or a
    URL from it. Use :meth:`JWTVerifier.verify` to read claims.

    Raises:
        TypeError: ``token`` is not a str.
        InvalidTokenError: the token is too large or not a well-formed JWS.
    """
    return codec.unverified_header(token, max_size=DEFAULT_MAX_TOKEN_BYTES)


class TokenStore(Protocol):
    """The store operations revocation and refresh rotation need (securekit.stores)."""

    def get(self, key: str) -> bytes | None:
        """Return the value or None."""

    def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Set a value."""

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Atomically set if absent; True if this call created it."""


def _store_key(prefix: str, value: str) -> str:
    # Hash the untrusted-origin identifier: fixed length, no separators, so
    # a jti cannot address another key in a shared store.
    return prefix + hashlib.sha256(value.encode("utf-8")).hexdigest()[:48]


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a str")
    if not prefix:
        raise ConfigurationError("prefix must be a non-empty string")
    return prefix


class JTIDenylist:
    """A ``jti`` denylist on a shared store; pass it as ``is_revoked``.

    Entries expire with the token (plus the largest leeway), so the list only
    holds tokens that could still verify.
    """

    __slots__ = ("_clock", "_prefix", "_store")

    def __init__(
        self,
        store: TokenStore,
        *,
        prefix: str = "securekit:jwt:revoked:",
        clock: Clock = system_clock,
    ) -> None:
        """Build a denylist on ``store`` (memory, SQLite or Redis)."""
        self._store = store
        self._prefix = _check_prefix(prefix)
        self._clock = clock

    def __repr__(self) -> str:
        return f"JTIDenylist(prefix={self._prefix!r})"

    def revoke(self, claims: Claims, *, now: datetime | None = None) -> None:
        """Revoke the verified token whose claims these are."""
        self.revoke_jti(claims.jwt_id, expires_at=claims.expires_at, now=now)

    def revoke_jti(self, jti: str, *, expires_at: datetime, now: datetime | None = None) -> None:
        """Revoke ``jti`` until ``expires_at`` (plus the maximum leeway).

        Raises:
            StoreUnavailableError: the store is down (the revocation did not happen).
        """
        _non_empty(jti, "jti")
        current = resolve(now, self._clock)
        remaining = (resolve(expires_at) - current + MAX_LEEWAY).total_seconds()
        # An already-expired token still gets a short entry: harmless, and it
        # covers verifiers whose clocks run behind.
        self._store.set(_store_key(self._prefix, jti), b"1", ttl=max(remaining, 1.0))

    def __call__(self, jti: str) -> bool:
        """True if ``jti`` is revoked. A store that is down raises (fail closed)."""
        return self._store.get(_store_key(self._prefix, jti)) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    """An access token and its rotating refresh token.

    The tokens are bearer credentials and never appear in ``repr``.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    family_id: str
    access_expires_at: datetime
    refresh_expires_at: datetime


class RefreshTokens:
    """Single-use, rotating refresh tokens with reuse detection (RFC 9700 4.14).

    Each refresh token belongs to a family started at login. :meth:`rotate`
    accepts a refresh token once and returns a new pair; presenting a used
    refresh token again revokes the whole family, so a stolen token and the
    legitimate client's token both stop working. The "used" marker is set
    with the store's atomic ``add``, so of two parallel rotations with one
    token exactly one wins.
    """

    __slots__ = (
        "_family_lifetime",
        "_issuer",
        "_prefix",
        "_refresh_lifetime",
        "_store",
        "_verifier",
    )

    def __init__(
        self,
        issuer: JWTIssuer,
        store: TokenStore,
        *,
        refresh_lifetime: timedelta = DEFAULT_REFRESH_LIFETIME,
        family_lifetime: timedelta = DEFAULT_FAMILY_LIFETIME,
        leeway: timedelta = DEFAULT_LEEWAY,
        prefix: str = "securekit:jwt:refresh:",
    ) -> None:
        """Build refresh rotation for ``issuer`` on ``store``.

        Args:
            issuer: the issuer of both token types; refresh tokens use its
                keys, its ``iss`` as ``aud`` (only the issuer accepts them)
                and ``typ`` ``rt+jwt``.
            store: a securekit store (memory, SQLite, Redis).
            refresh_lifetime: lifetime of one refresh token.
            family_lifetime: absolute lifetime of a family (since login).
            leeway: clock skew allowed when verifying refresh tokens.
            prefix: store key prefix.

        Raises:
            ConfigurationError: lifetimes out of order or not positive.
        """
        if not isinstance(issuer, JWTIssuer):
            raise TypeError("issuer must be a JWTIssuer")
        refresh = _seconds(refresh_lifetime, "refresh_lifetime")
        family = _seconds(family_lifetime, "family_lifetime")
        if not 0 < refresh <= family:
            raise ConfigurationError(
                "refresh_lifetime must be positive and at most family_lifetime"
            )
        if family > timedelta(days=365).total_seconds():
            raise ConfigurationError("family_lifetime must be at most one year")
        self._issuer = issuer
        self._store = store
        self._refresh_lifetime = refresh_lifetime
        self._family_lifetime = family_lifetime
        self._prefix = _check_prefix(prefix)
        self._verifier = JWTVerifier._internal(
            issuer._ring,
            issuer=issuer.issuer,
            audience=issuer.issuer,
            token_type=REFRESH_TOKEN_TYPE,
            leeway=leeway,
            max_lifetime=refresh_lifetime,
            is_revoked=None,
            max_token_bytes=DEFAULT_MAX_TOKEN_BYTES,
            clock=issuer._clock,
        )

    def __repr__(self) -> str:
        return f"RefreshTokens(issuer={self._issuer.issuer!r})"

    def issue(
        self,
        *,
        subject: str,
        claims: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> TokenPair:
        """Start a new family (at login): an access token and a refresh token.

        Args:
            subject: the ``sub`` of both tokens.
            claims: custom claims for the access tokens of this family; the
                refresh token carries them (signed) to every rotation.
            now: the current time.
        """
        current = resolve(now, self._issuer._clock)
        family = secrets.token_urlsafe(_JTI_BYTES)
        return self._pair(subject, claims, family, int(current.timestamp()), current)

    def _pair(
        self,
        subject: str,
        claims: Mapping[str, Any] | None,
        family: str,
        auth_time: int,
        now: datetime,
    ) -> TokenPair:
        access = self._issuer._issue(
            subject=subject,
            claims=claims,
            typ=ACCESS_TOKEN_TYPE,
            audience=self._issuer._audience,
            lifetime=self._issuer._access_lifetime,
            now=now,
        )
        refresh = self._issuer._issue(
            subject=subject,
            claims=None,
            typ=REFRESH_TOKEN_TYPE,
            audience=self._issuer.issuer,
            lifetime=self._refresh_lifetime,
            now=now,
            private={"fam": family, "auth_time": auth_time, "ext": dict(claims or {})},
        )
        issued = int(now.timestamp())
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            family_id=family,
            access_expires_at=_utc(issued + int(self._issuer._access_lifetime.total_seconds())),
            refresh_expires_at=_utc(issued + int(self._refresh_lifetime.total_seconds())),
        )

    def rotate(self, refresh_token: str, *, now: datetime | None = None) -> TokenPair:
        """Use ``refresh_token`` once and return a new pair in the same family.

        Raises:
            TypeError: ``refresh_token`` is not a str.
            InvalidTokenError: invalid or expired (any reason of
                :meth:`JWTVerifier.verify`), ``REVOKED`` (the family was
                revoked) or ``REUSED`` (already used: the family is now revoked).
            StoreUnavailableError: the store is down; nothing was issued.
        """
        current = resolve(now, self._issuer._clock)
        claims = self._verifier.verify(refresh_token, now=current)
        family = claims.family_id
        auth_time = claims.get("auth_time")
        ext = claims.get("ext")
        if family is None or not isinstance(ext, Mapping):
            raise InvalidTokenError(TokenReason.BAD_CLAIM)
        started = _date(auth_time)
        if current.timestamp() >= started + self._family_lifetime.total_seconds():
            raise InvalidTokenError(TokenReason.EXPIRED)
        family_key = _store_key(self._prefix + "family:", family)
        if self._store.get(family_key) is not None:
            raise InvalidTokenError(TokenReason.REVOKED)
        ttl = max((claims.expires_at - current).total_seconds() + MAX_LEEWAY.total_seconds(), 1.0)
        used_key = _store_key(self._prefix + "used:", claims.jwt_id)
        if not self._store.add(used_key, b"1", ttl=ttl):
            # RFC 9700 section 4.14.2: reuse of a rotated refresh token means
            # it leaked; revoke the family so neither party can continue.
            self._revoke(family)
            raise InvalidTokenError(TokenReason.REUSED)
        return self._pair(claims.subject, _thaw(ext), family, int(started), current)

    def revoke_family(self, family_id: str) -> None:
        """Revoke every refresh token of a family (logout, password change).

        Raises:
            StoreUnavailableError: the store is down (nothing was revoked).
        """
        self._revoke(_non_empty(family_id, "family_id"))

    def _revoke(self, family: str) -> None:
        # The marker outlives any token of the family (family lifetime plus
        # the largest leeway), so it needs no clock.
        self._store.set(
            _store_key(self._prefix + "family:", family),
            b"1",
            ttl=self._family_lifetime.total_seconds() + MAX_LEEWAY.total_seconds(),
        )


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could leave https or the configured host; the JWKS URL is
    # configuration, so a redirect is treated as a failure.
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class RemoteJWKS:
    """Keys of another issuer, fetched from its JWKS URL (https only).

    The URL comes from configuration only (never from a token). The key set is
    cached for ``max_age``; a token with an unknown ``kid`` triggers at most one
    refetch per ``unknown_kid_cooldown``. Fetch failures fail closed with
    :class:`~securekit.errors.UnavailableError`.
    """

    symmetric = False

    def __init__(
        self,
        url: str,
        *,
        timeout: timedelta = DEFAULT_JWKS_TIMEOUT,
        max_bytes: int = DEFAULT_JWKS_MAX_BYTES,
        max_age: timedelta = DEFAULT_JWKS_MAX_AGE,
        unknown_kid_cooldown: timedelta = DEFAULT_JWKS_UNKNOWN_KID_COOLDOWN,
        ssl_context: ssl.SSLContext | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the fetch.

        Args:
            url: the issuer's ``jwks_uri``; must start with ``https://``.
            timeout: connect and read timeout.
            max_bytes: the response size cap.
            max_age: how long a fetched set is used.
            unknown_kid_cooldown: minimum time between refetches caused by an
                unknown ``kid``.
            ssl_context: TLS settings (default: system trust store, TLS 1.2+).
            monotonic: a monotonic clock in seconds (tests pass a fake one).

        Raises:
            ConfigurationError: a non-https URL or out-of-range limits.
        """
        if not isinstance(url, str):
            raise TypeError("url must be a str")
        if not url.startswith("https://") or any(c.isspace() for c in url):
            raise ConfigurationError("the JWKS URL must be an https:// URL")
        self._url = url
        self._timeout = _seconds(timeout, "timeout")
        if not 0 < self._timeout <= 60:
            raise ConfigurationError("timeout must be between 0 and 60 seconds")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise TypeError("max_bytes must be an int")
        if not 1024 <= max_bytes <= 1024 * 1024:
            raise ConfigurationError("max_bytes must be between 1 KiB and 1 MiB")
        self._max_bytes = max_bytes
        self._max_age = _seconds(max_age, "max_age")
        self._cooldown = _seconds(unknown_kid_cooldown, "unknown_kid_cooldown")
        if self._max_age <= 0 or self._cooldown < 0:
            raise ConfigurationError("max_age must be positive and the cooldown not negative")
        if ssl_context is None:
            ssl_context = ssl.create_default_context()
            ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._opener = urllib.request.build_opener(
            _NoRedirect(), urllib.request.HTTPSHandler(context=ssl_context)
        )
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at = -math.inf
        self._last_forced = -math.inf

    def __repr__(self) -> str:
        return f"RemoteJWKS({self._url!r})"

    def refresh(self) -> None:
        """Fetch the key set now.

        Raises:
            UnavailableError: the fetch failed or returned no usable key.
        """
        try:
            with self._opener.open(self._url, timeout=self._timeout) as response:
                if response.status != 200:
                    raise UnavailableError("the JWKS endpoint is unavailable")
                body = response.read(self._max_bytes + 1)
        except (OSError, ValueError, urllib.error.URLError):
            raise UnavailableError("the JWKS endpoint is unavailable") from None
        if len(body) > self._max_bytes:
            raise UnavailableError("the JWKS response is too large")
        try:
            document = codec.strict_json(body)
            keys = keys_from_jwks(document, skip_unusable=True)
            key_set = KeySet(key for key in keys if key.alg != "HS256")
        except (InvalidTokenError, ConfigurationError):
            raise UnavailableError("the JWKS response has no usable keys") from None
        self._keys = key_set
        self._fetched_at = self._monotonic()

    def select(self, kid: str | None) -> VerifyKey:
        """Return the key for ``kid``, refetching when stale or on an unknown kid."""
        with self._lock:
            now = self._monotonic()
            if self._keys is None or now - self._fetched_at >= self._max_age:
                self.refresh()
            keys = self._keys
            found = keys.find(kid) if keys is not None else None
            if found is None and kid is not None and now - self._last_forced >= self._cooldown:
                self._last_forced = now
                self.refresh()
                found = self._keys.find(kid) if self._keys is not None else None
        if found is None:
            raise InvalidTokenError(TokenReason.UNKNOWN_KEY)
        return found
