"""A store of schema 2 (the sample id unique by its column) is upgraded to schema 3 (a named unique index).

The fixture was written by that release's own commands: tests/fixtures/make_v2_store.sh.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import CliRun

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "v2-store"


@pytest.fixture
def v2_store(isolated_env: Path) -> Path:
    data = isolated_env / "data"
    data.mkdir()
    shutil.copy(FIXTURE / "samples.db", data / "samples.db")
    return data / "samples.db"


def layout(path: Path) -> tuple[int, dict[str, str | None], list[tuple[int, str]]]:
    """user_version, the samples table's indexes (name: SQL, None for SQLite's own) and (rowid, id) pairs."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'samples'"))
        rows = conn.execute("SELECT rowid, sample_id FROM samples ORDER BY rowid").fetchall()
    return version, indexes, rows


def test_init_upgrades_a_schema_2_store_keeping_every_sample_batch_and_audit_record(cli: CliRun, v2_store: Path) -> None:
    version, before, rowids = layout(v2_store)
    assert version == 2 and "sqlite_autoindex_samples_1" in before and "samples_by_id" not in before
    out = cli("init")
    assert out.exit_code == 0, out.stderr
    assert f"upgraded the embedded sample store at {v2_store} from schema 2 to 3" in out.stderr
    version, after, kept = layout(v2_store)
    assert version == 3
    assert after.pop("samples_by_id") == "CREATE UNIQUE INDEX samples_by_id ON samples(sample_id)"
    before.pop("sqlite_autoindex_samples_1")
    assert after == before  # every other index as it was, the partial position index included
    assert kept == rowids  # every sample, at its rowid
    with sqlite3.connect(v2_store) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'samples'").fetchone()[0]
        assert "UNIQUE" not in sql and "samples_v3" not in sql
        assert conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 2
    assert cli("list", "--all", "-o", "json").json() == json.loads((FIXTURE / "samples.json").read_text())
    assert cli("audit", "-o", "json").json() == json.loads((FIXTURE / "audit.json").read_text())
    verify = cli("audit", "verify", "-o", "json").json()
    assert verify["ok"] is True and verify["records"] == 19
    # Ids and positions are still unique; date-shaped ids are still found exactly.
    duplicate = cli("create", "--id", "2025-03-14", "--type", "blood", "--subject", "S", "--collected", "2025-01-01",
                    "--location", "L", "-o", "json")
    assert duplicate.exit_code == 7 and "already exists" in duplicate.stderr
    taken = cli("create", "--id", "NEW-1", "--type", "blood", "--subject", "S", "--collected", "2025-01-01",
                "--position", "FRZ-9/R1/B1:A1", "-o", "json")
    assert taken.exit_code == 7 and "taken by sample 2025-03-14-001" in taken.stderr
    assert [e["sample_id"] for e in cli("history", "2025-03-14", "-o", "json").json()] == ["2025-03-14"]
    # The import batch can still be undone (it kept what was changed since).
    batch = next(r["import_batch"] for r in cli("audit", "-o", "json").json() if r["sample_id"] == "2025/03/14-B")
    undo = cli("import", "undo", batch, "--yes", "-o", "json")
    assert undo.exit_code == 0, undo.stderr
    assert json.loads(undo.stdout)["kept"] == ["IMP-1b", "IMP-2"]
    assert cli("audit", "verify", "-o", "json").json()["ok"] is True
    again = cli("init")
    assert again.exit_code == 0 and "upgraded" not in again.stderr


def test_any_command_upgrades_it_and_a_failed_upgrade_leaves_schema_2_as_it_was(
        cli: CliRun, v2_store: Path, monkeypatch) -> None:
    import samplectl.stores.sqlite.schema as schema

    before = layout(v2_store)
    with monkeypatch.context() as patched:  # a failure after the table was rebuilt, before the indexes
        patched.setitem(schema.MIGRATIONS, 2, [*schema.MIGRATIONS[2][:4], "CREATE INDEX broken ON nowhere(x)"])
        failed = cli("get", "IMP-2", "-o", "json")
    assert failed.exit_code == 8 and "Traceback" not in failed.stderr
    assert layout(v2_store) == before
    got = cli("get", "IMP-2", "-o", "json")
    assert got.exit_code == 0, got.stderr
    assert got.json()["sample_id"] == "IMP-2"
    assert layout(v2_store)[0] == 3
    # Said before the wait (a large store takes seconds), by the command that does it, and only once.
    assert f"upgrading the embedded sample store at {v2_store} from schema 2 to 3, once" in got.stderr
    assert "upgrading" not in cli("get", "IMP-2", "-o", "json").stderr
