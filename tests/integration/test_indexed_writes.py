"""Version-checked writes on the embedded store find their sample through its key, not by a scan
(neosqlite turned two plain values into array-aware SQL that no index served: `update --where` over
10,000 samples took 38 s that way, 1 s with the index)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from samplectl.config import load_settings
from samplectl.stores.engines import open_embedded

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_replace_and_delete_if_version_use_the_sample_id_index() -> None:
    database = open_embedded(load_settings())
    store = database.samples
    store.ensure_indexes()
    record: dict[str, Any] = {"sample_id": "S-1", "sample_type": "blood", "subject_id": "A", "collection_date": T0,
                              "status": "collected", "storage_location": "L", "created_at": T0, "created_by": "t",
                              "updated_at": T0, "updated_by": "t", "version": 1}
    store.insert(record)
    sqlite = store.db.conn  # type: ignore[attr-defined]
    plans: list[str] = []

    def explain(statement: str) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")) and "samples" in statement:
            plans.extend(row[3] for row in sqlite.execute("EXPLAIN QUERY PLAN " + statement).fetchall())

    statements: list[str] = []
    sqlite.set_trace_callback(statements.append)
    try:
        assert store.replace_if_version("S-1", 1, dict(record, version=2))
        assert store.delete_if_version("S-1", 2)
    finally:
        sqlite.set_trace_callback(None)
    for statement in statements:
        explain(statement)
    assert plans and not any(plan.startswith("SCAN") for plan in plans), plans
    database.close()
