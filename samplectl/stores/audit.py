"""The audit trail: append-only records of every change, in the same database as the samples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from samplectl.stores.samples import SampleStore


class AuditLog:
    def __init__(self, store: SampleStore) -> None:
        self.store = store
        self.records = store.db["audit"]

    def ensure_indexes(self) -> list[str]:
        self.store._guard(lambda: self.records.create_index([("sample_id", 1), ("seq", 1)], name="by_sample"))
        self.store._guard(lambda: self.records.create_index([("at", 1)], name="by_time"))
        return ["by_sample", "by_time"]

    def append(self, entry: Mapping[str, Any]) -> None:
        doc = dict(entry)
        doc["at"] = self.store.dialect.encode_date(doc["at"])
        self.store._guard(lambda: self.records.insert_one(doc))

    def append_many(self, entries: list[Mapping[str, Any]]) -> None:
        """Append several records at once (imports write one per sample, in bulk)."""
        docs = []
        for entry in entries:
            doc = dict(entry)
            doc["at"] = self.store.dialect.encode_date(doc["at"])
            docs.append(doc)
        if docs:
            self.store._guard(lambda: self.records.insert_many(docs, ordered=True))

    def for_sample(self, sample_id: str) -> Iterator[dict[str, Any]]:
        cursor = self.store._guard(lambda: list(self.records.find({"sample_id": sample_id}).sort([("at", 1)])))
        for doc in cursor:
            entry = {k: v for k, v in doc.items() if k != "_id"}
            entry["at"] = self.store.dialect.decode_date(entry["at"])
            yield entry
