"""Real services for tests: started on 127.0.0.1, on a free port, per session.

Outside CI a missing service binary skips the tests that need it, with the
reason. Under ``CI=true`` it fails them instead: a CI run must never go green
because a service silently was not there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess  # nosec B404
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["RedisServer", "ServiceMissingError", "free_port", "in_ci", "require_service"]


class ServiceMissingError(RuntimeError):
    """A service needed by a test could not be found or started."""


def in_ci() -> bool:
    """Return True when running under CI (``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_service(what: str, why: str) -> NoReturn:
    """Skip (locally) or fail (under ``CI=true``) a test whose service is missing."""
    message = f"{what} is not available: {why}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: service tests must not be skipped)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A real ``redis-server`` on 127.0.0.1 without persistence.

    ``stop()`` and ``start()`` may be called during a test to simulate an
    outage; the port stays the same so clients reconnect after ``start()``.
    """

    def __init__(self, executable: str | None = None, *, port: int | None = None) -> None:
        found = executable or shutil.which("redis-server")
        if found is None:
            raise ServiceMissingError(
                "redis-server is not installed (apt-get install redis-server)"
            )
        self.executable = found
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="securekit-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        if self.running:
            return
        argv = [
            self.executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--protected-mode", "yes",
        ]  # fmt: skip
        # A list argv and no shell.
        self._proc = subprocess.Popen(  # noqa: S603  # nosec B603
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServiceMissingError(f"redis-server exited with code {self._proc.returncode}")
            if self._ping():
                return
            time.sleep(0.02)
        self.stop()
        raise ServiceMissingError("redis-server did not answer PING in time")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (an outage, as seen by clients)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def flush(self) -> None:
        """Delete every key (between tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            sock.recv(16)

    def close(self) -> None:
        """Stop the server and remove its working directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
