"""Framework integrations: ASGI and WSGI middleware, FastAPI and Flask adapters.

Each adapter is its own module so that importing one never imports a
framework you do not use:

* :mod:`securekit.integrations.asgi`: ``SecureASGIMiddleware`` (Starlette,
  FastAPI, any ASGI app; needs ``securekit[fastapi]`` for anyio).
* :mod:`securekit.integrations.wsgi`: ``SecureWSGIMiddleware`` (Flask,
  Django, any WSGI app; no extra dependency).
* :mod:`securekit.integrations.fastapi`: ``install`` and the dependencies
  ``current_session``, ``require_permission`` and ``verified_jwt``
  (``pip install securekit[fastapi]``).
* :mod:`securekit.integrations.flask`: the ``SecureKit`` extension
  (``pip install securekit[flask]``).

The per-request state both middlewares expose is a :class:`RequestContext`.
"""

from __future__ import annotations

from securekit.integrations._common import RequestContext

__all__ = ["RequestContext"]
