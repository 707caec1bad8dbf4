"""Data and audit never disagree: faults injected between the sample write and the audit record,
on every backend (SQLite transaction on the embedded store, write-ahead markers on MongoDB)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from samplectl.domain.errors import Conflict
from samplectl.domain.identity import Identity
from samplectl.services.samples import SampleService
from samplectl.stores.mongo import changes as changes_module
from tests.support.rawstore import audit_classes


class Crash(BaseException):
    """The process dies here: no except clause of samplectl's runs (like kill -9 for in-process tests)."""


@pytest.fixture
def service(sample_db: Any) -> SampleService:
    store, audit = sample_db.samples, sample_db.audit
    store.ensure_indexes()
    audit.ensure_indexes()
    return SampleService(store=store, audit=audit, identity=Identity("tess", "admin"), tz=UTC)


def new_sample(service: SampleService, sample_id: str = "S-1", **fields: Any) -> dict[str, Any]:
    values = {"sample_id": sample_id, "sample_type": "blood", "subject_id": "SUBJ-1",
              "collection_date": "2025-01-01T08:00", "storage_location": "FRZ-1/R1"}
    values.update(fields)
    return service.create(values)


def trail(service: SampleService, sample_id: str = "S-1") -> list[str]:
    return [r["action"] for r in service.audit.for_sample(sample_id)]


def visible(service: SampleService, sample_id: str = "S-1") -> dict[str, Any] | None:
    record = service.store.get(sample_id)
    return None if record is None else {k: v for k, v in record.items() if k != "pending"}


def fail_append(monkeypatch: pytest.MonkeyPatch, error: BaseException, *, after_writing: bool = False) -> None:
    for cls in audit_classes():
        def broken(self: Any, entries: Any, real: Any = cls.append_many) -> Any:
            if after_writing:
                real(self, entries)
            raise error

        monkeypatch.setattr(cls, "append_many", broken)
        monkeypatch.setattr(cls, "append", lambda self, entry, broken=broken: broken(self, [entry]))


def settle_later(service: SampleService, monkeypatch: pytest.MonkeyPatch) -> int:
    """A write command run once the lease of the dead process's markers has run out."""
    later = changes_module.LEASE + timedelta(seconds=1)
    monkeypatch.setattr(service.changes, "clock", lambda: datetime.now(UTC) + later, raising=False)
    return service.changes.settle_stale()


# -- the audit record cannot be written: the change does not stand --------------------------------

def test_create_does_not_stand_without_its_record(service: SampleService, monkeypatch) -> None:
    fail_append(monkeypatch, RuntimeError("audit disk full"))
    with pytest.raises(RuntimeError):
        new_sample(service)
    assert visible(service) is None
    assert service.audit.count() == 0


def test_update_does_not_stand_without_its_record(service: SampleService, monkeypatch) -> None:
    before = new_sample(service)
    with monkeypatch.context() as patched:
        fail_append(patched, RuntimeError("audit disk full"))
        with pytest.raises(RuntimeError):
            service.update("S-1", {"status": "processing"})
    assert visible(service) == before
    assert trail(service) == ["create"]
    # Nothing is left half-done: the next change goes through normally.
    assert service.update("S-1", {"status": "processing"})[0]["version"] == 2


def test_rename_does_not_stand_without_its_record(service: SampleService, monkeypatch) -> None:
    before = new_sample(service)
    fail_append(monkeypatch, RuntimeError("audit disk full"))
    with pytest.raises(RuntimeError):
        service.update("S-1", {"sample_id": "S-2"})
    assert visible(service) == before and visible(service, "S-2") is None


def test_delete_does_not_stand_without_its_record(service: SampleService, monkeypatch) -> None:
    before = new_sample(service)
    fail_append(monkeypatch, RuntimeError("audit disk full"))
    with pytest.raises(RuntimeError):
        service.delete("S-1")
    assert visible(service) == before
    assert trail(service) == ["create"]


def test_a_record_written_whose_answer_was_lost_keeps_data_and_audit_together(
    service: SampleService, monkeypatch
) -> None:
    """The append reached the database but its answer did not come back."""
    new_sample(service)
    fail_append(monkeypatch, ConnectionError("connection reset"), after_writing=True)
    with contextlib.suppress(ConnectionError):
        service.update("S-1", {"status": "processing"})
    changed = visible(service)["status"] == "processing"
    recorded = trail(service) == ["create", "update"]
    assert changed == recorded  # embedded: both rolled back; MongoDB: the recorded change is finished
    assert service.changes.unfinished() == []


# -- the process dies between the two writes -------------------------------------------------------

@pytest.mark.parametrize("when", ["before the record", "after the record"])
def test_a_crash_mid_update_is_settled_by_the_next_writer(service: SampleService, monkeypatch, when: str) -> None:
    before = new_sample(service)
    with monkeypatch.context() as patched:
        fail_append(patched, Crash(), after_writing=when == "after the record")
        with pytest.raises(Crash):
            service.update("S-1", {"storage_location": "FRZ-9"})
    if service.store.kind == "embedded":
        # SQLite rolls back the unfinished transaction: nothing to settle, nothing changed.
        assert service.changes.unfinished() == []
        assert visible(service) == before and trail(service) == ["create"]
        return
    # The marker is visible to `audit verify`, and the sample still shows its old values ...
    assert [u["sample_id"] for u in service.changes.unfinished()] == ["S-1"]
    assert visible(service) == before
    # ... while it is fresh, another writer is told to wait, not allowed to overwrite it ...
    with pytest.raises(Conflict, match="being changed"):
        service.update("S-1", {"status": "processing"})
    # ... and once stale it is finished when its record exists, undone when not.
    assert settle_later(service, monkeypatch) == 1
    assert service.changes.unfinished() == []
    if when == "after the record":
        assert visible(service)["storage_location"] == "FRZ-9" and visible(service)["version"] == 2
        assert trail(service) == ["create", "update"]
    else:
        assert visible(service) == before and trail(service) == ["create"]
    assert service.update("S-1", {"status": "processing"})[0]["status"] == "processing"


@pytest.mark.parametrize("when", ["before the record", "after the record"])
def test_a_crash_mid_create_and_delete_is_settled(service: SampleService, monkeypatch, when: str) -> None:
    new_sample(service, "S-DEL")
    with monkeypatch.context() as patched:
        fail_append(patched, Crash(), after_writing=when == "after the record")
        with pytest.raises(Crash):
            new_sample(service, "S-NEW")
        with pytest.raises(Crash):
            service.delete("S-DEL")
    settle_later(service, monkeypatch)
    recorded = when == "after the record" and service.store.kind != "embedded"
    assert (visible(service, "S-NEW") is not None) == recorded
    assert trail(service, "S-NEW") == (["create"] if recorded else [])
    assert (visible(service, "S-DEL") is None) == recorded
    assert trail(service, "S-DEL") == (["create", "delete"] if recorded else ["create"])


def test_settling_twice_or_by_two_processes_is_harmless(service: SampleService, monkeypatch) -> None:
    new_sample(service)
    with monkeypatch.context() as patched:
        fail_append(patched, Crash(), after_writing=True)
        with pytest.raises(Crash):
            service.update("S-1", {"storage_location": "FRZ-9"})
    other = SampleService(store=service.store, audit=service.audit, identity=service.identity, tz=UTC)
    settle_later(service, monkeypatch)
    settle_later(other, monkeypatch)
    recorded = service.store.kind != "embedded"  # SQLite rolled the whole change back
    assert (visible(service)["storage_location"] == "FRZ-9") == recorded
    assert trail(service) == (["create", "update"] if recorded else ["create"])


# -- no lost updates -------------------------------------------------------------------------------

def test_a_write_based_on_a_stale_read_is_refused(service: SampleService, monkeypatch) -> None:
    """Two technicians read version 1; the second write must not overwrite the first."""
    new_sample(service)
    first = service.store.get("S-1")
    service.update("S-1", {"storage_location": "FRZ-2"})
    change = service.plan_update(first, {"status": "archived"}, reason=None, force=False, now=service.now())
    service.changes.apply([change])
    assert change.outcome == "stale"
    assert visible(service)["storage_location"] == "FRZ-2" and visible(service)["status"] == "collected"
    assert trail(service) == ["create", "update"]


def test_if_version_refuses_a_stale_write(service: SampleService) -> None:
    new_sample(service)
    service.update("S-1", {"storage_location": "FRZ-2"})
    with pytest.raises(Conflict, match="version 2, not 1"):
        service.update("S-1", {"status": "processing"}, if_version=1)
    assert service.update("S-1", {"status": "processing"}, if_version=2)[0]["version"] == 3


def test_rename_onto_an_existing_id_is_refused_and_changes_nothing(service: SampleService) -> None:
    new_sample(service, "S-1")
    new_sample(service, "S-2")
    with pytest.raises(Conflict, match="already exists"):
        service.update("S-1", {"sample_id": "S-2"})
    assert visible(service, "S-1")["version"] == 1 and trail(service, "S-1") == ["create"]
    assert service.changes.unfinished() == []


def test_a_bulk_apply_writes_what_it_can(service: SampleService) -> None:
    for n in range(5):
        new_sample(service, f"S-{n}")
    reads = [service.store.get(f"S-{n}") for n in range(5)]
    service.update("S-3", {"storage_location": "elsewhere"})  # S-3's read is now stale
    planned = [service.plan_update(r, {"storage_location": "FRZ-2"}, reason="rack moved", force=False,
                                   now=service.now()) for r in reads]
    service.changes.apply(planned)
    assert [c.outcome for c in planned] == ["applied", "applied", "applied", "stale", "applied"]
    assert [visible(service, f"S-{n}")["storage_location"] for n in range(5)] == [
        "FRZ-2", "FRZ-2", "FRZ-2", "elsewhere", "FRZ-2"]
    assert [len(trail(service, f"S-{n}")) for n in range(5)] == [2, 2, 2, 2, 2]
    from samplectl.domain.audit import check_chain

    assert check_chain(service.audit.walk()).ok


def test_the_audit_record_describes_the_change(service: SampleService) -> None:
    at = datetime(2025, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)
    service.clock = lambda: at
    new_sample(service)
    service.update("S-1", {"status": "processing", "storage_location": "FRZ-2"}, reason="aliquoted")
    record = list(service.audit.for_sample("S-1"))[-1]
    assert record["at"] == at and record["user"] == "tess" and record["reason"] == "aliquoted"
    assert record["changes"] == {"status": {"before": "collected", "after": "processing"},
                                 "storage_location": {"before": "FRZ-1/R1", "after": "FRZ-2"}}
    assert record["version"] == 2 and "forced" not in record


def test_a_failure_while_preparing_a_bulk_change_leaves_nothing_behind(service: SampleService, monkeypatch) -> None:
    for n in range(3):
        new_sample(service, f"S-{n}")
    reads = [service.store.get(f"S-{n}") for n in range(3)]
    planned = [service.plan_update(r, {"storage_location": "FRZ-2"}, reason=None, force=False, now=service.now())
               for r in reads]
    if service.store.kind == "embedded":
        real = service.store.replace_if_version
        calls: list[int] = []

        def flaky(*args: Any) -> bool:
            calls.append(1)
            if len(calls) == 3:
                raise ConnectionError("lost the database")
            return real(*args)

        monkeypatch.setattr(service.store, "replace_if_version", flaky)
    else:
        real_mark = changes_module.IntentWriter._mark
        calls = []

        def flaky_mark(self: Any, before: Any, marker: Any, **kwargs: Any) -> str:
            calls.append(1)
            if len(calls) == 3:
                raise ConnectionError("lost the database")
            return real_mark(self, before, marker, **kwargs)

        monkeypatch.setattr(changes_module.IntentWriter, "_mark", flaky_mark)
    with pytest.raises(ConnectionError):
        service.changes.apply(planned)
    assert [visible(service, f"S-{n}")["storage_location"] for n in range(3)] == ["FRZ-1/R1"] * 3
    assert service.changes.unfinished() == [] and service.audit.count() == 3
