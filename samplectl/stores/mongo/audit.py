"""The audit trail as documents in the ``audit`` collection.

Appending is safe with any number of samplectl processes at once. ``seq`` has a unique index: a
writer reads the head of the chain, links its records after it and inserts them; when another
writer took that seq first, the insert fails on the index and the writer re-reads the head and
links again. samplectl never updates or deletes a record here.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from samplectl.domain.audit import GENESIS, to_millisecond
from samplectl.domain.errors import Conflict
from samplectl.stores.audit import ChainedLog, Stamp, link
from samplectl.stores.mongo.engine import decode_date, encode_date, is_duplicate_key
from samplectl.stores.mongo.samples import MongoSampleStore

if TYPE_CHECKING:
    from samplectl.domain.audit_query import AuditQuery

# Chain races are rare and short; past this many lost races something else is wrong.
MAX_ATTEMPTS = 200
PAGE_SIZE = 1000


class MongoAuditLog(ChainedLog):
    def __init__(self, store: MongoSampleStore) -> None:
        self.store = store
        self.records = store.db["audit"]
        self._indexed = False
        self.fields: dict[str, Any] = {}
        # Whether this process wrote (or tried to write) a record: every change of a sample writes one.
        # Read on closing, to tell the completion cache (stores.engines.mark_if_written).
        self.appended = False

    # -- schema ---------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        specs: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
            # The unique seq is what makes concurrent appends safe: never drop it.
            ([("seq", 1)], {"unique": True, "name": "seq_unique"}),
            ([("sample_id", 1)], {"name": "by_sample"}),
            ([("renamed_from", 1)], {"name": "by_renamed_from"}),
            ([("at", 1)], {"name": "by_time"}),
            ([("user", 1)], {"name": "by_user"}),
            ([("action", 1)], {"name": "by_action"}),
        ]
        for keys, options in specs:
            self.store.guard(lambda k=keys, o=options: self.records.create_index(k, **o))
        self._indexed = True
        return [options["name"] for _, options in specs]

    def ready(self) -> None:
        """Before appending: make sure the unique index on seq exists (one index listing per process)."""
        if self._indexed:
            return
        info = self.store.guard(lambda: self.records.index_information())
        for spec in info.values():
            key = spec.get("key")
            fields = list(key) if isinstance(key, dict) else [k for k, _ in key or []]
            if spec.get("unique") and fields == ["seq"]:
                self._indexed = True
                return
        self.ensure_indexes()

    def bulk_load(self, incoming: int) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    # -- encoding -------------------------------------------------------------------------
    def decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        record = dict(doc)
        if isinstance(record.get("at"), datetime):
            record["at"] = decode_date(record["at"])
        # Anything else is not samplectl's writing: left as found, so verify reports it as changed.
        return record

    # -- appending (``ChainedLog.append_many`` makes the contents) ---------------------------
    def encode_at(self, value: datetime) -> Any:
        return encode_date(value)

    def write_linked(self, contents: list[dict[str, Any]], stamp: Stamp, checked: list[bool]) -> None:
        self.ready()
        self.appended = True
        remaining = contents
        for attempt in range(MAX_ATTEMPTS):
            docs = [dict(content, hash=hashed, at=stamp.stored[content["at"]])
                    for content, hashed, _plain in link(remaining, self.head(), checked if remaining is contents else None)]
            try:
                self.store.guard(lambda d=docs: self.records.insert_many(d, ordered=True))
                return
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
            # Another writer took one of our seqs. What got in before the clash stays (it is a valid
            # continuation of the chain); the rest is linked again after the new head.
            landed = self.existing_ids([c["_id"] for c in remaining])
            remaining = [c for c in remaining if c["_id"] not in landed]
            if not remaining:
                return
            time.sleep(random.uniform(0, 0.002) * min(attempt + 1, 10))
        raise Conflict("the audit trail is too busy to append to", hint="try again in a moment")

    def head(self) -> tuple[int, str]:
        docs = self.store.guard(lambda: list(self.records.find({}, {"seq": 1, "hash": 1}).sort([("seq", -1)]).limit(1)))
        if not docs:
            return 0, GENESIS
        return int(docs[0]["seq"]), str(docs[0]["hash"])

    def hash_at(self, seq: int) -> str | None:
        doc = self.store.guard(lambda: self.records.find_one({"seq": seq}, {"hash": 1}))
        return None if doc is None or doc.get("hash") is None else str(doc["hash"])

    # -- reading --------------------------------------------------------------------------
    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), PAGE_SIZE):
            chunk = wanted[start:start + PAGE_SIZE]
            docs = self.store.guard(lambda c=chunk: list(self.records.find({"_id": {"$in": c}}, {"_id": 1})))
            found.update(str(d["_id"]) for d in docs)
        return found

    def records_naming(self, sample_id: str, before_seq: int | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"sample_id": {"$eq": sample_id}}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        return [self.decode(doc) for doc in self._find(query) + self._find({"renamed_from": {"$eq": sample_id}})]

    def _find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return self.store.guard(lambda: list(self.records.find(query).sort([("seq", 1)])))

    def query(self, wanted: AuditQuery) -> Iterator[dict[str, Any]]:
        base: dict[str, Any] = {name: {"$in": list(values)} for name, values in wanted.matches()}
        span = wanted.span
        when: dict[str, Any] = {}
        for op, bound in (("$gte", span.since), ("$lt", span.before), ("$lte", span.until)):
            if bound is not None:
                when[op] = encode_date(to_millisecond(bound))
        if when:
            base["at"] = when
        if (limit := wanted.limit) is not None:
            docs = self.store.guard(lambda: list(self.records.find(base).sort([("seq", -1)]).limit(limit)))
            for doc in reversed(docs):
                yield self.decode(doc)
            return
        yield from self._walk(base)

    def walk(self) -> Iterator[dict[str, Any]]:
        return self._walk({})

    def _walk(self, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every (matching) record in seq order, a page at a time (keyset paging on seq)."""
        last = 0
        while True:
            query = {**base, "seq": {"$gt": last}}
            page = self.store.guard(lambda q=query: list(self.records.find(q).sort([("seq", 1)]).limit(PAGE_SIZE)))
            for doc in page:
                yield self.decode(doc)
            if len(page) < PAGE_SIZE:
                return
            last = page[-1]["seq"]
            if not isinstance(last, int):
                return

    def count(self) -> int:
        return int(self.store.guard(lambda: self.records.count_documents({})))

    def ever_named(self, sample_id: str) -> bool:
        return any(
            self.store.guard(lambda q=query: self.records.find_one(q)) is not None
            for query in ({"sample_id": {"$eq": sample_id}}, {"renamed_from": {"$eq": sample_id}})
        )
