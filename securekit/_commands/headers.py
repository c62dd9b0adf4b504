"""``securekit headers URL-or-FILE``: grade a response's security headers."""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from securekit.cli import EXIT_OK, EXIT_VERIFICATION_FAILED
from securekit.errors import ConfigurationError, UnavailableError
from securekit.headers import audit_headers

__all__ = ["register"]

#: Header text read from a file or a response, at most (headers are small).
MAX_HEADER_BYTES: Final = 256 * 1024
TIMEOUT_SECONDS: Final = 10.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``headers`` subcommand."""
    parser = sub.add_parser(
        "headers",
        help="grade a response's security headers",
        description=(
            "Grade the security headers of a response against securekit's preset. "
            "TARGET is an http(s) URL (fetched with one GET, redirects not followed) "
            "or a file of raw response headers (as printed by `curl -sI`)."
        ),
    )
    parser.add_argument("target", metavar="URL-or-FILE")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(handler=run)


def _parse_header_text(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith(("HTTP/", " ", "\t")):
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            # The first occurrence wins, as for CSP's own duplicate rule.
            headers.setdefault(name.strip(), value.strip())
    return headers


def _fetch_headers(url: str) -> dict[str, str]:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigurationError("the URL is malformed (host or port)") from None
    if parts.hostname is None:
        raise ConfigurationError("the URL has no host")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, port, timeout=TIMEOUT_SECONDS)
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=TIMEOUT_SECONDS)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request("GET", target, headers={"User-Agent": "securekit-headers"})
        response = connection.getresponse()
        return dict(response.getheaders())
    except (OSError, http.client.HTTPException, UnicodeError):
        # UnicodeError: a host name IDNA cannot encode (empty or long label).
        raise UnavailableError("the URL could not be fetched") from None
    finally:
        connection.close()


def run(args: argparse.Namespace) -> int:
    """Grade the headers of ``args.target`` and print the findings."""
    target: str = args.target
    if target.startswith(("http://", "https://")):
        headers = _fetch_headers(target)
    else:
        path = Path(target)
        if not path.is_file():
            raise ConfigurationError(f"{target} is neither an http(s) URL nor a file")
        headers = _parse_header_text(
            path.read_bytes()[:MAX_HEADER_BYTES].decode("latin-1"),
        )
    findings = audit_headers(headers)
    failed = [f for f in findings if not f.ok]
    if args.json:
        report = {
            "target": target,
            "passed": len(findings) - len(failed),
            "failed": len(failed),
            "findings": [
                {"header": f.header, "ok": f.ok, "code": f.code, "message": f.message}
                for f in findings
            ],
        }
        print(json.dumps(report, indent=2))
    else:
        for f in findings:
            print(f"{'PASS' if f.ok else 'FAIL'}  {f.header}: {f.message} ({f.code})")
        print(f"{len(findings) - len(failed)}/{len(findings)} checks passed", file=sys.stdout)
    return EXIT_OK if not failed else EXIT_VERIFICATION_FAILED
