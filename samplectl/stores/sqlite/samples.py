"""Samples as rows of the ``samples`` table (see ``schema``)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.errors import Conflict, DatabaseUnavailable
from samplectl.stores.sqlite.connection import Database
from samplectl.stores.sqlite.schema import ID_INDEX, SAMPLE_COLUMNS, SAMPLE_INDEXES, SAMPLE_NAMES, create_index
from samplectl.stores.values import prefix_end

if TYPE_CHECKING:
    from samplectl.domain.storage import PositionTaken
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.changes import ChangeWriter
    from samplectl.stores.samples import ImportCreator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# SQLite allows 32766 host parameters per statement (3.32+); stay well below.
CHUNK = 500
# Below this many incoming rows (or with more than twice as many stored) indexes are kept up row by row.
BULK_LOAD_MIN_ROWS = 20_000
BULK_CACHE_KIB = 32 * 1024  # the page cache of a large load (see bulk_cache)
# New samples of a load into a store that keeps its id index up are inserted this many at a time, in id
# order (see insert_new): at 1,000,000 rows ~20% less SQLite time per insert; 1,000 at a time barely helps.
SORTED_ROWS = 20_000
SAMPLE_SELECT = "SELECT " + ", ".join(SAMPLE_NAMES) + " FROM samples"
SAMPLE_INSERT = f"INSERT INTO samples ({', '.join(SAMPLE_NAMES)}) VALUES ({', '.join('?' * len(SAMPLE_NAMES))})"
_UPDATE = "UPDATE samples SET " + ", ".join(f"{n} = ?" for n in SAMPLE_NAMES) + " WHERE sample_id = ? AND version = ?"
_DATE_AT = tuple(i for i, c in enumerate(SAMPLE_COLUMNS) if c.date)
_OPTIONAL_AT = tuple(i for i, c in enumerate(SAMPLE_COLUMNS) if c.optional)
_POSITION_AT = SAMPLE_NAMES.index("position")
_first = itemgetter(0)
_KNOWN = frozenset(SAMPLE_NAMES)
_ACCEPTED = _KNOWN | {"pending"}  # the marker of engines without transactions: never set here


def encode_date(value: datetime) -> int:
    delta = value.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def decode_date(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


# The last date encoded (the very object, so that an `is` test is sound) and the last decoded, in
# each column: the samples of one import share their created_at and updated_at, which would
# otherwise be converted a million times by an import or an export.
_last_encoded: list[tuple[Any, int]] = [(None, 0) for _ in SAMPLE_NAMES]
_last_decoded: list[tuple[int | None, datetime]] = [(None, EPOCH) for _ in SAMPLE_NAMES]


def encode(record: Mapping[str, Any]) -> tuple[Any, ...]:
    if not record.keys() <= _ACCEPTED:  # a field without a column would be lost: a programming error
        raise ValueError(f"the embedded store has no column for {sorted(set(record) - _ACCEPTED)}")
    row = list(map(record.get, SAMPLE_NAMES))
    for i in _DATE_AT:
        value = row[i]
        if isinstance(value, datetime):
            last, encoded = _last_encoded[i]
            if value is not last:
                encoded = encode_date(value)
                _last_encoded[i] = (value, encoded)
            row[i] = encoded
    return tuple(row)


def decode(row: tuple[Any, ...]) -> dict[str, Any]:
    values = list(row)
    for i in _DATE_AT:
        number = values[i]
        last, when = _last_decoded[i]
        if number != last:
            when = EPOCH + timedelta(microseconds=number)
            _last_decoded[i] = (number, when)
        values[i] = when
    record = dict(zip(SAMPLE_NAMES, values))  # noqa: B905 - a row has every column; zip's keyword costs ~0.25 µs
    for i in _OPTIONAL_AT:
        if values[i] is None:
            del record[SAMPLE_NAMES[i]]
    return record


def where(criteria: Criteria) -> tuple[str, list[Any]]:
    """The WHERE clause for criteria; each part can be served by one of SAMPLE_INDEXES."""
    parts: list[str] = []
    params: list[Any] = []
    for name, values in (
        ("sample_type", criteria.sample_types),
        ("status", criteria.statuses),
        ("subject_id", criteria.subject_ids),
    ):
        if values:
            parts.append(f"{name} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if criteria.location_prefixes:
        ranges = []
        for prefix in criteria.location_prefixes:
            upper = prefix_end(prefix)
            if not prefix:
                ranges.append("1")
            elif upper is None:
                ranges.append("storage_location >= ?")
                params.append(prefix)
            else:
                # A range, not LIKE: LIKE has wildcards and ignores case; this is an exact prefix.
                ranges.append("(storage_location >= ? AND storage_location < ?)")
                params.extend([prefix, upper])
        parts.append("(" + " OR ".join(ranges) + ")")
    for op, when in ((">=", criteria.collected_from), ("<", criteria.collected_before), ("<=", criteria.collected_to)):
        if when is not None:
            parts.append(f"collection_date {op} ?")
            params.append(encode_date(when))
    return (" AND ".join(parts) or "1"), params


class SqliteSampleStore:
    kind = "embedded"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.where = db.where
        self._unsorted: list[tuple[Any, ...]] | None = None  # insert_new's rows, during a bulk load

    # -- schema (made when the store is opened; see sqlite.open_sqlite) -----------------------
    def ensure_indexes(self) -> list[str]:
        return list(SAMPLE_INDEXES)

    def ensure_ready(self) -> None:
        return None

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any] | None:
        row = self.db.one(SAMPLE_SELECT + " WHERE sample_id = ?", (sample_id,))
        return None if row is None else decode(row)

    def count(self, criteria: Criteria) -> int:
        clause, params = where(criteria)
        row = self.db.one(f"SELECT count(*) FROM samples WHERE {clause}", params)
        return int(row[0]) if row else 0

    def values(self, field: str, prefix: str, limit: int) -> list[str]:
        from samplectl.stores.sqlite.values import distinct_values

        return self.db.guard(lambda: distinct_values(self.db.conn, field, prefix, limit))

    def find(self, criteria: Criteria, sort: Sort, limit: int | None = None,
             after: str | None = None) -> Iterator[dict[str, Any]]:
        """One statement, streamed from one snapshot: no paging needed."""
        query = self._query(SAMPLE_SELECT, criteria, sort, limit, after)
        if query is None:
            return
        for row in self.db.rows(*query):
            yield decode(row)

    def _query(self, select: str, criteria: Criteria, sort: Sort | None, limit: int | None = None,
               after: str | None = None) -> tuple[str, list[Any]] | None:
        """The statement of ``find`` (None: ``after`` names no sample); without ``sort``, that of ``stream``."""
        clause, params = where(criteria)
        if sort is None:
            return f"{select} WHERE {clause}", params
        if sort.field not in _KNOWN:
            raise ValueError(f"cannot sort by {sort.field!r}")
        direction = "DESC" if sort.descending else "ASC"
        if after is not None:
            last = self.get(after)
            if last is None:
                return None
            if sort.field == "sample_id":
                clause += f" AND sample_id {'<' if sort.descending else '>'} ?"
                params.append(after)
            else:
                value = encode(last)[SAMPLE_NAMES.index(sort.field)]
                past = "<" if sort.descending else ">"
                clause += f" AND ({sort.field} {past} ? OR ({sort.field} = ? AND sample_id > ?))"
                params.extend([value, value, after])
        order = f"sample_id {direction}" if sort.field == "sample_id" else f"{sort.field} {direction}, sample_id ASC"
        sql = f"{select} WHERE {clause} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        clause, params = where(criteria)
        for row in self.db.rows(f"{SAMPLE_SELECT} WHERE {clause}", params):
            yield decode(row)

    def cells(self, criteria: Criteria, sort: Sort | None, fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Each matching sample's CSV cells, made by SQLite itself (see ``sqlite.cells``): no record in between."""
        from samplectl.domain.csvcells import neutralise  # exports only: `get` does not pay for it
        from samplectl.stores.sqlite.cells import NEUTRALISE, cell_select

        self.db.conn.create_function(NEUTRALISE, 1, neutralise, deterministic=True)
        query = self._query(cell_select(fields), criteria, sort)
        assert query is not None
        return self.db.rows(*query)

    def existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(sample_ids), CHUNK):
            part = list(sample_ids[start:start + CHUNK])
            sql = f"{SAMPLE_SELECT} WHERE sample_id IN ({', '.join('?' * len(part))})"
            for row in self.db.rows(sql, part):
                found[row[0]] = decode(row)
        return found

    def find_by_batch(self, batch_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """A page at a time (keyset paging): the caller may delete what it has read meanwhile."""
        sql = f"{SAMPLE_SELECT} WHERE import_batch = ? AND sample_id > ? ORDER BY sample_id LIMIT ?"
        last = ""
        while True:
            page = list(self.db.rows(sql, (batch_id, last, page_size)))
            for row in page:
                yield decode(row)
            if len(page) < page_size:
                return
            last = page[-1][0]

    # -- writes -----------------------------------------------------------------------------
    def _taken(self, exc: sqlite3.IntegrityError, records: Iterable[Mapping[str, Any]]) -> PositionTaken | None:
        """What a unique-index failure on ``samples.position`` means: the position, and who holds it."""
        if "samples.position" not in str(exc):
            return None
        from samplectl.domain.storage import PositionTaken  # the storage rules, only on this error path

        for record in records:
            position = record.get("position")
            if position:
                row = self.db.one("SELECT sample_id FROM samples WHERE position = ?", (position,))
                if row is not None and row[0] != record.get("sample_id"):
                    return PositionTaken(str(position), str(row[0]))
        return PositionTaken("(a position in this batch)", None)

    def occupants(self, positions: list[str]) -> dict[str, str]:
        """Which sample holds each of ``positions`` (those held), by position."""
        found: dict[str, str] = {}
        for start in range(0, len(positions), CHUNK):
            part = list(positions[start:start + CHUNK])
            sql = f"SELECT position, sample_id FROM samples WHERE position IN ({', '.join('?' * len(part))})"
            found.update((str(p), str(s)) for p, s in self.db.rows(sql, part))
        return found

    def insert(self, record: Mapping[str, Any]) -> None:
        try:
            self.db.execute(SAMPLE_INSERT, encode(record))
        except sqlite3.IntegrityError as exc:
            if (taken := self._taken(exc, [record])) is not None:
                raise taken from None
            raise Conflict(
                f"sample {record['sample_id']!r} already exists",
                hint="choose another --id, or leave it out to generate one",
            ) from None

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        records_list = list(records)
        return self.insert_rows([encode(r) for r in records_list], records_list)

    def insert_rows(self, rows: list[tuple[Any, ...]], records: Sequence[Mapping[str, Any]]) -> int:
        """``insert_many`` of ``records`` already encoded as ``rows`` (``records`` name a refused position)."""
        if not rows:
            return 0
        try:
            with self.db.savepoint():
                self.db.executemany(SAMPLE_INSERT, rows)
        except sqlite3.IntegrityError as exc:
            if (taken := self._taken(exc, records)) is not None:
                raise taken from None
            raise Conflict(
                "a sample being written already exists (another process created it meanwhile?)",
                hint="check with `samplectl get` and run again",
            ) from None
        return len(rows)

    def insert_new(self, rows: list[tuple[Any, ...]], records: Sequence[Mapping[str, Any]]) -> int:
        """``insert_rows`` of new samples whose ids nothing looks up before the load ends (an import's,
        its ids unique in the file). During a bulk load that keeps the id index up, those without a
        position wait, and go in SORTED_ROWS at a time in id order: each page of the index then takes
        many ids at once instead of one page read and written per id. (A sample with a position goes in
        at once: a taken position is told with its sample.) A stored id is then refused when they go in."""
        if self._unsorted is None:
            return self.insert_rows(rows, records)
        at = _POSITION_AT
        placed = [i for i, row in enumerate(rows) if row[at] is not None]
        if placed:
            self.insert_rows([rows[i] for i in placed], [records[i] for i in placed])
            self._unsorted += (row for row in rows if row[at] is None)
        else:
            self._unsorted += rows
        if len(self._unsorted) >= SORTED_ROWS:
            self._insert_sorted()
        return len(rows)

    def _insert_sorted(self) -> None:
        rows, self._unsorted = self._unsorted or [], []
        rows.sort(key=_first)  # str order is SQLite's BINARY order (UTF-8 keeps code point order)
        self.insert_rows(rows, ())

    def replace_if_version(self, sample_id: str, version: int, record: Mapping[str, Any]) -> bool:
        try:
            cursor = self.db.execute(_UPDATE, (*encode(record), sample_id, version))
        except sqlite3.IntegrityError as exc:
            if (taken := self._taken(exc, [record])) is not None:
                raise taken from None
            raise Conflict(f"sample {record['sample_id']!r} already exists", hint="choose another id") from None
        return cursor.rowcount > 0

    def delete_if_version(self, sample_id: str, version: int) -> bool:
        cursor = self.db.execute("DELETE FROM samples WHERE sample_id = ? AND version = ?", (sample_id, version))
        return cursor.rowcount > 0

    def finish_pending(self, marker_id: str) -> None:
        return None  # one transaction: never any marker

    def delete_unchanged(self, sample_ids: list[str]) -> int:
        deleted = 0
        with self.db.transaction():
            for start in range(0, len(sample_ids), CHUNK):
                part = list(sample_ids[start:start + CHUNK])
                cursor = self.db.execute(
                    f"DELETE FROM samples WHERE sample_id IN ({', '.join('?' * len(part))}) AND version = 1", part)
                deleted += cursor.rowcount
        return deleted

    # -- bulk work and consistency ----------------------------------------------------------
    def check_integrity(self) -> None:
        """SQLite's quick_check: every page, row and index entry well formed (a damaged index page
        can leave reads working while some writes fail or go wrong). O(size): `audit verify` runs it."""
        found = [str(row[0]) for row in self.db.rows("PRAGMA quick_check(5)")]
        if found != ["ok"]:
            raise DatabaseUnavailable(
                f"the embedded sample store at {self.where} is damaged (quick_check: {'; '.join(found)[:200]})",
                hint="restore samples.db from a backup; `samplectl doctor` checks the rest of the setup",
            )

    @property
    def atomic(self) -> bool:
        return True

    def transaction(self) -> AbstractContextManager[None]:
        return self.db.transaction()

    @contextlib.contextmanager
    def bulk_load(self, incoming: int, *, lookups: bool = True) -> Iterator[None]:
        """Build the secondary indexes once after a large load instead of row by row.

        Must run inside ``transaction``: DDL is transactional in SQLite, so a crash or an error
        leaves the indexes as they were. The id index waits too when the store holds no sample at
        the start (the transaction's write lock keeps it so) and the caller looks no sample up by id
        meanwhile (``lookups`` False): no stored id can then be met again, and an id the load itself
        repeats is refused when the index is built, as a Conflict, the transaction left to roll back.
        """
        unique = dict([ID_INDEX]) if not lookups else {}
        with bulk_indexes(self.db, "samples", SAMPLE_INDEXES, incoming, unique_if_empty=unique) as deferred, \
                bulk_cache(self.db, incoming):
            # Kept up, the id index takes insert_new's rows in id order (deferred, it is built from a sort).
            self._unsorted = None if ID_INDEX[0] in deferred else []
            try:
                yield
                self._insert_sorted()  # before the indexes are built, inside the transaction
            finally:
                self._unsorted = None

    def import_creator(self, audit: AuditLog, entry: Mapping[str, Any], record: Mapping[str, Any],
                       changes: Callable[[Mapping[str, Any]], dict[str, Any]]) -> ImportCreator:
        from samplectl.stores.sqlite.audit import SqliteAuditLog
        from samplectl.stores.sqlite.imports import SqliteImportCreator

        assert isinstance(audit, SqliteAuditLog)
        return SqliteImportCreator(self, audit, entry, record, changes)

    def change_writer(self, audit: AuditLog) -> ChangeWriter:
        from samplectl.stores.sqlite.audit import SqliteAuditLog
        from samplectl.stores.sqlite.changes import TransactionalWriter

        assert isinstance(audit, SqliteAuditLog)
        return TransactionalWriter(self, audit)


@contextlib.contextmanager
def bulk_cache(db: Database, incoming: int) -> Iterator[None]:
    """A larger page cache for a large load: the id index, where it is kept up, takes each new id at a
    random place, and with SQLite's default 2 MB most of those pages go out to the WAL and are read back.
    A fixed size, whatever the file's: an import's memory stays flat."""
    if incoming < BULK_LOAD_MIN_ROWS:
        yield
        return
    row = db.one("PRAGMA cache_size")
    before = int(row[0]) if row else -2000
    db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseUnavailable):  # the load's own error, if any, is the one to tell
            db.execute(f"PRAGMA cache_size = {before}")


@contextlib.contextmanager
def bulk_indexes(db: Database, table: str, indexes: Mapping[str, str], incoming: int, *,
                 unique_if_empty: Mapping[str, str] | None = None) -> Iterator[set[str]]:
    """Around a load of ``incoming`` rows into ``table`` (inside its transaction): ``indexes`` dropped and
    built after, unless the table holds more than twice as many; ``unique_if_empty`` too, only into an
    empty table (built first: a value loaded twice is a Conflict, and the other builds are not worth waiting for).
    Gives the names of the indexes that wait."""
    if incoming < BULK_LOAD_MIN_ROWS:
        yield set()
        return
    if unique_if_empty and db.one(f"SELECT 1 FROM {table} LIMIT 1") is None:
        deferred = {name: create_index(name, spec, unique=True) for name, spec in unique_if_empty.items()}
    else:
        row = db.one(f"SELECT count(*) FROM {table}")
        if (int(row[0]) if row else 0) > 2 * incoming:
            yield set()
            return
        deferred = {}
    deferred.update((name, create_index(name, spec)) for name, spec in indexes.items())
    for name in deferred:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    yield set(deferred)
    for sql in deferred.values():
        try:
            db.execute(sql)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"the {table} just loaded repeat a value that must be unique ({exc})",
                           hint="nothing of this load was kept; check the input for repeats and run it again") from None
