"""``securekit demo``: run the demo web application on 127.0.0.1.

The app itself lives in ``examples/demo/`` of a source checkout (a package
built only on securekit's public API); this command finds it, prepares the
data directory on first run (SQLite databases, key rings encrypted under a
generated key-encryption key) and serves it until interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Final, Protocol, cast

from securekit.cli import EXIT_OK, EXIT_USAGE

__all__ = ["register"]

_DEFAULT_HOST: Final = "127.0.0.1"
_DEFAULT_PORT: Final = 8000
#: The checkout root: securekit/_commands/demo.py -> securekit/ -> root.
_ROOT: Final = Path(__file__).resolve().parent.parent.parent
_INSTALL_HINT: Final = "run it from a source checkout installed with: pip install -e '.[flask]'"


class _Server(Protocol):
    server_port: int

    def serve_forever(self) -> None: ...

    def server_close(self) -> None: ...


class _Demo(Protocol):
    def default_data_dir(self) -> Path: ...

    def serve_app(self, data_dir: Path, *, host: str, port: int) -> _Server: ...


class _DemoMissingError(Exception):
    """The demo package or one of its dependencies cannot be imported."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = sub.add_parser(
        "demo",
        help="run the demo web application on 127.0.0.1",
        description=(
            "Serve the securekit demo app (registration, login with TOTP, sessions, "
            "CSRF, encrypted notes, sanitised comments, avatar uploads, a token API, "
            "an admin page) on a loopback address until interrupted with Ctrl+C. "
            "The first run creates the data directory with SQLite databases and "
            "encrypted key rings. Exit 0 after Ctrl+C, 2 on usage errors."
        ),
    )
    parser.add_argument(
        "--host",
        default=_DEFAULT_HOST,
        help=f"loopback address to listen on (default: {_DEFAULT_HOST})",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_DEFAULT_PORT,
        help=f"TCP port; 0 picks a free one (default: {_DEFAULT_PORT})",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where data and keys live (default: ~/.local/share/securekit-demo)",
    )
    parser.set_defaults(handler=_demo)


def _import(name: str) -> ModuleType:
    """Import ``name`` (a seam for tests)."""
    return importlib.import_module(name)


def _load_demo() -> _Demo:
    """Import ``examples.demo`` from this checkout."""
    package = _ROOT / "examples" / "demo" / "__init__.py"
    if not package.is_file():
        raise _DemoMissingError(f"the demo app is not installed; {_INSTALL_HINT}")
    if str(_ROOT) not in sys.path:
        sys.path.insert(0, str(_ROOT))
    try:
        module = _import("examples.demo")
    except ModuleNotFoundError as exc:
        missing = exc.name or "a dependency"
        raise _DemoMissingError(
            f"the demo app needs {missing}, which is not installed; {_INSTALL_HINT}"
        ) from None
    found = getattr(module, "__file__", None)
    if found is None or Path(found).resolve() != package.resolve():
        # Another distribution's top-level "examples" package shadows ours.
        raise _DemoMissingError(f"another 'examples' package shadows the demo; {_INSTALL_HINT}")
    return cast(_Demo, module)


def _demo(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print("securekit: --port must be 0 to 65535", file=sys.stderr)
        return EXIT_USAGE
    try:
        demo = _load_demo()
    except _DemoMissingError as exc:
        print(f"securekit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    data_dir = Path(args.data_dir) if args.data_dir else demo.default_data_dir()
    try:
        server = demo.serve_app(data_dir, host=args.host, port=args.port)
    except OSError as exc:
        print(
            f"securekit: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
            "try another --port",
            file=sys.stderr,
        )
        return EXIT_USAGE
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"securekit demo: serving http://{host}:{server.server_port}/", flush=True)
    print(f"data directory: {data_dir}", flush=True)
    print("press Ctrl+C to stop", flush=True)
    try:
        # werkzeug's serve_forever returns on Ctrl+C; other servers raise.
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("securekit demo: stopped", flush=True)
    return EXIT_OK
