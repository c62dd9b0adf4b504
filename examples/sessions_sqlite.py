"""Server-side sessions on SQLite: create, read, rotate on login, log out everywhere.

Run: python examples/sessions_sqlite.py

Shows: the cookie the browser gets (``__Host-`` prefix, Secure, HttpOnly,
SameSite=Lax); that the SQLite file holds only SHA-256 of the session id;
rotation on login (the old id dies); idle expiry with an injected clock;
revoking every session of a user.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from securekit.errors import SessionError
from securekit.sessions import SessionCookie, SessionManager
from securekit.stores import SQLiteStore


class Clock:
    """A clock we can move forward (in an application: leave the default)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sessions.db"
        clock = Clock()
        sessions = SessionManager(SQLiteStore(db), clock=clock)
        cookie = SessionCookie()

        # An anonymous visitor gets a session (e.g. for a shopping cart).
        token, session = sessions.create(user_id="anonymous", data={"cart": ["book"]})
        print("Set-Cookie:", cookie.header(token).replace(token, token[:8] + "..."))

        # The next request sends the cookie back.
        received = cookie.read(f"theme=dark; {cookie.name}={token}")
        assert received == token
        print("cart:", sessions.get(received).data["cart"])

        # Login is a privilege change: rotate the id (defeats session fixation).
        new_token, session = sessions.rotate(token, user_id="user-1")
        try:
            sessions.get(token)
        except SessionError as error:
            print("old id after login:", error.reason.value)
        print("logged in as", sessions.get(new_token).user_id, "with cart", session.data["cart"])

        # The database never saw the raw id.
        print("raw id in the SQLite file:", new_token.encode() in db.read_bytes())

        # 31 idle minutes later the session is gone.
        clock.now += timedelta(minutes=31)
        try:
            sessions.get(new_token)
        except SessionError as error:
            print("after 31 idle minutes:", error.reason.value)

        # "Log out everywhere" after a password change.
        phone, _ = sessions.create(user_id="user-1")
        laptop, _ = sessions.create(user_id="user-1")
        print("sessions ended:", sessions.destroy_all("user-1"))
        for name, t in (("phone", phone), ("laptop", laptop)):
            try:
                sessions.get(t)
            except SessionError as error:
                print(f"{name}: {error.reason.value}")
        print("Set-Cookie (logout):", cookie.clear())


if __name__ == "__main__":
    main()
