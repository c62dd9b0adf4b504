"""Role and ownership checks in a FastAPI API, with an IDOR-safe lookup.

Runs the app in-process (no server) and shows:
* a viewer may read, only an editor may edit (roles, default deny);
* another user's document answers 404, exactly like a missing one (Scope);
* the route-guard helper confirms that every route has a check.
"""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from securekit.authz import Policy, Scope, Subject, public
from securekit.errors import PermissionDeniedError, PermissionReason
from securekit.testing.routes import assert_all_guarded

# One policy for the whole application, checked at start-up: a typo in an
# action or role name fails here, not as a silent deny in production.
POLICY = Policy(
    {"viewer": {"doc:read"}, "editor": {"doc:read", "doc:edit"}},
    actions={"doc:read", "doc:edit"},
    audit=lambda d: print(f"  audit: {d.subject_id} {d.action} -> {d.allowed} ({d.rule})"),
)
OWNED = Scope(field="owner_id")

DB = sqlite3.connect(":memory:", check_same_thread=False)
DB.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, owner_id TEXT, body TEXT)")
DB.executemany(
    "INSERT INTO docs VALUES (?, ?, ?)",
    [(1, "alice", "alice's notes"), (2, "bob", "bob's secrets")],
)
USERS = {"alice": ["editor"], "bob": ["viewer"]}


def current_user(x_user: str | None = Header(default=None)) -> Subject | None:
    """Stand-in for real authentication (a session or a verified JWT)."""
    if x_user not in USERS:
        return None
    return POLICY.subject(x_user, roles=USERS[x_user])


def find_doc(**criteria: object) -> dict[str, object] | None:
    # With SQLAlchemy: session.scalars(select(Doc).filter_by(**criteria)).one_or_none()
    where = " AND ".join(f"{column} = ?" for column in criteria)
    row = DB.execute(
        f"SELECT id, owner_id, body FROM docs WHERE {where}",  # noqa: S608 - columns are ours
        tuple(criteria.values()),
    ).fetchone()
    return None if row is None else {"id": row[0], "owner_id": row[1], "body": row[2]}


app = FastAPI()
can_read = POLICY.dependency("doc:read", subject=current_user)
can_edit = POLICY.dependency("doc:edit", subject=current_user)


@app.exception_handler(PermissionDeniedError)
async def denied(_request: Request, exc: PermissionDeniedError) -> JSONResponse:
    # "Not yours" and "does not exist" get the same answer: no existence leak.
    if exc.reason is PermissionReason.NOT_FOUND:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse({"detail": str(exc)}, status_code=403)


@app.get("/health")
@public
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/docs/{doc_id}")
def read_doc(doc_id: int, user: Subject = Depends(can_read)) -> dict[str, object]:  # noqa: B008
    # The owner filter is part of the query: other users' rows are never loaded.
    return OWNED.load(user, find_doc, id=doc_id)


@app.put("/docs/{doc_id}")
def edit_doc(doc_id: int, user: Subject = Depends(can_edit)) -> dict[str, object]:  # noqa: B008
    doc = OWNED.load(user, find_doc, id=doc_id)
    return {"edited": doc["id"]}


async def main() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.local") as client:
        for user, method, path in [
            ("alice", "GET", "/docs/1"),
            ("alice", "PUT", "/docs/1"),
            ("bob", "PUT", "/docs/2"),
            ("alice", "GET", "/docs/2"),
            ("alice", "GET", "/docs/99"),
            ("admin", "GET", "/docs/1"),
        ]:
            response = await client.request(method, path, headers={"x-user": user})
            print(f"{user:>5} {method} {path}: {response.status_code} {response.json()}")
            expected = {
                ("alice", "/docs/1"): 200,
                ("bob", "/docs/2"): 403,
                ("alice", "/docs/2"): 404,
                ("alice", "/docs/99"): 404,
                ("admin", "/docs/1"): 403,
            }[(user, path)]
            if response.status_code != expected:
                raise SystemExit(f"unexpected status for {user} {method} {path}")
    assert_all_guarded(app)
    print("every route is guarded or explicitly public")


if __name__ == "__main__":
    asyncio.run(main())
