"""``securekit encrypt FILE`` / ``securekit decrypt FILE``: streaming file encryption.

Both read an ``aead`` key ring from a file (``--keyring-file``) or an
environment variable (``--keyring-env``), never from the command line; an
encrypted ring is opened with the key-encryption key in ``--kek-env``
(default ``SECUREKIT_KEK``) when that variable is set. Output goes to a
temporary file beside the target and is renamed only on success.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Final, TextIO

from securekit.aead import Aead
from securekit.cli import EXIT_OK, EXIT_USAGE
from securekit.errors import ConfigurationError
from securekit.keys import KeyRing, KeyWrapper, LocalKeyWrapper

#: Suffix of encrypted files.
SUFFIX: Final = ".skenc"
#: Files at least this large get a progress bar on stderr by default.
PROGRESS_THRESHOLD: Final = 8 * 1024 * 1024
DEFAULT_KEK_ENV: Final = "SECUREKIT_KEK"
_BAR_WIDTH: Final = 30
_MIB: Final = 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``securekit encrypt`` and ``securekit decrypt``."""
    for name, handler, help_text in (
        ("encrypt", _encrypt, f"encrypt a file (C2SP chunked AES-256-GCM) to FILE{SUFFIX}"),
        ("decrypt", _decrypt, f"decrypt a FILE{SUFFIX} made by 'securekit encrypt'"),
    ):
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("file", metavar="FILE", help="the input file")
        parser.add_argument(
            "-o",
            "--output",
            metavar="PATH",
            help=f"output file (default: FILE{SUFFIX} / FILE without {SUFFIX})",
        )
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--keyring-file", metavar="PATH", help="aead key ring JSON file")
        source.add_argument(
            "--keyring-env", metavar="NAME", help="environment variable holding the key ring JSON"
        )
        parser.add_argument(
            "--kek-env",
            default=DEFAULT_KEK_ENV,
            metavar="NAME",
            help=f"variable with the KEK of an encrypted ring (default {DEFAULT_KEK_ENV})",
        )
        parser.add_argument(
            "--context",
            default="",
            help="associated data (UTF-8) bound to the file; decrypt needs the same (default '')",
        )
        parser.add_argument("--force", action="store_true", help="replace an existing output")
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument(
            "--progress", dest="progress", action="store_true", default=None, help="always show"
        )
        progress.add_argument(
            "--no-progress", dest="progress", action="store_false", help="never show progress"
        )
        parser.add_argument("--json", action="store_true", help="print a JSON summary")
        parser.set_defaults(handler=handler)


def _ring(args: argparse.Namespace) -> KeyRing:
    wrapper: KeyWrapper | None = None
    if os.environ.get(args.kek_env):
        wrapper = LocalKeyWrapper.from_env(args.kek_env)
    if args.keyring_file is not None:
        return KeyRing.from_file(args.keyring_file, wrapper=wrapper)
    return KeyRing.from_env(args.keyring_env, wrapper=wrapper)


class _Bar:
    """A one-line progress bar redrawn on stderr at each whole percent."""

    def __init__(self, label: str, total: int, out: TextIO) -> None:
        self._label = label
        self._total = max(total, 1)
        self._out = out
        self._shown = -1

    def __call__(self, done: int) -> None:
        percent = min(100, done * 100 // self._total)
        if percent == self._shown:
            return
        self._shown = percent
        filled = _BAR_WIDTH * percent // 100
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        self._out.write(
            f"\r{self._label} {percent:3d}% [{bar}] {done / _MIB:.1f}/{self._total / _MIB:.1f} MiB"
        )
        self._out.flush()

    def finish(self) -> None:
        # Decryption counts plaintext, a little less than the input size.
        self(self._total)

    def close(self) -> None:
        if self._shown >= 0:
            self._out.write("\n")
            self._out.flush()


def _run(args: argparse.Namespace, *, encrypt: bool) -> int:
    source = Path(args.file)
    if args.output is not None:
        target = Path(args.output)
    elif encrypt:
        target = source.with_name(source.name + SUFFIX)
    elif source.name.endswith(SUFFIX) and len(source.name) > len(SUFFIX):
        target = source.with_name(source.name[: -len(SUFFIX)])
    else:
        raise ConfigurationError(f"input does not end in {SUFFIX}; name the output with -o")
    box = Aead(_ring(args))
    context = args.context.encode("utf-8")
    try:
        size = source.stat().st_size
    except OSError as exc:
        print(f"securekit: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    show = args.progress if args.progress is not None else size >= PROGRESS_THRESHOLD
    bar = _Bar("encrypting" if encrypt else "decrypting", size, sys.stderr) if show else None
    action = box.encrypt_file if encrypt else box.decrypt_file
    try:
        done = action(source, target, context=context, overwrite=args.force, progress=bar)
    except FileExistsError:
        print(f"securekit: {target} exists (use --force to replace it)", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"securekit: {exc.strerror or 'I/O error'}: {exc.filename}", file=sys.stderr)
        return EXIT_USAGE
    else:
        if bar is not None:
            bar.finish()
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        summary = {"input": str(source), "output": str(target), "plaintext_bytes": done}
        print(json.dumps(summary))
    else:
        print(f"{'encrypted' if encrypt else 'decrypted'} {source} -> {target}")
    return EXIT_OK


def _encrypt(args: argparse.Namespace) -> int:
    return _run(args, encrypt=True)


def _decrypt(args: argparse.Namespace) -> int:
    return _run(args, encrypt=False)
