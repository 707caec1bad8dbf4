"""A store written by samplectl 0.1 (neosqlite layout) is migrated by `init`, and refused until then.

The fixture was written by that release's own commands: tests/fixtures/make_neosqlite_store.sh.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import CliRun

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "neosqlite-store"


@pytest.fixture
def old_store(isolated_env: Path) -> Path:
    data = isolated_env / "data"
    data.mkdir()
    shutil.copy(FIXTURE / "samples.db", data / "samples.db")
    return data / "samples.db"


def test_other_commands_refuse_an_unmigrated_store_with_a_hint(cli: CliRun, old_store: Path) -> None:
    before = old_store.read_bytes()
    for args in (("list",), ("get", "IMP-2"), ("audit", "verify")):
        out = cli(*args, "-o", "json")
        assert out.exit_code == 8, out.stderr
        assert "layout of samplectl 0.1 and needs migrating" in out.stderr
        assert "hint: run `samplectl init`" in out.stderr
    assert old_store.read_bytes() == before  # refused before anything was written


def test_init_migrates_every_sample_batch_and_audit_record_and_says_so(cli: CliRun, old_store: Path) -> None:
    out = cli("init")
    assert out.exit_code == 0, out.stderr
    assert ("from the neosqlite layout: 6 samples, 15 audit records, 2 import batches kept; "
            "audit chain verified (head seq 15)") in out.stderr
    # The fixture is what samplectl 0.1 printed; samples read back now also say they are not placed.
    expected = [{**record, "position": None} for record in json.loads((FIXTURE / "samples.json").read_text())]
    assert cli("list", "--all", "-o", "json").json() == expected
    assert cli("audit", "-o", "json").json() == json.loads((FIXTURE / "audit.json").read_text())
    verify = cli("audit", "verify", "-o", "json").json()
    assert verify["ok"] is True and verify["records"] == 15
    import sqlite3

    with sqlite3.connect(old_store) as conn:  # straight to this release's layout: ids unique by samples_by_id
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'samples'")}
        assert "samples_by_id" in indexes and "sqlite_autoindex_samples_1" not in indexes
    # Running init again changes nothing and says nothing about a migration.
    again = cli("init")
    assert again.exit_code == 0 and "migrated" not in again.stderr
    # The migrated store works on: date-shaped ids are found exactly, batches can be undone.
    history = cli("history", "2025-03-14", "-o", "json").json()
    assert [e["sample_id"] for e in history] == ["2025-03-14"]
    batch = next(r["import_batch"] for r in cli("audit", "-o", "json").json() if r["sample_id"] == "2025/03/14-B")
    undo = cli("import", "undo", batch, "--yes", "-o", "json")
    assert undo.exit_code == 0, undo.stderr
    assert json.loads(undo.stdout)["kept"] == ["IMP-1b", "IMP-2"]
    assert cli("get", "2025/03/14-B", "-o", "json").exit_code == 5
    assert cli("audit", "verify", "-o", "json").json()["ok"] is True


def test_a_migration_that_fails_leaves_the_old_store_as_it_was(cli: CliRun, old_store: Path, monkeypatch) -> None:
    import samplectl.stores.sqlite.migrate as migrate

    def broken(*_: object) -> None:
        raise RuntimeError("disk trouble halfway")

    with monkeypatch.context() as patched:
        patched.setattr(migrate, "check_chain", broken)
        assert cli("init").exit_code == 1  # an unexpected failure (here: injected) halfway through
    assert cli("list", "-o", "json").exit_code == 8  # still the old layout, still refused
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(old_store).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"samples", "audit", "import_batches", "import_journal"} <= tables
    assert not any(t.startswith("old_") for t in tables)
