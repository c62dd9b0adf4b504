"""Parsers and checkers for stored password hashes (private to securekit.passwords).

Every parser works on a bounded, ASCII-only string, reads integers of at most
ten digits, checks every cost parameter against the caps *before* any key
derivation runs, and returns either a parsed hash with a ``check`` method or
the :class:`~securekit.errors.PasswordReason` that made the hash unusable.
Nothing here raises for a ``str`` input: the public verifier turns a reason
into ``False`` plus an equal-cost dummy verification.

Formats (all others are rejected, never guessed):

* PHC Argon2: ``$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>[,keyid=<B64>]$<B64 salt>$<B64 tag>``
  (also ``argon2i``; ``v=16`` for hashes made before Argon2 1.3).
* Django ``argon2$<PHC Argon2>``.
* bcrypt ``$2a$``, ``$2b$``, ``$2y$`` (Modular Crypt Format), Django ``bcrypt$<bcrypt>``
  and ``bcrypt_sha256$<bcrypt>`` (bcrypt over hex(SHA-256(password))).
* Django ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>``.
* Werkzeug ``pbkdf2:sha256:<iterations>$<salt>$<hex>`` and
  ``scrypt:<N>:<r>:<p>$<salt>$<hex>``.
* passlib ``$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 checksum>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import bcrypt
from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw

from securekit.errors import PasswordReason

if TYPE_CHECKING:
    from securekit.passwords import StoredHashLimits

__all__ = [
    "Argon2Hash",
    "LegacyHash",
    "b64_phc_encode",
    "encode_argon2",
    "parse",
]

#: Argon2 version 1.3 (0x13), the only version RFC 9106 specifies (section 3.1).
ARGON2_VERSION_13: Final = 19
#: Argon2 version 1.0 (0x10), written by libraries before 2016; verified for migration.
ARGON2_VERSION_10: Final = 16

# bcrypt (OpenBSD) only ever reads the first 72 bytes of a password.
_BCRYPT_MAX_BYTES: Final = 72

_PHC_B64 = re.compile(r"[A-Za-z0-9+/]+")
_AB64 = re.compile(r"[A-Za-z0-9./]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,9}")
_HEX = re.compile(r"[0-9a-f]+")
# Salts of Django and Werkzeug are text; they never contain "$" (the separator).
_TEXT_SALT = re.compile(r"[!-#%-~]{1,128}")
_BCRYPT = re.compile(r"\$2([aby])\$([0-9]{2})\$[./A-Za-z0-9]{53}")
_ARGON2_PARAM = re.compile(r"(m|t|p|keyid)=([^,]*)")


@dataclass(frozen=True, slots=True)
class Argon2Hash:
    """A parsed PHC Argon2 hash whose parameters are within the caps."""

    variant: Type
    version: int
    memory_cost: int
    time_cost: int
    parallelism: int
    key_id: int | None
    salt: bytes
    tag: bytes
    #: "argon2" for a plain PHC string, "django-argon2" for Django's prefix.
    scheme: str

    def check(self, secret: bytes) -> bool:
        """Return True when ``secret`` derives this tag (constant-time compare)."""
        try:
            derived = hash_secret_raw(
                secret,
                self.salt,
                time_cost=self.time_cost,
                memory_cost=self.memory_cost,
                parallelism=self.parallelism,
                hash_len=len(self.tag),
                type=self.variant,
                version=self.version,
            )
        except HashingError:  # pragma: no cover - parameters were validated by parse()
            return False
        return hmac.compare_digest(derived, self.tag)


@dataclass(frozen=True, slots=True)
class LegacyHash:
    """A parsed hash of another system, verified for migration only."""

    scheme: str
    checker: Callable[[bytes], bool]

    def check(self, secret: bytes) -> bool:
        """Return True when the UTF-8 password ``secret`` matches."""
        return self.checker(secret)


def b64_phc_encode(data: bytes) -> str:
    """PHC string B64: standard alphabet without padding."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64_phc_decode(text: str) -> bytes | None:
    if not _PHC_B64.fullmatch(text) or len(text) % 4 == 1:
        return None
    raw = base64.b64decode(text + "=" * (-len(text) % 4))
    # Reject non-canonical encodings (stray low bits): one hash, one spelling.
    return raw if b64_phc_encode(raw) == text else None


def _ab64_decode(text: str) -> bytes | None:
    # passlib's "adapted base64": "." instead of "+", no padding.
    if not _AB64.fullmatch(text) or len(text) % 4 == 1:
        return None
    return _b64_phc_decode(text.replace(".", "+"))


def _decimal(text: str) -> int | None:
    # At most ten digits, so int() never works on attacker-sized numbers.
    return int(text) if _DECIMAL.fullmatch(text) else None


def encode_argon2(
    *,
    memory_cost: int,
    time_cost: int,
    parallelism: int,
    key_id: int | None,
    salt: bytes,
    tag: bytes,
) -> str:
    """Encode an Argon2id hash as a PHC string (``keyid`` per the PHC Argon2 spec)."""
    params = f"m={memory_cost},t={time_cost},p={parallelism}"
    if key_id is not None:
        params += f",keyid={b64_phc_encode(key_id.to_bytes(4, 'big'))}"
    return f"$argon2id$v={ARGON2_VERSION_13}${params}${b64_phc_encode(salt)}${b64_phc_encode(tag)}"


def _parse_argon2(
    text: str, limits: StoredHashLimits, *, scheme: str
) -> Argon2Hash | PasswordReason:
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != "":
        return PasswordReason.MALFORMED_HASH
    _, variant_name, version_part, param_part, salt_part, tag_part = parts
    variants = {"argon2id": Type.ID, "argon2i": Type.I}
    if variant_name not in variants:
        # argon2d is not meant for passwords (RFC 9106 section 4 recommends Argon2id).
        return PasswordReason.UNSUPPORTED_HASH
    if not version_part.startswith("v="):
        return PasswordReason.MALFORMED_HASH
    version = _decimal(version_part[2:])
    if version not in {ARGON2_VERSION_13, ARGON2_VERSION_10}:
        return PasswordReason.UNSUPPORTED_HASH
    values: dict[str, str] = {}
    for item in param_part.split(","):
        match = _ARGON2_PARAM.fullmatch(item)
        if match is None or match.group(1) in values:
            return PasswordReason.MALFORMED_HASH
        values[match.group(1)] = match.group(2)
    if list(values)[:3] != ["m", "t", "p"]:
        return PasswordReason.MALFORMED_HASH
    memory_cost = _decimal(values["m"])
    time_cost = _decimal(values["t"])
    parallelism = _decimal(values["p"])
    if memory_cost is None or time_cost is None or parallelism is None:
        return PasswordReason.MALFORMED_HASH
    key_id: int | None = None
    if "keyid" in values:
        raw_id = _b64_phc_decode(values["keyid"])
        if raw_id is None or len(raw_id) != 4:
            return PasswordReason.MALFORMED_HASH
        key_id = int.from_bytes(raw_id, "big")
    salt = _b64_phc_decode(salt_part)
    tag = _b64_phc_decode(tag_part)
    # RFC 9106 section 3.1: salt 8..2^32-1 bytes, tag 4..2^32-1 bytes; we accept
    # the sizes real libraries write and nothing that costs more to process.
    if salt is None or tag is None or not 8 <= len(salt) <= 64 or not 16 <= len(tag) <= 64:
        return PasswordReason.MALFORMED_HASH
    if time_cost < 1 or parallelism < 1 or memory_cost < 8 * parallelism:
        return PasswordReason.MALFORMED_HASH
    # The caps are checked before Argon2 allocates anything.
    if (
        memory_cost > limits.argon2_max_memory_kib
        or time_cost > limits.argon2_max_time_cost
        or parallelism > limits.argon2_max_parallelism
    ):
        return PasswordReason.HASH_OVER_LIMIT
    return Argon2Hash(
        variant=variants[variant_name],
        version=version,
        memory_cost=memory_cost,
        time_cost=time_cost,
        parallelism=parallelism,
        key_id=key_id,
        salt=salt,
        tag=tag,
        scheme=scheme,
    )


def _bcrypt_checker(stored: str, *, prehash: bool) -> Callable[[bytes], bool]:
    # $2y$ (PHP) and $2b$ (OpenBSD) are the same fixed algorithm; $2a$ differs
    # only for passwords of 255+ bytes, which never reach it (72-byte cut below).
    normalized = ("$2b$" + stored[4:]).encode("ascii") if stored[2] == "y" else stored.encode()

    def check(secret: bytes) -> bool:
        if prehash:
            # Django's bcrypt_sha256: bcrypt over the hex SHA-256 of the password.
            secret = binascii.hexlify(hashlib.sha256(secret).digest())
        elif b"\x00" in secret:
            # C bcrypt implementations stop at NUL: "abc\0x" would match "abc".
            return False
        else:
            # Legacy behaviour, for verifying old hashes only: bcrypt read the
            # first 72 bytes. New hashes are Argon2id and never truncate.
            secret = secret[:_BCRYPT_MAX_BYTES]
        try:
            return bcrypt.checkpw(secret, normalized)
        except ValueError:  # pragma: no cover - format was validated by parse()
            return False

    return check


def _parse_bcrypt(
    text: str, limits: StoredHashLimits, *, scheme: str, prehash: bool
) -> LegacyHash | PasswordReason:
    match = _BCRYPT.fullmatch(text)
    if match is None:
        return PasswordReason.MALFORMED_HASH
    cost = int(match.group(2))
    if cost < 4 or cost > 31:
        return PasswordReason.MALFORMED_HASH
    if cost > limits.bcrypt_max_cost:
        return PasswordReason.HASH_OVER_LIMIT
    return LegacyHash(scheme=scheme, checker=_bcrypt_checker(text, prehash=prehash))


def _pbkdf2_checker(salt: bytes, iterations: int, expected: bytes) -> Callable[[bytes], bool]:
    def check(secret: bytes) -> bool:
        derived = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, len(expected))
        return hmac.compare_digest(derived, expected)

    return check


def _pbkdf2_hash(
    scheme: str, iterations_text: str, salt: bytes, expected: bytes, limits: StoredHashLimits
) -> LegacyHash | PasswordReason:
    """A PBKDF2-HMAC-SHA256 hash once its format parsed: check the count, build the checker."""
    iterations = _decimal(iterations_text)
    if iterations is None or iterations < 1:
        return PasswordReason.MALFORMED_HASH
    if iterations > limits.pbkdf2_max_iterations:
        return PasswordReason.HASH_OVER_LIMIT
    return LegacyHash(scheme=scheme, checker=_pbkdf2_checker(salt, iterations, expected))


def _parse_django_pbkdf2(text: str, limits: StoredHashLimits) -> LegacyHash | PasswordReason:
    parts = text.split("$")
    if len(parts) != 4 or not _TEXT_SALT.fullmatch(parts[2]):
        return PasswordReason.MALFORMED_HASH
    try:
        expected = base64.b64decode(parts[3], validate=True)
    except binascii.Error:
        return PasswordReason.MALFORMED_HASH
    if len(expected) != 32:
        return PasswordReason.MALFORMED_HASH
    salt = parts[2].encode("ascii")
    return _pbkdf2_hash("django-pbkdf2_sha256", parts[1], salt, expected, limits)


def _parse_passlib_pbkdf2(text: str, limits: StoredHashLimits) -> LegacyHash | PasswordReason:
    parts = text.split("$")
    if len(parts) != 5 or parts[0] != "":
        return PasswordReason.MALFORMED_HASH
    salt = _ab64_decode(parts[3])
    expected = _ab64_decode(parts[4])
    if salt is None or expected is None or not 1 <= len(salt) <= 64 or len(expected) != 32:
        return PasswordReason.MALFORMED_HASH
    return _pbkdf2_hash("passlib-pbkdf2_sha256", parts[2], salt, expected, limits)


def _hex(text: str, size: int) -> bytes | None:
    if len(text) != 2 * size or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


def _parse_werkzeug(text: str, limits: StoredHashLimits) -> LegacyHash | PasswordReason:
    parts = text.split("$")
    if len(parts) != 3 or not _TEXT_SALT.fullmatch(parts[1]):
        return PasswordReason.MALFORMED_HASH
    method = parts[0].split(":")
    salt = parts[1].encode("ascii")
    if method[0] == "pbkdf2":
        # Only the explicit form: without an iteration count the meaning
        # depends on the Werkzeug version that wrote it, so we would be guessing.
        if len(method) != 3 or method[1] != "sha256":
            return PasswordReason.UNSUPPORTED_HASH
        expected = _hex(parts[2], 32)
        if expected is None:
            return PasswordReason.MALFORMED_HASH
        return _pbkdf2_hash("werkzeug-pbkdf2_sha256", method[2], salt, expected, limits)
    if len(method) != 4:
        return PasswordReason.MALFORMED_HASH
    n, r, p = (_decimal(value) for value in method[1:])
    expected = _hex(parts[2], 64)
    if n is None or r is None or p is None or expected is None:
        return PasswordReason.MALFORMED_HASH
    # RFC 7914 section 2: N a power of two greater than 1; r, p positive.
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        return PasswordReason.MALFORMED_HASH
    if (
        128 * n * r > limits.scrypt_max_memory_bytes
        or p > limits.scrypt_max_parallelism
        or n * r * p > limits.scrypt_max_work
    ):
        return PasswordReason.HASH_OVER_LIMIT
    # hashlib needs head-room above 128 * N * r for its own buffers.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)

    def check(secret: bytes) -> bool:
        derived = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=64)
        return hmac.compare_digest(derived, expected)

    return LegacyHash(scheme="werkzeug-scrypt", checker=check)


def parse(stored: str, limits: StoredHashLimits) -> Argon2Hash | LegacyHash | PasswordReason:
    """Parse a stored hash; return it, or the reason it cannot be used.

    Args:
        stored: the stored hash string (untrusted: it may come from an import).
        limits: caps on the cost parameters a stored hash may claim.
    """
    if len(stored) > limits.max_hash_length or not stored.isascii():
        return PasswordReason.MALFORMED_HASH
    if stored.startswith("$argon2"):
        return _parse_argon2(stored, limits, scheme="argon2")
    if stored.startswith("argon2$"):
        return _parse_argon2(stored[len("argon2") :], limits, scheme="django-argon2")
    if stored.startswith("$2"):
        return _parse_bcrypt(stored, limits, scheme="bcrypt", prehash=False)
    if stored.startswith("bcrypt$"):
        return _parse_bcrypt(
            stored[len("bcrypt$") :], limits, scheme="django-bcrypt", prehash=False
        )
    if stored.startswith("bcrypt_sha256$"):
        return _parse_bcrypt(
            stored[len("bcrypt_sha256$") :], limits, scheme="django-bcrypt_sha256", prehash=True
        )
    if stored.startswith("pbkdf2_sha256$"):
        return _parse_django_pbkdf2(stored, limits)
    if stored.startswith("$pbkdf2-sha256$"):
        return _parse_passlib_pbkdf2(stored, limits)
    if stored.startswith(("pbkdf2:", "scrypt:")):
        return _parse_werkzeug(stored, limits)
    return PasswordReason.UNSUPPORTED_HASH
