"""JWS compact serialization for securekit.jwt: strict parsing and signing.

Private. Everything here works on one token at a time and raises only
:class:`~securekit.errors.InvalidTokenError` for untrusted input. The order of
checks is fixed (RFC 8725 section 3): size, segment count, alphabet, canonical
base64url, strict JSON, header policy, key selection, signature. No claim is
looked at before the signature has been verified.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import (
    ECAlgorithm,
    HMACAlgorithm,
    OKPAlgorithm,
    RSAAlgorithm,
    RSAPSSAlgorithm,
)

from securekit._json import load_json
from securekit.errors import InputValidationError, InvalidTokenError, TokenReason

__all__ = [
    "ALGORITHMS",
    "MAX_JSON_DEPTH",
    "ParsedToken",
    "VerifyKey",
    "b64url_decode",
    "b64url_encode",
    "parse",
    "strict_json",
    "unverified_header",
    "verify_signature",
]

#: The algorithms securekit signs and verifies (RFC 8725 section 3.1: an
#: explicit allowlist; ``none`` and every other name are refused).
ALGORITHMS: Final = frozenset({"EdDSA", "ES256", "RS256", "PS256", "HS256"})

#: Nesting depth allowed in a header or claim set. Real claim sets are flat or
#: one level deep; the bound keeps hostile nesting from reaching recursion.
MAX_JSON_DEPTH: Final = 16

#: Largest JSON document parsed (a JWKS; tokens are capped much lower first).
_MAX_JSON_BYTES: Final = 1024 * 1024

#: Longest accepted ``kid`` (it is only ever a dictionary key, never a path).
MAX_KID_LENGTH: Final = 256

# One regex checks segment count and alphabet at once (RFC 7515 section 7.1:
# BASE64URL without padding, no whitespace, no line breaks). A token that
# does not match is rejected before anything is decoded.
_COMPACT: Final = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")
_B64_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_INDEX: Final = {c: i for i, c in enumerate(_B64_ALPHABET)}

# Header parameters that change how the payload or signature must be read.
# securekit implements none of them, so their presence is a rejection:
# RFC 7515 section 4.1.11 says a recipient that does not understand a `crit`
# extension must reject; `b64` (RFC 7797) only exists with `crit`; `enc` and
# `zip` mean JWE (RFC 7516); `cty` announces a nested JWT (RFC 7519 5.2).
_FORBIDDEN_HEADERS: Final = frozenset({"crit", "b64", "enc", "zip", "cty", "epk", "iv", "tag"})

# P-256 group order (SEC 2, section 2.4.2): ES256 r and s must be in [1, n-1].
_P256_N: Final = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


def _fail(reason: TokenReason) -> InvalidTokenError:
    return InvalidTokenError(reason)


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode one canonical, unpadded base64url segment.

    The caller has already checked the alphabet. Canonical means: no length
    of 1 mod 4 (not a whole byte), and the unused low bits of the last
    character are zero, so every byte string has exactly one encoding and a
    token cannot be altered without changing the signed bytes' meaning.

    Raises:
        InvalidTokenError: ``BAD_ENCODING``.
    """
    rest = len(segment) % 4
    if rest == 1:
        raise _fail(TokenReason.BAD_ENCODING)
    if rest:
        mask = 0x0F if rest == 2 else 0x03
        if _B64_INDEX.get(segment[-1], 0xFF) & mask:
            raise _fail(TokenReason.BAD_ENCODING)
        segment += "=" * (4 - rest)
    try:
        return base64.urlsafe_b64decode(segment)
    except (binascii.Error, ValueError):  # pragma: no cover - alphabet checked by the caller
        raise _fail(TokenReason.BAD_ENCODING) from None


def strict_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """Parse ``data`` as one strict JSON object with :func:`securekit.validation.load_json`.

    Strict: UTF-8 only, no duplicate member names (RFC 7515 section 5.2,
    RFC 7519 section 4: two parsers must never disagree on a token), no NaN,
    Infinity or overflowing numbers, nesting at most ``max_depth``, and the
    top level must be an object.

    Raises:
        InvalidTokenError: ``MALFORMED``.
    """
    try:
        value = load_json(data, max_bytes=_MAX_JSON_BYTES, max_depth=max_depth)
    except InputValidationError:
        raise _fail(TokenReason.MALFORMED) from None
    if not isinstance(value, dict):
        raise _fail(TokenReason.MALFORMED)
    return value


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A compact JWS split and decoded, not yet verified."""

    signing_input: bytes
    header: dict[str, Any]
    payload: bytes
    signature: bytes
    alg: str
    kid: str | None


def parse(token: str, *, max_size: int) -> ParsedToken:
    """Split and decode a compact JWS, applying every pre-crypto check.

    Raises:
        TypeError: ``token`` is not a ``str``.
        InvalidTokenError: with the reason of the first failed check.
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be str, not {type(token).__name__}")
    # Size first: nothing below runs on more than max_size characters.
    if len(token) > max_size:
        raise _fail(TokenReason.TOO_LARGE)
    match = _COMPACT.fullmatch(token)
    if match is None:
        # Five segments is JWE, two is a JWS without signature, one is junk;
        # none of them is a signed JWT (RFC 7519 section 7.2).
        if token.count(".") != 2:
            raise _fail(TokenReason.MALFORMED)
        raise _fail(TokenReason.BAD_ENCODING)
    header_b64, payload_b64, signature_b64 = match.groups()
    header = strict_json(b64url_decode(header_b64))
    payload = b64url_decode(payload_b64)
    signature = b64url_decode(signature_b64)
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise _fail(TokenReason.BAD_HEADER)
    # The allowlist is case-sensitive (RFC 7518 section 3.1 names are case
    # sensitive), so "none", "None", "NONE" and "HS256 " all fail here.
    if alg not in ALGORITHMS:
        raise _fail(TokenReason.UNSUPPORTED_ALGORITHM)
    if not _FORBIDDEN_HEADERS.isdisjoint(header):
        raise _fail(TokenReason.BAD_HEADER)
    kid = header.get("kid")
    if "kid" in header and (not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH):
        raise _fail(TokenReason.BAD_HEADER)
    # `jwk`, `jku`, `x5u`, `x5c` and `x5t` are never read: the key comes from
    # configuration only (RFC 8725 section 3.10), so a token cannot name one.
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return ParsedToken(signing_input, header, payload, signature, alg, kid)


def unverified_header(token: str, *, max_size: int) -> dict[str, Any]:
    """Decode the header of ``token`` without verifying anything.

    Only the size, the segment count and the header's encoding and JSON are
    checked, so that a debugging tool can show even ``alg: none`` tokens.
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be str, not {type(token).__name__}")
    if len(token) > max_size:
        raise _fail(TokenReason.TOO_LARGE)
    parts = token.split(".")
    if len(parts) != 3:
        raise _fail(TokenReason.MALFORMED)
    if not _SEGMENT.fullmatch(parts[0]):
        raise _fail(TokenReason.BAD_ENCODING)
    return strict_json(b64url_decode(parts[0]))


_AlgorithmObject = OKPAlgorithm | ECAlgorithm | RSAAlgorithm | HMACAlgorithm
_ALGORITHM_OBJECTS: Final[Mapping[str, _AlgorithmObject]] = {
    "EdDSA": OKPAlgorithm(),
    "ES256": ECAlgorithm(ECAlgorithm.SHA256),
    "RS256": RSAAlgorithm(RSAAlgorithm.SHA256),
    "PS256": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA256),
    "HS256": HMACAlgorithm(HMACAlgorithm.SHA256),
}

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """One verification key bound to exactly one algorithm.

    ``key`` is a parsed public key, or the raw secret for HS256. ``kid_explicit``
    says whether ``kid`` came from configuration (a JWK, a key ring) rather than
    being computed by us.
    """

    kid: str
    alg: str
    key: PublicKey | bytes
    signature_length: int
    kid_explicit: bool = True

    def __repr__(self) -> str:
        # Never show an HS256 secret.
        return f"VerifyKey(kid={self.kid!r}, alg={self.alg!r})"


def signature_length(alg: str, key: PublicKey | bytes) -> int:
    """The exact signature length for ``alg`` under ``key`` (RFC 7518 section 3)."""
    if alg in ("RS256", "PS256"):
        if not isinstance(key, rsa.RSAPublicKey):
            raise TypeError("RSA algorithms need an RSA public key")
        return (key.key_size + 7) // 8
    # EdDSA (RFC 8037 section 3.1), ES256 as R || S (RFC 7518 section 3.4),
    # HS256 untruncated (RFC 7518 section 3.2 requires the full output).
    return 32 if alg == "HS256" else 64


def verify_signature(parsed: ParsedToken, key: VerifyKey) -> None:
    """Verify the signature of ``parsed`` under ``key``.

    Raises:
        InvalidTokenError: ``UNSUPPORTED_ALGORITHM`` when the token's ``alg``
            is not the key's bound algorithm, ``BAD_SIGNATURE`` otherwise.
    """
    # The key decides the algorithm; the token may only agree with it. This
    # is what defeats HS256/RS256 confusion (CVE-2022-29217, CVE-2024-33663).
    if parsed.alg != key.alg:
        raise _fail(TokenReason.UNSUPPORTED_ALGORITHM)
    signature = parsed.signature
    if len(signature) != key.signature_length:
        raise _fail(TokenReason.BAD_SIGNATURE)
    if key.alg == "ES256":
        # Raw R || S only (RFC 7518 section 3.4); DER was rejected by the
        # length check. r or s of 0 or >= n never verify; checking them
        # explicitly keeps CVE-2022-21449 ("psychic signatures") out whatever
        # the backend does.
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < _P256_N and 0 < s < _P256_N):
            raise _fail(TokenReason.BAD_SIGNATURE)
    try:
        algorithm: Any = _ALGORITHM_OBJECTS[key.alg]
        ok = algorithm.verify(parsed.signing_input, key.key, signature)
    except Exception:  # noqa: BLE001 - any backend failure is a failed verification
        ok = False
    if not ok:
        raise _fail(TokenReason.BAD_SIGNATURE)


def sign(signing_input: bytes, alg: str, key: PrivateKey | bytes) -> bytes:
    """Sign ``signing_input`` with PyJWT's algorithm object for ``alg``."""
    return _ALGORITHM_OBJECTS[alg].sign(signing_input, key)  # type: ignore[arg-type]
