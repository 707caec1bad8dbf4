"""Samples as MongoDB documents in the ``samples`` collection, keyed by ``sample_id``."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.errors import Conflict
from samplectl.domain.storage import PositionTaken
from samplectl.stores.mongo.engine import decode_date, encode_date, guard, is_duplicate_key
from samplectl.stores.samples import DATE_FIELDS

if TYPE_CHECKING:
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.changes import ChangeWriter

PAGE_SIZE = 1000


class MongoSampleStore:
    kind = "mongodb"

    def __init__(self, db: Any, where: str) -> None:
        self.db = db
        self.where = where
        self.samples = db["samples"]

    def guard(self, call: Any) -> Any:
        return guard(call, self.where)

    # -- schema ---------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        specs: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
            ([("sample_id", 1)], {"unique": True, "name": "sample_id_unique"}),
            # The default sort (newest first, then id) and the collection-date range.
            ([("collection_date", -1), ("sample_id", 1)], {"name": "by_collection_date"}),
            ([("subject_id", 1), ("collection_date", -1), ("sample_id", 1)], {"name": "by_subject"}),
            ([("status", 1), ("collection_date", -1), ("sample_id", 1)], {"name": "by_status"}),
            ([("sample_type", 1), ("collection_date", -1), ("sample_id", 1)], {"name": "by_type"}),
            ([("storage_location", 1)], {"name": "by_location"}),
            ([("import_batch", 1), ("sample_id", 1)], {"name": "by_import_batch"}),
            ([("pending.at", 1)], {"name": "by_pending_change"}),
            # Occupancy (storage geometry): two placed samples never share a position. Partial, so
            # that the samples without a position (null or missing) do not collide with each other.
            ([("position", 1)], {"unique": True, "name": "position_unique",
                                 "partialFilterExpression": {"position": {"$type": "string"}}}),
        ]
        existing = self.guard(lambda: self.samples.index_information())
        names = []
        for keys, options in specs:
            if options["name"] not in existing:  # an index of that name from an earlier release stays
                self.guard(lambda k=keys, o=options: self.samples.create_index(k, **o))
            names.append(options["name"])
        return names

    def ensure_ready(self) -> None:
        """Before a write: make sure the unique indexes on sample_id and position exist (one index listing)."""
        info = self.guard(lambda: self.samples.index_information())
        for spec in info.values():
            key = spec.get("key")
            fields = list(key) if isinstance(key, dict) else [k for k, _ in key or []]
            if spec.get("unique") and fields == ["position"]:  # made last, so the rest is there too
                return
        self.ensure_indexes()

    # -- encoding ---------------------------------------------------------------------------
    def encode(self, record: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(record)
        for name in DATE_FIELDS:
            if isinstance(doc.get(name), datetime):
                doc[name] = encode_date(doc[name])
        marker = doc.get("pending")
        if isinstance(marker, dict) and isinstance(marker.get("at"), datetime):
            doc["pending"] = {**marker, "at": encode_date(marker["at"])}
        return doc

    def decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        record = dict(doc)
        record.pop("_id", None)
        record.setdefault("position", None)  # not placed: position None, as the embedded engine says it
        for name in DATE_FIELDS:
            value = record.get(name)
            if value is not None:
                record[name] = decode_date(value)
        return record

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any] | None:
        doc = self.guard(lambda: self.samples.find_one({"sample_id": {"$eq": sample_id}}))
        return None if doc is None else self.decode(doc)

    def query(self, criteria: Criteria) -> dict[str, Any]:
        """The MongoDB query for criteria. Prefixes are regex-escaped: filter values are data."""
        query: dict[str, Any] = {}
        for name, values in (
            ("sample_type", criteria.sample_types),
            ("status", criteria.statuses),
            ("subject_id", criteria.subject_ids),
        ):
            if len(values) == 1:
                query[name] = {"$eq": values[0]}
            elif values:
                query[name] = {"$in": list(values)}
        if criteria.location_prefixes:
            alternatives = "|".join(re.escape(p) for p in criteria.location_prefixes)
            query["storage_location"] = {"$regex": f"^(?:{alternatives})"}
        when: dict[str, Any] = {}
        if criteria.collected_from is not None:
            when["$gte"] = encode_date(criteria.collected_from)
        if criteria.collected_before is not None:
            when["$lt"] = encode_date(criteria.collected_before)
        if criteria.collected_to is not None:
            when["$lte"] = encode_date(criteria.collected_to)
        if when:
            query["collection_date"] = when
        return query

    def count(self, criteria: Criteria) -> int:
        query = self.query(criteria)
        return int(self.guard(lambda: self.samples.count_documents(query)))

    def values(self, field: str, prefix: str, limit: int) -> list[str]:
        from samplectl.stores.mongo.values import distinct_values

        return self.guard(lambda: distinct_values(self.samples, field, prefix, limit))  # type: ignore[no-any-return]

    def find(self, criteria: Criteria, sort: Sort, limit: int | None = None,
             after: str | None = None) -> Iterator[dict[str, Any]]:
        """Stream matching samples in sort order, a page at a time.

        Pages continue from the last key seen (keyset paging), never with skip, so reading every
        sample costs the same per page at any collection size and no sample is read twice.
        """
        base = self.query(criteria)
        direction = -1 if sort.descending else 1
        order = [(sort.field, direction)] if sort.field == "sample_id" else [(sort.field, direction), ("sample_id", 1)]
        remaining = limit
        last: dict[str, Any] | None = None
        if after is not None:
            last = self.guard(lambda: self.samples.find_one({"sample_id": {"$eq": after}}))
            if last is None:
                return
        while remaining is None or remaining > 0:
            page_size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page: list[Any] = []
            for query in [base] if last is None else self._after(base, sort, last):
                wanted = page_size - len(page)
                if wanted:
                    page += self.guard(lambda q=query, n=wanted: list(self.samples.find(q).sort(order).limit(n)))
            for doc in page:
                yield self.decode(doc)
            if len(page) < page_size:
                return
            last = page[-1]
            if remaining is not None:
                remaining -= len(page)

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        query = self.query(criteria)
        for doc in self.guard(lambda: self.samples.find(query).batch_size(PAGE_SIZE)):
            yield self.decode(doc)

    def cells(self, criteria: Criteria, sort: Sort | None, fields: Sequence[str]) -> Iterator[list[Any]]:
        from samplectl.domain.csvcells import sample_cells

        return map(sample_cells(fields), self.stream(criteria) if sort is None else self.find(criteria, sort))

    def _after(self, base: dict[str, Any], sort: Sort, last: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The queries, in order, for what follows ``last``: its ties on the sort field, then the rest."""
        past = "$lt" if sort.descending else "$gt"
        if sort.field == "sample_id":
            return [{**base, "sample_id": self._merge(base.get("sample_id"), {past: last["sample_id"]})}]
        value = last.get(sort.field)  # an optional field (position) may be absent: null, which sorts first
        ties = {**base, sort.field: self._merge(base.get(sort.field), {"$eq": value}),
                "sample_id": self._merge(base.get("sample_id"), {"$gt": last["sample_id"]})}
        if value is None:
            # Nothing sorts below null; above it is every record that has a value.
            return [ties] if sort.descending else [ties, {**base, sort.field: self._merge(base.get(sort.field), {"$ne": None})}]
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

    def existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(sample_ids), PAGE_SIZE):
            part = list(sample_ids[start:start + PAGE_SIZE])
            for doc in self.guard(lambda p=part: list(self.samples.find({"sample_id": {"$in": p}}))):
                found[doc["sample_id"]] = self.decode(doc)
        return found

    def find_by_batch(self, batch_id: str, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        last: str | None = None
        while True:
            query: dict[str, Any] = {"import_batch": {"$eq": batch_id}}
            if last is not None:
                query["sample_id"] = {"$gt": last}
            page = self.guard(lambda q=query: list(self.samples.find(q).sort([("sample_id", 1)]).limit(page_size)))
            for doc in page:
                yield self.decode(doc)
            if len(page) < page_size:
                return
            last = page[-1]["sample_id"]

    def occupants(self, positions: list[str]) -> dict[str, str]:
        """Which sample holds each of ``positions`` (those held), by position."""
        found: dict[str, str] = {}
        for start in range(0, len(positions), PAGE_SIZE):
            part = list(positions[start:start + PAGE_SIZE])
            docs = self.guard(lambda p=part: list(self.samples.find({"position": {"$in": p}},
                                                                    {"position": 1, "sample_id": 1})))
            found.update((str(d["position"]), str(d["sample_id"])) for d in docs)
        return found

    def clash(self, record: Mapping[str, Any], exc: BaseException) -> PositionTaken | None:
        """What a duplicate-key error on writing ``record`` means, when its position is taken by another
        sample (else None: its id is). Asked after the fact, so the index stays the only judge."""
        position = record.get("position")
        if not position or not is_duplicate_key(exc):
            return None
        occupant = self.occupants([str(position)]).get(str(position))
        if occupant == record.get("sample_id"):
            return None
        return PositionTaken(str(position), occupant)

    # -- writes -----------------------------------------------------------------------------
    def insert(self, record: Mapping[str, Any]) -> None:
        doc = self.encode(record)
        try:
            self.guard(lambda: self.samples.insert_one(doc))
        except Exception as exc:
            if (taken := self.clash(record, exc)) is not None:
                raise taken from None
            if is_duplicate_key(exc):
                raise Conflict(
                    f"sample {record['sample_id']!r} already exists",
                    hint="choose another --id, or leave it out to generate one",
                ) from None
            raise

    @staticmethod
    def exact(sample_id: str, version: int) -> dict[str, Any]:
        return {"sample_id": {"$eq": sample_id}, "version": {"$eq": version}}

    def replace_if_version(self, sample_id: str, version: int, record: Mapping[str, Any]) -> bool:
        doc = self.encode(record)
        try:
            result = self.guard(lambda: self.samples.replace_one(self.exact(sample_id, version), doc))
        except Exception as exc:
            if (taken := self.clash(record, exc)) is not None:
                raise taken from None
            if is_duplicate_key(exc):
                raise Conflict(f"sample {record['sample_id']!r} already exists", hint="choose another id") from None
            raise
        return bool(result.matched_count)

    def delete_if_version(self, sample_id: str, version: int) -> bool:
        result = self.guard(lambda: self.samples.delete_one(self.exact(sample_id, version)))
        return bool(result.deleted_count)

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        records_list = list(records)
        docs = [self.encode(r) for r in records_list]
        if not docs:
            return 0
        try:
            self.guard(lambda: self.samples.insert_many(docs, ordered=True))
        except Exception as exc:
            placed = {str(r["position"]): r.get("sample_id") for r in records_list if r.get("position")}
            if placed and is_duplicate_key(exc):
                for position, occupant in self.occupants(list(placed)).items():
                    if occupant != placed[position]:
                        raise PositionTaken(position, occupant) from None
            if is_duplicate_key(exc):
                raise Conflict(
                    "a sample being written already exists (another process created it meanwhile?)",
                    hint="check with `samplectl get` and run again",
                ) from None
            raise
        return len(docs)

    def finish_pending(self, marker_id: str) -> None:
        self.guard(lambda: self.samples.update_many({"pending._id": marker_id}, {"$unset": {"pending": ""}}))

    def delete_unchanged(self, sample_ids: list[str]) -> int:
        deleted = 0
        for start in range(0, len(sample_ids), PAGE_SIZE):
            part = list(sample_ids[start:start + PAGE_SIZE])
            result = self.guard(lambda p=part: self.samples.delete_many({"sample_id": {"$in": p}, "version": 1}))
            deleted += int(result.deleted_count)
        return deleted

    # -- bulk work and consistency ----------------------------------------------------------
    def check_integrity(self) -> None:
        return None  # the server keeps its own files (its validate command needs more than samplectl's role)

    @property
    def atomic(self) -> bool:
        # A standalone MongoDB has no multi-document transactions: imports keep a journal
        # instead and roll an interrupted batch back on the next run.
        return False

    def transaction(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def bulk_load(self, incoming: int, *, lookups: bool = True) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def import_creator(self, audit: AuditLog, entry: Mapping[str, Any], record: Mapping[str, Any],
                       changes: Callable[[Mapping[str, Any]], dict[str, Any]]) -> None:
        return None  # new samples are marked pending until their audit records are in (services.batchwriter)

    def change_writer(self, audit: AuditLog) -> ChangeWriter:
        from samplectl.stores.mongo.audit import MongoAuditLog
        from samplectl.stores.mongo.changes import IntentWriter

        assert isinstance(audit, MongoAuditLog)
        return IntentWriter(self, audit)
