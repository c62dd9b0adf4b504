"""``securekit check-upload``: run an upload policy over a file on disk."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from securekit.cli import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED
from securekit.errors import UploadRejectedError
from securekit.uploads import DEFAULT_ALLOWED, DEFAULT_MAX_BYTES, UploadPolicy


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check-upload`` subcommand."""
    parser = sub.add_parser(
        "check-upload",
        help="check a file as an upload (type, structure, active content)",
        description=(
            "Check FILE as UploadPolicy.check would check an upload. Exit 0 when "
            "accepted, 1 when rejected (the reason is printed), 2 on usage errors."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the file to check")
    parser.add_argument(
        "--filename", help="the client's filename (default: FILE's own name)", default=None
    )
    parser.add_argument("--declared-type", help="the client's Content-Type", default=None)
    parser.add_argument(
        "--allow",
        help=f"comma-separated extensions (default: {','.join(sorted(DEFAULT_ALLOWED))})",
        default=None,
    )
    parser.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="the size limit in bytes"
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=_check_upload)


def _check_upload(args: argparse.Namespace) -> int:
    allowed = DEFAULT_ALLOWED if args.allow is None else set(args.allow.split(","))
    policy = UploadPolicy(allowed=allowed, max_bytes=args.max_bytes)
    path = Path(args.file)
    filename = path.name if args.filename is None else args.filename
    try:
        with path.open("rb") as handle:
            checked = policy.check(handle, filename=filename, declared_type=args.declared_type)
    except OSError:
        print("securekit: cannot read FILE", file=sys.stderr)
        return EXIT_USAGE
    except UploadRejectedError as exc:
        if not args.json:
            raise
        print(json.dumps({"accepted": False, "reason": exc.reason.value}))
        return EXIT_VERIFICATION_FAILED
    result = {
        "accepted": True,
        "storage_name": checked.storage_name,
        "extension": checked.extension,
        "mime": checked.mime,
        "size": checked.size,
        "sha256": checked.sha256,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"accepted: {checked.mime}, {checked.size} bytes, sha256 {checked.sha256}")
    return EXIT_OK
