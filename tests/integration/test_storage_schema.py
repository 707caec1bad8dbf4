"""An embedded store made before storage geometry (schema 1) gains positions and containers when opened."""

from __future__ import annotations

import sqlite3

from samplectl.config import load_settings
from samplectl.stores.engines import open_embedded


def test_a_schema_1_store_is_upgraded_in_place_keeping_its_samples() -> None:
    path = load_settings().samples_path
    open_embedded(load_settings()).close()
    with sqlite3.connect(path) as conn:  # take it back to schema 1, as the store's release wrote it
        conn.execute("DROP INDEX samples_by_position")
        conn.execute("ALTER TABLE samples DROP COLUMN position")
        conn.execute("DROP TABLE containers")
        conn.execute("INSERT INTO samples (sample_id, sample_type, subject_id, collection_date, status, "
                     "storage_location, created_at, created_by, updated_at, updated_by, version) "
                     "VALUES ('OLD', 'blood', 'S', 0, 'collected', 'shelf', 0, 'a', 0, 'a', 1)")
        conn.execute("PRAGMA user_version = 1")
    database = open_embedded(load_settings())
    try:
        assert database.notices == [f"upgraded the embedded sample store at {path} from schema 1 to 3"]
        assert database.samples.get("OLD")["storage_location"] == "shelf"
        assert database.samples.get("OLD")["position"] is None
        assert database.containers is not None and database.containers.within(None) == []
    finally:
        database.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'samples_by_position'").fetchone()
