"""Keys and key rings: one primary key, retired keys, lookup by id, safe storage.

Every recipe that needs a secret takes a :class:`KeyRing`. A ring holds keys of
one kind (``aead``, ``mac`` or ``signing``); each key is bound to exactly one
algorithm and carries a random 4-byte id that ciphertexts and tokens record,
so decryption and verification look the key up by id, never by trial.

Rings are immutable values: :meth:`KeyRing.rotate`, :meth:`KeyRing.promote`,
:meth:`KeyRing.retire` and :meth:`KeyRing.remove` return a new ring.

Storage: :meth:`KeyRing.to_json` encrypts the ring under a key-encryption key
(:class:`KeyWrapper`; :class:`LocalKeyWrapper` locally, or a KMS adapter) by
default. Cleartext output needs ``insecure_cleartext=True``.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, NoReturn, Protocol, TypeVar, runtime_checkable

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from securekit.errors import (
    ConfigurationError,
    DecryptionError,
    DecryptionReason,
    InsecureConfigurationWarning,
)

__all__ = [
    "AEAD_KEY_BYTES",
    "KEK_BYTES",
    "MAC_KEY_MAX_BYTES",
    "MAC_KEY_MIN_BYTES",
    "RSA_GENERATE_BITS",
    "RSA_MIN_BITS",
    "Algorithm",
    "Key",
    "KeyKind",
    "KeyRing",
    "KeyStatus",
    "KeyWrapper",
    "LocalKeyWrapper",
    "Secret",
    "jwk_thumbprint",
]

#: AEAD keys are 256-bit (XAES-256-GCM, AES-256-GCM, ChaCha20-Poly1305).
AEAD_KEY_BYTES: Final = 32
#: HMAC-SHA256 secrets: at least the hash output size (RFC 2104 section 3;
#: RFC 7518 section 3.2 requires >= 256 bits for HS256).
MAC_KEY_MIN_BYTES: Final = 32
#: Longer than the SHA-256 block size (64) would be hashed first; refuse it.
MAC_KEY_MAX_BYTES: Final = 64
#: NIST SP 800-57 Part 1 Rev. 5 (112-bit security floor): RSA >= 2048 bits.
RSA_MIN_BITS: Final = 2048
#: New RSA keys: 3072 bits (128-bit security, NIST SP 800-57 table 2).
RSA_GENERATE_BITS: Final = 3072
#: Key-encryption keys for :class:`LocalKeyWrapper` are AES-256 keys.
KEK_BYTES: Final = 32

_HKDF_INFO_PREFIX: Final = b"securekit/v1/"
_RING_FORMAT_VERSION: Final = 1
_RING_AD: Final = b"securekit/v1/keyring"
_MAX_RING_JSON_BYTES: Final = 1024 * 1024
_MAX_KEY_ID: Final = 0xFFFFFFFF
_SECRET_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
# Raw secrets with this few distinct byte values are not random (e.g. b"\0" * 32,
# b"ab" * 16). 32 random bytes have ~30 distinct values; fewer than 12 happens
# with negligible probability (< 2^-60).
_MIN_DISTINCT_BYTES: Final = 12
_PLACEHOLDERS: Final = (
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "example",
    "placeholder",
    "default",
    "your-",
    "your_",
    "insecure",
    "xxxxxxxx",
)


class KeyKind(enum.StrEnum):
    """What a key is for. One ring holds keys of one kind only."""

    AEAD = "aead"
    MAC = "mac"
    SIGNING = "signing"


class Algorithm(enum.StrEnum):
    """The single algorithm a key is bound to."""

    XAES_256_GCM = "XAES-256-GCM"
    AES_256_GCM = "AES-256-GCM"
    CHACHA20_POLY1305 = "ChaCha20-Poly1305"
    HS256 = "HS256"
    EDDSA = "EdDSA"
    ES256 = "ES256"
    RS256 = "RS256"
    PS256 = "PS256"


class KeyStatus(enum.StrEnum):
    """A primary key makes new ciphertexts/tokens; retired keys only open old ones."""

    PRIMARY = "primary"
    RETIRED = "retired"


_ALGORITHMS: Final[Mapping[KeyKind, tuple[Algorithm, ...]]] = {
    KeyKind.AEAD: (Algorithm.XAES_256_GCM, Algorithm.AES_256_GCM, Algorithm.CHACHA20_POLY1305),
    KeyKind.MAC: (Algorithm.HS256,),
    KeyKind.SIGNING: (Algorithm.EDDSA, Algorithm.ES256, Algorithm.RS256, Algorithm.PS256),
}
#: The first algorithm of each kind is its default (DESIGN.md: XAES-256-GCM,
#: HMAC-SHA256, EdDSA).
_DEFAULT_ALGORITHM: Final[Mapping[KeyKind, Algorithm]] = {
    kind: algs[0] for kind, algs in _ALGORITHMS.items()
}

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str, *, what: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ConfigurationError(f"{what} is not unpadded base64url")
    if len(text) % 4 == 1:
        raise ConfigurationError(f"{what} is not unpadded base64url")
    decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(decoded) != text:  # non-canonical trailing bits
        raise ConfigurationError(f"{what} is not canonical base64url")
    return decoded


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) with an empty salt."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def _int_b64(value: int) -> str:
    return _b64e(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """Return the RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK.

    Args:
        jwk: a JWK with ``kty`` ``OKP``, ``EC`` or ``RSA`` and its required members.

    Raises:
        ConfigurationError: unsupported ``kty`` or a required member is missing.
    """
    # RFC 7638 section 3.2: only the required members, in lexicographic order,
    # no whitespace.
    required = {
        "OKP": ("crv", "kty", "x"),
        "EC": ("crv", "kty", "x", "y"),
        "RSA": ("e", "kty", "n"),
    }
    members = required.get(str(jwk.get("kty")))
    if members is None:
        raise ConfigurationError("JWK thumbprints need kty OKP, EC or RSA")
    try:
        canonical = {name: jwk[name] for name in members}
    except KeyError:
        raise ConfigurationError("JWK is missing a required member for its thumbprint") from None
    data = json.dumps(canonical, separators=(",", ":"), sort_keys=True).encode()
    return _b64e(hashlib.sha256(data).digest())


@functools.lru_cache(maxsize=256)
def _load_private(material: bytes) -> PrivateKey:
    try:
        key = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError("signing key material is not a PKCS#8 DER private key") from None
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise ConfigurationError("signing keys must be Ed25519, EC P-256 or RSA")
    return key


def _check_signing_material(alg: Algorithm, material: bytes) -> None:
    key = _load_private(material)
    if alg is Algorithm.EDDSA and not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ConfigurationError("an EdDSA key must be an Ed25519 private key")
    if alg is Algorithm.ES256 and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    ):
        raise ConfigurationError("an ES256 key must be an EC P-256 private key (RFC 7518 3.4)")
    if alg in {Algorithm.RS256, Algorithm.PS256}:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError(f"an {alg} key must be an RSA private key")
        if key.key_size < RSA_MIN_BITS:
            raise ConfigurationError(
                f"RSA keys must have at least {RSA_MIN_BITS} bits (NIST SP 800-57), "
                f"got {key.key_size}"
            )


def _check_secret_material(kind: KeyKind, material: bytes) -> None:
    if kind is KeyKind.AEAD and len(material) != AEAD_KEY_BYTES:
        raise ConfigurationError(
            f"aead keys must be exactly {AEAD_KEY_BYTES} bytes, got {len(material)} bytes"
        )
    if kind is KeyKind.MAC and not MAC_KEY_MIN_BYTES <= len(material) <= MAC_KEY_MAX_BYTES:
        raise ConfigurationError(
            f"mac keys must be {MAC_KEY_MIN_BYTES} to {MAC_KEY_MAX_BYTES} bytes "
            f"(RFC 7518 3.2), got {len(material)} bytes"
        )
    if len(set(material)) < _MIN_DISTINCT_BYTES:
        raise ConfigurationError(
            "key material is not random (too few distinct bytes); generate keys with "
            "KeyRing.generate()"
        )
    # Only typed-in text can hold a placeholder word: 32 random bytes are all
    # printable with probability < 2^-45. Words are >= 5 characters so that a
    # random base64 secret hits one with negligible probability.
    if not all(0x20 <= byte < 0x7F for byte in material):
        return
    lowered = material.lower()
    if any(word.encode() in lowered for word in _PLACEHOLDERS):
        raise ConfigurationError(
            "key material looks like a placeholder or a password; generate keys with "
            "KeyRing.generate()"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One key: id, kind, algorithm, status and (redacted) material.

    ``material`` is 32 raw bytes for ``aead`` keys, 32 to 64 raw bytes for
    ``mac`` keys and a PKCS#8 DER private key for ``signing`` keys. It never
    appears in ``repr``.
    """

    id: int
    kind: KeyKind
    alg: Algorithm
    status: KeyStatus
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise TypeError("key id must be an int")
        if not 1 <= self.id <= _MAX_KEY_ID:
            raise ConfigurationError("key id must be an unsigned 32-bit integer other than 0")
        kind = _enum(KeyKind, self.kind, "key kind")
        alg = _enum(Algorithm, self.alg, "algorithm")
        status = _enum(KeyStatus, self.status, "key status")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "alg", alg)
        object.__setattr__(self, "status", status)
        if alg not in _ALGORITHMS[kind]:
            allowed = ", ".join(_ALGORITHMS[kind])
            raise ConfigurationError(f"algorithm {alg} is not for {kind} keys (use {allowed})")
        if not isinstance(self.material, bytes):
            raise TypeError("key material must be bytes")
        if kind is KeyKind.SIGNING:
            _check_signing_material(alg, self.material)
        else:
            _check_secret_material(kind, self.material)

    def derive(self, purpose: str, *, length: int = 32) -> bytes:
        """Derive a per-purpose subkey with HKDF-SHA256.

        The info string is ``b"securekit/v1/" + purpose``, so one key never
        serves two purposes directly.

        Args:
            purpose: a non-empty label such as ``"stream"`` or ``"csrf"``.
            length: subkey length in bytes (1 to 255 * 32).

        Raises:
            ConfigurationError: a signing key, an empty purpose or a bad length.
        """
        if self.kind is KeyKind.SIGNING:
            raise ConfigurationError("signing keys cannot derive subkeys; use an aead or mac key")
        if not isinstance(purpose, str) or not purpose:
            raise ConfigurationError("purpose must be a non-empty string")
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 255 * 32:
            raise ConfigurationError("HKDF-SHA256 output length must be an int from 1 to 8160")
        try:
            info = _HKDF_INFO_PREFIX + purpose.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate has no UTF-8 form, so it cannot name a purpose.
            raise ConfigurationError("purpose must be encodable as UTF-8") from None
        return _hkdf(self.material, info, length)

    def private_key(self) -> PrivateKey:
        """Return the parsed private key (signing keys only; cached)."""
        if self.kind is not KeyKind.SIGNING:
            raise ConfigurationError(f"{self.kind} keys have no private key object")
        return _load_private(self.material)

    def public_key(self) -> PublicKey:
        """Return the public key (signing keys only)."""
        return self.private_key().public_key()

    def public_jwk(self) -> dict[str, str]:
        """Return the public JWK with ``kid`` (RFC 7638 thumbprint), ``alg`` and ``use``."""
        public = self.public_key()
        jwk: dict[str, str]
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64e(raw)}
        elif isinstance(public, ec.EllipticCurvePublicKey):
            numbers = public.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": _b64e(numbers.x.to_bytes(32, "big")),
                "y": _b64e(numbers.y.to_bytes(32, "big")),
            }
        else:
            rsa_numbers = public.public_numbers()
            jwk = {"kty": "RSA", "n": _int_b64(rsa_numbers.n), "e": _int_b64(rsa_numbers.e)}
        jwk["kid"] = jwk_thumbprint(jwk)
        jwk["alg"] = str(self.alg)
        jwk["use"] = "sig"
        return jwk

    def thumbprint(self) -> str:
        """Return the RFC 7638 thumbprint of the public key (signing keys only)."""
        return self.public_jwk()["kid"]


_E = TypeVar("_E", bound=enum.StrEnum)


def _enum(cls: type[_E], value: object, what: str) -> _E:
    try:
        return cls(value)  # type: ignore[arg-type]  # any value: unknown ones raise
    except ValueError:
        allowed = ", ".join(member.value for member in cls)
        raise ConfigurationError(f"unknown {what} (use one of: {allowed})") from None


def _new_material(kind: KeyKind, alg: Algorithm) -> bytes:
    if kind is not KeyKind.SIGNING:
        return secrets.token_bytes(32)
    private: PrivateKey
    if alg is Algorithm.EDDSA:
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg is Algorithm.ES256:
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATE_BITS)
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_id(taken: Iterable[int]) -> int:
    used = set(taken)
    while True:
        candidate = secrets.randbelow(_MAX_KEY_ID) + 1
        if candidate not in used:
            return candidate


@runtime_checkable
class KeyWrapper(Protocol):
    """Wraps and unwraps data keys under a key-encryption key (KEK).

    Implement this for a KMS or Vault: ``wrap`` sends the data key to the
    service for encryption, ``unwrap`` asks it back. ``context`` is
    authenticated and must be the same for both.
    """

    @property
    def name(self) -> str:
        """A short, non-secret name of the wrapper kind (stored in the file)."""
        ...

    @property
    def key_id(self) -> str:
        """A non-secret identifier of the KEK (stored in the file)."""
        ...

    def wrap(self, data_key: bytes, *, context: bytes) -> bytes:
        """Encrypt ``data_key`` under the KEK, binding ``context``."""
        ...

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Decrypt a wrapped data key; raise ``DecryptionError`` if it fails."""
        ...


class LocalKeyWrapper:
    """A :class:`KeyWrapper` with a local AES-256-GCM key-encryption key.

    Keep the KEK apart from the files it protects (an environment variable or
    a secret mount, not the same directory).
    """

    __slots__ = ("_aead", "_key_id")

    def __init__(self, kek: bytes) -> None:
        if not isinstance(kek, bytes):
            raise TypeError("kek must be bytes")
        if len(kek) != KEK_BYTES:
            raise ConfigurationError(f"the key-encryption key must be {KEK_BYTES} bytes")
        _check_secret_material(KeyKind.AEAD, kek)
        self._aead = AESGCM(kek)
        self._key_id = _b64e(_hkdf(kek, _HKDF_INFO_PREFIX + b"kek-id", 8))

    @classmethod
    def generate(cls) -> LocalKeyWrapper:
        """Return a wrapper with a fresh random KEK."""
        return cls(secrets.token_bytes(KEK_BYTES))

    @classmethod
    def from_secret(cls, secret: Secret) -> LocalKeyWrapper:
        """Build a wrapper from a base64url KEK held in a :class:`Secret`."""
        if not isinstance(secret, Secret):
            raise TypeError("secret must be a securekit.keys.Secret")
        return cls(_b64d(secret.reveal().strip(), what="the key-encryption key"))

    @classmethod
    def from_env(cls, name: str, *, environ: Mapping[str, str] | None = None) -> LocalKeyWrapper:
        """Build a wrapper from a base64url KEK in environment variable ``name``."""
        return cls.from_secret(Secret.from_env(name, environ=environ))

    @property
    def name(self) -> str:
        """Always ``"local"``."""
        return "local"

    @property
    def key_id(self) -> str:
        """A non-secret identifier derived from the KEK."""
        return self._key_id

    @staticmethod
    def new_kek() -> Secret:
        """Generate a new random KEK as a base64url :class:`Secret` (store it safely)."""
        return Secret(_b64e(secrets.token_bytes(KEK_BYTES)))

    def wrap(self, data_key: bytes, *, context: bytes) -> bytes:
        """Encrypt ``data_key`` with AES-256-GCM under the KEK (random 96-bit nonce)."""
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Decrypt a wrapped data key.

        Raises:
            DecryptionError: wrong KEK, wrong context or corrupted data.
        """
        if len(wrapped) < 12 + 16:
            raise DecryptionError(DecryptionReason.TOO_SHORT)
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], context)
        except InvalidTag:
            raise DecryptionError(DecryptionReason.AUTHENTICATION_FAILED) from None

    def __repr__(self) -> str:
        return f"LocalKeyWrapper(key_id={self._key_id!r})"


class KeyRing:
    """An immutable set of keys of one kind: one primary and any retired keys.

    Example:
        >>> ring = KeyRing.generate("aead")
        >>> rotated = ring.rotate()
        >>> rotated.primary.id != ring.primary.id and ring.primary.id in rotated
        True
    """

    __slots__ = ("_by_id", "_keys", "_kind")

    def __init__(self, keys: Iterable[Key]) -> None:
        ordered = tuple(keys)
        if not ordered:
            raise ConfigurationError("a key ring needs at least one key")
        for key in ordered:
            if not isinstance(key, Key):
                raise TypeError("a key ring holds securekit.keys.Key objects")
        kinds = {key.kind for key in ordered}
        if len(kinds) != 1:
            raise ConfigurationError("all keys of a ring must be of one kind")
        primaries = [key for key in ordered if key.status is KeyStatus.PRIMARY]
        if len(primaries) != 1:
            raise ConfigurationError(
                f"a key ring needs exactly one primary key, found {len(primaries)}"
            )
        by_id = {key.id: key for key in ordered}
        if len(by_id) != len(ordered):
            raise ConfigurationError("key ids in a ring must be unique")
        self._kind = ordered[0].kind
        self._keys = (primaries[0], *(key for key in ordered if key is not primaries[0]))
        self._by_id = by_id

    # -- construction -------------------------------------------------------

    @classmethod
    def generate(cls, kind: KeyKind | str, *, alg: Algorithm | str | None = None) -> KeyRing:
        """Return a new ring with one fresh primary key.

        Args:
            kind: ``"aead"``, ``"mac"`` or ``"signing"``.
            alg: the key's algorithm; defaults to XAES-256-GCM, HS256 and EdDSA.
        """
        key_kind = _enum(KeyKind, kind, "key kind")
        algorithm = _DEFAULT_ALGORITHM[key_kind] if alg is None else _enum(Algorithm, alg, "alg")
        key = Key(
            id=_new_id(()),
            kind=key_kind,
            alg=algorithm,
            status=KeyStatus.PRIMARY,
            material=_new_material(key_kind, algorithm),
        )
        return cls([key])

    # -- lookup -------------------------------------------------------------

    @property
    def kind(self) -> KeyKind:
        """The kind of every key in the ring."""
        return self._kind

    @property
    def primary(self) -> Key:
        """The key used for new ciphertexts, tokens and signatures."""
        return self._keys[0]

    @property
    def keys(self) -> tuple[Key, ...]:
        """Every key, primary first."""
        return self._keys

    def get(self, key_id: int) -> Key | None:
        """Return the key with this id, or None (never tries keys in turn)."""
        # Ids come from ciphertexts and token headers: anything but an int
        # (bool included) is simply not a key id, never a crash.
        if isinstance(key_id, bool) or not isinstance(key_id, int):
            return None
        return self._by_id.get(key_id)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return self.get(key_id) is not None  # type: ignore[arg-type]  # any object: not an id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyRing):
            return NotImplemented
        return self._keys == other._keys

    def __hash__(self) -> int:
        return hash(tuple(key.id for key in self._keys))

    def __repr__(self) -> str:
        ids = ", ".join(f"{key.id}:{key.status}" for key in self._keys)
        return f"KeyRing(kind={self._kind.value!r}, keys=[{ids}])"

    # -- evolution (each returns a new ring) --------------------------------

    def rotate(self, *, alg: Algorithm | str | None = None) -> KeyRing:
        """Return a ring with a new primary key; the old primary is retired.

        Args:
            alg: the new key's algorithm (default: the current primary's).
        """
        algorithm = self.primary.alg if alg is None else _enum(Algorithm, alg, "alg")
        new = Key(
            id=_new_id(self._by_id),
            kind=self._kind,
            alg=algorithm,
            status=KeyStatus.PRIMARY,
            material=_new_material(self._kind, algorithm),
        )
        return KeyRing([new, *(replace(key, status=KeyStatus.RETIRED) for key in self._keys)])

    def promote(self, key_id: int) -> KeyRing:
        """Return a ring where ``key_id`` is primary and the old primary is retired."""
        self._require(key_id)
        return KeyRing(
            replace(key, status=KeyStatus.PRIMARY if key.id == key_id else KeyStatus.RETIRED)
            for key in self._keys
        )

    def retire(self, key_id: int) -> KeyRing:
        """Return a ring where ``key_id`` is retired (it still opens old data).

        Raises:
            ConfigurationError: ``key_id`` is the primary (rotate or promote first).
        """
        self._require(key_id)
        if key_id == self.primary.id:
            raise ConfigurationError("cannot retire the primary key; rotate() or promote() first")
        return self

    def remove(self, key_id: int) -> KeyRing:
        """Return a ring without ``key_id``; data under it can no longer be opened.

        Raises:
            ConfigurationError: ``key_id`` is unknown or is the primary.
        """
        self._require(key_id)
        if key_id == self.primary.id:
            raise ConfigurationError("cannot remove the primary key; rotate() or promote() first")
        return KeyRing(key for key in self._keys if key.id != key_id)

    def derive(self, purpose: str) -> KeyRing:
        """Return a ring of per-purpose subkeys (same ids and statuses).

        Each key's material becomes ``key.derive(purpose)`` (HKDF-SHA256), so
        one configured ring can serve several recipes without any key serving
        two purposes.
        """
        return KeyRing(replace(key, material=key.derive(purpose, length=32)) for key in self._keys)

    def _require(self, key_id: int) -> None:
        if key_id not in self:
            raise ConfigurationError("no key with that id in the ring")

    # -- publication --------------------------------------------------------

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the public keys as a JWKS (RFC 7517), primary first.

        Raises:
            ConfigurationError: the ring is not a ``signing`` ring.
        """
        if self._kind is not KeyKind.SIGNING:
            raise ConfigurationError(f"{self._kind} keys are secret and have no public JWKS")
        return {"keys": [key.public_jwk() for key in self._keys]}

    # -- serialization ------------------------------------------------------

    def _cleartext_json(self) -> str:
        document = {
            "version": _RING_FORMAT_VERSION,
            "keys": [
                {
                    "id": key.id,
                    "kind": key.kind.value,
                    "alg": key.alg.value,
                    "status": key.status.value,
                    "material": _b64e(key.material),
                }
                for key in self._keys
            ],
        }
        return json.dumps(document, separators=(",", ":"))

    def to_json(
        self, *, wrapper: KeyWrapper | None = None, insecure_cleartext: bool = False
    ) -> str:
        """Serialize the ring, encrypted under ``wrapper`` by default.

        The ring is encrypted with a fresh AES-256-GCM data key, and the data
        key is wrapped by ``wrapper`` (envelope encryption).

        Args:
            wrapper: the key-encryption key (local or KMS) to protect the ring.
            insecure_cleartext: write key material in clear instead. Danger:
                anyone who reads the output holds every key; for tests and
                one-off migrations only. Emits ``InsecureConfigurationWarning``.

        Raises:
            ConfigurationError: neither ``wrapper`` nor ``insecure_cleartext``.
        """
        if insecure_cleartext:
            warnings.warn(
                "KeyRing.to_json(insecure_cleartext=True) writes key material in clear",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
            return self._cleartext_json()
        if wrapper is None:
            raise ConfigurationError(
                "pass wrapper= (e.g. LocalKeyWrapper) to encrypt the key ring; cleartext "
                "needs insecure_cleartext=True"
            )
        data_key = secrets.token_bytes(32)
        nonce = secrets.token_bytes(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, self._cleartext_json().encode(), _RING_AD)
        document = {
            "version": _RING_FORMAT_VERSION,
            "encrypted": {
                "wrapper": wrapper.name,
                "kek_id": wrapper.key_id,
                "wrapped_key": _b64e(wrapper.wrap(data_key, context=_RING_AD)),
                "nonce": _b64e(nonce),
                "ciphertext": _b64e(ciphertext),
            },
        }
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, *, wrapper: KeyWrapper | None = None) -> KeyRing:
        """Load a ring written by :meth:`to_json`.

        Raises:
            ConfigurationError: malformed document, weak or invalid keys, an
                encrypted ring without the right ``wrapper``. The message never
                contains key material.
        """
        if not isinstance(text, str):
            raise TypeError("key ring JSON must be str")
        document = _parse_document(text)
        if "encrypted" in document:
            return cls._from_encrypted(document, wrapper)
        if set(document) != {"version", "keys"} or not isinstance(document["keys"], list):
            _bad_ring("expected the members 'version' and 'keys'")
        keys = []
        for entry in document["keys"]:
            if not isinstance(entry, dict) or set(entry) != {
                "id",
                "kind",
                "alg",
                "status",
                "material",
            }:
                _bad_ring("each key needs exactly id, kind, alg, status and material")
            if not isinstance(entry["id"], int) or isinstance(entry["id"], bool):
                _bad_ring("key ids must be integers")
            keys.append(
                Key(
                    id=entry["id"],
                    kind=_enum(KeyKind, entry["kind"], "key kind"),
                    alg=_enum(Algorithm, entry["alg"], "algorithm"),
                    status=_enum(KeyStatus, entry["status"], "key status"),
                    material=_b64d(entry["material"], what="key material"),
                )
            )
        return cls(keys)

    @classmethod
    def _from_encrypted(cls, document: dict[str, Any], wrapper: KeyWrapper | None) -> KeyRing:
        box = document["encrypted"]
        if set(document) != {"version", "encrypted"} or not isinstance(box, dict):
            _bad_ring("expected the members 'version' and 'encrypted'")
        fields = {"wrapper", "kek_id", "wrapped_key", "nonce", "ciphertext"}
        if set(box) != fields or not all(isinstance(box[name], str) for name in fields):
            _bad_ring("the encrypted ring needs wrapper, kek_id, wrapped_key, nonce, ciphertext")
        if wrapper is None:
            raise ConfigurationError("this key ring is encrypted: pass wrapper= to load it")
        if box["wrapper"] != wrapper.name or box["kek_id"] != wrapper.key_id:
            raise ConfigurationError(
                "this key ring was encrypted under a different key-encryption key "
                f"(wrapper {box['wrapper']!r}, kek_id {box['kek_id']!r})"
            )
        nonce = _b64d(box["nonce"], what="nonce")
        if len(nonce) != 12:
            _bad_ring("the nonce must be 12 bytes")
        try:
            data_key = wrapper.unwrap(
                _b64d(box["wrapped_key"], what="wrapped key"), context=_RING_AD
            )
            plaintext = AESGCM(data_key).decrypt(
                nonce, _b64d(box["ciphertext"], what="ciphertext"), _RING_AD
            )
        except (DecryptionError, InvalidTag, ValueError):
            raise ConfigurationError(
                "could not decrypt the key ring: wrong key-encryption key or corrupted file"
            ) from None
        try:
            inner = plaintext.decode("utf-8")
        except UnicodeDecodeError:
            inner = None
        if inner is None:
            _bad_ring("the decrypted ring is not UTF-8")
        return cls.from_json(inner)

    @classmethod
    def from_env(
        cls,
        name: str,
        *,
        wrapper: KeyWrapper | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> KeyRing:
        """Load a ring from the JSON in environment variable ``name``."""
        env = os.environ if environ is None else environ
        if name not in env:
            raise ConfigurationError(f"environment variable {name} is not set")
        return cls.from_json(env[name], wrapper=wrapper)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, wrapper: KeyWrapper | None = None
    ) -> KeyRing:
        """Load a ring from a JSON file written by :meth:`save`."""
        return cls.from_json(_read_text(Path(path)), wrapper=wrapper)

    @classmethod
    def from_secrets_dir(
        cls,
        name: str,
        *,
        directory: str | os.PathLike[str] = "/run/secrets",
        wrapper: KeyWrapper | None = None,
    ) -> KeyRing:
        """Load a ring from ``directory/name`` (Docker and Kubernetes secret mounts)."""
        return cls.from_json(_read_secret_file(name, directory), wrapper=wrapper)

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        wrapper: KeyWrapper | None = None,
        insecure_cleartext: bool = False,
    ) -> None:
        """Write the ring atomically to ``path`` with mode 0600.

        Args:
            path: the file to (re)place.
            wrapper: the key-encryption key (required unless insecure_cleartext).
            insecure_cleartext: write key material in clear. Danger: see
                :meth:`to_json`. Emits ``InsecureConfigurationWarning``.
        """
        if insecure_cleartext:
            warnings.warn(
                "KeyRing.save(insecure_cleartext=True) writes key material in clear",
                InsecureConfigurationWarning,
                stacklevel=2,
            )
            text = self._cleartext_json()
        else:
            text = self.to_json(wrapper=wrapper)
        _write_private(Path(path), text)


def _bad_ring(detail: str) -> NoReturn:
    raise ConfigurationError(f"malformed key ring: {detail}")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            _bad_ring("duplicate member")
        result[name] = value
    return result


def _parse_document(text: str) -> dict[str, Any]:
    if len(text) > _MAX_RING_JSON_BYTES:
        _bad_ring("larger than 1 MiB")

    def refuse_constant(_: str) -> NoReturn:
        _bad_ring("NaN and Infinity are not allowed")

    try:
        document = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=refuse_constant
        )
    except ConfigurationError:
        raise  # a duplicate member or NaN, refused by the hooks above
    except (ValueError, RecursionError):
        # JSONDecodeError (a ValueError, as is int()'s digit-limit refusal)
        # keeps the whole document, key material included, in .doc: raise
        # outside the handler so it is not even the __context__.
        document = None
    if document is None:
        _bad_ring("not valid JSON")
    if not isinstance(document, dict):
        _bad_ring("expected a JSON object")
    version = document.get("version")
    # type() is exact: True and 1.0 compare equal to 1 but are not version 1.
    if type(version) is not int or version != _RING_FORMAT_VERSION:
        _bad_ring(f"unsupported version (this securekit reads version {_RING_FORMAT_VERSION})")
    return document


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"key file {path} does not exist") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"key file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # an embedded NUL: no such file can exist
        raise ConfigurationError("key file paths must not contain NUL") from None


def _read_secret_file(name: str, directory: str | os.PathLike[str]) -> str:
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name) or ".." in name:
        raise ConfigurationError("secret names are letters, digits, '_', '.' and '-' only")
    return _read_text(Path(directory) / name)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except ValueError:  # an embedded NUL (OSError, a file system failure, propagates)
        raise ConfigurationError("key file paths must not contain NUL") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Secret:
    """A configuration secret (API key, password, KEK) that does not leak.

    ``repr``, ``str`` and formatting show ``'**********'``; equality with
    another :class:`Secret` or a ``str`` is constant-time; pickling refuses.
    Call :meth:`reveal` at the one place the value is used.
    """

    __slots__ = ("_value",)
    _MASK: Final = "**********"

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Never log what this returns."""
        return self._value

    @classmethod
    def from_env(cls, name: str, *, environ: Mapping[str, str] | None = None) -> Secret:
        """Read a secret from environment variable ``name``.

        Raises:
            ConfigurationError: the variable is unset or empty.
        """
        env = os.environ if environ is None else environ
        value = env.get(name)
        if not value:
            raise ConfigurationError(f"environment variable {name} is not set or empty")
        return cls(value)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Secret:
        """Read a secret from a file (one trailing newline is removed)."""
        text = _read_text(Path(path))
        return cls(text.removesuffix("\n").removesuffix("\r"))

    @classmethod
    def from_secrets_dir(
        cls, name: str, *, directory: str | os.PathLike[str] = "/run/secrets"
    ) -> Secret:
        """Read ``directory/name`` (Docker and Kubernetes secret mounts)."""
        text = _read_secret_file(name, directory)
        return cls(text.removesuffix("\n").removesuffix("\r"))

    def __repr__(self) -> str:
        return f"Secret({self._MASK!r})"

    def __str__(self) -> str:
        return self._MASK

    def __format__(self, spec: str) -> str:
        return self._MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other_value = other._value
        elif isinstance(other, str):
            other_value = other
        else:
            return NotImplemented
        # surrogatepass: a str holding a lone surrogate still compares (as
        # unequal to anything else) instead of raising UnicodeEncodeError.
        return hmac.compare_digest(
            self._value.encode("utf-8", "surrogatepass"),
            other_value.encode("utf-8", "surrogatepass"),
        )

    __hash__ = None  # type: ignore[assignment]  # equal secrets must not be found by hash

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled")
