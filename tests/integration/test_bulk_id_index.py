"""An import into an empty embedded store builds the sample id's unique index after the load, not row by row.

Only into an empty store (then no stored id can be met again), and a repeat inside the file is still
refused as an invalid row with its line (6); into a store that holds samples, the index stays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from samplectl.config import load_settings
from samplectl.domain.criteria import Criteria
from samplectl.domain.errors import Conflict, ValidationFailed
from samplectl.domain.identity import Identity
from samplectl.services.importing import ImportOptions, ImportService
from samplectl.stores.engines import SampleDatabase, open_embedded
from tests.cli.csvfiles import HEADER, row, write
from tests.conftest import CliRun

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
BASE = {"sample_type": "blood", "subject_id": "S", "collection_date": NOW, "status": "collected",
        "storage_location": "L", "created_at": NOW, "created_by": "t", "updated_at": NOW, "updated_by": "t",
        "version": 1}


@pytest.fixture
def database() -> Any:
    database = open_embedded(load_settings())
    yield database
    database.close()


@pytest.fixture
def small_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk loads from a few rows on, in chunks of 7: a large import's path on a small file."""
    import samplectl.services.importing as importing
    import samplectl.stores.sqlite.samples as engine

    monkeypatch.setattr(engine, "BULK_LOAD_MIN_ROWS", 1)
    monkeypatch.setattr(importing, "CHUNK", 7)


def sample_indexes(database: SampleDatabase) -> set[str]:
    conn = database.samples.db.conn  # type: ignore[attr-defined]
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                             "AND tbl_name = 'samples'")}


def watch_loads(monkeypatch: pytest.MonkeyPatch, database: SampleDatabase) -> list[set[str]]:
    """The samples table's indexes as each chunk of an import is written (seen inside its transaction)."""
    from samplectl.stores.sqlite.imports import SqliteImportCreator

    seen: list[set[str]] = []
    real = SqliteImportCreator.create

    def create(self: SqliteImportCreator, samples: Any) -> int:
        seen.append(sample_indexes(database))
        return real(self, samples)

    monkeypatch.setattr(SqliteImportCreator, "create", create)
    return seen


def importer(database: SampleDatabase) -> ImportService:
    return ImportService(store=database.samples, audit=database.audit, batches=database.batches,
                         identity=Identity("tina", "technician"), tz=UTC, clock=lambda: NOW)


def test_the_id_index_waits_for_the_end_of_a_load_into_an_empty_store_only(
        database: SampleDatabase, small_loads: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    all_indexes = sample_indexes(database)
    assert "samples_by_id" in all_indexes
    seen = watch_loads(monkeypatch, database)
    first = importer(database).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, *(row(i) for i in range(40))]))))
    assert first.error is None and first.created == 40
    assert len(seen) == 6 and all("samples_by_id" not in names for names in seen)
    assert sample_indexes(database) == all_indexes
    seen.clear()
    # The store now holds samples: the second import keeps the id index up, and with it refuses a stored id.
    second = importer(database).run(ImportOptions(
        path=str(write(tmp_path / "b.csv", [HEADER, *(row(i) for i in range(40, 80))]))))
    assert second.error is None and second.created == 40
    assert seen and all("samples_by_id" in names and "samples_by_date" not in names for names in seen)
    again = importer(database).run(ImportOptions(
        path=str(write(tmp_path / "c.csv", [HEADER, *(row(i) for i in range(80, 120)), row(5)]))))
    assert isinstance(again.error, Conflict) and not isinstance(again.error, ValidationFailed)
    assert again.problems == [{"line": 42, "column": "sample_id", "value": "S-0005",
                               "message": "sample_id 'S-0005' already exists"}]
    assert database.samples.count(Criteria()) == 80
    assert sample_indexes(database) == all_indexes


def test_a_store_load_that_repeats_an_id_is_refused_when_the_index_is_built_and_leaves_nothing(
        database: SampleDatabase, small_loads: None) -> None:
    store = database.samples
    before = sample_indexes(database)
    with pytest.raises(Conflict, match="repeat a value that must be unique"), store.transaction(), \
            store.bulk_load(10, lookups=False):
        store.insert_many([{**BASE, "sample_id": f"X{i}"} for i in (1, 2, 3, 2)])
        assert "samples_by_id" not in sample_indexes(database)
    assert sample_indexes(database) == before
    assert store.get("X1") is None
    # A caller that looks ids up keeps the index, even into an empty store.
    with store.transaction(), store.bulk_load(10, lookups=True):
        assert "samples_by_id" in sample_indexes(database)
        assert store.existing(["X1"]) == {}


def test_a_repeat_inside_a_large_file_into_an_empty_store_is_still_an_invalid_row(
        cli: CliRun, small_loads: None, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    data = write(tmp_path / "a.csv", [HEADER, *(row(i) for i in range(40)), row(40, sample_id="S-0003")])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6, out.stderr
    assert "Traceback" not in out.stderr
    assert "S-0003" in out.stderr and "is also on line 5" in out.stderr
    summary = out.json()
    assert (summary["read"], summary["created"], summary["rejected"], summary["batch_id"]) == (41, 0, 1, None)
    assert cli("list", "--all", "-o", "json").json() == []
    database = open_embedded(load_settings())
    try:  # the index is back, and a rejected import is not a batch
        assert "samples_by_id" in sample_indexes(database)
        assert database.samples.db.one("SELECT count(*) FROM import_batches") == (0,)  # type: ignore[attr-defined]
    finally:
        database.close()


def test_into_a_store_with_samples_new_samples_go_in_by_id_a_group_at_a_time(
        database: SampleDatabase, small_loads: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import samplectl.stores.sqlite.samples as engine
    from samplectl.domain.audit import check_chain

    monkeypatch.setattr(engine, "SORTED_ROWS", 10)
    first = importer(database).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, row(1)]))))
    assert first.created == 1
    given = [f"T-{(i * 7) % 30:04d}" for i in range(30)]  # out of order
    report = importer(database).run(ImportOptions(path=str(write(tmp_path / "b.csv", [HEADER, *(
        row(i, sample_id=sample_id) for i, sample_id in enumerate(given))]))))
    assert report.error is None and report.created == 30
    conn = database.samples.db.conn  # type: ignore[attr-defined]
    stored = [r[0] for r in conn.execute("SELECT sample_id FROM samples WHERE sample_id LIKE 'T-%' ORDER BY rowid")]
    # Chunks of 7 rows, written 10 or more at a time in id order: 14, 14, then the last 2 at the end of the load.
    assert stored == sorted(given[:14]) + sorted(given[14:28]) + sorted(given[28:])
    records = list(database.audit.walk())  # type: ignore[attr-defined]
    assert [r["sample_id"] for r in records if r["sample_id"].startswith("T-")] == given  # the chain in file order
    assert check_chain(records).ok
    assert database.samples.count(Criteria()) == 31


def test_placed_samples_of_a_sorted_load_are_stored_with_their_positions(
        cli: CliRun, small_loads: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import samplectl.stores.sqlite.samples as engine

    monkeypatch.setattr(engine, "SORTED_ROWS", 10)
    assert cli("init").exit_code == 0
    for kind, path, *grid in (("freezer", "FRZ-1"), ("rack", "FRZ-1/R1"), ("box", "FRZ-1/R1/B1", "--grid", "3x3")):
        assert cli("storage", "add", kind, path, *grid, "-o", "json").exit_code == 0
    assert cli("import", str(write(tmp_path / "a.csv", [HEADER, row(1)])), "-o", "json").exit_code == 0
    lines = [HEADER + ",position"]
    for i in range(30):  # ids in descending order; every tenth row placed (its location then follows the position)
        placed = i % 10 == 3
        lines.append(row(i, sample_id=f"T-{29 - i:04d}", **({"storage_location": ""} if placed else {}))
                     + (f",FRZ-1/R1/B1:A{i // 10 + 1}" if placed else ","))
    out = cli("import", str(write(tmp_path / "b.csv", lines)), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert out.json()["created"] == 30
    listed = {r["sample_id"]: r["position"] for r in cli("list", "--all", "-o", "json").json()}
    assert len(listed) == 31
    assert {s: p for s, p in listed.items() if p} == {"T-0026": "FRZ-1/R1/B1:A1", "T-0016": "FRZ-1/R1/B1:A2",
                                                      "T-0006": "FRZ-1/R1/B1:A3"}
