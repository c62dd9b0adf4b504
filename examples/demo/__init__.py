"""The securekit demo: a small, complete web application built on securekit.

Start it with ``securekit demo`` (or ``python -m examples.demo`` from a
checkout) and open the URL it prints. Everything runs on the embedded
default: SQLite files and encrypted key rings in a data directory.

What it shows, and which recipe does it:

- registration with ``PasswordPolicy`` (NIST SP 800-63B-4) and Argon2id
  (``PasswordHasher``);
- login with one answer for every failure and ``LoginThrottle``;
- server-side sessions (``SessionManager``, ``__Host-`` cookie) and CSRF
  (``CSRFProtect``: Fetch Metadata, Origin, session-bound tokens);
- an avatar upload checked by ``UploadPolicy`` and served with
  ``download_headers``;
- notes encrypted at rest with ``Aead``;
- comments sanitised with ``securekit.html.sanitize`` under a nonce CSP
  (``SecurityHeaders``), violations collected at ``/csp-report``;
- an API with access and refresh tokens (``securekit.jwt``);
- an admin page behind a role check (``securekit.authz``);
- TOTP enrolment and login with recovery codes (``securekit.mfa``).
"""

from __future__ import annotations

from .app import create_app, services_of
from .server import default_data_dir, origins_for, serve_app

__all__ = ["create_app", "default_data_dir", "origins_for", "serve_app", "services_of"]
