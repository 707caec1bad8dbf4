"""`update ID` and `update --where`: the lifecycle, version checks, bulk changes and their audit records."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.remote_support import skip_in_remote_mode
from tests.support.audit_helpers import audit_records, seed_samples

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")

SAMPLE = ["--type", "blood", "--subject", "SUBJ-0042", "--collected", "2025-03-14T09:30",
          "--location", "FRZ-2/R3/B14"]


def ok(outcome: Any) -> Any:
    assert outcome.exit_code == 0, outcome.stderr
    return outcome


def create(cli, sample_id: str, *extra: str) -> dict[str, Any]:
    return ok(cli("create", "--id", sample_id, *SAMPLE, *extra, "-o", "json")).json()


def get(cli, sample_id: str) -> dict[str, Any]:
    return ok(cli("get", sample_id, "-o", "json")).json()


# -- lifecycle ---------------------------------------------------------------------------------

def test_archived_back_to_collected_exits_7_naming_the_allowed_states(cli) -> None:
    create(cli, "S-1", "--status", "archived")
    out = cli("update", "S-1", "--status", "collected", "-o", "json")
    assert out.exit_code == 7 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[0] == ("error: status cannot change from archived to collected; "
                        "allowed from archived: none (archived is final)")
    assert lines[1] == ("hint: the lifecycle is collected -> processing -> archived, and collected -> archived; "
                        "an admin may override with --force --reason")
    assert json.loads(lines[2])["error"]["code"] == "conflict"
    assert get(cli, "S-1")["status"] == "archived" and len(audit_records()) == 1


def test_a_refused_change_names_the_next_states(cli) -> None:
    create(cli, "S-1", "--status", "processing")
    out = cli("update", "S-1", "--status", "collected")
    assert out.exit_code == 7
    assert "allowed from processing: archived" in out.stderr


@pytest.mark.parametrize("path", [["processing", "archived"], ["archived"]])
def test_the_lifecycle_paths_are_allowed(cli, path: list[str]) -> None:
    create(cli, "S-1")
    for status in path:
        ok(cli("update", "S-1", "--status", status, "-o", "json"))
    assert get(cli, "S-1")["status"] == "archived"


def test_force_needs_a_reason_and_an_admin_and_is_recorded_as_forced(cli, act_as) -> None:
    create(cli, "S-1", "--status", "archived")
    out = cli("update", "S-1", "--status", "collected", "--force")
    assert out.exit_code == 2 and "--force needs --reason" in out.stderr
    act_as("tess", "technician")
    out = cli("update", "S-1", "--status", "collected", "--force", "--reason", "scanned wrong rack")
    assert out.exit_code == 4 and "admin" in out.stderr
    act_as("ada", "admin")
    assert ok(cli("update", "S-1", "--status", "collected", "--force", "--reason", "scanned wrong rack",
                  "-o", "json")).json()["status"] == "collected"
    record = audit_records()[-1]
    assert record["forced"] is True and record["reason"] == "scanned wrong rack" and record["user"] == "ada"
    entry = ok(cli("audit", "--action", "update", "-o", "json")).json()[-1]
    assert entry["forced"] is True
    assert "(forced)" in ok(cli("history", "S-1", tty="stdout", env={"COLUMNS": "200"})).stdout


def test_force_on_an_allowed_change_is_not_marked_forced(cli) -> None:
    create(cli, "S-1")
    ok(cli("update", "S-1", "--status", "processing", "--force", "--reason", "r", "-o", "json"))
    assert "forced" not in audit_records()[-1]


# -- update ID -----------------------------------------------------------------------------------

def test_update_prints_the_record_bumps_the_version_and_records_it(cli) -> None:
    create(cli, "S-1")
    out = ok(cli("update", "S-1", "--location", "FRZ-9/R1", "--reason", "rack moved", "-o", "json"))
    record = out.json()
    assert record["storage_location"] == "FRZ-9/R1" and record["version"] == 2
    assert record == get(cli, "S-1")
    assert out.stderr == "updated S-1: storage_location\n"
    last = audit_records()[-1]
    assert last["changes"] == {"storage_location": {"before": "FRZ-2/R3/B14", "after": "FRZ-9/R1"}}
    assert last["version"] == 2 and last["reason"] == "rack moved"


def test_an_update_that_changes_nothing_records_nothing(cli) -> None:
    create(cli, "S-1")
    out = ok(cli("update", "S-1", "--location", "FRZ-2/R3/B14", "-o", "json"))
    assert out.json()["version"] == 1 and "nothing changed" in out.stderr
    assert len(audit_records()) == 1


def test_if_version_refuses_a_stale_write(cli) -> None:
    create(cli, "S-1")
    ok(cli("update", "S-1", "--location", "A", "-o", "json"))
    out = cli("update", "S-1", "--location", "B", "--if-version", "1")
    assert out.exit_code == 7 and "version 2, not 1" in out.stderr and "hint:" in out.stderr
    assert ok(cli("update", "S-1", "--location", "B", "--if-version", "2", "-o", "json")).json()["version"] == 3


def test_update_of_a_missing_sample_exits_5(cli) -> None:
    assert cli("update", "NOPE", "--status", "processing").exit_code == 5


@pytest.mark.parametrize("args, message", [
    (["update"], "missing ID"),
    (["update", "S-1"], "nothing to change"),
    (["update", "S-1", "--where", "--status", "collected", "--set-status", "processing"], "either ID or --where"),
    (["update", "S-1", "--collected-from", "2025-01-01", "--status", "processing"], "needs --where"),
    (["update", "S-1", "--status", "processing", "--set-status", "archived"], "not both"),
    (["update", "--where", "--status", "collected", "--set-status", "processing", "--id", "X"], "--id cannot"),
    (["update", "--where", "--status", "collected"], "--set-status, --set-location or --set-location-prefix"),
    (["update", "--where", "--set-location-prefix", "FRZ-2/", "--yes"], "exactly one --location PREFIX"),
    (["update", "--where", "--location", "A/", "--location", "B/", "--set-location-prefix", "C/", "--yes"],
     "exactly one --location PREFIX"),
    (["update", "--where", "--location", "A/", "--set-location", "X", "--set-location-prefix", "C/"], "not both"),
    (["update", "S-1", "--set-location-prefix", "C/"], "--set-location-prefix needs --where"),
    (["update", "S-1", "--status", "processing", "--dry-run"], "--dry-run needs --where"),
    (["update", "--where", "--set-location", "X", "--yes"], "at least one criterion"),
    (["update", "--nonsense"], "No such option"),
])
def test_usage_errors_exit_2(cli, args: list[str], message: str) -> None:
    create(cli, "S-1")
    out = cli(*args)
    assert out.exit_code == 2, out.stderr
    assert message in out.stderr and out.stdout == ""
    assert len(audit_records()) == 1


def test_set_location_also_works_for_one_sample(cli) -> None:
    create(cli, "S-1")
    assert ok(cli("update", "S-1", "--set-location", "FRZ-3", "-o", "json")).json()["storage_location"] == "FRZ-3"


# -- update --where ------------------------------------------------------------------------------

def test_where_needs_yes_without_a_terminal(cli) -> None:
    create(cli, "S-1")
    out = cli("update", "--where", "--status", "collected", "--set-status", "processing")
    assert out.exit_code == 2 and "--yes" in out.stderr
    assert get(cli, "S-1")["status"] == "collected"


def test_where_asks_on_a_terminal_showing_how_many_match(cli) -> None:
    for n in range(3):
        create(cli, f"S-{n}")
    out = cli("update", "--where", "--status", "collected", "--set-status", "processing", "-o", "json",
              input="n\n", tty="stdin,stdout")
    assert "3 samples match" in out.stderr and "Set status to 'processing' on 3 samples?" in out.stderr
    assert out.exit_code != 0 and get(cli, "S-0")["status"] == "collected"
    out = cli("update", "--where", "--status", "collected", "--set-status", "processing", "-o", "json",
              input="y\n", tty="stdin,stdout")
    assert out.exit_code == 0, out.stderr
    summary = json.loads(out.stdout[out.stdout.index("{"):])  # the test runner echoes the typed answer
    assert summary["changed"] == 3 and get(cli, "S-2")["status"] == "processing"


def test_where_changes_each_sample_with_its_own_record_and_summarises(cli, act_as) -> None:
    act_as("tess", "technician")
    for n in range(4):
        create(cli, f"S-{n}", "--location", f"FRZ-1/R3/B{n}")
    create(cli, "OTHER", "--location", "FRZ-10/R3")
    out = ok(cli("update", "--where", "--location", "FRZ-1/", "--set-location", "FRZ-2/R1",
                 "--reason", "freezer 1 defrost", "--yes", "-o", "json"))
    summary = out.json()
    assert summary == {"set": {"storage_location": "FRZ-2/R1"}, "matched": 4, "changed": 4, "unchanged": 0,
                       "refused": 0, "refused_samples": [], "seconds": summary["seconds"]}
    assert "4 samples match" in out.stderr
    moved = [r for r in audit_records() if r["action"] == "update"]
    assert sorted(r["sample_id"] for r in moved) == ["S-0", "S-1", "S-2", "S-3"]
    assert all(r["user"] == "tess" and r["reason"] == "freezer 1 defrost" and r["version"] == 2 for r in moved)
    assert moved[0]["changes"] == {"storage_location": {"before": "FRZ-1/R3/B0", "after": "FRZ-2/R1"}}
    assert get(cli, "OTHER")["storage_location"] == "FRZ-10/R3"


def test_where_applies_what_it_can_and_exits_7_listing_the_refused(cli) -> None:
    create(cli, "S-A", "--status", "collected")
    create(cli, "S-B", "--status", "processing")
    create(cli, "S-C", "--status", "archived")
    create(cli, "S-D", "--status", "archived", "--location", "FRZ-2/R3/B14")
    out = cli("update", "--where", "--type", "blood", "--set-status", "processing", "--yes", "-o", "json")
    assert out.exit_code == 7
    summary = out.json()
    assert (summary["matched"], summary["changed"], summary["unchanged"], summary["refused"]) == (4, 1, 1, 2)
    assert [r["sample_id"] for r in summary["refused_samples"]] == ["S-C", "S-D"]
    assert "allowed from archived: none" in summary["refused_samples"][0]["message"]
    err = out.stderr.splitlines()
    assert "refused S-C: status cannot change from archived to processing" in err[1]
    assert any(line.startswith("error: 2 of 4 selected samples were refused; 1 changed") for line in err)
    envelope = json.loads(err[-1])["error"]
    assert envelope["code"] == "conflict" and [d["sample_id"] for d in envelope["details"]] == ["S-C", "S-D"]
    assert [get(cli, s)["status"] for s in ("S-A", "S-B", "S-C", "S-D")] == [
        "processing", "processing", "archived", "archived"]


def test_where_force_overrides_the_lifecycle_for_admins_only(cli, act_as) -> None:
    create(cli, "S-C", "--status", "archived")
    act_as("tess", "technician")
    out = cli("update", "--where", "--status", "archived", "--set-status", "processing", "--force",
              "--reason", "thawed for re-test", "--yes")
    assert out.exit_code == 4
    act_as("ada", "admin")
    ok(cli("update", "--where", "--status", "archived", "--set-status", "processing", "--force",
           "--reason", "thawed for re-test", "--yes", "-o", "json"))
    assert audit_records()[-1]["forced"] is True


def test_where_with_no_match_changes_nothing_and_succeeds(cli) -> None:
    out = ok(cli("update", "--where", "--subject", "NOBODY", "--set-status", "processing", "-o", "json"))
    assert out.json()["matched"] == 0 and "0 samples match" in out.stderr


@pytest.mark.parametrize("args", [["--set-status", "frozen"], ["--set-location", "bad\tlocation"],
                                  ["--set-status", "processing", "--type", "plasma"]])
def test_where_bad_values_exit_6_before_anything_is_written(cli, args: list[str]) -> None:
    create(cli, "S-1")
    out = cli("update", "--where", "--status", "collected", *args, "--yes")
    assert out.exit_code == 6, out.stderr
    assert len(audit_records()) == 1


def test_where_table_summary_on_a_terminal(cli) -> None:
    create(cli, "S-1")
    out = ok(cli("update", "--where", "--status", "collected", "--set-location", "FRZ-7", "--yes", tty="stdout"))
    assert "changed" in out.stdout and "storage_location = FRZ-7" in out.stdout


@pytest.mark.slow
def test_a_thousand_samples_moved_with_one_command_each_with_its_own_record(cli, backend_for_bulk) -> None:
    """Acceptance: move 1,000 samples with one `update --where --set-location`."""
    seed_samples(1000, storage_location="FRZ-1/R3/B7")
    started = time.perf_counter()
    out = ok(cli("update", "--where", "--location", "FRZ-1/R3/", "--set-location", "FRZ-4/R1/B2",
                 "--reason", "rack moved", "--yes", "-o", "json"))
    seconds = time.perf_counter() - started
    summary = out.json()
    assert (summary["matched"], summary["changed"], summary["refused"]) == (1000, 1000, 0)
    records = audit_records()
    moved = [r for r in records if r["action"] == "update"]
    assert len(moved) == 1000 and len({r["sample_id"] for r in moved}) == 1000
    assert ok(cli("filter", "--location", "FRZ-4/R1/B2", "--count")).stdout == "1000\n"
    from samplectl.domain.audit import check_chain

    assert check_chain(records).ok
    print(f"\n1000 samples moved on {backend_for_bulk} in {seconds:.2f} s")


@pytest.fixture(params=["embedded", "wire"])
def backend_for_bulk(request: pytest.FixtureRequest) -> str:
    if request.param == "wire":
        skip_in_remote_mode("the server of remote mode runs on the embedded store")
        request.getfixturevalue("wire_env")
    return str(request.param)


def test_where_shows_progress_on_a_terminal_without_disturbing_stdout(cli) -> None:
    for n in range(3):
        create(cli, f"S-{n}")
    out = ok(cli("update", "--where", "--status", "collected", "--set-status", "archived", "--yes", "-o", "json",
                 tty="stderr"))
    assert out.json()["changed"] == 3
