"""The storage routes against a real server: containers, placing, free room, moves, removal, roles, audit."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Server, sample, start_server


def add(client: httpx.Client, kind: str, path: str, **extra: object) -> httpx.Response:
    return client.post("/storage/containers", json={"kind": kind, "path": path, **extra})


def rack_with_box(client: httpx.Client, freezer: str) -> None:
    for kind, path, extra in (("freezer", freezer, {}), ("rack", f"{freezer}/R1", {}), ("rack", f"{freezer}/R2", {}),
                              ("box", f"{freezer}/R1/B1", {"grid": "9x9"})):
        assert add(client, kind, path, **extra).status_code == 201


def placed(sample_id: str, position: str) -> dict[str, object]:
    body = sample(sample_id, position=position)
    del body["storage_location"]  # the position sets it
    return body


def test_add_answers_201_with_the_container_and_its_location(server: Server) -> None:
    with server.client("tina") as tina:
        assert add(tina, "freezer", "AF-1").status_code == 201
        made = add(tina, "box", "AF-1/B1", grid="8x12", reason="new box")
        assert made.status_code == 201
        body = made.json()
        assert {k: body[k] for k in ("path", "kind", "parent", "name", "rows", "cols", "created_by")} == {
            "path": "AF-1/B1", "kind": "box", "parent": "AF-1", "name": "B1", "rows": 8, "cols": 12,
            "created_by": "tina"}
        assert body["created_at"].endswith("Z") and "capacity" not in body
        assert made.headers["location"] == f"{server.url}/storage/containers/AF-1/B1"
        assert tina.get(made.headers["location"]).json() == body
        top = tina.get("/storage/containers/AF-1").json()
        assert top["parent"] is None and top["kind"] == "freezer"


def test_storage_errors_carry_the_contract_status(server: Server) -> None:
    with server.client("tina") as tina:
        rack_with_box(tina, "ER-1")
        assert add(tina, "rack", "ER-1/R1").status_code == 409
        assert add(tina, "box", "ER-1/R1/B2").status_code == 400  # no grid: a usage error (2)
        assert add(tina, "rack", "ER-1/R3", grid="9x9").status_code == 400
        assert add(tina, "box", "ER-1/R1/B2", grid="9by9").status_code == 422
        assert add(tina, "crate", "ER-1/R1/B2").status_code == 422
        assert add(tina, "rack", "NOPE-1/R1").status_code == 404
        assert add(tina, "rack", "ER-1/R4", colour="red").status_code == 422
        bad_name = tina.get("/storage/containers/ER-1/bad name")
        assert bad_name.status_code == 422 and "is not a container name" in bad_name.json()["error"]["message"]
        assert tina.get("/storage/containers/ER-1/R9").status_code == 404
        assert tina.get("/storage/boxes/ER-1/R9").status_code == 404
        assert tina.get("/storage/free", params={"together": "true"}).status_code == 400
        assert tina.get("/storage/free", params={"need": "0"}).status_code == 422
        outside = tina.post("/samples", json=placed("ER-S1", "ER-1/R1/B1:J1"))
        assert outside.status_code == 422 and "outside the 9x9 grid" in outside.json()["error"]["message"]


def test_placing_shows_in_the_box_list_and_free_room(server: Server) -> None:
    with server.client("tina") as tina:
        rack_with_box(tina, "PL-1")
        made = tina.post("/samples", json=placed("PL-S1", "PL-1/R1/B1:a2"))
        assert made.status_code == 201
        assert made.json()["position"] == "PL-1/R1/B1:A2" and made.json()["storage_location"] == "PL-1/R1/B1/A2"
        taken = tina.post("/samples", json=placed("PL-S2", "PL-1/R1/B1:A2"))
        assert taken.status_code == 409
        assert taken.json()["error"]["message"] == "position PL-1/R1/B1:A2 is taken by sample PL-S1"
        box = tina.get("/storage/boxes/PL-1/R1/B1").json()
        assert (box["grid"], box["used"], box["total"]) == ("9x9", 1, 81)
        assert box["positions"][:2] == [{"position": "A1", "sample_id": None}, {"position": "A2", "sample_id": "PL-S1"}]
        listed = tina.get("/storage/containers", params={"under": "PL-1"}).json()
        assert [(r["path"], r["used"], r["total"]) for r in listed] == [
            ("PL-1", 1, 81), ("PL-1/R1", 1, 81), ("PL-1/R1/B1", 1, 81), ("PL-1/R2", 0, 0)]
        room = tina.get("/storage/free", params={"under": "PL-1", "need": "3", "together": "true"}).json()
        assert room == [{"path": "PL-1/R1/B1", "kind": "box", "free": 80, "total": 81,
                         "positions": ["A3", "A4", "A5"], "ranges": ["A3-A5"]}]
        assert tina.patch("/samples/PL-S1", json={"position": "PL-1/R1/B1:B1"}).json()["storage_location"] == "PL-1/R1/B1/B1"


def test_a_bag_has_numbered_places_and_no_grid(server: Server) -> None:
    with server.client("tina") as tina:
        assert add(tina, "freezer", "BG-1").status_code == 201
        assert add(tina, "bag", "BG-1/BAG", capacity=2).status_code == 201
        assert tina.post("/samples", json=placed("BG-S1", "BG-1/BAG")).status_code == 201
        bag = tina.get("/storage/boxes/BG-1/BAG").json()
        assert "grid" not in bag and (bag["used"], bag["total"]) == (1, 2)
        assert bag["positions"] == [{"position": "1", "sample_id": "BG-S1"}, {"position": "2", "sample_id": None}]


def test_import_fill_places_the_rows(server: Server) -> None:
    rows = "sample_id,sample_type,subject_id,collection_date\n" + "".join(
        f"IF-{i},blood,SUBJ-1,2025-01-01\n" for i in range(3))
    with server.client("tina") as tina:
        rack_with_box(tina, "IF-1")
        done = tina.post("/imports", params=[("fill", "IF-1/R1/B1")], content=rows,
                         headers={"Content-Type": "text/csv"})
        assert done.status_code == 200, done.text
        assert done.json()["created"] == 3
        assert tina.get("/samples/IF-2").json()["position"] == "IF-1/R1/B1:A3"


def test_move_takes_every_sample_along_and_each_audit_record_names_the_client(server: Server) -> None:
    with server.client("tina", headers={"User-Agent": "rack-mover/1.0"}) as tina:
        rack_with_box(tina, "MV-1")
        for i, slot in enumerate(("A1", "A2")):
            assert tina.post("/samples", json=placed(f"MV-S{i}", f"MV-1/R1/B1:{slot}")).status_code == 201
        into_itself = tina.post("/storage/moves", json={"path": "MV-1/R1", "to": "MV-1/R1/B1"})
        assert into_itself.status_code == 422
        moved = tina.post("/storage/moves", json={"path": "MV-1/R1/B1", "to": "MV-1/R2", "reason": "defrost"})
        assert moved.status_code == 200, moved.text
        assert moved.json() == {"path": "MV-1/R1/B1", "to": "MV-1/R2/B1", "kind": "box", "containers": 1, "samples": 2}
        assert tina.get("/samples/MV-S1").json()["storage_location"] == "MV-1/R2/B1/A2"
        history = tina.get("/samples/MV-S1/history").json()
        assert [e["action"] for e in history] == ["create", "move"] and history[1]["reason"] == "defrost"
    with server.client("admin") as admin:
        entries = admin.get("/audit", params={"sample_id": ["MV-S0", "MV-S1"], "action": "move"}).json()
        assert len(entries) == 2
        assert {e["client"]["user_agent"] for e in entries} == {"rack-mover/1.0"}
        added = [e for e in admin.get("/audit", params={"action": "storage-add", "all": "true"}).json()
                 if e["container"] == "MV-1/R1/B1"]
        assert added[0]["client"]["user_agent"] == "rack-mover/1.0"


def test_remove_refuses_what_is_not_empty_and_a_dry_run_removes_nothing(server: Server) -> None:
    with server.client("tina") as tina:
        rack_with_box(tina, "RM-1")
        assert tina.post("/samples", json=placed("RM-S1", "RM-1/R1/B1:C3")).status_code == 201
        refused = tina.delete("/storage/containers/RM-1/R1/B1")
        assert refused.status_code == 409
        assert refused.json()["error"]["message"] == "RM-1/R1/B1 is not empty: it holds sample RM-S1 at RM-1/R1/B1:C3"
        assert tina.delete("/storage/containers/RM-1/R1/B1", params={"dry_run": "true"}).status_code == 409
        assert tina.delete("/storage/containers/RM-1/R2", params={"dry_run": "true"}).json() == {
            "path": "RM-1/R2", "kind": "rack"}
        assert tina.get("/storage/containers/RM-1/R2").status_code == 200
        assert tina.delete("/storage/containers/RM-1/R2", params={"reason": "empty"}).json() == {
            "path": "RM-1/R2", "kind": "rack"}
        assert tina.get("/storage/containers/RM-1/R2").status_code == 404


def test_viewers_read_storage_but_cannot_change_it(server: Server) -> None:
    with server.client("tina") as tina:
        rack_with_box(tina, "VW-1")
    with server.client("vera") as vera:
        assert vera.get("/storage/containers", params={"under": "VW-1"}).status_code == 200
        assert vera.get("/storage/boxes/VW-1/R1/B1").status_code == 200
        assert vera.get("/storage/free", params={"under": "VW-1"}).status_code == 200
        for answer in (add(vera, "rack", "VW-1/R9"),
                       vera.post("/storage/moves", json={"path": "VW-1/R1/B1", "to": "VW-1/R2"}),
                       vera.delete("/storage/containers/VW-1/R2"),
                       vera.delete("/storage/containers/VW-1/R2", params={"dry_run": "true"})):
            assert answer.status_code == 403 and answer.json()["error"]["code"] == "permission_denied"
    assert httpx.get(server.url + "/storage/containers").status_code == 401
    with server.client("tina") as tina:
        assert tina.get("/storage/containers/VW-1/R2").status_code == 200


@pytest.mark.slow
def test_two_clients_placing_in_one_position_at_once_exactly_one_wins(tmp_path: Path) -> None:
    running = start_server(tmp_path, args=["--workers", "2"])
    try:
        with running.client("tina") as tina:
            rack_with_box(tina, "RC-1")
        token = running.token("tina")
        barrier = threading.Barrier(2)
        statuses: dict[str, int] = {}

        def place(sample_id: str) -> None:
            with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                barrier.wait()
                statuses[sample_id] = client.post("/samples", json=placed(sample_id, "RC-1/R1/B1:E5")).status_code

        threads = [threading.Thread(target=place, args=(f"RC-S{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses.values()) == [201, 409]
        with running.client("tina") as tina:
            box = tina.get("/storage/boxes/RC-1/R1/B1").json()
            winner = next(s for s, status in statuses.items() if status == 201)
            assert box["used"] == 1 and box["positions"][40] == {"position": "E5", "sample_id": winner}
    finally:
        running.stop()
