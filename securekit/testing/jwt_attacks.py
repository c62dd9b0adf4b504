"""JWT attack tokens for a given key set: an independent oracle for verifiers.

The tokens are built here from scratch (base64url, JSON, ``hmac`` and
``cryptography`` signatures), never with :mod:`securekit.jwt` or PyJWT, so a
test that feeds them to a verifier checks the verifier against something it
did not produce itself.

Every token in :func:`jwt_attack_tokens` must be rejected by a verifier
configured for the :class:`JWTTarget` (its issuer, audience, token type and
keys), while :func:`valid_token` must be accepted: a test that asserts both
cannot pass vacuously. The classes follow RFC 8725 (JWT Best Current
Practices) and the published attacks on JWT libraries:

* ``alg_none``: ``alg`` ``none`` in any case, with and without a signature
  (CVE-2015-9235 class).
* ``hs_confusion``: HS256/384/512 keyed with the *public* key in every
  serialization a library might use (PEM, DER, raw, JWK JSON, OpenSSH)
  (CVE-2016-10555, CVE-2022-29217 class).
* ``signature``: stripped, empty, truncated, bit-flipped, all-zero
  ("psychic signatures", CVE-2022-21449) and transplanted signatures.
* ``claims``: legitimately signed tokens that are expired, not yet valid,
  issued in the future, too long-lived, for the wrong issuer or audience,
  missing required claims, with wrongly typed claims or the wrong ``typ``
  (RFC 7519 section 4.1, RFC 8725 section 3.11, RFC 9068).
* ``header``: ``crit`` with an unknown extension (RFC 7515 section 4.1.11),
  embedded ``jwk``, ``jku``, ``x5u``, ``x5c`` pointing at attacker keys, and
  ``kid`` injection (path traversal, SQL, command, URL, wrong types).
* ``malformed``: wrong segment counts, JWE-shaped tokens, bad base64, JSON
  that is not an object, duplicate header names, oversized tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from securekit._clock import resolve
from securekit.errors import ConfigurationError
from securekit.keys import KeyKind, KeyRing

__all__ = [
    "ATTACK_NAMES",
    "JWTAttack",
    "JWTTarget",
    "attack_names",
    "build_attack",
    "jwt_attack_tokens",
    "valid_token",
]

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

#: Lifetime of the legitimate tokens built here: well inside securekit's
#: 15-minute default ``max_lifetime`` (RFC 9068 recommends short-lived tokens).
VALID_LIFETIME: Final = timedelta(minutes=5)

#: The attacker's URLs point at a reserved TLD (RFC 2606 section 2).
_ATTACKER_URL: Final = "https://attacker.invalid"

#: JWA (RFC 7518 section 3.4): curve -> algorithm and coordinate size in bytes.
_EC_ALGS: Final = {
    "secp256r1": ("ES256", 32),
    "secp384r1": ("ES384", 48),
    "secp521r1": ("ES512", 66),
}


def _hash(bits: str) -> hashes.HashAlgorithm:
    if bits == "384":
        return hashes.SHA384()
    if bits == "512":
        return hashes.SHA512()
    return hashes.SHA256()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=False).encode("utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class JWTTarget:
    """What the verifier under test expects, and the legitimate issuer key.

    Tests own the issuer's key, so they can build legitimately signed tokens
    that must still be rejected (expired, wrong audience, ...). Build one
    from a securekit ring with :meth:`from_keyring`, or directly from a
    ``cryptography`` private key (EdDSA, ECDSA, RSA) or an HS256 secret.

    Attributes:
        issuer: the expected ``iss``.
        audience: the verifier's audience.
        signing_key: the issuer's private key, or the HS256 secret (bytes).
        kid: the ``kid`` the verifier looks keys up by (``None``: no kid).
        alg: the algorithm; derived from the key when ``None`` (``RS256``
            for RSA keys; pass ``"PS256"`` for PSS).
        token_type: the expected header ``typ`` (``None``: the verifier does
            not check ``typ``, and no ``typ`` attacks are generated).
    """

    issuer: str
    audience: str
    signing_key: PrivateKey | bytes = field(repr=False)
    kid: str | None = None
    alg: str | None = None
    token_type: str | None = "at+jwt"  # noqa: S105 - a media type (RFC 9068), not a secret

    def __post_init__(self) -> None:
        for name in ("issuer", "audience"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{name} must be a non-empty str")
        key = self.signing_key
        if isinstance(key, bytes):
            allowed: tuple[str, ...] = ("HS256", "HS384", "HS512")
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            allowed = ("EdDSA",)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            if key.curve.name not in _EC_ALGS:
                raise ConfigurationError(f"unsupported curve {key.curve.name}")
            allowed = (_EC_ALGS[key.curve.name][0],)
        elif isinstance(key, rsa.RSAPrivateKey):
            allowed = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
        else:
            raise TypeError("signing_key must be a cryptography private key or bytes")
        if self.alg is None:
            object.__setattr__(self, "alg", allowed[0])
        elif self.alg not in allowed:
            raise ConfigurationError(f"alg {self.alg} does not fit this key (use {allowed})")
        # RFC 7518 section 3.2: an HMAC key at least as long as the hash output.
        if isinstance(key, bytes) and len(key) < int(str(self.alg)[2:]) // 8:
            raise ConfigurationError(
                f"an {self.alg} secret must be at least {int(str(self.alg)[2:]) // 8} bytes "
                "(RFC 7518 section 3.2)"
            )
        if self.token_type is not None and (
            not isinstance(self.token_type, str) or not self.token_type
        ):
            raise TypeError("token_type must be a non-empty str or None")
        if self.kid is not None and not isinstance(self.kid, str):
            raise TypeError("kid must be a str or None")

    @classmethod
    def from_keyring(
        cls,
        ring: KeyRing,
        *,
        issuer: str,
        audience: str,
        token_type: str | None = "at+jwt",  # noqa: S107 - a media type, not a secret
    ) -> JWTTarget:
        """Target the primary key of a securekit ``signing`` or ``mac`` ring.

        The ``kid`` is the one securekit publishes: the RFC 7638 thumbprint
        for signing keys, ``hs256-<key id as 8 hex digits>`` for mac keys.
        """
        if not isinstance(ring, KeyRing):
            raise TypeError("ring must be a securekit.keys.KeyRing")
        primary = ring.primary
        if ring.kind is KeyKind.SIGNING:
            return cls(
                issuer=issuer,
                audience=audience,
                signing_key=primary.private_key(),
                kid=primary.public_jwk()["kid"],
                alg=str(primary.alg),
                token_type=token_type,
            )
        if ring.kind is KeyKind.MAC:
            return cls(
                issuer=issuer,
                audience=audience,
                signing_key=primary.material,
                kid=f"hs256-{primary.id:08x}",
                alg="HS256",
                token_type=token_type,
            )
        raise ConfigurationError("JWT targets need a 'signing' or 'mac' ring, not 'aead'")

    @property
    def symmetric(self) -> bool:
        """True for HS256/384/512 targets."""
        return isinstance(self.signing_key, bytes)


@dataclass(frozen=True, slots=True, kw_only=True)
class JWTAttack:
    """One attack token.

    Attributes:
        name: a stable identifier (``alg_none:none``, ``claims:expired``...).
        category: ``alg_none``, ``hs_confusion``, ``signature``, ``claims``,
            ``header`` or ``malformed``.
        token: the compact token to send.
    """

    name: str
    category: str
    token: str


def _sign(alg: str, key: PrivateKey | bytes, data: bytes) -> bytes:
    """Sign ``data`` per RFC 7518 section 3 (raw r||s for ECDSA)."""
    bits = alg[2:]
    if alg.startswith("HS"):
        if not isinstance(key, bytes):  # pragma: no cover - guarded by JWTTarget
            raise TypeError("HS algorithms need a bytes secret")
        return hmac.new(key, data, getattr(hashlib, f"sha{bits}")).digest()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = _EC_ALGS[key.curve.name][1]
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_hash(bits))))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        digest = _hash(bits)
        if alg.startswith("PS"):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            return key.sign(data, pss, digest)
        return key.sign(data, padding.PKCS1v15(), digest)
    raise TypeError("unsupported key")  # pragma: no cover - guarded by JWTTarget


def _compact(header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes) -> str:
    head = header if isinstance(header, bytes) else _json(header)
    body = payload if isinstance(payload, bytes) else _json(payload)
    return _b64(head) + "." + _b64(body)


def _signed(
    header: Mapping[str, Any] | bytes,
    payload: Mapping[str, Any] | bytes,
    alg: str,
    key: PrivateKey | bytes,
) -> str:
    signing_input = _compact(header, payload)
    return signing_input + "." + _b64(_sign(alg, key, signing_input.encode("ascii")))


@cache
def _attacker_ed25519() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@cache
def _attacker_ec(curve: str) -> ec.EllipticCurvePrivateKey:
    curves: dict[str, ec.EllipticCurve] = {
        "secp256r1": ec.SECP256R1(),
        "secp384r1": ec.SECP384R1(),
        "secp521r1": ec.SECP521R1(),
    }
    return ec.generate_private_key(curves[curve])


@cache
def _attacker_rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _attacker_key_like(key: PrivateKey | bytes) -> PrivateKey | bytes:
    """A different key of the same type and size as the legitimate one."""
    if isinstance(key, bytes):
        return secrets.token_bytes(len(key))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _attacker_ec(key.curve.name)
    if isinstance(key, rsa.RSAPrivateKey):
        return _attacker_rsa(max(key.key_size, 2048))
    return _attacker_ed25519()


def _ed25519_jwk(key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def _thumbprint(jwk: Mapping[str, str]) -> str:
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True
    )
    return _b64(hashlib.sha256(canonical.encode("utf-8")).digest())


@cache
def _attacker_cert_der() -> bytes:
    key = _attacker_ed25519()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.invalid")])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=36500))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def _public_forms(key: PrivateKey) -> dict[str, bytes]:
    """Every serialization of the public key a confused library might HMAC with."""
    public = key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forms = {
        "pem": pem,
        "pem_stripped": pem.strip(),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "openssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
    }
    if isinstance(public, ed25519.Ed25519PublicKey):
        forms["raw"] = public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        forms["jwk"] = _json(_ed25519_jwk(key))  # type: ignore[arg-type]
    elif isinstance(public, ec.EllipticCurvePublicKey):
        forms["raw"] = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    else:
        forms["pkcs1"] = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
    return forms


@dataclass(frozen=True, slots=True)
class _Context:
    target: JWTTarget
    now: int
    subject: str
    claims: Mapping[str, Any]

    def header(self, **overrides: Any) -> dict[str, Any]:
        header: dict[str, Any] = {"alg": self.target.alg}
        if self.target.kid is not None:
            header["kid"] = self.target.kid
        if self.target.token_type is not None:
            header["typ"] = self.target.token_type
        header.update(overrides)
        return {k: v for k, v in header.items() if v is not _DROP}

    def payload(self, **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = dict(self.claims)
        payload.update(
            iss=self.target.issuer,
            sub=self.subject,
            aud=self.target.audience,
            iat=self.now,
            nbf=self.now,
            exp=self.now + int(VALID_LIFETIME.total_seconds()),
            jti=secrets.token_urlsafe(16),
        )
        payload.update(overrides)
        return {k: v for k, v in payload.items() if v is not _DROP}

    def legit(self, header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes) -> str:
        alg = self.target.alg
        if alg is None:  # pragma: no cover - set by JWTTarget.__post_init__
            raise ConfigurationError("target has no alg")
        return _signed(header, payload, alg, self.target.signing_key)

    def attacker(
        self, header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes
    ) -> str:
        """Signed with an attacker's Ed25519 key (the header says EdDSA)."""
        return _signed(header, payload, "EdDSA", _attacker_ed25519())

    def valid(self) -> str:
        return self.legit(self.header(), self.payload())


_DROP: Final = object()
_Builder = Callable[[_Context], str]


def _alg_none(variant: str, *, keep_signature: bool = False) -> _Builder:
    def build(ctx: _Context) -> str:
        token = _compact(ctx.header(alg=variant), ctx.payload())
        if keep_signature:
            return token + "." + ctx.valid().rsplit(".", 1)[1]
        return token + "."

    return build


def _hs_confusion(form: str, alg: str) -> _Builder:
    def build(ctx: _Context) -> str:
        key = ctx.target.signing_key
        if isinstance(key, bytes):
            # Symmetric targets: the "public" forms an attacker may guess are
            # the empty secret and the kid itself.
            secret = b"" if form == "empty" else (ctx.target.kid or "").encode("utf-8")
        else:
            forms = _public_forms(key)
            secret = forms.get(form, forms["pem"])
        return _signed(ctx.header(alg=alg), ctx.payload(), alg, secret)

    return build


def _sig(how: str) -> _Builder:
    def build(ctx: _Context) -> str:
        valid = ctx.valid()
        head, body, sig = valid.split(".")
        raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        if how == "stripped":
            return f"{head}.{body}."
        if how == "no_dot":
            return f"{head}.{body}"
        if how == "truncated":
            return f"{head}.{body}.{_b64(raw[: len(raw) // 2])}"
        if how == "bitflip":
            return f"{head}.{body}.{_b64(raw[:-1] + bytes([raw[-1] ^ 1]))}"
        if how == "zero":
            return f"{head}.{body}.{_b64(bytes(len(raw)))}"
        if how == "extended":
            return f"{head}.{body}.{_b64(raw + bytes(1))}"
        if how == "attacker_key":
            forged = _attacker_key_like(ctx.target.signing_key)
            alg = ctx.target.alg or "EdDSA"
            return _signed(ctx.header(), ctx.payload(), alg, forged)
        # "transplant": a real signature moved onto a payload the attacker edited.
        edited = _b64(_json(ctx.payload(sub="admin", role="admin")))
        return f"{head}.{edited}.{sig}"

    return build


def _claims(**overrides: Any) -> _Builder:
    def build(ctx: _Context) -> str:
        resolved = {k: (v(ctx.now) if callable(v) else v) for k, v in overrides.items()}
        if resolved.get("aud") == "__suffix__":
            resolved["aud"] = ctx.target.audience + ".attacker.invalid"
        if resolved.get("iss") == "__slash__":
            resolved["iss"] = ctx.target.issuer + "/"
        if resolved.get("iss") == "__case__":
            swapped = ctx.target.issuer.swapcase()
            resolved["iss"] = swapped if swapped != ctx.target.issuer else ctx.target.issuer + " "
        return ctx.legit(ctx.header(), ctx.payload(**resolved))

    return build


def _typ(value: Any) -> _Builder:
    def build(ctx: _Context) -> str:
        return ctx.legit(ctx.header(typ=value), ctx.payload())

    return build


def _crit(ctx: _Context) -> str:
    header = ctx.header(crit=["urn:attacker:ext"], **{"urn:attacker:ext": True})
    return ctx.legit(header, ctx.payload())


def _embedded(what: str, *, legit_kid: bool) -> _Builder:
    def build(ctx: _Context) -> str:
        jwk = _ed25519_jwk(_attacker_ed25519())
        kid = ctx.target.kid if legit_kid and ctx.target.kid else _thumbprint(jwk)
        extra: dict[str, Any]
        if what == "jwk":
            extra = {"jwk": jwk}
        elif what == "jku":
            extra = {"jku": _ATTACKER_URL + "/.well-known/jwks.json"}
        elif what == "x5u":
            extra = {"x5u": _ATTACKER_URL + "/cert.pem"}
        else:
            extra = {"x5c": [base64.b64encode(_attacker_cert_der()).decode("ascii")]}
        return ctx.attacker(ctx.header(alg="EdDSA", kid=kid, **extra), ctx.payload())

    return build


def _kid(value: Any, secret: bytes) -> _Builder:
    def build(ctx: _Context) -> str:
        return _signed(ctx.header(alg="HS256", kid=value), ctx.payload(), "HS256", secret)

    return build


def _malformed(how: str) -> _Builder:
    def build(ctx: _Context) -> str:
        valid = ctx.valid()
        head, body, sig = valid.split(".")
        forms: dict[str, Callable[[], str]] = {
            "empty": lambda: "",
            "one_part": lambda: head,
            "four_parts": lambda: f"{valid}.{sig}",
            "jwe_shape": lambda: f"{_b64(_json({'alg': 'dir', 'enc': 'A256GCM'}))}..{body}.{sig}.x",
            "padded": lambda: f"{head}==.{body}.{sig}",
            "bad_base64": lambda: f"{head}.{body[:-1]}*.{sig}",
            "whitespace": lambda: f" {valid}\n",
            "inner_space": lambda: f"{head}. {body}.{sig}",
            "header_array": lambda: ctx.attacker(b'["alg","EdDSA"]', ctx.payload()),
            "header_not_json": lambda: ctx.attacker(b"{alg:EdDSA}", ctx.payload()),
            "payload_not_object": lambda: ctx.attacker(ctx.header(alg="EdDSA"), b"[1,2,3]"),
            "payload_not_json": lambda: ctx.attacker(ctx.header(alg="EdDSA"), b"\xff\xfe"),
            "duplicate_alg": lambda: (
                _compact(
                    b'{"alg":"%s","alg":"none"}' % (ctx.target.alg or "").encode(), ctx.payload()
                )
                + "."
            ),
            "deep_payload": lambda: ctx.attacker(
                ctx.header(alg="EdDSA"), b'{"a":' * 800 + b"1" + b"}" * 800
            ),
            "oversized": lambda: ctx.attacker(
                ctx.header(alg="EdDSA"), ctx.payload(pad="x" * 70_000)
            ),
            "alg_missing": lambda: ctx.attacker(ctx.header(alg=_DROP), ctx.payload()),
            "alg_not_string": lambda: ctx.attacker(ctx.header(alg=["EdDSA"]), ctx.payload()),
            "alg_unknown": lambda: _compact(ctx.header(alg="ES999"), ctx.payload()) + "." + sig,
            "non_ascii": lambda: f"{head}.{body}\u00e9.{sig}",
        }
        return forms[how]()

    return build


def _catalogue() -> dict[str, tuple[str, _Builder]]:
    hour = 3600
    found: dict[str, tuple[str, _Builder]] = {}
    for variant in ("none", "None", "NONE", "nOnE"):
        found[f"alg_none:{variant}"] = ("alg_none", _alg_none(variant))
    found["alg_none:with_signature"] = ("alg_none", _alg_none("none", keep_signature=True))
    for form in ("pem", "pem_stripped", "der", "openssh", "raw", "jwk", "pkcs1"):
        found[f"hs_confusion:{form}"] = ("hs_confusion", _hs_confusion(form, "HS256"))
    found["hs_confusion:pem_hs384"] = ("hs_confusion", _hs_confusion("pem", "HS384"))
    found["hs_confusion:pem_hs512"] = ("hs_confusion", _hs_confusion("pem", "HS512"))
    found["hs_confusion:empty"] = ("hs_confusion", _hs_confusion("empty", "HS256"))
    for how in ("stripped", "no_dot", "truncated", "bitflip", "zero", "extended",
                "attacker_key", "transplant"):  # fmt: skip
        found[f"signature:{how}"] = ("signature", _sig(how))
    claim_cases: dict[str, dict[str, Any]] = {
        "expired": {"iat": lambda n: n - 2 * hour, "nbf": lambda n: n - 2 * hour,
                    "exp": lambda n: n - hour},
        "expired_10min": {"iat": lambda n: n - 900, "nbf": lambda n: n - 900,
                          "exp": lambda n: n - 600},
        "not_yet_valid": {"nbf": lambda n: n + hour, "exp": lambda n: n + hour + 300},
        "issued_in_future": {"iat": lambda n: n + hour, "nbf": _DROP,
                             "exp": lambda n: n + hour + 300},
        "lifetime_30_days": {"exp": lambda n: n + 30 * 24 * hour},
        "exp_before_iat": {"iat": lambda n: n + 60, "nbf": _DROP, "exp": lambda n: n + 30},
        "wrong_issuer": {"iss": _ATTACKER_URL},
        "issuer_trailing_slash": {"iss": "__slash__"},
        "issuer_case": {"iss": "__case__"},
        "issuer_list": {"iss": ["__ignored__"]},
        "wrong_audience": {"aud": "attacker.invalid"},
        "audience_suffix": {"aud": "__suffix__"},
        "audience_empty_list": {"aud": []},
        "audience_null": {"aud": None},
        "missing_exp": {"exp": _DROP},
        "missing_iat": {"iat": _DROP},
        "missing_sub": {"sub": _DROP},
        "missing_iss": {"iss": _DROP},
        "missing_aud": {"aud": _DROP},
        "exp_string": {"exp": lambda n: str(n + 300)},
        "exp_bool": {"exp": True},
        "exp_null": {"exp": None},
        "exp_huge": {"exp": 10**30},
        "sub_not_string": {"sub": 12345},
        "sub_empty_object": {"sub": {}},
    }  # fmt: skip
    for name, overrides in claim_cases.items():
        found[f"claims:{name}"] = ("claims", _claims(**overrides))
    for name, value in (("JWT", "JWT"), ("refresh", "refresh+jwt"), ("id_token", "id_token+jwt"),
                        ("missing", _DROP), ("not_string", 1)):  # fmt: skip
        found[f"typ:{name}"] = ("claims", _typ(value))
    found["header:crit_unknown"] = ("header", _crit)
    for what in ("jwk", "jku", "x5u", "x5c"):
        found[f"header:{what}"] = ("header", _embedded(what, legit_kid=False))
        found[f"header:{what}_legit_kid"] = ("header", _embedded(what, legit_kid=True))
    kid_cases: dict[str, tuple[Any, bytes]] = {
        "path_dev_null": ("../../../../../../dev/null", b""),
        "path_proc": ("/proc/self/environ", b""),
        "sql_union": ("x' UNION SELECT 'attacker' --", b"attacker"),
        "sql_tautology": ("' OR '1'='1", b""),
        "command": ("|/usr/bin/id", b""),
        "url": (_ATTACKER_URL + "/key", b""),
        "empty": ("", b""),
        "number": (1, b""),
        "null": (None, b""),
        "list": (["a"], b""),
        "huge": ("k" * 4000, b""),
    }
    for name, (value, secret) in kid_cases.items():
        found[f"kid:{name}"] = ("header", _kid(value, secret))
    for how in ("empty", "one_part", "four_parts", "jwe_shape", "padded", "bad_base64",
                "whitespace", "inner_space", "header_array", "header_not_json",
                "payload_not_object", "payload_not_json", "duplicate_alg", "deep_payload",
                "oversized", "alg_missing", "alg_not_string", "alg_unknown",
                "non_ascii"):  # fmt: skip
        found[f"malformed:{how}"] = ("malformed", _malformed(how))
    return found


_CATALOGUE: Final = _catalogue()

#: Every attack name :func:`build_attack` knows, in a stable order.
ATTACK_NAMES: Final[tuple[str, ...]] = tuple(_CATALOGUE)


def _applies(name: str, target: JWTTarget) -> bool:
    if name.startswith("typ:") and target.token_type is None:
        return False
    if name == "hs_confusion:pkcs1":
        return isinstance(target.signing_key, rsa.RSAPrivateKey)
    if name in ("hs_confusion:jwk",):
        return isinstance(target.signing_key, ed25519.Ed25519PrivateKey)
    if name == "hs_confusion:raw" and isinstance(target.signing_key, rsa.RSAPrivateKey):
        return False
    if target.symmetric and name.startswith("hs_confusion:"):
        return name == "hs_confusion:empty" or (name == "hs_confusion:pem" and bool(target.kid))
    return not (name == "hs_confusion:empty" and not target.symmetric)


def attack_names(target: JWTTarget) -> tuple[str, ...]:
    """Return the names of the attacks that apply to ``target``, in a stable order."""
    if not isinstance(target, JWTTarget):
        raise TypeError("target must be a JWTTarget")
    return tuple(name for name in ATTACK_NAMES if _applies(name, target))


def _context(
    target: JWTTarget, now: datetime | None, subject: str, claims: Mapping[str, Any] | None
) -> _Context:
    if not isinstance(target, JWTTarget):
        raise TypeError("target must be a JWTTarget")
    if not isinstance(subject, str) or not subject:
        raise ConfigurationError("subject must be a non-empty str")
    if claims is not None and not isinstance(claims, Mapping):
        raise TypeError("claims must be a mapping")
    extra = dict(claims or {})
    return _Context(target=target, now=int(resolve(now).timestamp()), subject=subject, claims=extra)


def valid_token(
    target: JWTTarget,
    *,
    now: datetime | None = None,
    subject: str = "user-1",
    claims: Mapping[str, Any] | None = None,
) -> str:
    """Return a legitimate token for ``target`` (the verifier must accept it).

    Args:
        target: the verifier's expectations and the issuer key.
        now: the issue time (default: now); pass the verifier's clock time.
        subject: the ``sub`` claim.
        claims: extra claims.
    """
    return _context(target, now, subject, claims).valid()


def build_attack(
    name: str,
    target: JWTTarget,
    *,
    now: datetime | None = None,
    subject: str = "user-1",
    claims: Mapping[str, Any] | None = None,
) -> JWTAttack:
    """Build the attack ``name`` (one of :data:`ATTACK_NAMES`) for ``target``.

    Raises:
        ConfigurationError: an unknown attack name.
    """
    entry = _CATALOGUE.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ConfigurationError("unknown attack name; see ATTACK_NAMES")
    category, builder = entry
    return JWTAttack(
        name=name, category=category, token=builder(_context(target, now, subject, claims))
    )


def jwt_attack_tokens(
    target: JWTTarget,
    *,
    now: datetime | None = None,
    subject: str = "user-1",
    claims: Mapping[str, Any] | None = None,
) -> list[JWTAttack]:
    """Build every attack that applies to ``target``, in a stable order.

    Attacks that cannot apply are left out (``typ`` attacks when
    ``token_type`` is ``None``; PKCS#1 confusion for non-RSA keys).

    Args:
        target: the verifier's expectations and the issuer key.
        now: the time the verifier will check at (default: now).
        subject: the ``sub`` claim of the tokens.
        claims: extra claims (``{"role": "admin"}`` makes forgeries tempting).

    Returns:
        Tokens that a correct verifier rejects, every one.
    """
    return [
        build_attack(name, target, now=now, subject=subject, claims=claims)
        for name in attack_names(target)
    ]
