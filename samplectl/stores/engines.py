"""Opening the sample database: MongoDB through pymongo, or the embedded neosqlite file.

Engine quirks live here and nowhere else (see ``Dialect`` in ``stores.samples``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
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

    def find_sorted(
        self, collection: Any, query: Mapping[str, Any], order: list[tuple[str, int]], limit: int | None
    ) -> Iterator[dict[str, Any]] | None:
        return None  # the store pages through with keyset queries, which MongoDB serves from its indexes

    def count(self, collection: Any, query: Mapping[str, Any]) -> int:
        return int(collection.count_documents(query))

    def bulk_load(self, collection: Any, incoming: int, *, lookups: bool = True) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


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
        docs: list[dict[str, Any]] = []
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

    def find_sorted(
        self, collection: Any, query: Mapping[str, Any], order: list[tuple[str, int]], limit: int | None
    ) -> Iterator[dict[str, Any]] | None:
        """Matching documents in order, from one SQL statement, or None when the query is not one we translate.

        neosqlite falls back to evaluating in Python, over the whole table, any query form it does
        not translate (before dates were stored as integers, an export of 100,000 samples took
        minutes and 300 MB). The store's queries are a small known set, translated here to SQL that
        the expression indexes serve. One statement streams every row from one snapshot, so no
        paging is needed at all.
        """
        try:
            where, params = _sql_where(query)
            order_by = ", ".join(f"{_json_path(f)} {'DESC' if d < 0 else 'ASC'}" for f, d in order)
        except _NotTranslatable:
            return None
        sql = f"SELECT data FROM {_quote(collection.name)} WHERE {where}"
        if order_by:  # no order: the table's own, read straight through
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return _stream(collection.db.execute(sql, params))

    def count(self, collection: Any, query: Mapping[str, Any]) -> int:
        try:
            where, params = _sql_where(query)
        except _NotTranslatable:
            return int(collection.count_documents(query))
        return int(collection.db.execute(f"SELECT count(*) FROM {_quote(collection.name)} WHERE {where}", params)
                   .fetchone()[0])

    @contextlib.contextmanager
    def bulk_load(self, collection: Any, incoming: int, *, lookups: bool = True) -> Iterator[None]:
        """Build a table's indexes once after a large load instead of row by row.

        Each expression index re-parses the document's JSON on every insert (about 5 µs per
        index and row, more once the index outgrows the cache); dropping them and building
        them again after the load sorts once. Only worth it when the load is large next to what
        is already there. Unique indexes stay while the loader still ``lookups`` ids; otherwise
        they go too and duplicates are refused when they are rebuilt (an IntegrityError that
        rolls everything back). Must run inside ``transaction``, which holds the write lock: DDL
        is transactional in SQLite, so a crash or an error leaves the indexes as they were.
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
            if not lookups and "json_extract" in sql or not sql.lstrip().upper().startswith("CREATE UNIQUE")
        ]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {_quote(name)}")
        yield
        for _, sql in indexes:
            conn.execute(sql)


# SQLite's default limit on host parameters per statement is 32766 (3.32+); stay well below.
_SQL_VARIABLES = 900
_BULK_LOAD_MIN_ROWS = 20_000
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMPARISONS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


class _NotTranslatable(Exception):
    """A query outside the small set the store builds: neosqlite evaluates it instead."""


def _json_path(field_name: str) -> str:
    if not _FIELD.match(field_name):
        raise _NotTranslatable(field_name)
    return f"json_extract(data, '$.{field_name}')"


def _sql_value(value: Any) -> Any:
    # JSON true/false/null and nested values compare differently in SQL: leave those to neosqlite.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _NotTranslatable(repr(value))
    return value


def _literal_prefixes(pattern: Any) -> list[str]:
    """The literals behind "^" + re.escape(p) or "^(?:" + "|".join(map(re.escape, ps)) + ")".

    Those are the only regexes the store builds (location prefixes); anything else is refused.
    """
    if not isinstance(pattern, str) or not pattern.startswith("^"):
        raise _NotTranslatable(repr(pattern))
    body = pattern[1:]
    grouped = body.startswith("(?:") and body.endswith(")")
    if grouped:
        body = body[3:-1]
    literals, current, chars = [], [], iter(body)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == "|" and grouped:
            literals.append("".join(current))
            current = []
        elif char in ".^$*+?{}[]()|":
            raise _NotTranslatable(pattern)
        else:
            current.append(char)
    literals.append("".join(current))
    if ("^(?:" + "|".join(map(re.escape, literals)) + ")" if grouped else "^" + re.escape(literals[0])) != pattern:
        raise _NotTranslatable(pattern)
    return literals


def _sql_where(query: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """A WHERE clause for equality, $in, $gt/$gte/$lt/$lte, literal-prefix $regex, $and and $or."""
    parts: list[str] = []
    params: list[Any] = []
    for key, condition in query.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise _NotTranslatable(key)
            subs = [_sql_where(q) for q in condition]
            joiner = " AND " if key == "$and" else " OR "
            parts.append("(" + joiner.join(f"({w})" for w, _ in subs) + ")")
            params.extend(p for _, ps in subs for p in ps)
            continue
        column = _json_path(key)
        if not isinstance(condition, Mapping):
            parts.append(f"{column} = ?")
            params.append(_sql_value(condition))
            continue
        for op, value in condition.items():
            if op in _COMPARISONS:
                parts.append(f"{column} {_COMPARISONS[op]} ?")
                params.append(_sql_value(value))
            elif op == "$in":
                values = [_sql_value(v) for v in value]
                parts.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                params.extend(values)
            elif op == "$regex":
                prefixes = _literal_prefixes(value)
                parts.append("(" + " OR ".join(f"substr({column}, 1, ?) = ?" for _ in prefixes) + ")")
                for prefix in prefixes:
                    params.extend([len(prefix), prefix])
            elif op == "$eq":
                parts.append(f"{column} = ?")
                params.append(_sql_value(value))
            else:
                raise _NotTranslatable(op)
    return (" AND ".join(parts) or "1"), params


def _stream(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    try:
        for (data,) in cursor:
            yield json.loads(data)
    finally:
        cursor.close()


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
        from neosqlite.results import InsertManyResult

        docs = list(documents)
        fresh = iter(_OBJECT_IDS.take(sum(1 for d in docs if d.get("_id") is None)))
        encode = _json_encoder()
        rows = []
        for doc in docs:
            oid = doc.get("_id")
            body = dict(doc)
            if oid is None:
                oid = next(fresh)
                # What encoding an ObjectId gives, without building one.
                body["_id"] = {"__neosqlite_objectid__": True, "id": oid}
            rows.append((encode(body), str(oid)))
        conn = self._collection.db
        with _savepoint(conn):
            conn.executemany(f"INSERT INTO {_quote(self._collection.name)}(data, _id) VALUES (?, ?)", rows)
        return InsertManyResult([row[1] for row in rows])


def _json_encoder() -> Any:
    """neosqlite's JSON encoding (its encoder class and settings), with the C encoder built once.

    json.JSONEncoder.encode builds a new C encoder for every document; reusing one saves a
    third of the time on a million documents. The text is identical.
    """
    global _ENCODE
    if _ENCODE is None:
        from neosqlite.collection.json_helpers import NeoSQLiteJSONEncoder

        python = NeoSQLiteJSONEncoder()
        try:
            from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

            if c_make_encoder is None:
                raise ImportError
            c_encoder = c_make_encoder(None, python.default, encode_basestring_ascii, None,
                                       python.key_separator, python.item_separator, False, False, True)
            _ENCODE = lambda doc: "".join(c_encoder(doc, 0))  # noqa: E731
        except ImportError:
            _ENCODE = python.encode
    return _ENCODE


_ENCODE: Any = None


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
        from samplectl.private_files import private_dir

        private_dir(path.parent, tighten=True)  # 0700 whatever the umask: nobody else may swap the store
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
