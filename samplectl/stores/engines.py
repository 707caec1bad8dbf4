"""Opening the sample database: MongoDB through pymongo, or the embedded neosqlite file.

Engine quirks live here and nowhere else (see ``Dialect`` in ``stores.samples``).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from samplectl.config import Settings, mask_uri
from samplectl.domain.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MongoDialect:
    """pymongo against a MongoDB server (or a wire-compatible one), and mongomock."""

    name = "mongodb"

    def __init__(self, where: str) -> None:
        self.where = where

    def encode_date(self, value: datetime) -> Any:
        # BSON dates are UTC milliseconds; pymongo hands back naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None, microsecond=value.microsecond // 1000 * 1000)

    def decode_date(self, value: Any) -> datetime:
        return value

    def is_duplicate_key(self, exc: BaseException) -> bool:
        from pymongo.errors import BulkWriteError, DuplicateKeyError

        if isinstance(exc, DuplicateKeyError):
            return True
        if isinstance(exc, BulkWriteError):
            return any(e.get("code") == 11000 for e in exc.details.get("writeErrors", []))
        return False

    def translate(self, exc: BaseException) -> BaseException | None:
        from pymongo.errors import (
            ConfigurationError,
            ConnectionFailure,
            OperationFailure,
            ServerSelectionTimeoutError,
        )

        if isinstance(exc, ServerSelectionTimeoutError | ConnectionFailure):
            return DatabaseUnavailable(
                f"cannot reach MongoDB at {self.where}",
                hint="check SAMPLECTL_MONGODB_URI and that the server is running (`docker compose up -d mongo`)",
            )
        if isinstance(exc, ConfigurationError):
            return DatabaseUnavailable(f"MongoDB configuration problem for {self.where}: {exc}")
        if isinstance(exc, OperationFailure) and exc.code in (13, 18):
            return DatabaseUnavailable(
                f"MongoDB at {self.where} refused the credentials or the operation",
                hint="check the user name and password in SAMPLECTL_MONGODB_URI",
            )
        return None


class EmbeddedDialect:
    """neosqlite: documents as JSON in SQLite.

    Dates are kept as integer microseconds since the Unix epoch (UTC). neosqlite wraps anything
    that looks like an ISO date in SQLite's datetime(), which drops fractions of a second and
    defeats the indexes; integers compare exactly and use them.
    """

    name = "embedded"

    def __init__(self, where: str) -> None:
        self.where = where

    def encode_date(self, value: datetime) -> Any:
        delta = value.astimezone(UTC) - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def decode_date(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        return EPOCH + timedelta(microseconds=int(value))

    def is_duplicate_key(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def translate(self, exc: BaseException) -> BaseException | None:
        if isinstance(exc, sqlite3.OperationalError):
            return DatabaseUnavailable(
                f"the embedded sample store at {self.where} is unavailable: {exc}",
                hint="another samplectl may hold it locked for long; try again",
            )
        return None


@dataclass
class SampleDatabase:
    """An open sample database and how to close it."""

    db: Any
    dialect: Any
    client: Any = None
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            # Closing must never mask the real outcome of a command.
            with contextlib.suppress(Exception):
                close()


def open_sample_database(settings: Settings) -> SampleDatabase:
    if settings.embedded:
        return open_embedded(settings)
    return open_mongodb(settings.mongodb_uri or "", settings.mongodb_db, settings.server_timeout_ms)


def open_embedded(settings: Settings) -> SampleDatabase:
    import neosqlite

    path = settings.samples_path
    log.info("opening the embedded sample store at %s", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout lets concurrent samplectl processes queue for SQLite's write lock
        # instead of failing; WAL keeps readers off the writers' backs.
        conn = neosqlite.Connection(str(path), timeout=30.0, journal_mode="WAL")
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseUnavailable(
            f"cannot open the embedded sample store at {path}: {exc}",
            hint="check SAMPLECTL_HOME points at a writable directory",
        ) from None
    return SampleDatabase(db=conn, dialect=EmbeddedDialect(str(path)), client=conn, closers=[conn.close])


def open_mongodb(uri: str, db_name: str, timeout_ms: int) -> SampleDatabase:
    from pymongo import MongoClient
    from pymongo.errors import ConfigurationError, InvalidURI

    where = mask_uri(uri)
    log.info("connecting to MongoDB at %s, database %s (timeout %d ms)", where, db_name, timeout_ms)
    try:
        client: Any = MongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 10, 30000),
            appname="samplectl",
        )
    except (ConfigurationError, InvalidURI, ValueError) as exc:
        # pymongo may echo the URI in its message: never print it, it can hold a password.
        kind = type(exc).__name__
        raise DatabaseUnavailable(
            f"SAMPLECTL_MONGODB_URI {where} is not usable ({kind})",
            hint="a URI looks like mongodb://user:password@host:27017/?authSource=admin",
        ) from None
    return SampleDatabase(db=client[db_name], dialect=MongoDialect(where), client=client, closers=[client.close])
