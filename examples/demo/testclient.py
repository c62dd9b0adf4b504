"""A running demo server and a cookie-keeping HTTP client, for tests of the demo.

Used by ``tests/test_demo_app.py`` and the browser end-to-end test; needs
``httpx`` (the ``dev`` extra).

The session cookie is ``__Host-`` and ``Secure``; Python cookie jars never
send a Secure cookie over plain HTTP (browsers do, to loopback origins), so
the client keeps cookies itself, exactly as the server set them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from securekit.testing import FixedClock, cheap_password_hasher

from .app import services_of
from .server import serve_app
from .services import Services

_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
#: A password the default policy accepts.
STRONG = "correct horse battery staple"


class Client:
    """An HTTP client that keeps cookies like a browser on a loopback origin."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookies and "Cookie" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            self.set_cookie_headers.append(header)
            pair, _, attributes = header.partition(";")
            name, _, value = pair.partition("=")
            if "max-age=0" in attributes.replace(" ", "").lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def token(self, path: str = "/") -> str:
        """The CSRF token of the form on ``path``."""
        page = self.get(path)
        found = _TOKEN_RE.search(page.text)
        if found is None:
            raise LookupError(f"no CSRF token on {path} (status {page.status_code})")
        return found.group(1)

    def form(self, path: str, data: dict[str, str], *, page: str | None = None) -> httpx.Response:
        """Submit a form the way the browser would: with the page's CSRF token."""
        token = self.token(page or path)
        return self.post(path, data={"csrf_token": token, **data})

    def register(self, username: str, password: str = STRONG) -> httpx.Response:
        return self.form(
            "/register", {"username": username, "password": password, "confirm": password}
        )

    def login(self, username: str, password: str = STRONG) -> httpx.Response:
        return self.form("/login", {"username": username, "password": password})


class Demo:
    """The demo app served on 127.0.0.1 in a thread."""

    def __init__(self, server: BaseWSGIServer, clock: FixedClock) -> None:
        self.server = server
        self.clock = clock
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.app: Flask = server.app  # type: ignore[assignment]
        self.services: Services = services_of(self.app)
        self._clients: list[Client] = []

    def client(self) -> Client:
        client = Client(self.url)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@contextmanager
def running_demo(data_dir: Path, clock: FixedClock) -> Iterator[Demo]:
    """Serve the demo on a free port until the block ends."""
    server = serve_app(
        data_dir, host="127.0.0.1", port=0, hasher=cheap_password_hasher(), clock=clock
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    demo = Demo(server, clock)
    try:
        yield demo
    finally:
        demo.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
