"""Serve the demo on a loopback address with werkzeug's threaded WSGI server."""

from __future__ import annotations

import errno
import ipaddress
import os
from pathlib import Path
from typing import Final

from werkzeug.serving import BaseWSGIServer, make_server

from securekit.errors import ConfigurationError
from securekit.passwords import PasswordHasher

from .app import create_app
from .services import Clock

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "default_data_dir", "origins_for", "serve_app"]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8000


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/securekit-demo``, else ``~/.local/share/securekit-demo``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "securekit-demo"


def _check_loopback(host: str) -> None:
    # The demo speaks plain HTTP. Browsers accept its Secure, __Host- session
    # cookie only from a loopback origin, and plain HTTP must not leave the
    # machine anyway: refuse anything else.
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(
            "the demo serves plain HTTP and only listens on a loopback address "
            "(127.0.0.1, ::1 or localhost)"
        )


def origins_for(host: str, port: int) -> frozenset[str]:
    """The origins a browser uses for the demo at ``host:port``."""
    names = {host, "localhost", "127.0.0.1"} if host in {"localhost", "127.0.0.1"} else {host}
    return frozenset(
        f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}" for name in names
    )


def serve_app(
    data_dir: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    hasher: PasswordHasher | None = None,
    clock: Clock | None = None,
) -> BaseWSGIServer:
    """Bind the demo's server (not yet serving); port 0 picks a free port.

    Call ``serve_forever()`` on the result, and ``shutdown()`` from another
    thread to stop it.

    Raises:
        ConfigurationError: ``host`` is not a loopback address.
        OSError: the port is in use.
    """
    _check_loopback(host)
    # Bind first so that port 0 resolves to the real port, then build the
    # app for that origin and attach it.
    try:
        server = make_server(host, port, _placeholder, threaded=True)
    except SystemExit:
        # werkzeug prints the cause and exits when it cannot bind; turn that
        # back into an error the caller can handle.
        raise OSError(errno.EADDRINUSE, "cannot bind the address") from None
    bound_port = server.server_port
    server.app = create_app(
        data_dir, origins=origins_for(host, bound_port), hasher=hasher, clock=clock
    )
    return server


def _placeholder(_environ: object, _start_response: object) -> list[bytes]:  # pragma: no cover
    raise RuntimeError("the demo app is attached before serving")
