"""Import batches: one record per import that wrote samples, and a journal for undoing it.

A batch is ``running`` from just before its first write until it is ``complete``; a batch that
never got there (the process was killed, the server went away) is ``rolled_back`` by the next
import; ``import undo`` makes a complete batch ``undone``. On engines without transactions the
import first copies each sample it is about to overwrite (``--on-conflict update``) into the
journal, so an interrupted batch can be rolled back to exactly what was there before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from samplectl.domain.dates import as_utc
from samplectl.stores.samples import SampleStore

RUNNING, COMPLETE, ROLLED_BACK, UNDONE = "running", "complete", "rolled_back", "undone"
_DATES = ("started_at", "finished_at", "heartbeat_at", "undone_at")


class BatchStore:
    def __init__(self, store: SampleStore) -> None:
        self.store = store
        self.batches = store.db["import_batches"]
        self.journal = store.db["import_journal"]

    def ensure_indexes(self) -> list[str]:
        guard = self.store._guard
        guard(lambda: self.batches.create_index([("batch_id", 1)], unique=True, name="batch_id_unique"))
        guard(lambda: self.batches.create_index([("sha256", 1)], name="by_sha256"))
        guard(lambda: self.journal.create_index([("batch_id", 1)], name="journal_by_batch"))
        return ["batch_id_unique", "by_sha256", "journal_by_batch"]

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(fields)
        for name in _DATES:
            if isinstance(doc.get(name), datetime):
                doc[name] = self.store.dialect.encode_date(doc[name])
        return doc

    def _decode(self, doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        batch = {k: v for k, v in doc.items() if k != "_id"}
        for name in _DATES:
            if batch.get(name) is not None:
                batch[name] = as_utc(self.store.dialect.decode_date(batch[name]))
        return batch

    # -- batches ----------------------------------------------------------------------------
    def start(self, batch: Mapping[str, Any]) -> None:
        doc = self._encode({**batch, "state": RUNNING})
        self.store._guard(lambda: self.batches.insert_one(doc))

    def update(self, batch_id: str, **fields: Any) -> None:
        # Read, change, replace: the nx-27017 wire server stores dates given to $set as text.
        # Only the batch's own process, or the one rolling it back after it died, writes to it.
        doc = self.store._guard(lambda: self.batches.find_one({"batch_id": batch_id}))
        if doc is None:
            return
        doc.update(self._encode(fields))
        self.store._guard(lambda: self.batches.replace_one({"batch_id": batch_id}, doc))

    def get(self, batch_id: str) -> dict[str, Any] | None:
        return self._decode(self.store._guard(lambda: self.batches.find_one({"batch_id": batch_id})))

    def completed_with_sha256(self, sha256: str) -> dict[str, Any] | None:
        """The earlier batch that imported a file with this content, if any still stands.

        The first one that created samples: a later `--allow-repeat` run that only skipped rows is
        not the batch to undo.
        """
        docs = self.store._guard(lambda: list(self.batches.find({"sha256": sha256})))
        done = [b for b in (self._decode(d) for d in docs if d.get("state") == COMPLETE) if b is not None]
        created = [b for b in done if (b.get("counts") or {}).get("created")]
        return min(created or done, key=lambda b: b["started_at"]) if done else None

    def running(self) -> list[dict[str, Any]]:
        docs = self.store._guard(lambda: list(self.batches.find({"state": RUNNING})))
        return [b for b in (self._decode(d) for d in docs) if b is not None]

    def recent(self, limit: int) -> list[dict[str, Any]]:
        docs = self.store._guard(lambda: list(self.batches.find({}).sort([("started_at", -1)]).limit(limit)))
        return [b for b in (self._decode(d) for d in docs) if b is not None]

    # -- journal ----------------------------------------------------------------------------
    def keep_before(self, batch_id: str, records: list[dict[str, Any]]) -> None:
        """Copy samples about to be overwritten by this batch (each at its current version)."""
        docs = [{"batch_id": batch_id, "sample_id": r["sample_id"], "before": self.store._encode(r)} for r in records]
        if docs:
            self.store._guard(lambda: self.journal.insert_many(docs, ordered=True))

    def kept_before(self, batch_id: str) -> Iterator[dict[str, Any]]:
        docs = self.store._guard(lambda: list(self.journal.find({"batch_id": batch_id})))
        for doc in docs:
            yield self.store._decode(doc["before"])
