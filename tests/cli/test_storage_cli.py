"""`samplectl storage ...`, --position and import --fill as users and scripts see them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRun, Outcome
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

NEW = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14"]


def ok(result: Outcome) -> Outcome:
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def freezer(cli: CliRun) -> CliRun:
    """FRZ-1 with racks R1 and R2, and 9x9 boxes B1 and B2 in R1."""
    for args in (["freezer", "FRZ-1"], ["rack", "FRZ-1/R1"], ["rack", "FRZ-1/R2"],
                 ["box", "FRZ-1/R1/B1", "--grid", "9x9"], ["box", "FRZ-1/R1/B2", "--grid", "9x9"]):
        ok(cli("storage", "add", *args, "-o", "json"))
    return cli


def place(cli: CliRun, sample_id: str, position: str) -> Outcome:
    return cli("create", "--id", sample_id, *NEW, "--position", position, "-o", "json")


def csv_file(tmp_path: Path, rows: int, header: str = "sample_id,sample_type,subject_id,collection_date") -> Path:
    path = tmp_path / "samples.csv"
    lines = [header] + [f"S-{i:03d},blood,SUBJ-{i},2025-01-01" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_add_prints_the_container_as_json(cli: CliRun) -> None:
    ok(cli("storage", "add", "freezer", "FRZ-1"))
    ok(cli("storage", "add", "rack", "FRZ-1/R1"))
    made = ok(cli("storage", "add", "box", "FRZ-1/R1/B1", "--grid", "8x12", "-o", "json")).json()
    assert {k: made[k] for k in ("path", "kind", "parent", "rows", "cols")} == {
        "path": "FRZ-1/R1/B1", "kind": "box", "parent": "FRZ-1/R1", "rows": 8, "cols": 12}
    assert made["created_at"].endswith("Z")


def test_adding_an_existing_path_is_a_conflict(freezer: CliRun) -> None:
    result = freezer("storage", "add", "rack", "FRZ-1/R1")
    assert result.exit_code == 7 and "already exists" in result.stderr


def test_a_box_without_grid_is_a_usage_error_and_a_bad_grid_invalid(freezer: CliRun) -> None:
    assert freezer("storage", "add", "box", "FRZ-1/R1/B3").exit_code == 2
    assert freezer("storage", "add", "box", "FRZ-1/R1/B3", "--grid", "9by9").exit_code == 6
    assert freezer("storage", "add", "crate", "FRZ-1/R1/B3").exit_code == 6


def test_create_with_position_sets_the_location_and_history_shows_the_placement(freezer: CliRun) -> None:
    made = ok(place(freezer, "S-1", "FRZ-1/R1/B1:A5")).json()
    assert made["position"] == "FRZ-1/R1/B1:A5" and made["storage_location"] == "FRZ-1/R1/B1/A5"
    entry = ok(freezer("history", "S-1", "-o", "json")).json()[0]
    assert entry["changes"]["position"] == {"before": None, "after": "FRZ-1/R1/B1:A5"}


def test_a_taken_position_is_a_conflict_naming_the_occupant(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:A5"))
    result = place(freezer, "S-2", "FRZ-1/R1/B1:a5")
    assert result.exit_code == 7 and result.stdout == ""
    assert result.stderr.splitlines()[0] == "error: position FRZ-1/R1/B1:A5 is taken by sample S-1"
    assert freezer("get", "S-2").exit_code == 5


def test_j1_in_a_9x9_box_is_invalid(freezer: CliRun) -> None:
    result = place(freezer, "S-1", "FRZ-1/R1/B1:J1")
    assert result.exit_code == 6 and "outside the 9x9 grid" in result.stderr


def test_a_position_in_an_unknown_box_is_not_found(freezer: CliRun) -> None:
    assert place(freezer, "S-1", "FRZ-1/R1/B9:A1").exit_code == 5


def test_update_moves_a_sample_and_a_location_takes_it_out(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:A1"))
    ok(place(freezer, "S-2", "FRZ-1/R1/B1:A2"))
    assert freezer("update", "S-1", "--position", "FRZ-1/R1/B1:A2").exit_code == 7
    moved = ok(freezer("update", "S-1", "--position", "FRZ-1/R1/B2:C3", "-o", "json")).json()
    assert moved["storage_location"] == "FRZ-1/R1/B2/C3" and moved["version"] == 2
    # A1 is free again: the position belongs to nobody once its sample left.
    ok(place(freezer, "S-3", "FRZ-1/R1/B1:A1"))
    out = ok(freezer("update", "S-1", "--location", "bench 4", "-o", "json")).json()
    assert out["position"] is None and out["storage_location"] == "bench 4"
    shown = ok(freezer("storage", "show", "FRZ-1/R1/B2", "-o", "json")).json()
    assert shown["used"] == 0


def test_show_json_lists_positions_and_the_table_draws_a_grid_with_a_legend(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:B2"))
    shown = ok(freezer("storage", "show", "FRZ-1/R1/B1", "-o", "json")).json()
    assert shown["grid"] == "9x9" and shown["used"] == 1 and shown["total"] == 81
    assert shown["positions"][10] == {"position": "B2", "sample_id": "S-1"}
    table = ok(freezer("storage", "show", "FRZ-1/R1/B1", "-o", "table")).stdout
    lines = table.splitlines()
    assert "1/81 used" in lines[0]
    row_b = next(line for line in lines if line.startswith("│B"))
    assert "S-1" in row_b and row_b.count("·") == 8
    assert lines[-1].startswith("legend:") and "free (80)" in lines[-1] and "a sample (1)" in lines[-1]
    assert len(lines[-1]) <= 60  # fits the narrowest terminal


def test_show_prints_sample_ids_literally(freezer: CliRun) -> None:
    ok(place(freezer, "[b]x", "FRZ-1/R1/B1:A1"))
    drawn = ok(freezer("storage", "show", "FRZ-1/R1/B1", "-o", "table")).stdout
    row_a = next(line for line in drawn.splitlines() if line.startswith("│A"))
    assert row_a.split("│")[2].strip() == "[b]x"


def test_tree_and_list_show_used_over_total(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:A1"))
    listed = ok(freezer("storage", "list", "-o", "json")).json()
    assert [(r["path"], r["used"], r["total"]) for r in listed] == [
        ("FRZ-1", 1, 162), ("FRZ-1/R1", 1, 162), ("FRZ-1/R1/B1", 1, 81), ("FRZ-1/R1/B2", 0, 81), ("FRZ-1/R2", 0, 0)]
    tree = ok(freezer("storage", "tree", "-o", "json")).json()
    assert tree[0]["path"] == "FRZ-1" and [c["path"] for c in tree[0]["children"]] == ["FRZ-1/R1", "FRZ-1/R2"]
    drawn = ok(freezer("storage", "tree", "-o", "table")).stdout
    assert "B1  box 9x9  1/81" in drawn and "FRZ-1  freezer  1/162" in drawn


def test_free_need_together_names_the_run(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:C1"))
    found = ok(freezer("storage", "free", "--need", "24", "--together", "-o", "json")).json()
    assert [(f["path"], f["positions"][0], f["positions"][-1]) for f in found] == [
        ("FRZ-1/R1/B1", "C2", "E7"), ("FRZ-1/R1/B2", "A1", "C6")]
    assert freezer("storage", "free", "--together").exit_code == 2


def test_free_leaves_out_a_full_box(freezer: CliRun) -> None:
    ok(freezer("storage", "add", "box", "FRZ-1/R2/B1", "--grid", "1x1"))
    ok(place(freezer, "S-1", "FRZ-1/R2/B1:A1"))
    found = ok(freezer("storage", "free", "-o", "json")).json()
    assert [f["path"] for f in found] == ["FRZ-1/R1/B1", "FRZ-1/R1/B2"]
    assert ok(freezer("storage", "free", "--under", "FRZ-1/R2", "-o", "json")).json() == []


def test_import_fill_spills_into_the_next_box_and_history_shows_the_move(freezer: CliRun, tmp_path: Path) -> None:
    summary = ok(freezer("import", str(csv_file(tmp_path, 100)), "--fill", "FRZ-1/R1/B1",
                         "--fill", "FRZ-1/R1/B2", "-o", "json")).json()
    assert summary["created"] == 100
    first = ok(freezer("storage", "show", "FRZ-1/R1/B1", "-o", "json")).json()
    second = ok(freezer("storage", "show", "FRZ-1/R1/B2", "-o", "json")).json()
    assert first["used"] == 81 and second["used"] == 19
    assert first["positions"][0]["sample_id"] == "S-000" and second["positions"][0]["sample_id"] == "S-081"
    assert ok(freezer("get", "S-099", "-o", "json")).json()["storage_location"] == "FRZ-1/R1/B2/C1"
    assert freezer("storage", "move", "FRZ-1/R1/B2", "--to", "FRZ-1/R2").exit_code == 2  # no --yes off a terminal
    moved = ok(freezer("storage", "move", "FRZ-1/R1/B2", "--to", "FRZ-1/R2", "--yes", "-o", "json")).json()
    assert moved["to"] == "FRZ-1/R2/B2" and moved["samples"] == 19
    got = ok(freezer("get", "S-099", "-o", "json")).json()
    assert got["storage_location"] == "FRZ-1/R2/B2/C1" and got["position"] == "FRZ-1/R2/B2:C1"
    history = ok(freezer("history", "S-099", "-o", "json")).json()
    assert [h["action"] for h in history] == ["import", "move"]
    assert history[0]["changes"]["position"]["after"] == "FRZ-1/R1/B2:C1"
    assert history[1]["changes"]["storage_location"] == {"before": "FRZ-1/R1/B2/C1", "after": "FRZ-1/R2/B2/C1"}
    audit = ok(freezer("audit", "--action", "move", "-o", "json")).json()
    assert len(audit) == 19


def test_import_fill_without_room_writes_nothing(freezer: CliRun, tmp_path: Path) -> None:
    result = freezer("import", str(csv_file(tmp_path, 82)), "--fill", "FRZ-1/R1/B1", "-o", "json")
    assert result.exit_code == 7 and "room for 81" in result.stderr
    assert ok(freezer("list", "-o", "json")).json() == []


def test_import_position_column_places_rows_and_reports_taken_and_repeated(freezer: CliRun, tmp_path: Path) -> None:
    ok(place(freezer, "OLD", "FRZ-1/R1/B1:A1"))
    path = tmp_path / "placed.csv"
    path.write_text("sample_id,sample_type,subject_id,collection_date,position\n"
                    "N1,blood,S,2025-01-01,FRZ-1/R1/B1:A2\n"
                    "N2,blood,S,2025-01-01,FRZ-1/R1/B1:A1\n"
                    "N3,blood,S,2025-01-01,FRZ-1/R1/B1:A2\n"
                    "N4,blood,S,2025-01-01,FRZ-1/R1/B1:J1\n")
    result = freezer("import", str(path), "-o", "json")
    assert result.exit_code == 6
    details = json.loads(result.stderr.splitlines()[-1])["error"]["details"]
    assert [(d["line"], d["column"]) for d in details] == [(3, "position"), (4, "position"), (5, "position")]
    assert "taken by sample OLD" in details[0]["message"] and "also on line 2" in details[1]["message"]
    assert "outside the 9x9 grid" in details[2]["message"]
    partial = freezer("import", str(path), "--partial", "-o", "json")
    assert partial.exit_code == 6 and partial.json()["created"] == 1
    assert ok(freezer("get", "N1", "-o", "json")).json()["storage_location"] == "FRZ-1/R1/B1/A2"


def test_remove_refuses_a_non_empty_box_and_removes_an_empty_one(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:A1"))
    refused = freezer("storage", "remove", "FRZ-1/R1/B1", "--yes")
    assert refused.exit_code == 7 and "holds sample S-1" in refused.stderr
    assert freezer("storage", "remove", "FRZ-1/R1/B2").exit_code == 2
    ok(freezer("storage", "remove", "FRZ-1/R1/B2", "--yes"))
    assert freezer("storage", "show", "FRZ-1/R1/B2").exit_code == 5
    assert any(e["action"] == "storage-remove" and e["container"] == "FRZ-1/R1/B2"
               for e in ok(freezer("audit", "-o", "json")).json())


def test_move_asks_on_a_terminal(freezer: CliRun) -> None:
    declined = freezer("storage", "move", "FRZ-1/R1/B1", "--to", "FRZ-1/R2", input="n\n", tty="stdin,stderr")
    assert declined.exit_code == 130
    assert ok(freezer("storage", "show", "FRZ-1/R1/B1", "-o", "json")).json()["path"] == "FRZ-1/R1/B1"
    ok(freezer("storage", "move", "FRZ-1/R1/B1", "--to", "FRZ-1/R2", input="y\n", tty="stdin,stderr"))
    assert freezer("storage", "show", "FRZ-1/R2/B1", "-o", "json").exit_code == 0


def test_remove_on_a_terminal_refuses_what_is_not_empty_before_asking(freezer: CliRun) -> None:
    ok(place(freezer, "S-1", "FRZ-1/R1/B1:A1"))
    refused = freezer("storage", "remove", "FRZ-1/R1/B1", input="y\n", tty="stdin,stderr")
    assert refused.exit_code == 7 and "Remove FRZ-1/R1/B1?" not in refused.stderr
    assert "FRZ-1/R1/B1 is not empty: it holds sample S-1 at FRZ-1/R1/B1:A1" in refused.stderr.splitlines()[0]
    asked = ok(freezer("storage", "remove", "FRZ-1/R1/B2", input="y\n", tty="stdin,stderr"))
    assert "Remove FRZ-1/R1/B2?" in asked.stderr
    assert freezer("storage", "show", "FRZ-1/R1/B2").exit_code == 5


def test_viewers_read_but_cannot_change(freezer: CliRun, act_as) -> None:  # type: ignore[no-untyped-def]
    act_as("vera", "viewer")
    assert freezer("storage", "tree", "-o", "json").exit_code == 0
    assert freezer("storage", "add", "rack", "FRZ-1/R9").exit_code == 4
