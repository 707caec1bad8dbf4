"""From the neosqlite layout (samplectl 0.1: one JSON document per row) to plain tables.

neosqlite kept each collection as ``(id, _id, data)`` rows, ``data`` the document as JSON, dates
as integer microseconds since the epoch. Those tables are read here with sqlite3 alone (neosqlite
is no longer needed), copied into the new tables in one transaction with the old ones dropped, so a
store is either migrated whole or left as it was. Every sample, batch, journal entry and audit record
is kept; the audit chain is checked before and after, and must verify after when it did before.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from samplectl.domain.audit import check_chain
from samplectl.domain.errors import DatabaseUnavailable
from samplectl.stores.sqlite.audit import AUDIT_INSERT, AUDIT_SELECT, decode_row, encode_row
from samplectl.stores.sqlite.connection import Database
from samplectl.stores.sqlite.samples import SAMPLE_COLUMNS, SAMPLE_INSERT, encode
from samplectl.stores.sqlite.schema import SCHEMA_VERSION, schema_statements

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLD_TABLES = ("samples", "audit", "import_batches", "import_journal")
_SAMPLE_DATES = tuple(c.name for c in SAMPLE_COLUMNS if c.date)


@dataclass
class Migrated:
    samples: int
    audit_records: int
    batches: int
    chain_ok: bool
    head_seq: int

    def notice(self, where: str) -> str:
        chain = (f"audit chain verified (head seq {self.head_seq})" if self.chain_ok
                 else "the audit chain did not verify before the migration either: run `samplectl audit verify`")
        return (f"migrated the embedded store at {where} from the neosqlite layout: {self.samples} samples, "
                f"{self.audit_records} audit records, {self.batches} import batches kept; {chain}")


def is_neosqlite(db: Database) -> bool:
    columns = [r[1] for r in db.rows("PRAGMA table_info(samples)")]
    return columns == ["id", "_id", "data"]


def _micros(value: Any) -> Any:
    return EPOCH + timedelta(microseconds=value) if type(value) is int else value


def _documents(db: Database, table: str) -> list[dict[str, Any]]:
    docs = []
    for (data,) in db.rows(f"SELECT data FROM old_{table} ORDER BY id"):
        doc = json.loads(data)
        if isinstance(doc.get("_id"), dict):  # neosqlite's own ObjectId (audit records carry their own id)
            del doc["_id"]
        docs.append(doc)
    return docs


def _old_audit(doc: dict[str, Any]) -> dict[str, Any]:
    """A neosqlite audit document as the old store read it back (``at`` as a datetime)."""
    record = dict(doc)
    if type(record.get("at")) is int:
        record["at"] = _micros(record["at"])
    return record


def migrate(db: Database) -> Migrated:
    """Convert in one transaction (the caller holds no other)."""
    with db.transaction():
        if not is_neosqlite(db):  # another process migrated it meanwhile
            return Migrated(0, 0, 0, True, 0)
        present = [t for t in OLD_TABLES
                   if db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (t,))]
        for table in present:
            db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
        old = {table: _documents(db, table) if table in present else [] for table in OLD_TABLES}
        for statement in schema_statements():
            db.execute(statement)

        samples = []
        for doc in old["samples"]:
            doc.pop("pending", None)  # only the MongoDB path leaves markers
            for name in _SAMPLE_DATES:
                doc[name] = _micros(doc.get(name))
            samples.append(encode(doc))
        db.executemany(SAMPLE_INSERT, samples)

        records = sorted((_old_audit(d) for d in old["audit"]), key=lambda r: (type(r.get("seq")) is not int, r.get("seq") or 0))
        before = check_chain(records)
        rows = []
        for record in records:
            at = record.get("at")
            at_ms = None
            if isinstance(at, datetime):
                delta = at - EPOCH
                at_ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
            rows.append(encode_row(record, at_ms))
        db.executemany(AUDIT_INSERT, rows)

        batches = []
        for doc in old["import_batches"]:  # dates stay integer microseconds, as the new table keeps them
            started = doc.get("started_at")
            batches.append((doc.get("batch_id"), doc.get("state"), doc.get("sha256"),
                            started if type(started) is int else None, json.dumps(doc, ensure_ascii=False)))
        db.executemany("INSERT INTO import_batches (batch_id, state, sha256, started_at, record) VALUES (?, ?, ?, ?, ?)",
                       batches)
        journal = []
        for doc in old["import_journal"]:
            kept = dict(doc.get("before") or {})
            for name in _SAMPLE_DATES:
                kept[name] = _micros(kept.get(name))
            journal.append((doc.get("batch_id"), doc.get("sample_id"), json.dumps(list(encode(kept)), ensure_ascii=False)))
        db.executemany("INSERT INTO import_journal (batch_id, sample_id, record) VALUES (?, ?, ?)", journal)

        after = check_chain(decode_row(r) for r in db.rows(AUDIT_SELECT + " ORDER BY seq"))
        if before.ok and not (after.ok and after.checked == before.checked and after.head_hash == before.head_hash):
            raise DatabaseUnavailable(
                f"migrating the embedded store at {db.where} would change its audit trail; nothing was changed",
                hint="please report this; the store still works with samplectl 0.1",
            )
        counts = {t: db.one(f"SELECT count(*) FROM {t}")[0] for t in ("samples", "audit", "import_batches")}  # type: ignore[index]
        if (counts["samples"], counts["audit"], counts["import_batches"]) != (
                len(old["samples"]), len(old["audit"]), len(old["import_batches"])):
            raise DatabaseUnavailable(f"migrating the embedded store at {db.where} lost records; nothing was changed")
        for table in present:
            db.execute(f"DROP TABLE old_{table}")
        db.execute("DROP TABLE IF EXISTS neosqlite_index_keys")
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('migrated_from', 'neosqlite')")
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,))
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return Migrated(counts["samples"], counts["audit"], counts["import_batches"], before.ok, after.head_seq)
