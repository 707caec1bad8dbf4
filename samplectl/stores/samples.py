"""The sample store: one implementation over any pymongo-shaped database.

It runs on pymongo's MongoClient (a real MongoDB, or any wire-protocol server), on mongomock
in tests, and on neosqlite for the embedded default. The differences between those engines are
confined to a small ``Dialect`` (see ``stores.engines``), so every backend runs this same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Protocol

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.dates import as_utc
from samplectl.domain.errors import Conflict

DATE_FIELDS = ("collection_date", "created_at", "updated_at")
PAGE_SIZE = 1000


class Dialect(Protocol):
    """What differs between MongoDB, mongomock and neosqlite."""

    name: str
    atomic: bool  # True when transaction() makes a batch of writes all-or-nothing

    def encode_date(self, value: datetime) -> Any: ...
    def decode_date(self, value: Any) -> datetime: ...
    def is_duplicate_key(self, exc: BaseException) -> bool: ...
    def translate(self, exc: BaseException) -> BaseException | None: ...
    def transaction(self, db: Any) -> AbstractContextManager[None]: ...
    def find_in(self, collection: Any, field_name: str, values: list[Any]) -> list[dict[str, Any]]: ...
    def delete_in(self, collection: Any, field_name: str, values: list[Any], where: Mapping[str, Any]) -> int: ...
    def find_sorted(
        self, collection: Any, query: Mapping[str, Any], order: list[tuple[str, int]], limit: int | None
    ) -> Iterator[dict[str, Any]] | None: ...
    def count(self, collection: Any, query: Mapping[str, Any]) -> int: ...
    def bulk_load(self, collection: Any, incoming: int, *, lookups: bool = True) -> AbstractContextManager[None]: ...


class SampleStore:
    """Samples, keyed by ``sample_id``, in the ``samples`` collection."""

    def __init__(self, db: Any, dialect: Dialect) -> None:
        self.db = db
        self.dialect = dialect
        self.samples = db["samples"]

    # -- schema ---------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        """Create the indexes every query relies on; safe to run again."""
        specs: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
            ([("sample_id", 1)], {"unique": True, "name": "sample_id_unique"}),
            # The default sort (newest first, then id) and the collection-date range.
            ([("collection_date", -1), ("sample_id", 1)], {"name": "by_collection_date"}),
            ([("subject_id", 1), ("collection_date", -1)], {"name": "by_subject"}),
            ([("status", 1), ("collection_date", -1)], {"name": "by_status"}),
            ([("sample_type", 1), ("collection_date", -1)], {"name": "by_type"}),
            ([("storage_location", 1)], {"name": "by_location"}),
            self._position_spec(),
        ]
        names = []
        for keys, options in specs:
            self._guard(lambda k=keys, o=options: self.samples.create_index(k, **o))
            names.append(options["name"])
        return names

    def _position_spec(self) -> tuple[list[tuple[str, int]], dict[str, Any]]:
        # Occupancy: two samples never hold one position (storage geometry). Only placed samples are
        # in it: MongoDB needs a partial index for that; SQLite's unique index lets NULLs repeat.
        options: dict[str, Any] = {"unique": True, "name": "position_unique"}
        if self.dialect.name != "embedded":
            options["partialFilterExpression"] = {"position": {"$type": "string"}}
        return [("position", 1)], options

    def ensure_position_index(self) -> list[str]:
        keys, options = self._position_spec()
        self._guard(lambda: self.samples.create_index(keys, **options))
        return [options["name"]]

    def occupant(self, position: str) -> str | None:
        """The id of the sample at ``position`` (BOX:SLOT), if any."""
        doc = self._guard(lambda: self.samples.find_one({"position": position}))
        return None if doc is None else str(doc["sample_id"])

    def clash(self, record: Mapping[str, Any], exc: BaseException) -> Conflict | None:
        """What a duplicate-key error on writing ``record`` means: its position is taken (PositionTaken),
        else None (its id is). Asked after the fact, so the index stays the only judge."""
        from samplectl.domain.storage import PositionTaken

        if not (self.dialect.is_duplicate_key(exc) or self.dialect.is_duplicate_key(exc.__cause__ or exc)):
            return None
        position = record.get("position")
        if not position:
            return None
        occupant = self.occupant(position)
        if occupant == record.get("sample_id"):
            return None
        return PositionTaken(position, occupant)

    def _taken_position(self, placed: list[Mapping[str, Any]], exc: BaseException) -> Conflict | None:
        """After a bulk insert hit a duplicate key: the first of ``placed`` whose position another sample holds."""
        from samplectl.domain.storage import PositionTaken

        if not placed or not (self.dialect.is_duplicate_key(exc) or self.dialect.is_duplicate_key(exc.__cause__ or exc)):
            return None
        wanted = {str(r["position"]): r["sample_id"] for r in placed}
        for doc in self._guard(lambda: self.dialect.find_in(self.samples, "position", list(wanted))):
            if doc.get("sample_id") != wanted.get(doc.get("position")):
                return PositionTaken(str(doc["position"]), str(doc["sample_id"]))
        return None

    def ensure_ready(self) -> None:
        """Before a write: make sure the unique indexes on sample_id and position exist.

        Without it duplicates could slip in on a store where nobody ran `samplectl init`; creating
        the indexes here keeps the zero-configuration promise and costs one index listing.
        """
        info = self._guard(lambda: self.samples.index_information())
        for spec in info.values():
            key = spec.get("key")
            fields = list(key) if isinstance(key, dict) else [k for k, _ in key or []]
            if spec.get("unique") and fields == ["position"]:
                return
        self.ensure_indexes()

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, record: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(record)
        for name in DATE_FIELDS:
            if isinstance(doc.get(name), datetime):
                doc[name] = self.dialect.encode_date(doc[name])
        return doc

    def _decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        record = dict(doc)
        record.pop("_id", None)
        decode = self.dialect.decode_date
        for name in DATE_FIELDS:
            value = record.get(name)
            if value is not None:
                record[name] = as_utc(decode(value))
        return record

    def _guarded(self, docs: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``_guard`` for each step of a stream of documents."""
        while True:
            try:
                doc = next(docs)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - every engine error is translated or re-raised
                translated = self.dialect.translate(exc)
                if translated is None:
                    raise
                raise translated from exc
            yield doc

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - every engine error is translated or re-raised
            translated = self.dialect.translate(exc)
            if translated is None:
                raise
            raise translated from exc

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any] | None:
        doc = self._guard(lambda: self.samples.find_one({"sample_id": sample_id}))
        return None if doc is None else self._decode(doc)

    def query(self, criteria: Criteria) -> dict[str, Any]:
        """The MongoDB query for criteria, as one flat document.

        Flat on purpose: neosqlite translates flat field conditions to indexed SQL but evaluates
        $or/$and in Python over every document. Repeated values become $in, several location
        prefixes one anchored alternation. Prefixes are regex-escaped: filter values are data.
        """
        query: dict[str, Any] = {}
        for name, values in (
            ("sample_type", criteria.sample_types),
            ("status", criteria.statuses),
            ("subject_id", criteria.subject_ids),
        ):
            if len(values) == 1:
                query[name] = values[0]
            elif values:
                query[name] = {"$in": list(values)}
        if criteria.location_prefixes:
            alternatives = "|".join(re.escape(p) for p in criteria.location_prefixes)
            query["storage_location"] = {"$regex": f"^(?:{alternatives})"}
        enc = self.dialect.encode_date
        when: dict[str, Any] = {}
        if criteria.collected_from is not None:
            when["$gte"] = enc(criteria.collected_from)
        if criteria.collected_before is not None:
            when["$lt"] = enc(criteria.collected_before)
        if criteria.collected_to is not None:
            when["$lte"] = enc(criteria.collected_to)
        if when:
            query["collection_date"] = when
        return query

    def count(self, criteria: Criteria) -> int:
        query = self.query(criteria)
        return int(self._guard(lambda: self.dialect.count(self.samples, query)))

    def find(self, criteria: Criteria, sort: Sort, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Stream matching samples in sort order, a page at a time.

        Pages continue from the last key seen (keyset paging), never with skip, so reading every
        sample costs the same per page at any collection size and no sample is read twice.
        """
        base = self.query(criteria)
        direction = -1 if sort.descending else 1
        order = [(sort.field, direction)] if sort.field == "sample_id" else [(sort.field, direction), ("sample_id", 1)]
        streamed = self._guard(lambda: self.dialect.find_sorted(self.samples, base, order, limit))
        if streamed is not None:  # the engine streams the whole selection in order itself
            yield from (self._decode(doc) for doc in self._guarded(streamed))
            return
        remaining = limit
        last: dict[str, Any] | None = None
        while remaining is None or remaining > 0:
            page_size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page: list[Any] = []
            for query in [base] if last is None else self._after(base, sort, last):
                wanted = page_size - len(page)
                if wanted:
                    page += self._guard(lambda q=query, n=wanted: list(self.samples.find(q).sort(order).limit(n)))
            for doc in page:
                yield self._decode(doc)
            if len(page) < page_size:
                return
            last = page[-1]
            if remaining is not None:
                remaining -= len(page)

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every matching sample in the order the store keeps them: the fastest way to read them all.

        One cursor (MongoDB hands it over in batches) or one SQL statement, never a page twice.
        """
        query = self.query(criteria)
        docs = self._guard(lambda: self.dialect.find_sorted(self.samples, query, [], None))
        if docs is None:
            docs = iter(self._guard(lambda: self.samples.find(query).batch_size(PAGE_SIZE)))
        for doc in self._guarded(docs):
            yield self._decode(doc)

    def _after(self, base: dict[str, Any], sort: Sort, last: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The queries, in order, for what follows ``last``: its ties on the sort field, then the rest.

        Two flat queries instead of one $or, for the reason given in ``query``. The last value came
        from a matching sample, so an equality on the sort field can replace base conditions on it.
        """
        past = "$lt" if sort.descending else "$gt"
        if sort.field == "sample_id":
            return [{**base, "sample_id": self._merge(base.get("sample_id"), {"$gt": last["sample_id"]})}]
        value = last[sort.field]
        ties = {**base, sort.field: value, "sample_id": self._merge(base.get("sample_id"), {"$gt": last["sample_id"]})}
        rest = {**base, sort.field: self._merge(base.get(sort.field), {past: value})}
        return [ties, rest]

    @staticmethod
    def _merge(condition: Any, extra: dict[str, Any]) -> dict[str, Any]:
        """Add operators to an existing condition on one field (plain values become $eq)."""
        if condition is None:
            return extra
        if isinstance(condition, dict):
            return {**condition, **extra}
        return {"$eq": condition, **extra}

    # -- writes -----------------------------------------------------------------------------
    def insert(self, record: Mapping[str, Any]) -> None:
        doc = self._encode(record)
        try:
            self._guard(lambda: self.samples.insert_one(doc))
        except Exception as exc:
            taken = self.clash(record, exc)
            if taken is not None:
                raise taken from None
            if self.dialect.is_duplicate_key(exc) or self.dialect.is_duplicate_key(exc.__cause__ or exc):
                raise Conflict(
                    f"sample {record['sample_id']!r} already exists",
                    hint="choose another --id, or leave it out to generate one",
                ) from None
            raise

    @staticmethod
    def _exact(sample_id: str, version: int) -> dict[str, Any]:
        # Explicit $eq: for replace_one/delete_one with two plain values neosqlite emits array-aware
        # SQL that bypasses the sample_id index (a full scan per update); $eq keeps it indexed.
        return {"sample_id": {"$eq": sample_id}, "version": {"$eq": version}}

    def replace_if_version(self, sample_id: str, version: int, record: Mapping[str, Any]) -> bool:
        """Write ``record`` only if the stored sample still has ``version``; False if it changed."""
        doc = self._encode(record)
        try:
            result = self._guard(
                lambda: self.samples.replace_one(self._exact(sample_id, version), doc)
            )
        except Exception as exc:
            taken = self.clash(record, exc)
            if taken is not None:
                raise taken from None
            if self.dialect.is_duplicate_key(exc) or self.dialect.is_duplicate_key(exc.__cause__ or exc):
                raise Conflict(f"sample {record['sample_id']!r} already exists", hint="choose another id") from None
            raise
        return bool(result.matched_count)

    def delete_if_version(self, sample_id: str, version: int) -> bool:
        result = self._guard(lambda: self.samples.delete_one(self._exact(sample_id, version)))
        return bool(result.deleted_count)

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        records_list = list(records)
        docs = [self._encode(r) for r in records_list]
        if not docs:
            return 0
        try:
            self._guard(lambda: self.samples.insert_many(docs, ordered=True))
        except Exception as exc:
            taken = self._taken_position([r for r in records_list if r.get("position")], exc)
            if taken is not None:
                raise taken from None
            if self.dialect.is_duplicate_key(exc) or self.dialect.is_duplicate_key(exc.__cause__ or exc):
                raise Conflict(
                    "a sample being written already exists (another process created it meanwhile?)",
                    hint="check with `samplectl get` and run again",
                ) from None
            raise
        return len(docs)

    # -- bulk work (imports) ----------------------------------------------------------------
    @property
    def atomic(self) -> bool:
        """True when ``transaction()`` makes everything inside it all-or-nothing (embedded)."""
        return bool(self.dialect.atomic)

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing where the engine has transactions; a plain block where it has not."""
        return self.dialect.transaction(self.db)

    @contextmanager
    def bulk_load(self, incoming: int, *, lookups: bool = True) -> Iterator[None]:
        """Around a load of ``incoming`` samples: lets the engine defer index upkeep (in a transaction).

        ``lookups`` says whether the loader still looks samples up by id meanwhile; if not, even
        the unique index may wait, and a duplicate surfaces at the end as a Conflict.
        """
        try:
            with self.dialect.bulk_load(self.samples, incoming, lookups=lookups):
                yield
        except Exception as exc:
            if self.dialect.is_duplicate_key(exc):
                raise Conflict(
                    "a sample being imported was created by someone else meanwhile; nothing was imported",
                    hint="run the import again (with --on-conflict skip to leave that sample alone)",
                ) from None
            raise

    def existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored samples among ``sample_ids``, by id (one query per few hundred ids)."""
        docs = self._guard(lambda: self.dialect.find_in(self.samples, "sample_id", list(sample_ids)))
        return {doc["sample_id"]: self._decode(doc) for doc in docs}

    def occupants(self, positions: list[str]) -> dict[str, str]:
        """Which sample holds each of ``positions`` (those held), by position."""
        docs = self._guard(lambda: self.dialect.find_in(self.samples, "position", list(positions)))
        return {str(doc["position"]): str(doc["sample_id"]) for doc in docs}

    def delete_unchanged(self, sample_ids: list[str]) -> int:
        """Delete those of ``sample_ids`` still at version 1 (nobody changed them since they were created)."""
        return int(self._guard(lambda: self.dialect.delete_in(self.samples, "sample_id", list(sample_ids), {"version": 1})))

    def find_by_batch(self, batch_id: str, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every sample an import batch created, in id order, a page at a time (keyset paging)."""
        last: str | None = None
        while True:
            query: dict[str, Any] = {"import_batch": batch_id}
            if last is not None:
                query["sample_id"] = {"$gt": last}
            page = self._guard(
                lambda q=query: list(self.samples.find(q).sort([("sample_id", 1)]).limit(page_size))
            )
            for doc in page:
                yield self._decode(doc)
            if len(page) < page_size:
                return
            last = page[-1]["sample_id"]
