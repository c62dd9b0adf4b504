"""SQLiteStore: the embedded default, safe across threads and processes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final, TypeVar

from securekit.errors import ConfigurationError, StoreUnavailableError
from securekit.stores._base import AsyncLocalStore, LocalStore
from securekit.stores._core import KEEP, NS_SET, Step

R = TypeVar("R")

#: How long a writer waits for another process's lock before giving up
#: (SQLite ``busy_timeout``). Ordinary contention waits; only a stuck writer
#: turns into StoreUnavailableError.
DEFAULT_BUSY_TIMEOUT: Final = 10.0
#: Expired rows are deleted every this many write transactions per connection.
SWEEP_EVERY: Final = 1024

_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS securekit_store ("
        " ns INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires REAL,"
        " PRIMARY KEY (ns, key)) WITHOUT ROWID"
    ),
    # One row per set member; the set's expiry is its row in securekit_store.
    (
        "CREATE TABLE IF NOT EXISTS securekit_set ("
        " key TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (key, member)) WITHOUT ROWID"
    ),
)


class _Immediate:
    """A ``BEGIN IMMEDIATE`` transaction as a context manager.

    Committed when the block ends; rolled back on any exception. SQLite
    errors (on begin, inside, or on commit) become StoreUnavailableError with
    the cause dropped. A class rather than ``contextlib.contextmanager``: this
    runs on every write, and the generator version cost about 2 us more.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            # IMMEDIATE takes the write lock before the first read, so two
            # read-modify-write transactions can never interleave.
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        return self._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                _rollback(self._conn)
                raise StoreUnavailableError() from None
            return
        _rollback(self._conn)
        if issubclass(exc_type, sqlite3.Error):
            raise StoreUnavailableError() from None


def _rollback(conn: sqlite3.Connection) -> None:
    # The failure may already have ended the transaction: nothing to undo.
    with contextlib.suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


class SQLiteStore(LocalStore):
    """A store in one SQLite file: the embedded default for one machine.

    Safe across threads and processes: the file runs in WAL mode (readers
    never block the writer), every atomic operation is one ``BEGIN
    IMMEDIATE`` transaction (the write lock is taken before reading, so
    read-modify-write cannot interleave), writers wait up to
    ``busy_timeout`` seconds for the lock, and each thread of each process
    has its own connection (a connection inherited through ``fork`` is never
    reused). The file is created with mode 0600.

    Args:
        path: the database file (created if missing). ``":memory:"`` is
            refused: it would give each connection its own empty database.
        busy_timeout: seconds to wait for another writer.
        clock: returns the current epoch seconds, for expiry.

    Raises:
        ConfigurationError: the path is ``":memory:"`` or empty.
        StoreUnavailableError: the file cannot be opened or initialised.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        text = os.fspath(path)
        if not isinstance(text, str):
            raise TypeError("path must be a str or os.PathLike[str]")
        if text in {"", ":memory:"} or text.startswith("file:"):
            raise ConfigurationError(
                "SQLiteStore needs a file path; use MemoryStore for an in-memory store"
            )
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            raise TypeError("busy_timeout must be a number of seconds")
        if not 0 < busy_timeout <= 3600:
            raise ConfigurationError("busy_timeout must be between 0 and 3600 seconds")
        self._path = Path(text)
        self._busy_ms = int(busy_timeout * 1000)
        self._clock = clock
        self._local = threading.local()
        try:
            # Create the file owner-only before SQLite does (with the umask).
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError:
            raise StoreUnavailableError("the SQLite store file could not be opened") from None
        self._connection()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        pid = os.getpid()
        if conn is not None and local.pid == pid:
            return conn
        # A connection (and its locks) must never cross fork(): open a new one.
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_ms / 1000,
                isolation_level=None,  # we issue BEGIN IMMEDIATE ourselves
                check_same_thread=True,
            )
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            # WAL: readers do not block the writer nor the writer the readers
            # (https://sqlite.org/wal.html); synchronous=NORMAL is durable
            # across application crashes in WAL mode.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        except sqlite3.Error:
            raise StoreUnavailableError("the SQLite store could not be opened") from None
        local.conn, local.pid, local.writes = conn, pid, 0
        return conn

    def _read(self, ns: int, key: str) -> bytes | None:
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT value, expires FROM securekit_store WHERE ns = ? AND key = ?",
                    (ns, key),
                )
                .fetchone()
            )
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        value: bytes = row[0]
        return value

    def _immediate(self) -> _Immediate:
        """One write transaction: committed at the end, rolled back on any failure."""
        return _Immediate(self._connection())

    def _transact(self, ns: int, keys: list[str], step: Step[R]) -> R:
        with self._immediate() as conn:
            now = self._clock()
            current: list[bytes | None] = []
            expiries: list[float | None] = []
            for key in keys:
                row = conn.execute(
                    "SELECT value, expires FROM securekit_store WHERE ns = ? AND key = ?",
                    (ns, key),
                ).fetchone()
                live = row is not None and (row[1] is None or row[1] > now)
                current.append(row[0] if live else None)
                expiries.append(row[1] if live else None)
            writes, result = step(current)
            for write in writes:
                key = keys[write.index]
                if write.value is None:
                    conn.execute("DELETE FROM securekit_store WHERE ns = ? AND key = ?", (ns, key))
                    continue
                if write.ttl is KEEP:
                    expires = expiries[write.index]
                else:
                    expires = None if write.ttl is None else now + float(write.ttl)  # type: ignore[arg-type]
                conn.execute(
                    "INSERT OR REPLACE INTO securekit_store (ns, key, value, expires)"
                    " VALUES (?, ?, ?, ?)",
                    (ns, key, write.value, expires),
                )
            if writes:
                self._local.writes += 1
                if self._local.writes >= SWEEP_EVERY:
                    self._local.writes = 0
                    self._sweep(conn, now)
        return result

    @staticmethod
    def _sweep(conn: sqlite3.Connection, now: float) -> None:
        conn.execute(
            "DELETE FROM securekit_set WHERE key IN (SELECT key FROM securekit_store"
            " WHERE ns = ? AND expires IS NOT NULL AND expires <= ?)",
            (NS_SET, now),
        )
        conn.execute(
            "DELETE FROM securekit_store WHERE expires IS NOT NULL AND expires <= ?", (now,)
        )

    def _set_tx(self, key: str, member: str, *, add: bool, ttl: float | None) -> None:
        with self._immediate() as conn:
            now = self._clock()
            row = conn.execute(
                "SELECT expires FROM securekit_store WHERE ns = ? AND key = ?", (NS_SET, key)
            ).fetchone()
            if row is not None and row[0] is not None and row[0] <= now:
                # The whole set expired: drop it before touching it (like Redis).
                conn.execute("DELETE FROM securekit_set WHERE key = ?", (key,))
                conn.execute("DELETE FROM securekit_store WHERE ns = ? AND key = ?", (NS_SET, key))
                row = None
            if add:
                conn.execute(
                    "INSERT OR IGNORE INTO securekit_set (key, member) VALUES (?, ?)",
                    (key, member),
                )
                if row is None or ttl is not None:
                    expires = None if ttl is None else now + ttl
                    conn.execute(
                        "INSERT OR REPLACE INTO securekit_store (ns, key, value, expires)"
                        " VALUES (?, ?, ?, ?)",
                        (NS_SET, key, b"", expires),
                    )
            elif row is not None:
                conn.execute(
                    "DELETE FROM securekit_set WHERE key = ? AND member = ?", (key, member)
                )
                left = conn.execute(
                    "SELECT 1 FROM securekit_set WHERE key = ? LIMIT 1", (key,)
                ).fetchone()
                if left is None:
                    conn.execute(
                        "DELETE FROM securekit_store WHERE ns = ? AND key = ?", (NS_SET, key)
                    )

    def _set_add(self, key: str, member: str, ttl: float | None) -> None:
        self._set_tx(key, member, add=True, ttl=ttl)

    def _set_remove(self, key: str, member: str) -> None:
        self._set_tx(key, member, add=False, ttl=None)

    def _set_members(self, key: str) -> set[str]:
        if self._read(NS_SET, key) is None:
            return set()
        try:
            rows = (
                self._connection()
                .execute("SELECT member FROM securekit_set WHERE key = ?", (key,))
                .fetchall()
            )
        except sqlite3.Error:
            raise StoreUnavailableError() from None
        return {row[0] for row in rows}

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()

    def asyncio(self) -> AsyncLocalStore:
        """Return an :class:`~securekit.stores.AsyncStore` view (calls run in threads)."""
        return AsyncLocalStore(self, in_thread=True)
