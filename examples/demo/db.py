"""The demo's application data in SQLite: users, notes, comments, avatars.

Every query is parameterised. Note bodies and TOTP secrets arrive here
already encrypted (``Aead`` envelopes); this module never sees them in clear.
Sessions, rate-limit counters, refresh-token families and TOTP replay marks
live in securekit's own ``SQLiteStore`` (a separate file), not here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

__all__ = ["Avatar", "Comment", "Database", "Note", "User"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    totp_secret BLOB,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    body BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS avatars (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    storage_name TEXT NOT NULL,
    extension TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A row of ``users``."""

    id: int
    username: str
    password_hash: str
    role: str
    totp_secret: bytes | None
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A row of ``notes``; ``body`` is an Aead envelope."""

    id: str
    owner_id: int
    body: bytes
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    """A comment with its author's name; ``body`` is the raw, unsanitised text."""

    id: int
    author: str
    body: str
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Avatar:
    """What ``UploadPolicy.save`` returned for a user's avatar."""

    user_id: int
    storage_name: str
    extension: str
    mime: str
    size: int
    sha256: str


class Database:
    """A small data-access layer; one short-lived connection per call (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self._path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            with db:  # one transaction: commit on success, roll back on error
                yield db

    @staticmethod
    def _user(row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        return User(
            id=row["id"],
            username=row["username"],
            password_hash=row["password_hash"],
            role=row["role"],
            totp_secret=row["totp_secret"],
            created_at=row["created_at"],
        )

    def create_user(self, username: str, password_hash: str, *, now: datetime) -> User | None:
        """Insert a user; the first one becomes ``admin``. None if the name is taken."""
        with self._connect() as db:
            # BEGIN IMMEDIATE: "first user" and the insert are one atomic step.
            db.execute("BEGIN IMMEDIATE")
            first = db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
            try:
                cur = db.execute(
                    "INSERT INTO users (username, password_hash, role, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (username, password_hash, "admin" if first else "user", now.isoformat()),
                )
            except sqlite3.IntegrityError:
                return None
            row = db.execute("SELECT * FROM users WHERE id = ?", (cur.lastrowid,)).fetchone()
        return self._user(row)

    def user_by_name(self, username: str) -> User | None:
        """Look a user up by name (case-insensitive)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return self._user(row)

    def user_by_id(self, user_id: int) -> User | None:
        """Look a user up by id."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return self._user(row)

    def users(self) -> list[User]:
        """Every user, oldest first (the admin page)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM users ORDER BY id").fetchall()
        return [u for u in map(self._user, rows) if u is not None]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Store an upgraded hash (``verify_and_update`` on login)."""
        with self._connect() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def set_totp_secret(self, user_id: int, envelope: bytes) -> None:
        """Store the user's encrypted TOTP secret (enrolment confirmed)."""
        with self._connect() as db:
            db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (envelope, user_id))

    def add_note(self, note_id: str, owner_id: int, envelope: bytes, *, now: datetime) -> None:
        """Insert an encrypted note."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO notes (id, owner_id, body, created_at) VALUES (?, ?, ?, ?)",
                (note_id, owner_id, envelope, now.isoformat()),
            )

    def notes(self, owner_id: int) -> list[Note]:
        """The owner's notes, newest first: the owner is part of the query (no IDOR)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM notes WHERE owner_id = ? ORDER BY created_at DESC, id",
                (owner_id,),
            ).fetchall()
        return [
            Note(id=r["id"], owner_id=r["owner_id"], body=r["body"], created_at=r["created_at"])
            for r in rows
        ]

    def delete_note(self, note_id: str, owner_id: int) -> bool:
        """Delete one of the owner's notes; False when there is no such note of theirs."""
        with self._connect() as db:
            cur = db.execute("DELETE FROM notes WHERE id = ? AND owner_id = ?", (note_id, owner_id))
        return cur.rowcount == 1

    def add_comment(self, author_id: int, body: str, *, now: datetime) -> None:
        """Store a comment as typed; it is sanitised when rendered."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO comments (author_id, body, created_at) VALUES (?, ?, ?)",
                (author_id, body, now.isoformat()),
            )

    def comments(self, *, limit: int = 50) -> list[Comment]:
        """The latest comments with their authors' names."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, u.username, c.body, c.created_at FROM comments c"
                " JOIN users u ON u.id = c.author_id ORDER BY c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Comment(id=r[0], author=r[1], body=r[2], created_at=r[3]) for r in rows]

    def set_avatar(self, avatar: Avatar) -> str | None:
        """Store (or replace) a user's avatar; returns the replaced storage name."""
        with self._connect() as db:
            old = db.execute(
                "SELECT storage_name FROM avatars WHERE user_id = ?", (avatar.user_id,)
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO avatars"
                " (user_id, storage_name, extension, mime, size, sha256)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    avatar.user_id,
                    avatar.storage_name,
                    avatar.extension,
                    avatar.mime,
                    avatar.size,
                    avatar.sha256,
                ),
            )
        return None if old is None else str(old[0])

    def avatar(self, user_id: int) -> Avatar | None:
        """The user's avatar record, if any."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM avatars WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        return Avatar(
            user_id=row["user_id"],
            storage_name=row["storage_name"],
            extension=row["extension"],
            mime=row["mime"],
            size=row["size"],
            sha256=row["sha256"],
        )
