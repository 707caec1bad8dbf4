"""Opening the sample database: MongoDB through pymongo, or the embedded neosqlite file.

Engine quirks live here and nowhere else (see ``Dialect`` in ``stores.samples``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from samplectl.config import Settings, mask_uri
from samplectl.domain.errors import DatabaseUnavailable


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
        from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure, ServerSelectionTimeoutError

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

    # -- bulk work (imports) ----------------------------------------------------------------
    def transaction(self, db: Any) -> contextlib.AbstractContextManager[None]:
        # A standalone MongoDB has no multi-document transactions: imports keep a journal
        # instead and roll an interrupted batch back on the next run.
        return contextlib.nullcontext()

    @property
    def atomic(self) -> bool:
        return False

    def find_in(self, collection: Any, field_name: str, values: list[Any]) -> list[dict[str, Any]]:
        return list(collection.find({field_name: {"$in": values}}))

    def delete_in(self, collection: Any, field_name: str, values: list[Any], where: Mapping[str, Any]) -> int:
        return int(collection.delete_many({field_name: {"$in": values}, **where}).deleted_count)

    def bulk_load(self, collection: Any, incoming: int) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class EmbeddedDialect:
    """neosqlite: documents as JSON in SQLite.

    Dates are kept as fixed-width UTC ISO strings: they sort and compare correctly as text,
    which is how SQLite's JSON functions compare them, and they read back unambiguously.
    """

    name = "embedded"

    def __init__(self, where: str) -> None:
        self.where = where

    def encode_date(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def decode_date(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        # fromisoformat reads the stored form (with its Z) ~40x faster than strptime: exports decode
        # three dates per sample.
        return datetime.fromisoformat(value)

    def is_duplicate_key(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def translate(self, exc: BaseException) -> BaseException | None:
        if isinstance(exc, sqlite3.OperationalError):
            return DatabaseUnavailable(
                f"the embedded sample store at {self.where} is unavailable: {exc}",
                hint="another samplectl may hold it locked for long (a large import?); try again",
            )
        return None

    # -- bulk work (imports) ----------------------------------------------------------------
    @property
    def atomic(self) -> bool:
        return True

    @contextlib.contextmanager
    def transaction(self, db: Any) -> Iterator[None]:
        """One SQLite transaction: an import is all there or not there, even after kill -9.

        IMMEDIATE takes the write lock up front, so the transaction never fails half-way on a
        lock upgrade; code running inside must nest with SAVEPOINT, never BEGIN.
        """
        conn = db.connection.db
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def find_in(self, collection: Any, field_name: str, values: list[Any]) -> list[dict[str, Any]]:
        # neosqlite evaluates $in in Python (~200 µs an id); the same lookup in SQL uses the
        # expression index that create_index made (~2 µs an id).
        if not values:
            return []
        table = _quote(collection.name)
        path = f"$.{field_name}"
        docs = []
        for start in range(0, len(values), _SQL_VARIABLES):
            part = values[start : start + _SQL_VARIABLES]
            marks = ",".join("?" * len(part))
            rows = collection.db.execute(
                f"SELECT data FROM {table} WHERE json_extract(data, '{path}') IN ({marks})", part
            )
            docs.extend(json.loads(data) for (data,) in rows)
        return docs

    def delete_in(self, collection: Any, field_name: str, values: list[Any], where: Mapping[str, Any]) -> int:
        # As find_in: neosqlite's delete_many scans the table for $in.
        table = _quote(collection.name)
        extra = "".join(f" AND json_extract(data, '$.{name}') = ?" for name in where)
        deleted = 0
        for start in range(0, len(values), _SQL_VARIABLES):
            part = values[start : start + _SQL_VARIABLES]
            marks = ",".join("?" * len(part))
            cursor = collection.db.execute(
                f"DELETE FROM {table} WHERE json_extract(data, '$.{field_name}') IN ({marks}){extra}",
                [*part, *where.values()],
            )
            deleted += cursor.rowcount
        return deleted

    @contextlib.contextmanager
    def bulk_load(self, collection: Any, incoming: int) -> Iterator[None]:
        """Build a table's plain indexes once after a large load instead of row by row.

        Each expression index re-parses the document's JSON on every insert (about 5 µs per
        index and row); dropping them and building them again after the load sorts once. Only
        worth it when the load is large next to what is already there. Unique indexes stay, so
        duplicates are still refused on insert. Must run inside ``transaction``: DDL is
        transactional in SQLite, so a crash or an error leaves the indexes as they were.
        """
        conn = collection.db
        table = collection.name
        existing = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
        if incoming < _BULK_LOAD_MIN_ROWS or existing > 2 * incoming:
            yield
            return
        indexes = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            )
            if not sql.lstrip().upper().startswith("CREATE UNIQUE")
        ]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {_quote(name)}")
        yield
        for _, sql in indexes:
            conn.execute(sql)


# SQLite's default limit on host parameters per statement is 32766 (3.32+); stay well below.
_SQL_VARIABLES = 900
_BULK_LOAD_MIN_ROWS = 20_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _ObjectIds:
    """neosqlite's ObjectId layout (4-byte time, 5 random bytes per process, 3-byte counter), as hex.

    Building ObjectId objects costs ~1 µs each; a bulk insert of a million documents needs
    only their text.
    """

    def __init__(self) -> None:
        self.random = os.urandom(5).hex()
        self.counter = int.from_bytes(os.urandom(3), "big")

    def take(self, count: int) -> list[str]:
        prefix = f"{int(time.time()) & 0xFFFFFFFF:08x}{self.random}"
        start = self.counter
        self.counter = (start + count) & 0xFFFFFF
        return [f"{prefix}{(start + i) & 0xFFFFFF:06x}" for i in range(1, count + 1)]


_OBJECT_IDS = _ObjectIds()


class EmbeddedCollection:
    """A neosqlite collection whose ``insert_many`` writes in bulk; everything else is neosqlite's.

    neosqlite inserts one document per statement, deep-copying it and asking SQLite to check
    its JSON (~40 µs a document, and a commit each outside a transaction). This writes exactly
    the rows neosqlite would (the document as JSON with its ``_id``, and the ``_id`` column) with
    one executemany inside one transaction or savepoint: imports write a million samples and a
    million audit records through here.
    """

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def insert_many(self, documents: Iterable[Mapping[str, Any]], ordered: bool = True, **_: Any) -> Any:
        from neosqlite.collection.json_helpers import NeoSQLiteJSONEncoder
        from neosqlite.objectid import ObjectId
        from neosqlite.results import InsertManyResult

        docs = list(documents)
        fresh = iter(_OBJECT_IDS.take(sum(1 for d in docs if d.get("_id") is None)))
        encode = NeoSQLiteJSONEncoder(ensure_ascii=False).encode
        rows = []
        inserted = []
        for doc in docs:
            oid = doc.get("_id")
            if oid is None:
                oid = ObjectId(next(fresh))
            body = dict(doc)
            body["_id"] = oid
            rows.append((encode(body), str(oid)))
            inserted.append(oid)
        conn = self._collection.db
        with _savepoint(conn):
            conn.executemany(f"INSERT INTO {_quote(self._collection.name)}(data, _id) VALUES (?, ?)", rows)
        return InsertManyResult(inserted)


@contextlib.contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("SAVEPOINT samplectl_bulk")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK TO samplectl_bulk")
        conn.execute("RELEASE samplectl_bulk")
        raise
    conn.execute("RELEASE samplectl_bulk")


class EmbeddedDatabase:
    """The neosqlite connection, handing out collections that insert in bulk."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._collections: dict[str, EmbeddedCollection] = {}

    def __getitem__(self, name: str) -> EmbeddedCollection:
        if name not in self._collections:
            self._collections[name] = EmbeddedCollection(self.connection[name])
        return self._collections[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@dataclass
class SampleDatabase:
    """An open sample database and how to close it."""

    db: Any
    dialect: Any
    client: Any = None
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass


def open_sample_database(settings: Settings) -> SampleDatabase:
    if settings.embedded:
        return open_embedded(settings)
    return open_mongodb(settings.mongodb_uri or "", settings.mongodb_db, settings.server_timeout_ms)


def open_embedded(settings: Settings) -> SampleDatabase:
    import neosqlite

    path = settings.samples_path
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
    return SampleDatabase(
        db=EmbeddedDatabase(conn), dialect=EmbeddedDialect(str(path)), client=conn, closers=[conn.close]
    )


def open_mongodb(uri: str, db_name: str, timeout_ms: int) -> SampleDatabase:
    from pymongo import MongoClient
    from pymongo.errors import ConfigurationError, InvalidURI

    where = mask_uri(uri)
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
