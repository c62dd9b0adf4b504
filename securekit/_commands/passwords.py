"""``securekit calibrate`` and ``securekit hash-password``."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import timedelta

from securekit.cli import EXIT_OK
from securekit.passwords import (
    DEFAULT_CALIBRATION_TARGET,
    RFC_9106_LOW_MEMORY,
    PasswordHasher,
    calibrate,
)

__all__ = ["register"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``calibrate`` and ``hash-password`` subcommands."""
    target_ms = int(DEFAULT_CALIBRATION_TARGET.total_seconds() * 1000)
    cal = sub.add_parser(
        "calibrate",
        help="find Argon2id parameters that take a target time on this machine",
        description=(
            "Measure Argon2id on this machine and print the parameters that reach the "
            "target time (RFC 9106 section 4: memory first, then passes). Never below "
            "RFC 9106's low-memory profile (t=3, m=64 MiB)."
        ),
    )
    cal.add_argument(
        "--target-ms",
        type=_positive,
        default=target_ms,
        help=f"time one hash may take (default {target_ms})",
    )
    cal.add_argument(
        "--max-memory-mib",
        type=_positive,
        default=1024,
        help="most memory one hash may use (default 1024)",
    )
    cal.add_argument(
        "--parallelism",
        type=_positive,
        default=RFC_9106_LOW_MEMORY.parallelism,
        help="lanes (default 4)",
    )
    cal.add_argument("--json", action="store_true", help="print JSON")
    cal.set_defaults(handler=_calibrate)

    hp = sub.add_parser(
        "hash-password",
        help="hash a password read from a prompt or stdin (never from argv)",
        description=(
            "Hash a password with Argon2id at the default parameters. The password is "
            "read from a hidden prompt on a terminal, or one line of standard input."
        ),
    )
    hp.add_argument("--json", action="store_true", help="print JSON")
    hp.set_defaults(handler=_hash_password)


def _calibrate(args: argparse.Namespace) -> int:
    params, took = calibrate(
        target=timedelta(milliseconds=args.target_ms),
        parallelism=args.parallelism,
        max_memory_kib=args.max_memory_mib * 1024,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "time_cost": params.time_cost,
                    "memory_cost": params.memory_cost,
                    "parallelism": params.parallelism,
                    "measured_ms": round(took * 1000, 1),
                }
            )
        )
    else:
        print(
            f"Argon2id: time_cost={params.time_cost} memory_cost={params.memory_cost} KiB "
            f"parallelism={params.parallelism} ({took * 1000:.0f} ms measured)"
        )
        print(
            "Use: PasswordHasher(parameters=Argon2Parameters("
            f"time_cost={params.time_cost}, memory_cost={params.memory_cost}, "
            f"parallelism={params.parallelism}))"
        )
    return EXIT_OK


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    # One line from a pipe; only the line ending is removed.
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def _hash_password(args: argparse.Namespace) -> int:
    stored = PasswordHasher().hash(_read_password())
    print(json.dumps({"hash": stored}) if args.json else stored)
    return EXIT_OK
