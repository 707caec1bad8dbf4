"""Opening the embedded store's SQLite file: private from creation, WAL, read-only when it must be.

Durability: WAL with synchronous=NORMAL. A transaction is committed when COMMIT returns, and a
process killed at any moment (kill -9) leaves every committed transaction and nothing of an
unfinished one; only a power cut may lose the last commits (never corrupt the file).
Several processes: each write is one BEGIN IMMEDIATE transaction, which takes SQLite's write
lock first; others wait for it up to the busy timeout.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from samplectl.domain.errors import DatabaseUnavailable, disk_full
from samplectl.private_files import create_private_file, private_dir, tighten_file

T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 30.0
NEARLY_FULL_BYTES = 1 << 20  # less room than this, and a failed write is taken for a full disk


def private_store_file(path: Path) -> None:
    """The data directory 0700 and the store's file 0600 before SQLite opens it (it would use 0644 &
    ~umask); an earlier release's files are tightened. SQLite gives the -wal and -shm files the
    database file's mode, so new ones are 0600 too."""
    private_dir(path.parent, tighten=True)
    if not create_private_file(path):
        for suffix in ("", "-wal", "-shm"):
            tighten_file(f"{path}{suffix}")


def writable(path: Path) -> bool:
    """Whether the store can be written: the file and its directory (WAL keeps files beside it)."""
    directory = path.parent
    if not os.access(directory, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def connect(path: Path) -> tuple[sqlite3.Connection, bool]:
    """An autocommit connection (transactions are explicit) and whether it is read-only."""
    where = str(path)
    try:
        if path.parent.exists() and not writable(path):
            return _connect_read_only(path), True
        private_store_file(path)
        conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, False
    except (OSError, sqlite3.Error) as exc:
        raise unavailable(exc, where) from None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise DatabaseUnavailable(
            f"there is no sample store at {path}, and its directory is read-only",
            hint="check SAMPLECTL_HOME, or run `samplectl init` where you may write",
        )
    uri = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A WAL store whose -shm cannot be created here: nobody can be writing to it either (the
        # directory is read-only), so it is read as it is on disk.
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    return conn


def unavailable(exc: BaseException, where: str) -> DatabaseUnavailable:
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError | sqlite3.IntegrityError) \
            or "malformed" in text or "not a database" in text:
        return DatabaseUnavailable(
            f"the embedded sample store at {where} is damaged ({text})",
            hint="restore samples.db from a backup; `samplectl doctor` checks the rest of the setup",
        )
    if "disk I/O error" in text and _nearly_full(where):
        # SQLite reports a write the disk had no room for (its WAL, its journal) as an I/O error,
        # without the errno: with the disk that holds the store all but full, that is the reason.
        return disk_full()
    if "readonly" in text or "read-only" in text:
        return DatabaseUnavailable(
            f"the embedded sample store at {where} is read-only here ({text})",
            hint="reading works; to change samples, run samplectl where the data directory is writable",
        )
    return DatabaseUnavailable(
        f"the embedded sample store at {where} is unavailable: {text}",
        hint="another samplectl may hold it locked for long (a large import?); try again",
    )


def _nearly_full(where: str) -> bool:
    """Whether the disk that holds ``where`` has less than NEARLY_FULL_BYTES left."""
    try:
        disk = os.statvfs(os.path.dirname(where) or ".")
    except OSError:
        return False
    return disk.f_bavail * disk.f_frsize < NEARLY_FULL_BYTES


class Database:
    """One SQLite connection, with its errors translated (exit 8) and explicit write transactions."""

    def __init__(self, conn: sqlite3.Connection, where: str, read_only: bool) -> None:
        self.conn = conn
        self.where = where
        self.read_only = read_only

    def guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise unavailable(exc, self.where) from exc

    def rows(self, sql: str, params: Any = ()) -> Iterator[tuple[Any, ...]]:
        """A query's rows, streamed from one snapshot; errors translated on every step."""
        cursor = self.guard(lambda: self.conn.execute(sql, params))
        try:
            while True:
                batch = self.guard(lambda: cursor.fetchmany(500))
                if not batch:
                    return
                yield from batch
        finally:
            # A reader that stopped early (`| head`) leaves this generator to be finished after the
            # command closed the connection; its cursor went with it.
            with contextlib.suppress(sqlite3.ProgrammingError):
                cursor.close()

    def one(self, sql: str, params: Any = ()) -> tuple[Any, ...] | None:
        return self.guard(lambda: self.conn.execute(sql, params).fetchone())  # type: ignore[no-any-return]

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.guard(lambda: self.conn.execute(sql, params))

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.guard(lambda: self.conn.executemany(sql, rows))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (joins the caller's if one is open).

        BEGIN IMMEDIATE takes the write lock at once, so a read made inside (the chain head, a
        sample's version) cannot be overtaken by another process before the writes that depend on it.
        """
        if self.conn.in_transaction:
            yield
            return
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.rollback()
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: a statement group that fails as a whole."""
        with self.transaction():
            self.execute("SAVEPOINT samplectl_part")
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK TO samplectl_part")
                    self.conn.execute("RELEASE samplectl_part")
                raise
            self.execute("RELEASE samplectl_part")

    def close(self) -> None:
        self.conn.close()
