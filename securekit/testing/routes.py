"""Find routes that no securekit authorization check guards (FastAPI, Flask).

Use it in your application's own test suite so that a new endpoint without
a check fails the build::

    from securekit.testing.routes import assert_all_guarded

    def test_every_route_is_guarded():
        assert_all_guarded(app)

A route counts as guarded when its endpoint (or any decorator layer of it)
was wrapped by :func:`securekit.authz.require`, or when one of its FastAPI
dependencies, at any depth and including router-level dependencies, is a
:meth:`securekit.authz.Policy.dependency`. Routes that are open on purpose
are marked with :func:`securekit.authz.public`. The framework's own routes
(Flask's ``static``, FastAPI's OpenAPI and docs pages) are not reported.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from securekit.authz import GUARD_ATTRIBUTE, PUBLIC_ATTRIBUTE

__all__ = ["UnguardedRoute", "assert_all_guarded", "unguarded_routes"]

_IGNORED_METHODS: Final = frozenset({"HEAD", "OPTIONS"})
_MAX_UNWRAP: Final = 32


@dataclass(frozen=True, slots=True)
class UnguardedRoute:
    """A route with no securekit check and no ``public`` marker.

    Attributes:
        path: the URL rule or path template.
        methods: the HTTP methods it serves (without HEAD/OPTIONS).
        endpoint: the endpoint's name, for the failure message.
    """

    path: str
    methods: tuple[str, ...]
    endpoint: str

    def __str__(self) -> str:
        methods = ",".join(self.methods) or "*"
        return f"{methods} {self.path} ({self.endpoint})"


def _layers(fn: object) -> Iterator[object]:
    """``fn`` and every function it wraps (decorators, partials, bound methods)."""
    current: object = fn
    for _ in range(_MAX_UNWRAP):
        if current is None:
            return
        yield current
        if isinstance(current, functools.partial):
            current = current.func
        elif hasattr(current, "__func__"):
            current = current.__func__
        else:
            current = getattr(current, "__wrapped__", None)


def _is_guard(fn: object) -> bool:
    return any(isinstance(getattr(layer, GUARD_ATTRIBUTE, None), str) for layer in _layers(fn))


def _is_public(fn: object) -> bool:
    return any(getattr(layer, PUBLIC_ATTRIBUTE, None) is True for layer in _layers(fn))


def _name(fn: object) -> str:
    return str(
        getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    )


def _methods(methods: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted(set(methods or ()) - _IGNORED_METHODS))


def _dependency_guarded(dependant: Any, depth: int = 0) -> bool:
    if dependant is None or depth > _MAX_UNWRAP:
        return False
    for sub in getattr(dependant, "dependencies", ()):
        if _is_guard(getattr(sub, "call", None)) or _dependency_guarded(sub, depth + 1):
            return True
    return False


def _starlette_routes(routes: Iterable[Any], prefix: str) -> Iterator[UnguardedRoute]:
    for route in routes:
        expand = getattr(route, "effective_candidates", None)
        if callable(expand):
            # FastAPI >= 0.16x keeps included routers lazily; their effective
            # routes carry the prefix and the router-level dependencies.
            yield from _starlette_routes(expand(), prefix)
            continue
        path = prefix + str(getattr(route, "path", ""))
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            # A Mount or Host: walk the mounted application's own routes.
            target = getattr(route, "_base_app", None) or getattr(route, "app", None)
            if _is_public(target) or _is_guard(target):
                continue
            sub_routes = getattr(target, "routes", None)
            if sub_routes is None:
                # A mounted application we cannot look into (static files, WSGI).
                yield UnguardedRoute(path, (), _name(target))
            else:
                yield from _starlette_routes(sub_routes, path)
            continue
        if str(getattr(endpoint, "__module__", "")).startswith("fastapi."):
            continue  # FastAPI's own OpenAPI / docs endpoints
        if _is_public(endpoint) or _is_guard(endpoint):
            continue
        if _dependency_guarded(getattr(route, "dependant", None)):
            continue
        yield UnguardedRoute(path, _methods(getattr(route, "methods", None)), _name(endpoint))


def _flask_routes(app: Any) -> Iterator[UnguardedRoute]:
    for rule in app.url_map.iter_rules():
        name = str(rule.endpoint)
        if name == "static" or name.endswith(".static"):
            continue  # Flask's static-file view
        methods = _methods(rule.methods)
        view = app.view_functions.get(name)
        if view is None:
            yield UnguardedRoute(str(rule.rule), methods, name)
            continue
        if _is_public(view) or _is_guard(view):
            continue
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            # Class-based views: every handler method must be guarded.
            handlers = [getattr(view_class, m.lower(), None) for m in methods]
            if handlers and all(
                h is not None and (_is_guard(h) or _is_public(h)) for h in handlers
            ):
                continue
        yield UnguardedRoute(str(rule.rule), methods, name)


def unguarded_routes(app: Any) -> list[UnguardedRoute]:
    """List the routes of a FastAPI/Starlette or Flask ``app`` that nothing guards.

    Args:
        app: a ``fastapi.FastAPI`` / ``starlette.applications.Starlette``
            or a ``flask.Flask`` application.

    Returns:
        The unguarded routes, in the application's order.

    Raises:
        TypeError: ``app`` is neither kind of application.
    """
    if hasattr(app, "url_map") and hasattr(app, "view_functions"):
        return list(_flask_routes(app))
    routes = getattr(app, "routes", None)
    if routes is not None and not isinstance(routes, str | bytes):
        return list(_starlette_routes(routes, ""))
    raise TypeError("app must be a FastAPI/Starlette or Flask application")


def assert_all_guarded(app: Any) -> None:
    """Fail (``AssertionError``) if any route of ``app`` is unguarded.

    The message lists every unguarded route, so one test run shows them all.
    """
    found = unguarded_routes(app)
    if found:
        listing = "\n  ".join(str(route) for route in found)
        raise AssertionError(
            f"{len(found)} route(s) have no securekit authorization check "
            f"(guard them, or mark them securekit.authz.public):\n  {listing}"
        )
