"""samplectl export and samplectl import undo, through the command line."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cli.csvfiles import EXPORT_HEADER, HEADER, row, stored, summary, write

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")

INPUT_FIELDS = HEADER.split(",")


def create(cli: Any, sample_id: str, **over: str) -> None:
    values = {"--type": "blood", "--subject": "SUBJ-1", "--collected": "2025-02-01T10:00:00Z",
              "--location": "FRZ-1/R1", **over}
    out = cli("create", "--id", sample_id, *(x for kv in values.items() for x in kv), "-o", "json")
    assert out.exit_code == 0, out.stderr


# -- export ------------------------------------------------------------------------------------------
def test_export_csv_has_exactly_the_import_columns(cli) -> None:
    create(cli, "S-1")
    out = cli("export", "-o", "csv")
    assert out.exit_code == 0
    assert out.stdout.splitlines() == [EXPORT_HEADER, "S-1,blood,SUBJ-1,2025-02-01T10:00:00Z,collected,FRZ-1/R1,"]


def test_export_defaults_to_csv_and_takes_the_filter_criteria(cli) -> None:
    create(cli, "A", **{"--type": "saliva"})
    create(cli, "B", **{"--location": "FRZ-2/R1"})
    create(cli, "C", **{"--collected": "2024-01-01"})
    out = cli("export", "--type", "blood", "--collected-from", "2025-01-01")
    assert [r["sample_id"] for r in csv.DictReader(io.StringIO(out.stdout))] == ["B"]
    by_location = cli("export", "--location", "FRZ-1", "--location", "FRZ-2", "--sort", "sample_id")
    assert [r["sample_id"] for r in csv.DictReader(io.StringIO(by_location.stdout))] == ["A", "B", "C"]
    assert cli("export", "--type", "plasma").exit_code == 6


def test_export_jsonl_streams_every_field(cli) -> None:
    create(cli, "S-1")
    create(cli, "S-2")
    lines = cli("export", "-o", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["sample_id"] for r in records} == {"S-1", "S-2"}
    assert records[0]["version"] == 1 and records[0]["created_by"] == "tester"


def test_export_refuses_a_table(cli) -> None:
    out = cli("export", "-o", "table")
    assert out.exit_code == 6 and "csv, jsonl, json" in out.stderr


def test_export_to_a_file_replaces_it_whole(cli, tmp_path) -> None:
    create(cli, "S-1")
    (tmp_path / "exports").mkdir()
    target = tmp_path / "exports" / "out.csv"
    target.write_text("old content\n" * 10)
    out = cli("export", "--file", str(target))
    assert out.exit_code == 0 and out.stdout == ""
    assert target.read_text().splitlines()[0] == EXPORT_HEADER and len(target.read_text().splitlines()) == 2
    assert "exported 1 samples" in out.stderr
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]  # no temporary file left behind


def test_export_to_an_unwritable_place_is_invalid(cli, tmp_path) -> None:
    out = cli("export", "--file", str(tmp_path / "missing" / "out.csv"))
    assert out.exit_code == 6 and "cannot write" in out.stderr


@pytest.mark.local_only("it moves to another data directory, which in remote mode holds no store")
def test_export_then_import_into_an_empty_store_gives_identical_samples(cli, tmp_path, monkeypatch) -> None:
    create(cli, "S-1", **{"--collected": "2025-03-14T09:30:00+01:00", "--location": 'Kühlraum, "B"'})
    create(cli, "S-2", **{"--status": "archived", "--type": "tissue"})
    exported = cli("export", "-o", "csv").stdout
    before = {r["sample_id"]: {k: r[k] for k in INPUT_FIELDS} for r in json.loads(cli("list", "-o", "json").stdout)}
    monkeypatch.setenv("SAMPLECTL_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SAMPLECTL_MONGODB_DB", f"elsewhere{uuid.uuid4().hex[:12]}")  # on the MongoDB engine: another database
    out = cli("import", "-", "-o", "json", input=exported)
    assert out.exit_code == 0, out.stderr
    after = {r["sample_id"]: {k: r[k] for k in INPUT_FIELDS} for r in json.loads(cli("list", "-o", "json").stdout)}
    assert after == before


def test_acceptance_export_piped_to_a_dry_run_validates_cleanly(cli) -> None:
    for i in range(5):
        create(cli, f"S-{i}")
    exported = cli("export", "-o", "csv")
    # Into the same store every id exists: a dry run says the real import would skip them all.
    out = cli("import", "-", "--dry-run", "--on-conflict", "skip", "-o", "json", input=exported.stdout)
    assert out.exit_code == 0, out.stderr
    assert summary(out)["read"] == 5 and summary(out)["rejected"] == 0 and summary(out)["skipped"] == 5


def test_export_progress_only_to_a_file_on_a_terminal(cli, tmp_path) -> None:
    create(cli, "S-1")
    shown = cli("export", "--file", str(tmp_path / "x.csv"), tty="stderr")
    assert "rows/s" in shown.stderr
    assert "rows/s" not in cli("export", "--file", str(tmp_path / "y.csv")).stderr
    assert "rows/s" not in cli("-q", "export", "--file", str(tmp_path / "z.csv"), tty="stderr").stderr


def test_viewers_may_export(cli, act_as) -> None:
    create(cli, "S-1")
    act_as("vera", "viewer")
    assert cli("export").exit_code == 0


# -- import undo ---------------------------------------------------------------------------------------
def imported(cli: Any, tmp_path: Path, count: int = 3) -> str:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, *(row(i) for i in range(count))])), "-o", "json")
    assert out.exit_code == 0, out.stderr
    return str(summary(out)["batch_id"])


def test_undo_removes_what_the_batch_created_and_keeps_what_changed(cli, tmp_path, store, embedded_db) -> None:
    cli("create", "--id", "OTHER", "--type", "blood", "--subject", "S", "--collected", "2025-01-01", "--location", "L")
    batch = imported(cli, tmp_path)
    assert cli("update", "S-0001", "--status", "processing", "-o", "json").exit_code == 0
    out = cli("import", "undo", batch, "--yes", "--reason", "wrong file", "-o", "json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {"batch_id": batch, "removed": 2, "kept": ["S-0001"]}
    assert "kept 1 changed since the import" in out.stderr
    assert sorted(stored(store)) == ["OTHER", "S-0001"]
    history = list(embedded_db.audit.for_sample("S-0000"))
    assert [e["action"] for e in history] == ["import", "undo"]
    assert history[1]["reason"] == "wrong file" and history[1]["changes"]["sample_id"]["after"] is None


def test_undo_needs_yes_without_a_terminal(cli, tmp_path, store) -> None:
    batch = imported(cli, tmp_path)
    out = cli("import", "undo", batch)
    assert out.exit_code == 2 and "--yes" in out.stderr
    assert len(stored(store)) == 3


def test_undo_asks_on_a_terminal(cli, tmp_path, store) -> None:
    batch = imported(cli, tmp_path)
    declined = cli("import", "undo", batch, input="n\n", tty="stdin")
    assert "Remove the 3 samples import batch" in declined.stderr and len(stored(store)) == 3
    assert f"import batch {batch} created (from in.csv, " in declined.stderr  # the file's own name
    accepted = cli("import", "undo", batch, "-o", "json", input="y\n", tty="stdin")
    assert accepted.exit_code == 0 and stored(store) == {}


def test_undo_is_for_admins(cli, tmp_path, act_as, store) -> None:
    batch = imported(cli, tmp_path)
    act_as("tina", "technician")
    out = cli("import", "undo", batch, "--yes")
    assert out.exit_code == 4 and len(stored(store)) == 3


def test_undo_of_an_unknown_batch_is_not_found(cli) -> None:
    out = cli("import", "undo", "19990101-000000-000000", "--yes")
    assert out.exit_code == 5 and "no import batch" in out.stderr


def test_undo_twice_has_nothing_left_to_do(cli, tmp_path) -> None:
    batch = imported(cli, tmp_path)
    assert cli("import", "undo", batch, "--yes").exit_code == 0
    again = cli("import", "undo", batch, "--yes", "-o", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["removed"] == 0
    assert "nothing to undo" in again.stderr


def test_an_undone_file_may_be_imported_again(cli, tmp_path, store) -> None:
    batch = imported(cli, tmp_path)
    cli("import", "undo", batch, "--yes")
    again = cli("import", str(tmp_path / "in.csv"), "-o", "json")
    assert again.exit_code == 0 and summary(again)["created"] == 3
