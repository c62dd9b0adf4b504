"""``securekit keys``: generate, rotate, inspect key rings and export public JWKS."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from securekit.errors import ConfigurationError
from securekit.keys import Algorithm, KeyKind, KeyRing, KeyWrapper, LocalKeyWrapper

DEFAULT_KEK_ENV = "SECUREKIT_KEK"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``securekit keys ...``."""
    parser = sub.add_parser("keys", help="generate, rotate, inspect key rings; export JWKS")
    keys_sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--kek-env",
            default=DEFAULT_KEK_ENV,
            metavar="NAME",
            help=f"environment variable holding the base64url KEK (default {DEFAULT_KEK_ENV})",
        )
        p.add_argument(
            "--insecure-cleartext",
            action="store_true",
            help="DANGER: read/write the ring without encryption (tests and migrations only)",
        )

    gen = keys_sub.add_parser("generate", help="create a new key ring file")
    gen.add_argument("kind", choices=[k.value for k in KeyKind])
    gen.add_argument("--alg", choices=[a.value for a in Algorithm])
    gen.add_argument("--out", required=True, help="file to create (mode 0600)")
    common(gen)
    gen.set_defaults(handler=_generate)

    rot = keys_sub.add_parser("rotate", help="add a new primary key; the old one is retired")
    rot.add_argument("file")
    rot.add_argument("--alg", choices=[a.value for a in Algorithm])
    common(rot)
    rot.set_defaults(handler=_rotate)

    ins = keys_sub.add_parser("inspect", help="show key ids, algorithms and statuses")
    ins.add_argument("file")
    ins.add_argument("--json", action="store_true", help="machine-readable output")
    common(ins)
    ins.set_defaults(handler=_inspect)

    jwks = keys_sub.add_parser("jwks", help="print the public JWKS of a signing ring")
    jwks.add_argument("file")
    common(jwks)
    jwks.set_defaults(handler=_jwks)

    kek = keys_sub.add_parser(
        "new-kek", help="print a new random key-encryption key (store it as a secret)"
    )
    kek.set_defaults(handler=_new_kek)


def _wrapper(args: argparse.Namespace) -> KeyWrapper | None:
    if args.insecure_cleartext:
        print("securekit: warning: key ring is not encrypted", file=sys.stderr)
        return None
    if not os.environ.get(args.kek_env):
        raise ConfigurationError(
            f"set {args.kek_env} to a key-encryption key (securekit keys new-kek), "
            "or pass --insecure-cleartext"
        )
    return LocalKeyWrapper.from_env(args.kek_env)


def _load(args: argparse.Namespace) -> tuple[KeyRing, KeyWrapper | None]:
    wrapper = _wrapper(args)
    return KeyRing.from_file(args.file, wrapper=wrapper), wrapper


def _save(ring: KeyRing, path: str, wrapper: KeyWrapper | None) -> None:
    if wrapper is None:
        with warnings.catch_warnings():
            # The user asked for cleartext on the command line and was warned.
            warnings.simplefilter("ignore")
            ring.save(path, insecure_cleartext=True)
    else:
        ring.save(path, wrapper=wrapper)


def _generate(args: argparse.Namespace) -> int:
    wrapper = _wrapper(args)
    if Path(args.out).exists():
        raise ConfigurationError(f"{args.out} exists; use 'securekit keys rotate' to change it")
    ring = KeyRing.generate(args.kind, alg=args.alg)
    _save(ring, args.out, wrapper)
    print(f"created {args.out}: {ring.kind} key {ring.primary.id} ({ring.primary.alg})")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    ring, wrapper = _load(args)
    rotated = ring.rotate(alg=args.alg)
    _save(rotated, args.file, wrapper)
    print(f"rotated {args.file}: new primary {rotated.primary.id}, retired {ring.primary.id}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    ring, _ = _load(args)
    keys = [
        {"id": key.id, "kind": key.kind.value, "alg": key.alg.value, "status": key.status.value}
        for key in ring
    ]
    if args.json:
        print(json.dumps({"kind": ring.kind.value, "keys": keys}))
    else:
        for key in keys:
            print(f"{key['id']:>10}  {key['status']:<8} {key['kind']:<8} {key['alg']}")
    return 0


def _jwks(args: argparse.Namespace) -> int:
    ring, _ = _load(args)
    print(json.dumps(ring.public_jwks(), indent=2))
    return 0


def _new_kek(_args: argparse.Namespace) -> int:
    # Printing a secret is this command's purpose; it goes to stdout only.
    print(LocalKeyWrapper.new_kek().reveal())
    return 0
