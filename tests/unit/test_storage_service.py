"""The storage service against an in-memory repository: what it decides, without any engine."""

from __future__ import annotations

from typing import Any

import pytest

from samplectl.domain.errors import Conflict, NotFound, PermissionDenied, UsageError, ValidationFailed
from samplectl.domain.identity import Identity
from samplectl.domain.storage import PositionTaken, SampleMove
from samplectl.services.storage import StorageService, place_fields


class MemoryContainers:
    """A ContainerRepository in dicts; like the real stores, it refuses a second sample in a position."""

    def __init__(self) -> None:
        self.containers: dict[str, dict[str, Any]] = {}
        self.samples: dict[str, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []

    def place(self, sample_id: str, position: str) -> None:
        if any(s.get("position") == position for s in self.samples.values()):
            raise PositionTaken(position, None)
        box, _, slot = position.rpartition(":")
        self.samples[sample_id] = {"sample_id": sample_id, "position": position, "version": 1,
                                   "storage_location": f"{box}/{slot}"}

    def get(self, path: str) -> dict[str, Any] | None:
        return self.containers.get(path)

    def within(self, path: str | None) -> list[dict[str, Any]]:
        return [c for p, c in self.containers.items() if path is None or p == path or p.startswith(path + "/")]

    def placed(self, path: str | None) -> list[tuple[str, str]]:
        return [(s["position"], s["sample_id"]) for s in self.samples.values() if s.get("position") and (
            path is None or s["position"].startswith((path + ":", path + "/")))]

    def placed_samples(self, path: str) -> list[dict[str, Any]]:
        return [dict(self.samples[sample_id]) for _, sample_id in self.placed(path)]

    def occupant(self, position: str) -> str | None:
        return next((s["sample_id"] for s in self.samples.values() if s.get("position") == position), None)

    def add(self, container: dict[str, Any], entry: dict[str, Any]) -> None:
        if container["path"] in self.containers:
            raise Conflict("exists")
        self.containers[container["path"]] = container
        self.audit.append(entry)

    def move(self, renames: list[tuple[str, str]], samples: list[SampleMove], entry: dict[str, Any]) -> None:
        for old, new in renames:
            container = self.containers.pop(old)
            self.containers[new] = {**container, "path": new, "parent": new.rpartition("/")[0] or None}
        for move in samples:
            self.samples[move.after["sample_id"]] = move.after
        self.audit.extend([m.entry for m in samples] + [entry])

    def remove(self, path: str, entry: dict[str, Any]) -> None:
        del self.containers[path]
        self.audit.append(entry)


@pytest.fixture
def repo() -> MemoryContainers:
    return MemoryContainers()


@pytest.fixture
def service(repo: MemoryContainers) -> StorageService:
    service = StorageService(repo, Identity("tess", "technician"))
    service.add("freezer", "FRZ-1")
    service.add("rack", "FRZ-1/R1")
    service.add("box", "FRZ-1/R1/B1", grid="9x9")
    return service


def test_add_records_the_container_and_an_audit_record(service: StorageService, repo: MemoryContainers) -> None:
    assert repo.containers["FRZ-1/R1/B1"]["rows"] == 9 and repo.containers["FRZ-1/R1/B1"]["parent"] == "FRZ-1/R1"
    assert [e["action"] for e in repo.audit] == ["storage-add"] * 3
    assert repo.audit[-1]["container"] == "FRZ-1/R1/B1" and repo.audit[-1]["user"] == "tess"


def test_containers_go_only_where_they_fit(service: StorageService) -> None:
    with pytest.raises(ValidationFailed, match="a rack cannot go in box"):
        service.add("rack", "FRZ-1/R1/B1/R9")
    with pytest.raises(ValidationFailed, match="a box cannot go at the top"):
        service.add("box", "B9", grid="9x9")
    with pytest.raises(NotFound):
        service.add("box", "FRZ-9/R1/B1", grid="9x9")


def test_grid_and_capacity_belong_to_boxes_and_bags(service: StorageService) -> None:
    with pytest.raises(UsageError):
        service.add("box", "FRZ-1/R1/B2")
    with pytest.raises(UsageError):
        service.add("bag", "FRZ-1/R1/BAG", grid="9x9")
    bag = service.add("bag", "FRZ-1/R1/BAG", capacity=5)
    assert bag["capacity"] == 5


def test_viewers_cannot_change_storage(repo: MemoryContainers) -> None:
    with pytest.raises(PermissionDenied):
        StorageService(repo, Identity("vera", "viewer")).add("freezer", "FRZ-2")


def test_tree_sums_used_and_total_up_the_path(service: StorageService, repo: MemoryContainers) -> None:
    service.add("box", "FRZ-1/R1/B2", grid="2x2")
    repo.place("S1", "FRZ-1/R1/B1:A1")
    repo.place("S2", "FRZ-1/R1/B2:B2")
    rows = {r["path"]: (r["used"], r["total"]) for r in service.tree()}
    assert rows == {"FRZ-1": (2, 85), "FRZ-1/R1": (2, 85), "FRZ-1/R1/B1": (1, 81), "FRZ-1/R1/B2": (1, 4)}


def test_tree_orders_numbers_in_names_as_numbers(service: StorageService) -> None:
    for n in (10, 2):
        service.add("box", f"FRZ-1/R1/B{n}", grid="1x1")
    assert [r["path"] for r in service.tree("FRZ-1/R1")] == ["FRZ-1/R1", "FRZ-1/R1/B1", "FRZ-1/R1/B2", "FRZ-1/R1/B10"]


def test_show_lists_every_position_with_its_sample(service: StorageService, repo: MemoryContainers) -> None:
    repo.place("S1", "FRZ-1/R1/B1:B1")
    box = service.show("FRZ-1/R1/B1")
    assert box["used"] == 1 and box["total"] == 81 and box["grid"] == "9x9"
    assert box["positions"][9] == {"position": "B1", "sample_id": "S1"}
    assert box["positions"][0] == {"position": "A1", "sample_id": None}


def test_free_with_need_together_finds_a_run_in_fill_order(service: StorageService, repo: MemoryContainers) -> None:
    service.add("box", "FRZ-1/R1/B2", grid="9x9")
    for i in range(0, 81, 9):  # B1: every row's first position taken, so runs are at most 8 long
        repo.place(f"S{i}", f"FRZ-1/R1/B1:{'ABCDEFGHI'[i // 9]}1")
    repo.place("T", "FRZ-1/R1/B2:A3")
    found = service.free(need=24, together=True)
    assert [f["path"] for f in found] == ["FRZ-1/R1/B2"]
    assert found[0]["positions"][0] == "A4" and len(found[0]["positions"]) == 24
    assert found[0]["ranges"] == ["A4-C9"]
    assert [f["path"] for f in service.free(need=24)] == ["FRZ-1/R1/B1", "FRZ-1/R1/B2"]


def test_fill_takes_free_positions_row_by_row_and_spills(service: StorageService, repo: MemoryContainers) -> None:
    service.add("box", "FRZ-1/R1/B2", grid="9x9")
    repo.place("S1", "FRZ-1/R1/B1:A2")
    placed = list(service.placements(["FRZ-1/R1/B1", "FRZ-1/R1/B2"], 82))
    assert [p.position for p in placed[:2]] == ["FRZ-1/R1/B1:A1", "FRZ-1/R1/B1:A3"]
    assert [p.position for p in placed[-2:]] == ["FRZ-1/R1/B2:A1", "FRZ-1/R1/B2:A2"]
    assert placed[0].location == "FRZ-1/R1/B1/A1"
    with pytest.raises(Conflict, match="room for 161"):
        list(service.placements(["FRZ-1/R1/B1", "FRZ-1/R1/B2"], 200))


def test_a_position_sets_the_location_and_a_location_unplaces(service: StorageService) -> None:
    placed = place_fields(service.placer, {"position": "FRZ-1/R1/B1:c3"})
    assert placed == {"position": "FRZ-1/R1/B1:C3", "storage_location": "FRZ-1/R1/B1/C3"}
    moved_out = place_fields(service.placer, {"storage_location": "bench"}, {"position": "FRZ-1/R1/B1:C3"})
    assert moved_out == {"storage_location": "bench", "position": None}
    with pytest.raises(ValidationFailed, match="does not match"):
        place_fields(service.placer, {"position": "FRZ-1/R1/B1:C3", "storage_location": "bench"})
    with pytest.raises(ValidationFailed, match="outside the 9x9 grid"):
        place_fields(service.placer, {"position": "FRZ-1/R1/B1:J1"})
    with pytest.raises(NotFound):
        place_fields(service.placer, {"position": "FRZ-1/R1/B7:A1"})


def test_a_bag_alone_takes_its_next_place_until_full(service: StorageService, repo: MemoryContainers) -> None:
    service.add("bag", "FRZ-1/BAG", capacity=2)
    first = service.placer.resolve("FRZ-1/BAG")
    assert (first.position, first.location) == ("FRZ-1/BAG:1", "FRZ-1/BAG")
    repo.place("S1", first.position)
    repo.place("S2", service.placer.resolve("FRZ-1/BAG").position)
    with pytest.raises(Conflict, match="full"):
        service.placer.resolve("FRZ-1/BAG")


def test_move_rebases_containers_and_samples_with_one_record_each(
    service: StorageService, repo: MemoryContainers
) -> None:
    service.add("rack", "FRZ-1/R2")
    repo.place("S1", "FRZ-1/R1/B1:A1")
    repo.place("S2", "FRZ-1/R1/B1:I9")
    result = service.move("FRZ-1/R1/B1", "FRZ-1/R2", reason="defrost")
    assert result == {"path": "FRZ-1/R1/B1", "to": "FRZ-1/R2/B1", "kind": "box", "containers": 1, "samples": 2}
    assert "FRZ-1/R2/B1" in repo.containers and "FRZ-1/R1/B1" not in repo.containers
    assert repo.samples["S2"]["position"] == "FRZ-1/R2/B1:I9"
    assert repo.samples["S2"]["storage_location"] == "FRZ-1/R2/B1/I9" and repo.samples["S2"]["version"] == 2
    moves = [e for e in repo.audit if e["action"] == "move"]
    assert sorted(e["sample_id"] for e in moves) == ["S1", "S2"]
    assert moves[0]["changes"]["storage_location"]["after"].startswith("FRZ-1/R2/B1/")
    assert moves[0]["reason"] == "defrost"


def test_move_refuses_impossible_targets(service: StorageService) -> None:
    service.add("rack", "FRZ-1/R2")
    service.add("box", "FRZ-1/R2/B1", grid="9x9")
    with pytest.raises(Conflict, match="already holds"):
        service.move("FRZ-1/R1/B1", "FRZ-1/R2")
    with pytest.raises(ValidationFailed, match="into itself"):
        service.move("FRZ-1/R1", "FRZ-1/R1/B1")
    with pytest.raises(ValidationFailed, match="a box cannot go in box"):
        service.move("FRZ-1/R1/B1", "FRZ-1/R2/B1")
    with pytest.raises(NotFound):
        service.move("FRZ-1/R1/B9", "FRZ-1/R2")


def test_remove_only_when_empty(service: StorageService, repo: MemoryContainers) -> None:
    with pytest.raises(Conflict, match="holds container FRZ-1/R1/B1"):
        service.remove("FRZ-1/R1")
    repo.place("S1", "FRZ-1/R1/B1:A1")
    with pytest.raises(Conflict, match="holds sample S1"):
        service.remove("FRZ-1/R1/B1")
    del repo.samples["S1"]
    assert service.remove("FRZ-1/R1/B1") == {"path": "FRZ-1/R1/B1", "kind": "box"}
    assert repo.audit[-1]["action"] == "storage-remove"


def test_the_grid_is_coloured_only_when_asked(service: StorageService, repo: MemoryContainers) -> None:
    import io

    from samplectl.output.storage import write_box

    repo.place("S1", "FRZ-1/R1/B1:A1")
    plain, coloured = io.StringIO(), io.StringIO()
    write_box(service.show("FRZ-1/R1/B1"), plain, color=False, width=80)
    write_box(service.show("FRZ-1/R1/B1"), coloured, color=True, width=80)
    assert "\x1b[" not in plain.getvalue()
    assert "\x1b[32m   S1  \x1b[0m" in coloured.getvalue()
    assert all(len(line) <= 80 for line in plain.getvalue().splitlines())
