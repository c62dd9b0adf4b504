"""Verification keys for securekit.jwt: key rings, JWKS, JWKs, PEM, key objects.

Private. Every key is bound to exactly one algorithm here, at construction
(RFC 8725 section 3.1); tokens never choose the algorithm or the key type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from securekit._jwt_codec import (
    MAX_KID_LENGTH,
    PublicKey,
    VerifyKey,
    b64url_decode,
    b64url_encode,
    signature_length,
)
from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason
from securekit.keys import RSA_MIN_BITS, KeyKind, KeyRing, jwk_thumbprint

__all__ = ["KeySet", "KeySource", "keys_from_jwks", "mac_kid", "parse_jwk", "to_key_source"]

#: HS256 secrets: at least the hash output size (RFC 7518 section 3.2).
HMAC_MIN_BYTES: Final = 32

# Leading bytes of public-key encodings. A "secret" that starts like this is
# a public key pasted into the HMAC slot: the HS256/RS256 key-confusion
# attack of CVE-2022-29217 relies on exactly that.
_PUBLIC_KEY_MARKERS: Final = (
    b"-----BEGIN",
    b"ssh-rsa",
    b"ssh-ed25519",
    b"ecdsa-sha2-",
    b"\x30\x82",  # DER SEQUENCE with a two-byte length: SubjectPublicKeyInfo
    b"\x30\x59\x30\x13",  # DER P-256 SubjectPublicKeyInfo
    b"\x30\x2a\x30\x05",  # DER Ed25519 SubjectPublicKeyInfo
    b'{"',  # a JWK pasted as text
)

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


def mac_kid(key_id: int) -> str:
    """The ``kid`` of a ``mac`` key: derived from its (non-secret) key id.

    A thumbprint of a secret key would be a hash of the secret; the key id is
    random, unique in its ring and already public in every securekit token.
    """
    return f"hs256-{key_id:08x}"


class KeySource(Protocol):
    """Where a verifier finds the key for a ``kid``."""

    @property
    def symmetric(self) -> bool:
        """True for HS256 keys (never mixed with asymmetric ones)."""

    def select(self, kid: str | None) -> VerifyKey:
        """Return the key for ``kid`` or raise ``InvalidTokenError(UNKNOWN_KEY)``."""


class KeySet:
    """An immutable set of verification keys, looked up by ``kid`` only."""

    __slots__ = ("_by_kid", "_single", "symmetric")

    def __init__(self, keys: Iterable[VerifyKey]) -> None:
        listed = list(keys)
        if not listed:
            raise ConfigurationError("a JWT verifier needs at least one key")
        kinds = {key.alg == "HS256" for key in listed}
        if len(kinds) > 1:
            # RFC 8725 section 2.1 / 3.1: a verifier that holds an HMAC secret
            # and public keys invites key confusion; keep them apart.
            raise ConfigurationError(
                "do not mix HS256 secrets with asymmetric keys in one verifier; "
                "build one JWTVerifier per key type"
            )
        self.symmetric = kinds == {True}
        by_kid: dict[str, VerifyKey] = {}
        for key in listed:
            if key.kid in by_kid:
                raise ConfigurationError(
                    "two keys share one kid; every key of a verifier needs a distinct kid"
                )
            by_kid[key.kid] = key
        self._by_kid = by_kid
        self._single = listed[0] if len(listed) == 1 else None

    def __len__(self) -> int:
        return len(self._by_kid)

    def __repr__(self) -> str:
        return f"KeySet({sorted(self._by_kid)!r})"

    @property
    def keys(self) -> tuple[VerifyKey, ...]:
        """The keys, in configuration order."""
        return tuple(self._by_kid.values())

    def find(self, kid: str | None) -> VerifyKey | None:
        """Return the key for ``kid`` or None (no trial of several keys, ever)."""
        single = self._single
        if single is not None:
            # With exactly one key a kid is optional. A kid the token does
            # carry must match a kid that came from configuration.
            if kid is None or not single.kid_explicit or kid == single.kid:
                return single
            return None
        if kid is None:
            return None
        return self._by_kid.get(kid)

    def select(self, kid: str | None) -> VerifyKey:
        """Return the key for ``kid``; raise ``UNKNOWN_KEY`` when there is none."""
        key = self.find(kid)
        if key is None:
            raise InvalidTokenError(TokenReason.UNKNOWN_KEY)
        return key


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise ConfigurationError(f"JWK member {what!r} must be a base64url string")
    try:
        return b64url_decode(value)
    except InvalidTokenError:
        raise ConfigurationError(f"JWK member {what!r} is not canonical base64url") from None


def _check_hmac_secret(secret: bytes) -> None:
    if len(secret) < HMAC_MIN_BYTES:
        raise ConfigurationError(
            f"HS256 secrets must be at least {HMAC_MIN_BYTES} bytes (RFC 7518 3.2), "
            f"got {len(secret)} bytes"
        )
    if secret.lstrip().startswith(_PUBLIC_KEY_MARKERS):
        raise ConfigurationError(
            "this HS256 secret looks like a public key (PEM, DER, SSH or JWK); a public key "
            "is not a secret (CVE-2022-29217 class key confusion)"
        )


def _rsa_alg(public: rsa.RSAPublicKey, alg: str) -> VerifyKey:
    if public.key_size < RSA_MIN_BITS:
        raise ConfigurationError(
            f"RSA keys must have at least {RSA_MIN_BITS} bits (NIST SP 800-57), "
            f"got {public.key_size}"
        )
    return VerifyKey("", alg, public, signature_length(alg, public), kid_explicit=False)


def _from_public_key(public: object, alg: str | None = None) -> VerifyKey:
    if isinstance(
        public, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise ConfigurationError("pass the public key to a verifier, not the private key")
    if isinstance(public, ed25519.Ed25519PublicKey):
        if alg not in (None, "EdDSA"):
            raise ConfigurationError("an Ed25519 key can only verify EdDSA")
        return VerifyKey("", "EdDSA", public, 64, kid_explicit=False)
    if isinstance(public, ec.EllipticCurvePublicKey):
        if not isinstance(public.curve, ec.SECP256R1):
            raise ConfigurationError("only P-256 EC keys are supported (ES256, RFC 7518 3.4)")
        if alg not in (None, "ES256"):
            raise ConfigurationError("a P-256 key can only verify ES256")
        return VerifyKey("", "ES256", public, 64, kid_explicit=False)
    if isinstance(public, rsa.RSAPublicKey):
        # Without an explicit alg an RSA key means RS256, the JOSE and
        # OpenID Connect default (OpenID Connect Discovery 1.0, section 3).
        if alg not in (None, "RS256", "PS256"):
            raise ConfigurationError("an RSA key can only verify RS256 or PS256")
        return _rsa_alg(public, alg or "RS256")
    raise TypeError(
        "verification keys are KeyRing, a JWKS dict, or a list of cryptography public "
        f"keys, PEM bytes or JWK dicts; got {type(public).__name__}"
    )


def _jwk_public(jwk: Mapping[str, Any], kty: str) -> PublicKey:
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise ConfigurationError("OKP keys must have crv Ed25519 (RFC 8037)")
        x = _b64(jwk.get("x"), "x")
        if len(x) != 32:
            raise ConfigurationError("an Ed25519 public key is 32 bytes")
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    if kty == "EC":
        if jwk.get("crv") != "P-256":
            raise ConfigurationError("EC keys must have crv P-256 (ES256, RFC 7518 3.4)")
        x, y = _b64(jwk.get("x"), "x"), _b64(jwk.get("y"), "y")
        if len(x) != 32 or len(y) != 32:
            raise ConfigurationError("P-256 coordinates are 32 bytes each (RFC 7518 6.2.1.2)")
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        try:
            # Rejects points not on the curve (invalid-curve attacks).
            return numbers.public_key()
        except ValueError:
            raise ConfigurationError("the EC JWK is not a point on P-256") from None
    n, e = _b64(jwk.get("n"), "n"), _b64(jwk.get("e"), "e")
    try:
        return rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
    except ValueError:
        raise ConfigurationError("the RSA JWK has an invalid modulus or exponent") from None


_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


def parse_jwk(jwk: Mapping[str, Any]) -> VerifyKey:
    """Bind one JWK (RFC 7517) to its single algorithm.

    Raises:
        ConfigurationError: unsupported, weak, private or inconsistent keys.
    """
    if not isinstance(jwk, Mapping):
        raise TypeError("a JWK must be a dict")
    kty = jwk.get("kty")
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise ConfigurationError("JWK alg must be a string")
    # RFC 7517 sections 4.2 and 4.3: a key meant for encryption, or whose
    # key_ops exclude verification, must not verify signatures.
    if jwk.get("use", "sig") != "sig":
        raise ConfigurationError("this JWK is not a signature key (use must be 'sig')")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ConfigurationError("this JWK's key_ops do not include 'verify'")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH):
        raise ConfigurationError(f"JWK kid must be a string of 1 to {MAX_KID_LENGTH} characters")
    if kty == "oct":
        if alg not in (None, "HS256"):
            raise ConfigurationError("oct keys verify HS256 only")
        secret = _b64(jwk.get("k"), "k")
        _check_hmac_secret(secret)
        return VerifyKey(kid or "", "HS256", secret, 32, kid_explicit=kid is not None)
    if kty not in ("OKP", "EC", "RSA"):
        raise ConfigurationError("JWK kty must be OKP, EC, RSA or oct")
    if not _PRIVATE_MEMBERS.isdisjoint(jwk):
        raise ConfigurationError(
            "this JWK holds private key material; give verifiers the public JWK only"
        )
    base = _from_public_key(_jwk_public(jwk, kty), alg)
    if kid is None:
        kid = jwk_thumbprint({k: v for k, v in jwk.items() if isinstance(v, str)})
    return VerifyKey(kid, base.alg, base.key, base.signature_length, kid_explicit=True)


def keys_from_jwks(jwks: Mapping[str, Any], *, skip_unusable: bool = False) -> list[VerifyKey]:
    """Bind every key of a JWKS (RFC 7517 section 5).

    With ``skip_unusable`` (remote sets published by another issuer), keys we
    cannot use (encryption keys, other algorithms) are left out instead of
    failing the whole set.
    """
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise ConfigurationError('a JWKS is a dict with a "keys" list (RFC 7517 section 5)')
    found: list[VerifyKey] = []
    for jwk in keys:
        try:
            found.append(parse_jwk(jwk))
        except (ConfigurationError, TypeError):
            if not skip_unusable:
                raise
    return found


def _from_pem(data: bytes) -> VerifyKey:
    if b"PRIVATE KEY" in data:
        raise ConfigurationError("pass the public key PEM to a verifier, not the private key")
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigurationError("could not load the PEM public key") from None
    return _from_public_key(public)


def _thumbprinted(key: VerifyKey) -> VerifyKey:
    if key.kid:
        return key
    public = key.key
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    elif isinstance(public, ec.EllipticCurvePublicKey):
        nums = public.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(nums.x.to_bytes(32, "big")),
            "y": b64url_encode(nums.y.to_bytes(32, "big")),
        }
    elif isinstance(public, rsa.RSAPublicKey):
        rnums = public.public_numbers()
        jwk = {"kty": "RSA", "n": _b64e_int(rnums.n), "e": _b64e_int(rnums.e)}
    else:
        # An oct JWK without kid: a kid that does not reveal the secret.
        return VerifyKey("hs256", key.alg, key.key, key.signature_length, kid_explicit=False)
    kid = jwk_thumbprint(jwk)
    return VerifyKey(kid, key.alg, key.key, key.signature_length, kid_explicit=key.kid_explicit)


def _b64e_int(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def keys_from_ring(ring: KeyRing) -> list[VerifyKey]:
    """Verification keys of a ``signing`` (public parts) or ``mac`` ring."""
    if ring.kind is KeyKind.SIGNING:
        return [
            VerifyKey(
                key.thumbprint(),
                str(key.alg),
                key.public_key(),
                signature_length(str(key.alg), key.public_key()),
            )
            for key in ring
        ]
    if ring.kind is KeyKind.MAC:
        return [VerifyKey(mac_kid(key.id), "HS256", key.material, 32) for key in ring]
    raise ConfigurationError("JWTs need a 'signing' key ring (or a 'mac' ring for HS256)")


def to_key_source(keys: object) -> KeySource:
    """Turn any accepted ``keys`` argument into a key source."""
    if isinstance(keys, KeyRing):
        return KeySet(keys_from_ring(keys))
    if hasattr(keys, "select") and hasattr(keys, "symmetric"):
        source: KeySource = keys
        return source
    if isinstance(keys, Mapping):
        return KeySet(_thumbprinted(k) for k in keys_from_jwks(keys))
    if isinstance(keys, str | bytes) or not isinstance(keys, Sequence):
        raise TypeError(
            "keys must be a KeyRing, a JWKS dict, or a list of public keys (cryptography "
            "objects, PEM bytes or JWK dicts)"
        )
    bound: list[VerifyKey] = []
    for item in keys:
        if isinstance(item, bytes):
            bound.append(_from_pem(item))
        elif isinstance(item, Mapping):
            bound.append(parse_jwk(item))
        else:
            bound.append(_from_public_key(item))
    return KeySet(_thumbprinted(k) for k in bound)
