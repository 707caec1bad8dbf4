"""Reach into a sample store's own tables behind samplectl's back (tamper tests), on either engine."""

from __future__ import annotations

from typing import Any

from samplectl.stores.engines import SampleDatabase


def embedded(database: SampleDatabase) -> bool:
    return database.samples.kind == "embedded"


def _sqlite(database: SampleDatabase) -> Any:
    return database.samples.db.conn  # type: ignore[attr-defined]


def _mongo(database: SampleDatabase) -> Any:
    return database.samples.db  # type: ignore[attr-defined]


def audit_classes() -> list[type]:
    """Every engine's audit log class (to patch a method on all of them)."""
    from samplectl.stores.mongo.audit import MongoAuditLog
    from samplectl.stores.sqlite.audit import SqliteAuditLog

    return [SqliteAuditLog, MongoAuditLog]


def raw_audit(database: SampleDatabase, seq: int) -> dict[str, Any]:
    """The stored record ``seq`` as the engine reads it back."""
    return next(r for r in database.audit.walk() if r["seq"] == seq)


def set_audit(database: SampleDatabase, seq: int, **values: Any) -> None:
    """Change fields of one stored record without re-hashing it (dotted names reach into ``changes``)."""
    if not embedded(database):
        _mongo(database)["audit"].update_one({"seq": seq}, {"$set": {k.replace("__", "."): v for k, v in values.items()}})
        return
    from samplectl.stores.sqlite.audit import encode_at, encode_row

    record = raw_audit(database, seq)
    for dotted, value in values.items():
        *path, last = dotted.split("__")
        target = record
        for key in path:
            target = target[key]
        target[last] = value
    at = record["at"]
    row = encode_row(record, encode_at(at))
    conn = _sqlite(database)
    conn.execute("DELETE FROM audit WHERE seq = ?", (seq,))
    conn.execute(f"INSERT INTO audit VALUES ({', '.join('?' * len(row))})", row)


def delete_audit(database: SampleDatabase, seq: int) -> None:
    if embedded(database):
        _sqlite(database).execute("DELETE FROM audit WHERE seq = ?", (seq,))
    else:
        _mongo(database)["audit"].delete_one({"seq": seq})


def renumber_audit(database: SampleDatabase, seq: int, new_seq: int) -> None:
    if embedded(database):
        _sqlite(database).execute("UPDATE audit SET seq = ? WHERE seq = ?", (new_seq, seq))
    else:
        _mongo(database)["audit"].update_one({"seq": seq}, {"$set": {"seq": new_seq}})


def insert_raw_audit_copy(database: SampleDatabase, seq: int) -> None:
    """Insert a copy of record ``seq`` under another id: the store must refuse it (unique seq)."""
    if embedded(database):
        conn = _sqlite(database)
        conn.execute("INSERT INTO audit SELECT * FROM audit WHERE seq = ?", (seq,))
    else:
        doc = dict(_mongo(database)["audit"].find_one({"seq": seq}))
        doc["_id"] = "another"
        _mongo(database)["audit"].insert_one(doc)
