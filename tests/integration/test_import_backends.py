"""The import service on every store backend: writes, batches, undo, and rolling back a broken batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from samplectl.domain.errors import Conflict
from samplectl.domain.identity import Identity
from samplectl.services.batchundo import BatchUndo
from samplectl.services.importing import ImportOptions, ImportService
from samplectl.stores.batches import ROLLED_BACK, RUNNING
from samplectl.stores.samples import SampleStore
from tests.cli.csvfiles import HEADER, row, write

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def parts(sample_db: Any) -> Iterator[dict[str, Any]]:
    yield {"store": sample_db.samples, "audit": sample_db.audit, "batches": sample_db.batches, "kind": sample_db.kind}


def service(parts: dict[str, Any], user: str = "tina", role: str = "technician") -> ImportService:
    from zoneinfo import ZoneInfo

    return ImportService(store=parts["store"], audit=parts["audit"], batches=parts["batches"],
                         identity=Identity(user, role), tz=ZoneInfo("UTC"), clock=lambda: NOW)


def undoer(parts: dict[str, Any]) -> BatchUndo:
    return BatchUndo(parts["store"], parts["audit"], parts["batches"], Identity("ada", "admin"), lambda: NOW)


def ids(store: SampleStore) -> list[str]:
    from samplectl.domain.criteria import Criteria, Sort

    return [r["sample_id"] for r in store.find(Criteria(), Sort("sample_id", False), None)]


def test_import_update_and_undo_on_every_backend(parts, tmp_path: Path) -> None:
    store = parts["store"]
    first = service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, *(row(i) for i in range(5))]))))
    assert first.error is None and first.created == 5
    assert store.get("S-0001")["import_batch"] == first.batch_id
    assert parts["batches"].get(first.batch_id)["counts"]["created"] == 5
    second = service(parts).run(ImportOptions(
        path=str(write(tmp_path / "b.csv", [HEADER, row(1, status="archived"), row(9)])), on_conflict="update"))
    assert (second.created, second.updated) == (1, 1)
    assert store.get("S-0001")["version"] == 2
    result = undoer(parts).undo(first.batch_id)
    assert result.removed == 4 and result.kept == ["S-0001"]
    assert ids(store) == ["S-0001", "S-0009"]


def test_many_rows_across_chunks(parts, tmp_path: Path, monkeypatch) -> None:
    import samplectl.services.importing as importing

    monkeypatch.setattr(importing, "CHUNK", 7)
    lines = [HEADER, *(row(i) for i in range(40)), row(40, sample_id="S-0003")]
    report = service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", lines)), partial=True))
    assert (report.created, report.rejected) == (40, 1)
    assert report.problems[0]["line"] == 42
    assert len(ids(parts["store"])) == 40


def test_store_bulk_lookups(parts) -> None:
    store = parts["store"]
    store.ensure_indexes()
    base = {"sample_type": "blood", "subject_id": "S", "collection_date": NOW, "status": "collected",
            "storage_location": "L", "created_at": NOW, "created_by": "t", "updated_at": NOW, "updated_by": "t"}
    store.insert_many([{**base, "sample_id": f"X{i}", "version": 1 + i % 2, "import_batch": "B"} for i in range(6)])
    assert sorted(store.existing(["X1", "X2", "nope"])) == ["X1", "X2"]
    assert [r["sample_id"] for r in store.find_by_batch("B", page_size=2)] == [f"X{i}" for i in range(6)]
    assert store.delete_unchanged(["X0", "X1", "X2"]) == 2  # X1 is at version 2
    assert ids(store) == ["X1", "X3", "X4", "X5"]
    with pytest.raises(Conflict):
        store.insert_many([{**base, "sample_id": "X3", "version": 1}])


def fail_audit_write(patcher: pytest.MonkeyPatch, parts: dict[str, Any], call: int, fault: BaseException) -> None:
    """Raise ``fault`` instead of the ``call``-th write of an import's audit records, made the general way
    (append_many) or, for new samples on the embedded store, with the samples (the import creator)."""
    from samplectl.stores.sqlite.imports import SqliteImportCreator

    calls = {"n": 0}

    def failing(real: Any) -> Any:
        def write(*args: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == call:
                raise fault
            return real(*args)
        return write

    patcher.setattr(parts["audit"], "append_many", failing(parts["audit"].append_many))
    patcher.setattr(SqliteImportCreator, "create", failing(SqliteImportCreator.create))


def test_a_failed_write_leaves_nothing_and_the_batch_rolled_back(parts, tmp_path: Path, monkeypatch) -> None:
    """A fault after the first chunk was written: on every backend the batch is taken back."""
    import samplectl.services.importing as importing

    service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, row(1), row(2)]))))
    monkeypatch.setattr(importing, "CHUNK", 3)
    fail_audit_write(monkeypatch, parts, 2, RuntimeError("the server went away"))
    lines = [HEADER, row(1, status="processing"), *(row(i) for i in range(10, 20))]
    with pytest.raises(RuntimeError):
        service(parts).run(ImportOptions(path=str(write(tmp_path / "b.csv", lines)), on_conflict="update"))
    store = parts["store"]
    assert ids(store) == ["S-0001", "S-0002"]
    restored = store.get("S-0001")
    assert restored["status"] == "collected"
    (batch,) = [b for b in parts["batches"].recent(5) if b["state"] != "complete"]
    assert batch["state"] == ROLLED_BACK


def test_an_interrupted_batch_is_rolled_back_by_the_next_import(parts, tmp_path: Path) -> None:
    """What a killed process leaves on a store without transactions: a running batch, half written."""
    store, batches = parts["store"], parts["batches"]
    store.ensure_indexes()
    batches.start({"batch_id": "B-dead", "user": "tina", "started_at": NOW, "heartbeat_at": NOW, "file": "x.csv",
                   "sha256": "0" * 64, "host": "elsewhere.example", "pid": 1})
    base = {"sample_type": "blood", "subject_id": "S", "collection_date": NOW, "status": "collected",
            "storage_location": "L", "created_at": NOW, "created_by": "t", "updated_at": NOW, "updated_by": "t"}
    store.insert_many([{**base, "sample_id": f"H{i}", "version": 1, "import_batch": "B-dead"} for i in range(3)])
    report = service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, row(1)]))))
    assert report.error is None
    assert any("B-dead" in n and "rolled back" in n and "3 samples" in n for n in report.notices)
    assert ids(store) == ["S-0001"]
    assert batches.get("B-dead")["state"] == ROLLED_BACK
    assert [e["action"] for e in parts["audit"].for_sample("H0")] == ["undo"]


def test_a_running_batch_of_a_live_process_is_left_alone(parts, tmp_path: Path) -> None:
    import os
    import socket

    parts["batches"].start({"batch_id": "B-live", "user": "tina", "started_at": NOW, "file": "x.csv",
                            "sha256": "1" * 64, "host": socket.gethostname(), "pid": os.getppid()})
    service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, row(1)]))))
    assert parts["batches"].get("B-live")["state"] == RUNNING
    with pytest.raises(Conflict):
        undoer(parts).undo("B-live")


def index_sql(store: SampleStore) -> set[str]:
    conn = store.db.conn  # type: ignore[attr-defined]
    return {sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'samples' AND sql IS NOT NULL")}


@pytest.mark.parametrize("sample_db", ["embedded"], indirect=True)
def test_a_bulk_load_rebuilds_every_index_and_refuses_duplicates_at_the_end(parts, monkeypatch) -> None:
    import samplectl.stores.sqlite.samples as engine

    monkeypatch.setattr(engine, "BULK_LOAD_MIN_ROWS", 1)
    store = parts["store"]
    store.ensure_indexes()
    before = index_sql(store)
    base = {"sample_type": "blood", "subject_id": "S", "collection_date": NOW, "status": "collected",
            "storage_location": "L", "created_at": NOW, "created_by": "t", "updated_at": NOW, "updated_by": "t",
            "version": 1}
    cache = store.db.one("PRAGMA cache_size")
    with store.transaction(), store.bulk_load(10, lookups=False):
        assert index_sql(store) < before  # the secondary indexes wait for the end
        assert store.db.one("PRAGMA cache_size") == (-engine.BULK_CACHE_KIB,)  # a fixed, larger page cache
        store.insert_many([{**base, "sample_id": f"X{i}"} for i in range(10)])
    assert index_sql(store) == before and len(ids(store)) == 10
    assert store.db.one("PRAGMA cache_size") == cache
    with pytest.raises(Conflict), store.transaction(), store.bulk_load(10, lookups=False):
        store.insert_many([{**base, "sample_id": "X1"}])  # the key is the table itself: refused at once
    assert index_sql(store) == before and len(ids(store)) == 10


class Killed(BaseException):
    """The importing process dies here (no except clause of samplectl's runs, as with kill -9)."""


def test_a_sample_of_a_killed_import_cannot_be_edited_before_its_record_and_goes_without_a_trace(
    parts, tmp_path: Path, monkeypatch
) -> None:
    """Issue 9, item 22: killed between writing samples and their audit records, on any engine."""
    import samplectl.services.importing as importing
    from samplectl.domain.audit import check_chain
    from samplectl.services.samples import SampleService

    monkeypatch.setattr(importing, "CHUNK", 2)
    data = write(tmp_path / "a.csv", [HEADER, *(row(i) for i in range(4))])
    with monkeypatch.context() as patched:
        fail_audit_write(patched, parts, 2, Killed())
        patched.setattr(ImportService, "_abandon", lambda self, batch_id: None)  # killed: no clean-up runs
        with pytest.raises(Killed):
            service(parts).run(ImportOptions(path=str(data)))
    editor = SampleService(store=parts["store"], audit=parts["audit"], identity=Identity("ed", "technician"),
                           tz=UTC)
    if parts["kind"] != "embedded":
        # S-0002 is there, without its record yet: nobody may edit it until the import is settled.
        assert parts["store"].get("S-0002") is not None
        with pytest.raises(Conflict, match="being changed"):
            editor.update("S-0002", {"storage_location": "ELSEWHERE"})
    again = service(parts).run(ImportOptions(path=str(data)))  # rolls the dead batch back, then imports
    assert again.error is None and again.created == 4
    for n in range(4):
        history = [e["action"] for e in parts["audit"].for_sample(f"S-{n:04d}")]
        assert history[-1] == "import" and history.count("import") - history.count("undo") == 1, history
    assert check_chain(parts["audit"].walk()).ok


def counting_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times an import starts reading its file (one entry per pass)."""
    from samplectl.services.csvsource import CsvSource

    passes: list[int] = []
    real = CsvSource.read

    def read(self: CsvSource) -> Any:
        passes.append(1)
        return real(self)

    monkeypatch.setattr(CsvSource, "read", read)
    return passes


def test_a_good_file_is_read_once_on_the_embedded_store_and_twice_elsewhere(parts, tmp_path: Path,
                                                                               monkeypatch) -> None:
    import samplectl.services.importing as importing

    monkeypatch.setattr(importing, "CHUNK", 3)  # several chunks in the one transaction
    passes = counting_passes(monkeypatch)
    report = service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", [HEADER, *(row(i) for i in range(8))]))))
    assert (report.error, report.created) == (None, 8)
    assert len(passes) == (1 if parts["kind"] == "embedded" else 2)
    assert ids(parts["store"]) == [f"S-{i:04d}" for i in range(8)]
    batch = parts["batches"].get(report.batch_id)
    assert batch["counts"]["created"] == 8 and parts["batches"].completed_with_sha256(batch["sha256"]) == batch
    from samplectl.domain.audit import check_chain

    assert check_chain(parts["audit"].walk()).ok


@pytest.mark.parametrize(("bad", "code", "checks"), [
    (row(5, status="lost"), "invalid", 1),  # an invalid row, after two good chunks were written
    (row(5, sample_id="S-0001"), "invalid", 2),  # an id the file gave before (confirmed on a second read)
    (row(5, sample_id="S-0100"), "conflict", 1),  # an id already stored
])
def test_a_bad_file_keeps_nothing_and_is_reported_as_two_passes_report_it(parts, tmp_path: Path, monkeypatch,
                                                                            bad: str, code: str, checks: int) -> None:
    import samplectl.services.importing as importing

    service(parts).run(ImportOptions(path=str(write(tmp_path / "first.csv", [HEADER, row(100)]))))
    batches = parts["batches"].recent(10)
    monkeypatch.setattr(importing, "CHUNK", 2)
    passes = counting_passes(monkeypatch)
    lines = [HEADER, *(row(i) for i in range(5)), bad, *(row(i) for i in range(6, 9))]
    report = service(parts).run(ImportOptions(path=str(write(tmp_path / "a.csv", lines))))
    assert report.error is not None and report.error.code == code
    assert [(p["line"], p["column"]) for p in report.problems] == [(7, "status" if "lost" in bad else "sample_id")]
    assert report.batch_id is None and parts["batches"].recent(10) == batches  # a rejected import is not a batch
    assert ids(parts["store"]) == ["S-0100"]
    # The embedded store tried one pass and kept nothing of it; then, as elsewhere, the check pass(es).
    assert len(passes) == checks + (parts["kind"] == "embedded")
