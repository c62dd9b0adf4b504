"""``securekit jwt inspect`` (UNVERIFIED) and ``securekit jwt verify``.

Tokens are bearer credentials: they are read from stdin or a file, never
from argv (argv is visible to every user of the machine and lands in shell
history).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from securekit import _jwt_codec as codec
from securekit.cli import EXIT_OK
from securekit.errors import ConfigurationError, InvalidTokenError, TokenReason
from securekit.jwt import (
    ACCESS_TOKEN_TYPE,
    DEFAULT_MAX_TOKEN_BYTES,
    JWTVerifier,
)
from securekit.keys import KeyRing

_BANNER = "UNVERIFIED: the signature was NOT checked; do not trust any of this"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``jwt inspect`` and ``jwt verify``."""
    parser = sub.add_parser("jwt", help="inspect (unverified) or verify a JWT")
    commands = parser.add_subparsers(dest="jwt_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda _args: _usage(parser))

    inspect = commands.add_parser(
        "inspect",
        help="decode a token WITHOUT verifying it (debugging only)",
        description=f"{_BANNER}. Reads the token from stdin or --token-file.",
    )
    inspect.add_argument("--token-file", type=Path, help="read the token from this file")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(handler=_inspect)

    verify = commands.add_parser(
        "verify",
        help="verify a token against a JWKS or key ring file",
        description="Verify a JWT read from stdin or --token-file; exit 1 if it is invalid.",
    )
    keys = verify.add_mutually_exclusive_group(required=True)
    keys.add_argument("--jwks", type=Path, help="a JWKS JSON file (public keys)")
    keys.add_argument("--keyring", type=Path, help="a securekit key ring file (cleartext)")
    verify.add_argument("--issuer", required=True, help="the expected iss")
    verify.add_argument(
        "--audience", required=True, action="append", help="our audience (repeatable)"
    )
    verify.add_argument("--type", default=ACCESS_TOKEN_TYPE, help="expected typ (at+jwt)")
    verify.add_argument("--leeway", type=int, default=30, help="clock skew, seconds (0-300)")
    verify.add_argument("--max-lifetime", type=int, default=900, help="largest exp - iat, seconds")
    verify.add_argument("--token-file", type=Path, help="read the token from this file")
    verify.add_argument("--json", action="store_true", help="print the claims as JSON")
    verify.set_defaults(handler=_verify)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _read_token(path: Path | None) -> str:
    try:
        text = path.read_text(encoding="utf-8") if path else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"could not read the token: {type(exc).__name__}") from None
    # One trailing newline from `echo` or a file is not part of the token.
    return text.strip()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigurationError(f"could not read a JSON document from {path}") from None


def _inspect(args: argparse.Namespace) -> int:
    token = _read_token(args.token_file)
    header = codec.unverified_header(token, max_size=DEFAULT_MAX_TOKEN_BYTES)
    parts = token.split(".")
    try:
        payload: Any = codec.strict_json(codec.b64url_decode(parts[1]))
    except InvalidTokenError:
        payload = None
    if args.json:
        print(json.dumps({"verified": False, "header": header, "payload": payload}, indent=2))
    else:
        print(_BANNER, file=sys.stderr)
        print("header (UNVERIFIED):")
        print(json.dumps(header, indent=2, sort_keys=True))
        print("payload (UNVERIFIED):")
        print(
            json.dumps(payload, indent=2, sort_keys=True) if payload is not None else "<not JSON>"
        )
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    keys: Any
    if args.jwks is not None:
        keys = _read_json(args.jwks)
        if not isinstance(keys, dict):
            raise ConfigurationError("the JWKS file must hold a JSON object")
    else:
        keys = KeyRing.from_file(args.keyring)
    verifier = JWTVerifier(
        keys,
        issuer=args.issuer,
        audience=args.audience,
        token_type=args.type,
        leeway=timedelta(seconds=args.leeway),
        max_lifetime=timedelta(seconds=args.max_lifetime),
    )
    token = _read_token(args.token_file)
    if not token:
        raise InvalidTokenError(TokenReason.MALFORMED)
    claims = verifier.verify(token)
    document = {
        "verified": True,
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": list(claims.audience),
        "iat": claims.issued_at.isoformat(),
        "exp": claims.expires_at.isoformat(),
        "jti": claims.jwt_id,
        "typ": claims.token_type,
        "kid": claims.key_id,
        "claims": _plain(claims.extra),
    }
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(f"valid token for sub={claims.subject!r}, expires {document['exp']}")
    return EXIT_OK


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
