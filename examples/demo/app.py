"""The Flask application factory of the securekit demo."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Final

from flask import Flask

from securekit.html import jinja_filters
from securekit.passwords import PasswordHasher

from . import api, pages, web
from .services import AVATAR_MAX_BYTES, Clock, Services, build_services

__all__ = ["MAX_REQUEST_BYTES", "create_app", "services_of"]

#: werkzeug refuses bodies above this before any of our code reads them:
#: the largest legitimate request is an avatar upload plus form overhead.
MAX_REQUEST_BYTES: Final = AVATAR_MAX_BYTES + 64 * 1024


def create_app(
    data_dir: Path,
    *,
    origins: Collection[str],
    hasher: PasswordHasher | None = None,
    clock: Clock | None = None,
) -> Flask:
    """Build the demo app on the embedded default (SQLite files in ``data_dir``).

    Args:
        data_dir: databases, encrypted key rings and avatars; created on first run.
        origins: the exact origins the app is served from, such as
            ``{"http://127.0.0.1:8000"}`` (CSRF's ``Origin`` check).
        hasher: the password hasher (tests pass a cheap one).
        clock: the time source (tests pass a ``FixedClock``).

    Returns:
        The configured Flask app.
    """
    svc = build_services(Path(data_dir), origins=origins, hasher=hasher, clock=clock)
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        # Flask's own signed-cookie session is unused: sessions are server-side.
        SESSION_COOKIE_NAME="unused",
        TEMPLATES_AUTO_RELOAD=False,
    )
    # Autoescaping is on for .html templates; these add context escapers and
    # ``|sanitize`` for user HTML.
    app.jinja_env.filters.update(jinja_filters())
    web.install(app, svc)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    return app


def services_of(app: Flask) -> Services:
    """The recipes an app was built with (tests inspect stores and CSP reports)."""
    svc: Services = app.extensions["securekit_demo"]
    return svc
