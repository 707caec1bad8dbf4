"""Import batches as rows of ``import_batches`` (the record as JSON, dates as microseconds)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from samplectl.stores.batches import BATCH_DATES, COMPLETE, RUNNING, first_creator
from samplectl.stores.sqlite.connection import Database
from samplectl.stores.sqlite.samples import SAMPLE_COLUMNS, SqliteSampleStore, decode, decode_date, encode, encode_date

_SAMPLE_DATES = tuple(c.name for c in SAMPLE_COLUMNS if c.date)


def _encode(batch: Mapping[str, Any]) -> str:
    doc = dict(batch)
    for name in BATCH_DATES:
        if isinstance(doc.get(name), datetime):
            doc[name] = encode_date(doc[name])
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _decode(text: str) -> dict[str, Any]:
    batch = json.loads(text)
    for name in BATCH_DATES:
        if isinstance(batch.get(name), int):
            batch[name] = decode_date(batch[name])
    return batch  # type: ignore[no-any-return]


class SqliteBatchStore:
    def __init__(self, store: SqliteSampleStore) -> None:
        self.store = store
        self.db: Database = store.db

    def ensure_indexes(self) -> list[str]:
        return ["batches_by_sha256", "journal_by_batch"]

    def _write(self, batch: Mapping[str, Any], *, new: bool) -> None:
        started = batch.get("started_at")
        row = (batch.get("state"), batch.get("sha256"),
               encode_date(started) if isinstance(started, datetime) else None, _encode(batch), batch["batch_id"])
        if new:
            self.db.execute("INSERT INTO import_batches (state, sha256, started_at, record, batch_id) "
                            "VALUES (?, ?, ?, ?, ?)", row)
        else:
            self.db.execute("UPDATE import_batches SET state = ?, sha256 = ?, started_at = ?, record = ? "
                            "WHERE batch_id = ?", row)

    def start(self, batch: Mapping[str, Any]) -> None:
        self._write({**batch, "state": RUNNING}, new=True)

    def update(self, batch_id: str, **fields: Any) -> None:
        with self.db.transaction():
            batch = self.get(batch_id)
            if batch is None:
                return
            batch.update(fields)
            self._write(batch, new=False)

    def forget(self, batch_id: str) -> None:
        self.db.execute("DELETE FROM import_batches WHERE batch_id = ?", (batch_id,))

    def get(self, batch_id: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT record FROM import_batches WHERE batch_id = ?", (batch_id,))
        return None if row is None else _decode(row[0])

    def completed_with_sha256(self, sha256: str) -> dict[str, Any] | None:
        rows = self.db.rows("SELECT record FROM import_batches WHERE sha256 = ? AND state = ?", (sha256, COMPLETE))
        return first_creator([_decode(r[0]) for r in rows])

    def running(self) -> list[dict[str, Any]]:
        return [_decode(r[0]) for r in self.db.rows("SELECT record FROM import_batches WHERE state = ?", (RUNNING,))]

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return [_decode(r[0]) for r in self.db.rows(
            "SELECT record FROM import_batches ORDER BY started_at DESC LIMIT ?", (limit,))]

    def keep_before(self, batch_id: str, records: list[dict[str, Any]]) -> None:
        rows = [(batch_id, r["sample_id"], json.dumps(list(encode(r)), ensure_ascii=False)) for r in records]
        if rows:
            self.db.executemany("INSERT INTO import_journal (batch_id, sample_id, record) VALUES (?, ?, ?)", rows)

    def kept_before(self, batch_id: str) -> Iterator[dict[str, Any]]:
        for (text,) in list(self.db.rows("SELECT record FROM import_journal WHERE batch_id = ?", (batch_id,))):
            yield decode(tuple(json.loads(text)))
