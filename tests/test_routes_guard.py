"""securekit.testing.routes: find unguarded FastAPI and Flask routes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import APIRouter, Depends, FastAPI
from flask import Flask, g
from flask.views import MethodView
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from securekit.authz import Policy, Subject, public, require
from securekit.testing.routes import UnguardedRoute, assert_all_guarded, unguarded_routes

F = TypeVar("F", bound=Callable[..., Any])

POLICY = Policy({"admin": {"doc:read", "admin:panel"}}, actions={"doc:read", "admin:panel"})


def current_user() -> Subject | None:
    return None


def flask_user() -> Subject | None:
    return getattr(g, "user", None)


def logged(fn: F) -> F:
    """An unrelated decorator that uses functools.wraps, layered on top."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- FastAPI -------------------------------------------------------------------


def fastapi_app(*, leave_one_open: bool) -> FastAPI:
    app = FastAPI()
    guard = POLICY.dependency("doc:read", subject=current_user)

    @app.get("/login")
    @public
    def login() -> str:
        return "form"

    @app.get("/docs/{doc_id}")
    def read_doc(doc_id: int, user: Subject = Depends(guard)) -> str:  # noqa: B008
        return "doc"

    @app.get("/docs", dependencies=[Depends(guard)])
    def list_docs() -> list[str]:
        return []

    @app.get("/admin")
    @require("admin:panel", policy=POLICY)
    async def admin(subject: Subject | None = None) -> str:
        return "admin"

    router = APIRouter(prefix="/api", dependencies=[Depends(guard)])

    @router.get("/items")
    def items() -> list[str]:
        return []

    app.include_router(router)

    def nested(user: Subject = Depends(guard)) -> Subject:  # noqa: B008
        return user

    @app.post("/nested")
    def nested_route(user: Subject = Depends(nested)) -> str:  # noqa: B008
        return "ok"

    if leave_one_open:

        @app.delete("/docs/{doc_id}")
        def delete_doc(doc_id: int) -> str:
            return "deleted"

    return app


def test_fastapi_finds_the_unguarded_route() -> None:
    found = unguarded_routes(fastapi_app(leave_one_open=True))
    assert found == [
        UnguardedRoute("/docs/{doc_id}", ("DELETE",), "fastapi_app.<locals>.delete_doc")
    ]
    with pytest.raises(AssertionError, match=r"DELETE /docs/\{doc_id\}"):
        assert_all_guarded(fastapi_app(leave_one_open=True))


def test_fastapi_fully_guarded_app_passes() -> None:
    app = fastapi_app(leave_one_open=False)
    assert unguarded_routes(app) == []
    assert_all_guarded(app)


def test_fastapi_dependency_that_is_not_a_guard_does_not_count() -> None:
    app = FastAPI()

    def fake_guard() -> None:
        return None

    fake_guard.__securekit_guard__ = True  # type: ignore[attr-defined]

    @app.get("/x", dependencies=[Depends(current_user), Depends(fake_guard)])
    def x() -> str:
        return "x"

    assert [r.path for r in unguarded_routes(app)] == ["/x"]


def test_starlette_mounts_and_websockets(tmp_path: Path) -> None:
    async def open_endpoint(request: Any) -> PlainTextResponse:
        return PlainTextResponse("x")

    guarded = require("doc:read", policy=POLICY, subject=lambda: None)(open_endpoint)
    sub = Starlette(routes=[Route("/inner", open_endpoint), Route("/ok", guarded)])
    app = Starlette(
        routes=[
            Mount("/sub", app=sub),
            Mount("/static", app=StaticFiles(directory=tmp_path)),
            Mount("/assets", app=public(StaticFiles(directory=tmp_path))),
        ]
    )
    found = [str(r) for r in unguarded_routes(app)]
    assert found == [
        "GET /sub/inner (test_starlette_mounts_and_websockets.<locals>.open_endpoint)",
        "* /static (StaticFiles)",
    ]


# --- Flask ------------------------------------------------------------------------


def flask_app(*, leave_one_open: bool) -> Flask:
    app = Flask(__name__)

    @app.get("/login")
    @public
    def login() -> str:
        return "form"

    @app.route("/docs/<int:doc_id>", methods=["GET", "POST"])
    @logged
    @require("doc:read", policy=POLICY, subject=flask_user)
    def read_doc(doc_id: int) -> str:
        return "doc"

    class AdminView(MethodView):
        @require("admin:panel", policy=POLICY, subject=flask_user)
        def get(self) -> str:
            return "admin"

        @require("admin:panel", policy=POLICY, subject=flask_user)
        def post(self) -> str:
            return "saved"

    app.add_url_rule("/admin", view_func=AdminView.as_view("admin"))

    if leave_one_open:

        @app.post("/docs/<int:doc_id>/delete")
        def delete_doc(doc_id: int) -> str:
            return "deleted"

        class HalfView(MethodView):
            @require("admin:panel", policy=POLICY, subject=flask_user)
            def get(self) -> str:
                return "x"

            def post(self) -> str:
                return "open"

        app.add_url_rule("/half", view_func=HalfView.as_view("half"))
        app.add_url_rule("/ghost", endpoint="ghost")

    return app


def test_flask_finds_the_unguarded_routes() -> None:
    found = [str(r) for r in unguarded_routes(flask_app(leave_one_open=True))]
    assert found == [
        "POST /docs/<int:doc_id>/delete (delete_doc)",
        "GET,POST /half (half)",
        "GET /ghost (ghost)",
    ]
    with pytest.raises(AssertionError, match="3 route"):
        assert_all_guarded(flask_app(leave_one_open=True))


def test_flask_fully_guarded_app_passes() -> None:
    app = flask_app(leave_one_open=False)
    assert unguarded_routes(app) == []
    assert_all_guarded(app)


def test_flask_guard_really_denies() -> None:
    app = flask_app(leave_one_open=False)
    app.testing = True

    @app.errorhandler(Exception)
    def handle(exc: Exception) -> tuple[str, int]:
        return type(exc).__name__, 403

    client = app.test_client()
    response = client.get("/docs/1")
    assert response.status_code == 403
    assert response.get_data(as_text=True) == "PermissionDeniedError"
    assert client.get("/login").get_data(as_text=True) == "form"


def test_not_an_app() -> None:
    with pytest.raises(TypeError):
        unguarded_routes(object())
    with pytest.raises(TypeError):
        unguarded_routes(type("Fake", (), {"routes": "abc"})())


def test_partial_and_bound_method_layers() -> None:
    class Handlers:
        @require("doc:read", policy=POLICY, subject=lambda: None)
        def guarded(self) -> str:
            return "x"

    async def plain(request: Any, extra: int) -> PlainTextResponse:
        return PlainTextResponse("x")

    guarded_plain = require("doc:read", policy=POLICY, subject=lambda: None)(plain)
    app = Starlette(
        routes=[
            Route("/bound", Handlers().guarded),
            Route("/partial", functools.partial(guarded_plain, extra=1)),
            Route("/open", functools.partial(plain, extra=1)),
        ]
    )
    assert [r.path for r in unguarded_routes(app)] == ["/open"]


def test_wrapped_cycle_terminates() -> None:
    async def looping(request: Any) -> PlainTextResponse:
        return PlainTextResponse("x")

    looping.__wrapped__ = looping  # type: ignore[attr-defined]
    app = Starlette(routes=[Route("/loop", looping)])
    assert [r.path for r in unguarded_routes(app)] == ["/loop"]


def test_nested_router_prefix_reported() -> None:
    app = FastAPI()
    open_router = APIRouter(prefix="/v1")
    inner = APIRouter(prefix="/inner")

    @inner.get("/thing")
    def thing() -> str:
        return "t"

    open_router.include_router(inner)
    app.include_router(open_router)
    assert [r.path for r in unguarded_routes(app)] == ["/v1/inner/thing"]
