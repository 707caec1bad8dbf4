"""Storage geometry on every backend: the store's unique index is what keeps one sample per position."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from samplectl.domain.identity import Identity
from samplectl.domain.storage import PositionTaken
from samplectl.services.samples import SampleService
from samplectl.services.storage import Placer, StorageService
from samplectl.stores.samples import SampleStore
from tests.conftest import ROOT, run_samplectl

FIELDS = {"sample_type": "blood", "subject_id": "S", "collection_date": "2025-01-01"}


@pytest.fixture
def services(sample_db: Any) -> tuple[SampleService, StorageService, SampleStore, Any]:
    store, audit, repo = sample_db.samples, sample_db.audit, sample_db.containers
    store.ensure_indexes()
    who = Identity("tess", "technician")
    samples = SampleService(store=store, audit=audit, identity=who, tz=UTC, placer=Placer(repo))
    storage = StorageService(repo, who)
    storage.add("freezer", "F")
    storage.add("rack", "F/R1")
    storage.add("rack", "F/R2")
    storage.add("box", "F/R1/B1", grid="9x9")
    return samples, storage, store, audit


def test_the_index_refuses_a_second_sample_in_a_position_written_past_the_service(services: Any) -> None:
    samples, _, store, _ = services
    samples.create({**FIELDS, "sample_id": "A", "position": "F/R1/B1:A1"})
    record = {**FIELDS, "sample_id": "B", "collection_date": datetime(2025, 1, 1, tzinfo=UTC), "status": "collected",
              "storage_location": "F/R1/B1/A1", "position": "F/R1/B1:A1", "version": 1,
              "created_at": datetime(2025, 1, 2, tzinfo=UTC), "created_by": "x",
              "updated_at": datetime(2025, 1, 2, tzinfo=UTC), "updated_by": "x"}
    with pytest.raises(PositionTaken, match="taken by sample A"):
        store.insert(record)
    # Unplaced samples (no position, or none any more) never collide with each other.
    for sample_id in ("C", "D"):
        samples.create({**FIELDS, "sample_id": sample_id, "storage_location": "bench"})
    assert store.get("B") is None and store.get("D") is not None


def test_placing_into_a_taken_position_changes_nothing(services: Any) -> None:
    samples, storage, store, _ = services
    samples.create({**FIELDS, "sample_id": "A", "position": "F/R1/B1:A1"})
    samples.create({**FIELDS, "sample_id": "B", "position": "F/R1/B1:A2"})
    with pytest.raises(PositionTaken, match="taken by sample A"):
        samples.update("B", {"position": "F/R1/B1:A1"})
    with pytest.raises(PositionTaken):
        samples.create({**FIELDS, "sample_id": "C", "position": "F/R1/B1:A2"})
    assert store.get("B")["position"] == "F/R1/B1:A2" and store.get("B")["version"] == 1
    assert store.get("C") is None
    moved, _ = samples.update("B", {"position": "F/R1/B1:I9"})
    assert moved["storage_location"] == "F/R1/B1/I9"
    assert [p["sample_id"] for p in storage.show("F/R1/B1")["positions"] if p["sample_id"]] == ["A", "B"]


def test_move_rewrites_every_sample_and_audits_each(services: Any) -> None:
    samples, storage, store, _ = services
    for i, slot in enumerate(("A1", "E5", "I9")):
        samples.create({**FIELDS, "sample_id": f"S{i}", "position": f"F/R1/B1:{slot}"})
    result = storage.move("F/R1/B1", "F/R2")
    assert result["samples"] == 3
    assert store.get("S1")["position"] == "F/R2/B1:E5" and store.get("S1")["storage_location"] == "F/R2/B1/E5"
    assert [r["path"] for r in storage.tree("F")] == ["F", "F/R1", "F/R2", "F/R2/B1"]
    assert storage.show("F/R2/B1")["used"] == 3
    history = list(services[3].for_sample("S1"))
    assert [h["action"] for h in history] == ["create", "move"]
    # The old position is free for a new sample: the moved ones carry their new positions.
    storage.add("box", "F/R1/B1", grid="9x9")
    samples.create({**FIELDS, "sample_id": "N", "position": "F/R1/B1:E5"})


def test_free_together_over_a_freezer(services: Any) -> None:
    samples, storage, _, _ = services
    storage.add("box", "F/R1/B2", grid="9x9")
    for slot in ("A1", "C5", "F1"):
        samples.create({**FIELDS, "sample_id": slot, "position": f"F/R1/B1:{slot}"})
    found = storage.free("F", need=24, together=True)
    assert [(f["path"], f["ranges"]) for f in found] == [("F/R1/B1", ["F2-H7"]), ("F/R1/B2", ["A1-C6"])]


def _placing(sample_id: str, barrier: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    args = ["create", "--id", sample_id, "--type", "blood", "--subject", "S", "--collected", "2025-01-01",
            "--position", "F/R1/B1:A1", "-o", "json"]
    return subprocess.Popen([sys.executable, "-m", "tests.support.racing", "place-barrier", str(barrier), "2", "--",
                             *args], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["embedded", "wire"])
def test_two_processes_placing_into_one_position_at_once_one_wins(
    backend: str, process_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = dict(process_env)
    if backend == "wire":
        env["SAMPLECTL_MONGODB_URI"] = request.getfixturevalue("wire_server")
        env["SAMPLECTL_MONGODB_DB"] = "race" + tmp_path.name[-8:].replace("-", "")
    for args in (["freezer", "F"], ["rack", "F/R1"], ["box", "F/R1/B1", "--grid", "9x9"]):
        made = run_samplectl("storage", "add", *args, env=env)
        assert made.returncode == 0, made.stderr
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = {name: _placing(name, barrier, env) for name in ("P1", "P2")}
    outcomes = {name: (proc.wait(timeout=120), proc.communicate()) for name, proc in procs.items()}
    # Both saw A1 free (each waited for the other after resolving it) and both tried to write.
    assert len(os.listdir(barrier)) == 2
    codes = sorted(code for code, _ in outcomes.values())
    assert codes == [0, 7], outcomes
    winner = next(name for name, (code, _) in outcomes.items() if code == 0)
    loser_err = next(out[1] for code, out in outcomes.values() if code == 7)
    assert f"error: position F/R1/B1:A1 is taken by sample {winner}" in loser_err
    shown = run_samplectl("storage", "show", "F/R1/B1", "-o", "json", env=env)
    import json

    placed = [p for p in json.loads(shown.stdout)["positions"] if p["sample_id"]]
    assert placed == [{"position": "A1", "sample_id": winner}]


def test_a_placement_whose_audit_record_fails_gives_the_position_back(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples, storage, store, audit = services
    samples.create({**FIELDS, "sample_id": "A", "position": "F/R1/B1:A1"})

    def fail(entries: Any) -> Any:
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(audit, "append_many", fail)
    with pytest.raises(RuntimeError):
        samples.update("A", {"position": "F/R1/B1:B2"})
    monkeypatch.undo()
    kept = store.get("A")
    assert kept["position"] == "F/R1/B1:A1" and kept["version"] == 1 and not kept.get("pending")
    # B2 was claimed on the way (MongoDB) and given back: another sample may take it.
    samples.create({**FIELDS, "sample_id": "B", "position": "F/R1/B1:B2"})
    assert [p["sample_id"] for p in storage.show("F/R1/B1")["positions"] if p["sample_id"]] == ["A", "B"]


def test_a_placed_sample_renamed_keeps_its_position(services: Any) -> None:
    samples, storage, store, audit = services
    samples.create({**FIELDS, "sample_id": "OLD", "position": "F/R1/B1:C3"})
    renamed, _ = samples.update("OLD", {"sample_id": "NEW"})
    assert renamed["position"] == "F/R1/B1:C3"
    assert store.get("OLD") is None and store.get("NEW")["position"] == "F/R1/B1:C3"
    assert not store.get("NEW").get("pending")
    assert [p["sample_id"] for p in storage.show("F/R1/B1")["positions"] if p["sample_id"]] == ["NEW"]
    with pytest.raises(PositionTaken, match="taken by sample NEW"):
        samples.create({**FIELDS, "sample_id": "X", "position": "F/R1/B1:C3"})
