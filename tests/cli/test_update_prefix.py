"""Issue 14 item 3: `update --where --set-location-prefix`, the before -> after preview, `--dry-run`."""

from __future__ import annotations

from typing import Any

from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE
from tests.support.audit_helpers import audit_records

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

RACK = ["FRZ-1/R3/B1", "FRZ-1/R3/B2", "FRZ-1/R3/B3"]


def seed(cli: CliRun) -> None:
    for n, location in enumerate([*RACK, "FRZ-1/R30/B1"]):
        made = cli("create", "--id", f"S-{n}", "--type", "blood", "--subject", "SUBJ-1", "--collected",
                   "2025-03-14T09:30", "--location", location)
        assert made.exit_code == 0, made.stderr


def locations(cli: CliRun) -> dict[str, Any]:
    return {r["sample_id"]: r["storage_location"] for r in cli("list", "-o", "json").json()}


def test_set_location_prefix_moves_a_rack_keeping_the_boxes(cli: CliRun) -> None:
    seed(cli)
    out = cli("update", "--where", "--location", "FRZ-1/R3/", "--set-location-prefix", "FRZ-2/R1/", "--yes",
              "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert out.json()["changed"] == 3
    assert locations(cli) == {"S-0": "FRZ-2/R1/B1", "S-1": "FRZ-2/R1/B2", "S-2": "FRZ-2/R1/B3",
                              "S-3": "FRZ-1/R30/B1"}
    moves = [r["changes"]["storage_location"] for r in audit_records() if r["action"] == "update"]
    assert {"before": "FRZ-1/R3/B2", "after": "FRZ-2/R1/B2"} in moves


def test_a_prefix_making_a_location_too_long_refuses_that_sample_only(cli: CliRun) -> None:
    seed(cli)
    out = cli("update", "--where", "--location", "FRZ-1/R30/", "--set-location-prefix", "X" * 127, "--yes")
    assert out.exit_code == 7
    assert "refused S-3" in out.stderr
    assert locations(cli)["S-3"] == "FRZ-1/R30/B1"


def test_an_empty_new_prefix_is_invalid_input(cli: CliRun) -> None:
    seed(cli)
    out = cli("update", "--where", "--location", "FRZ-1/R3/", "--set-location-prefix", "", "--yes")
    assert out.exit_code == 6 and "--set-location-prefix is empty" in out.stderr


def test_the_terminal_shows_before_and_after_before_asking(cli: CliRun) -> None:
    seed(cli)
    out = cli("update", "--where", "--location", "FRZ-1/R3/", "--set-location-prefix", "FRZ-2/R1/",
              input="n\n", tty="stdin,stdout")
    assert "  S-0  storage_location: FRZ-1/R3/B1 \u2192 FRZ-2/R1/B1" in out.stderr
    assert "  S-2  storage_location: FRZ-1/R3/B3 \u2192 FRZ-2/R1/B3" in out.stderr
    question = "Set the storage_location prefix 'FRZ-1/R3/' to 'FRZ-2/R1/' on 3 samples?"
    assert out.stderr.index("\u2192") < out.stderr.index(question)
    assert out.exit_code != 0 and locations(cli)["S-0"] == "FRZ-1/R3/B1"


def test_the_preview_says_a_cleared_position_is_none(cli: CliRun) -> None:
    """Moving a sample out of its box clears its position: the question says `(none)`, not Python's `None`."""
    for kind, path, *more in (("freezer", "FRZ-1"), ("rack", "FRZ-1/R3"), ("box", "FRZ-1/R3/B1", "--grid", "2x2")):
        assert cli("storage", "add", kind, path, *more).exit_code == 0
    made = cli("create", "--id", "S-9", "--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14T09:30",
               "--position", "FRZ-1/R3/B1:A1")
    assert made.exit_code == 0, made.stderr
    out = cli("update", "--where", "--location", "FRZ-1/R3/", "--set-location-prefix", "FRZ-2/R1/",
              input="n\n", tty="stdin,stdout")
    assert "  S-9  position: FRZ-1/R3/B1:A1 \u2192 (none)" in out.stderr
    assert "None" not in out.stderr


def test_dry_run_prints_the_whole_plan_as_data_and_writes_nothing(cli: CliRun) -> None:
    seed(cli)
    before = len(audit_records())
    out = cli("update", "--where", "--location", "FRZ-1/", "--set-location-prefix", "FRZ-9/", "--set-status",
              "processing", "--dry-run", "-o", "json")
    assert out.exit_code == 0, out.stderr
    plan = out.json()
    assert len(plan) == 8
    assert {"sample_id": "S-3", "field": "storage_location", "before": "FRZ-1/R30/B1", "after": "FRZ-9/R30/B1",
            "refused": None} in plan
    assert {"sample_id": "S-0", "field": "status", "before": "collected", "after": "processing",
            "refused": None} in plan
    assert "nothing was written" in out.stderr
    assert len(audit_records()) == before and locations(cli)["S-0"] == "FRZ-1/R3/B1"


def test_dry_run_names_what_would_be_refused(cli: CliRun) -> None:
    seed(cli)
    cli("update", "S-0", "--status", "archived")
    out = cli("update", "--where", "--location", "FRZ-1/R3/", "--set-status", "processing", "--dry-run", "-o", "csv")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "sample_id,field,before,after,refused"
    assert lines[1].startswith("S-0,status,archived,processing,status cannot change from archived to processing")
    assert lines[2] == "S-1,status,collected,processing,"


def test_update_help_and_the_docs_teach_the_prefix_move() -> None:
    from typer.testing import CliRunner

    from samplectl.cli.app import app
    from tests.conftest import ROOT

    text = CliRunner().invoke(app, ["update", "--help"], env={"COLUMNS": "80"}).stdout
    assert "--location FRZ-1/R3/ --set-location-prefix FRZ-2/R1/" in text
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in docs:
        assert "--set-location FRZ-2/R1/" not in page.read_text(), page
    assert "--set-location FRZ-2/R1/" not in text
