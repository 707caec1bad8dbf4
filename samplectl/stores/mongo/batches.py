"""Import batches and their journal as documents (``import_batches``, ``import_journal``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from samplectl.stores.batches import BATCH_DATES, COMPLETE, RUNNING, first_creator
from samplectl.stores.mongo.engine import decode_date, encode_date
from samplectl.stores.mongo.samples import MongoSampleStore


class MongoBatchStore:
    def __init__(self, store: MongoSampleStore) -> None:
        self.store = store
        self.batches = store.db["import_batches"]
        self.journal = store.db["import_journal"]

    def ensure_indexes(self) -> list[str]:
        guard = self.store.guard
        guard(lambda: self.batches.create_index([("batch_id", 1)], unique=True, name="batch_id_unique"))
        guard(lambda: self.batches.create_index([("sha256", 1)], name="by_sha256"))
        guard(lambda: self.journal.create_index([("batch_id", 1)], name="journal_by_batch"))
        return ["batch_id_unique", "by_sha256", "journal_by_batch"]

    @staticmethod
    def _encode(fields: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(fields)
        for name in BATCH_DATES:
            if isinstance(doc.get(name), datetime):
                doc[name] = encode_date(doc[name])
        return doc

    @staticmethod
    def _decode(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        batch = {k: v for k, v in doc.items() if k != "_id"}
        for name in BATCH_DATES:
            if batch.get(name) is not None:
                batch[name] = decode_date(batch[name])
        return batch

    def start(self, batch: Mapping[str, Any]) -> None:
        doc = self._encode({**batch, "state": RUNNING})
        self.store.guard(lambda: self.batches.insert_one(doc))

    def update(self, batch_id: str, **fields: Any) -> None:
        # Read, change, replace: the nx-27017 wire server stores dates given to $set as text.
        # Only the batch's own process, or the one rolling it back after it died, writes to it.
        doc = self.store.guard(lambda: self.batches.find_one({"batch_id": {"$eq": batch_id}}))
        if doc is None:
            return
        doc.update(self._encode(fields))
        self.store.guard(lambda: self.batches.replace_one({"batch_id": {"$eq": batch_id}}, doc))

    def forget(self, batch_id: str) -> None:
        self.store.guard(lambda: self.batches.delete_one({"batch_id": {"$eq": batch_id}}))

    def get(self, batch_id: str) -> dict[str, Any] | None:
        return self._decode(self.store.guard(lambda: self.batches.find_one({"batch_id": {"$eq": batch_id}})))

    def completed_with_sha256(self, sha256: str) -> dict[str, Any] | None:
        docs = self.store.guard(lambda: list(self.batches.find({"sha256": {"$eq": sha256}})))
        return first_creator([b for b in (self._decode(d) for d in docs if d.get("state") == COMPLETE) if b is not None])

    def running(self) -> list[dict[str, Any]]:
        docs = self.store.guard(lambda: list(self.batches.find({"state": RUNNING})))
        return [b for b in (self._decode(d) for d in docs) if b is not None]

    def recent(self, limit: int) -> list[dict[str, Any]]:
        docs = self.store.guard(lambda: list(self.batches.find({}).sort([("started_at", -1)]).limit(limit)))
        return [b for b in (self._decode(d) for d in docs) if b is not None]

    def keep_before(self, batch_id: str, records: list[dict[str, Any]]) -> None:
        docs = [{"batch_id": batch_id, "sample_id": r["sample_id"], "before": self.store.encode(r)} for r in records]
        if docs:
            self.store.guard(lambda: self.journal.insert_many(docs, ordered=True))

    def kept_before(self, batch_id: str) -> Iterator[dict[str, Any]]:
        docs = self.store.guard(lambda: list(self.journal.find({"batch_id": {"$eq": batch_id}})))
        for doc in docs:
            yield self.store.decode(doc["before"])
