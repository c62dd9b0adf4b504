"""The ``securekit`` command.

Subcommands live in ``securekit/_commands/<name>.py``; each module defines
``register(subparsers)`` which adds its parser(s) and sets ``handler`` via
``parser.set_defaults(handler=...)``. A handler takes the parsed
``argparse.Namespace`` and returns an exit code.

Exit codes (stable, for scripts):
    0: success.
    1: a verification failed (bad token, rejected upload, failed decryption).
    2: usage error (argparse's own code) or configuration error.
    3: a service or store was unavailable.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import Final

from securekit import _commands
from securekit.errors import ConfigurationError, UnavailableError, VerificationError

__all__ = [
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "EXIT_VERIFICATION_FAILED",
    "build_parser",
    "main",
]

EXIT_OK: Final = 0
EXIT_VERIFICATION_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNAVAILABLE: Final = 3

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="securekit",
        description="Secure-by-default helpers: keys, passwords, encryption, tokens, uploads.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``securekit`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except ConfigurationError as exc:
        print(f"securekit: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VerificationError as exc:
        print(f"securekit: {exc} ({exc.reason.value})", file=sys.stderr)
        return EXIT_VERIFICATION_FAILED
    except UnavailableError as exc:
        print(f"securekit: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
