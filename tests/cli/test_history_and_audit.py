"""`history ID`, `audit` and `audit verify` as users and scripts see them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.remote_support import skip_in_remote_mode
from tests.support import rawstore
from tests.support.audit_helpers import append_audit, audit_records, raw_database

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")

SAMPLE = ["--type", "blood", "--subject", "SUBJ-0042", "--collected", "2025-03-14T09:30",
          "--location", "FRZ-2/R3/B14"]


@pytest.fixture(params=["embedded", "wire"])
def backend(request: pytest.FixtureRequest) -> str:
    """The CLI on its embedded default, and over the real pymongo driver to a wire-protocol server."""
    if request.param == "wire":
        skip_in_remote_mode("the server of remote mode runs on the embedded store")
        request.getfixturevalue("wire_env")
    return str(request.param)


def ok(outcome: Any) -> Any:
    assert outcome.exit_code == 0, outcome.stderr
    return outcome


def test_create_update_twice_delete_gives_four_entries_with_values_and_user(cli, act_as, backend) -> None:
    act_as("tess", "technician")
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    ok(cli("update", "S-1", "--status", "processing", "--reason", "aliquoted", "-o", "json"))
    ok(cli("update", "S-1", "--location", "FRZ-9/R1", "-o", "json"))
    act_as("ada", "admin")
    ok(cli("delete", "S-1", "--yes", "--reason", "registered twice"))
    act_as("vic", "viewer")
    out = ok(cli("history", "S-1", "-o", "json"))
    entries = out.json()
    assert out.stderr == ""
    assert [list(e) for e in entries] == [["at", "user", "action", "sample_id", "changes", "reason"]] * 4
    assert [(e["action"], e["user"], e["reason"]) for e in entries] == [
        ("create", "tess", None), ("update", "tess", "aliquoted"), ("update", "tess", None),
        ("delete", "ada", "registered twice")]
    assert entries[0]["changes"]["status"] == {"before": None, "after": "collected"}
    assert entries[0]["changes"]["collection_date"] == {"before": None, "after": "2025-03-14T09:30:00Z"}
    assert entries[1]["changes"] == {"status": {"before": "collected", "after": "processing"}}
    assert entries[2]["changes"] == {"storage_location": {"before": "FRZ-2/R3/B14", "after": "FRZ-9/R1"}}
    # The delete record holds the full last state.
    last = {name: change["before"] for name, change in entries[3]["changes"].items()}
    assert all(change["after"] is None for change in entries[3]["changes"].values())
    assert last["status"] == "processing" and last["storage_location"] == "FRZ-9/R1"
    assert last["version"] == 3 and last["created_by"] == "tess" and last["updated_by"] == "tess"
    assert all(e["at"].endswith("Z") and e["sample_id"] == "S-1" for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)


def test_history_on_a_terminal_is_a_table(cli) -> None:
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    ok(cli("update", "S-1", "--status", "archived", "-o", "json"))
    out = ok(cli("history", "S-1", tty="stdout", env={"COLUMNS": "200"}))
    assert "tester" in out.stdout and "status: collected" in out.stdout and "-> archived" in out.stdout
    assert "create" in out.stdout and "update" in out.stdout


def test_history_jsonl_and_csv(cli) -> None:
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    lines = ok(cli("history", "S-1", "-o", "jsonl")).stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["action"] == "create"
    rows = ok(cli("history", "S-1", "-o", "csv")).stdout.splitlines()
    assert rows[0] == "at,user,action,sample_id,changes,reason"
    assert '""after"": ""blood""' in rows[1]


def test_history_of_an_id_that_never_existed_exits_5(cli, backend) -> None:
    out = cli("history", "NO-SUCH-SAMPLE", "-o", "json")
    assert out.exit_code == 5
    assert out.stdout == ""
    assert out.stderr.startswith("error: sample 'NO-SUCH-SAMPLE' has never existed")
    assert json.loads(out.stderr.splitlines()[-1])["error"]["code"] == "not_found"


def test_history_follows_a_renamed_sample(cli) -> None:
    ok(cli("create", "--id", "OLD-1", *SAMPLE, "-o", "json"))
    ok(cli("update", "OLD-1", "--id", "NEW-1", "-o", "json"))
    new = ok(cli("history", "NEW-1", "-o", "json")).json()
    assert [e["action"] for e in new] == ["create", "update"]
    assert new[1]["changes"] == {"sample_id": {"before": "OLD-1", "after": "NEW-1"}}
    assert len(ok(cli("history", "OLD-1", "-o", "json")).json()) == 2


def test_audit_is_for_admins_and_history_for_viewers(cli, act_as) -> None:
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    act_as("tess", "technician")
    for args in (["audit"], ["audit", "verify"]):
        out = cli(*args, "-o", "json")
        assert out.exit_code == 4 and "admin" in out.stderr and out.stdout == ""
    act_as("vic", "viewer")
    assert ok(cli("history", "S-1", "-o", "json")).json()[0]["user"] == "tester"


def test_audit_queries_by_user_action_sample_and_time(cli, act_as, backend) -> None:
    act_as("alice", "technician")
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    ok(cli("create", "--id", "S-2", *SAMPLE, "-o", "json"))
    act_as("bob", "technician")
    ok(cli("update", "S-1", "--status", "processing", "-o", "json"))
    append_audit({"user": "alice", "action": "login"}, {"user": "eve", "action": "login_failed"},
                 {"user": "ada", "action": "user_add", "details": {"username": "carl", "role": "viewer"}})
    act_as("ada", "admin")

    def query(*flags: str) -> list[tuple[str, str, Any]]:
        entries = ok(cli("audit", *flags, "-o", "json")).json()
        return [(e["user"], e["action"], e["sample_id"]) for e in entries]

    assert query("--user", "alice") == [("alice", "create", "S-1"), ("alice", "create", "S-2"),
                                         ("alice", "login", None)]
    assert query("--action", "login", "--action", "login_failed") == [("alice", "login", None),
                                                                      ("eve", "login_failed", None)]
    assert query("--sample", "S-1") == [("alice", "create", "S-1"), ("bob", "update", "S-1")]
    assert query("--user", "bob", "--action", "create") == []
    assert len(query("--since", "2000-01-01", "--until", "2999-12-31")) == 6
    assert query("--until", "2000-01-01") == []
    assert query("--limit", "2") == [("eve", "login_failed", None), ("ada", "user_add", None)]
    entries = ok(cli("audit", "--action", "user_add", "-o", "json")).json()
    assert entries[0]["details"] == {"username": "carl", "role": "viewer"} and entries[0]["seq"] == 6


def test_audit_formats_and_limits(cli) -> None:
    for n in range(3):
        ok(cli("create", "--id", f"S-{n}", *SAMPLE, "-o", "json"))
    lines = ok(cli("audit", "-o", "jsonl")).stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    rows = ok(cli("audit", "-o", "csv")).stdout.splitlines()
    assert rows[0] == "seq,at,user,action,sample_id,changes,reason" and len(rows) == 4
    out = ok(cli("audit", "--limit", "2", tty="stdout"))
    assert "S-1" in out.stdout and "S-2" in out.stdout and "S-0" not in out.stdout
    assert "showing the newest 2" in out.stderr
    assert len(ok(cli("audit", "--all", "--limit", "1", "-o", "json")).json()) == 3


@pytest.mark.parametrize("flags", [["--since", "last tuesday"], ["--until", "2025-13-01"], ["--limit", "0"]])
def test_audit_bad_criteria_exit_6(cli, flags) -> None:
    out = cli("audit", *flags, "-o", "json")
    assert out.exit_code == 6 and out.stdout == "" and out.stderr.startswith("error: ")


def test_verify_an_intact_trail(cli, backend) -> None:
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    append_audit({"user": "alice", "action": "login"})
    report = ok(cli("audit", "verify", "-o", "json")).json()
    assert report["ok"] is True and report["records"] == 2 and report["problem"] is None
    assert report["head"] == {"seq": 2, "hash": audit_records()[-1]["hash"]}
    out = ok(cli("audit", "verify", tty="stdout"))
    assert "intact" in out.stdout


def test_verify_names_a_record_changed_in_the_store_and_exits_6(cli, backend) -> None:
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    ok(cli("update", "S-1", "--status", "processing", "-o", "json"))
    ok(cli("update", "S-1", "--status", "archived", "-o", "json"))
    target = audit_records()[1]
    with raw_database() as database:
        rawstore.set_audit(database, 2, changes__status__after="archived")
    out = cli("audit", "verify", "-o", "json")
    assert out.exit_code == 6
    report = out.json()
    assert report["ok"] is False and report["records"] == 1
    assert report["problem"]["seq"] == 2 and report["problem"]["id"] == target["_id"]
    first_line = out.stderr.splitlines()[0]
    assert first_line.startswith(f"error: audit record seq 2 (id {target['_id']}")
    assert "update of S-1" in first_line and "changed" in first_line
    assert out.stderr.splitlines()[1].startswith("hint: ")
    assert json.loads(out.stderr.splitlines()[-1])["error"]["details"][0]["seq"] == 2


def test_verify_detects_deleted_and_reordered_records(cli) -> None:
    for n in range(4):
        ok(cli("create", "--id", f"S-{n}", *SAMPLE, "-o", "json"))
    with raw_database() as database:
        rawstore.delete_audit(database, 3)
    out = cli("audit", "verify", "-o", "json")
    assert out.exit_code == 6 and out.json()["problem"]["seq"] == 4 and "missing" in out.stderr


def test_history_reads_nothing_samplectl_did_not_write(cli) -> None:
    """No command edits or removes audit records: the trail only grows."""
    ok(cli("create", "--id", "S-1", *SAMPLE, "-o", "json"))
    first = audit_records()
    ok(cli("update", "S-1", "--status", "processing", "-o", "json"))
    ok(cli("delete", "S-1", "--yes"))
    after = audit_records()
    assert after[: len(first)] == first and len(after) == 3


def test_roles_are_checked_before_the_flags(cli, act_as) -> None:
    act_as("tess", "technician")
    assert cli("audit", "--since", "not a date").exit_code == 4


def test_history_of_a_sample_recorded_before_the_trail_existed_is_empty(cli) -> None:
    from datetime import UTC, datetime

    with raw_database() as database:
        when = datetime(2025, 1, 1, tzinfo=UTC)
        database.samples.insert({
            "sample_id": "LEGACY-1", "sample_type": "blood", "subject_id": "S", "collection_date": when,
            "status": "collected", "storage_location": "L", "created_at": when, "created_by": "old",
            "updated_at": when, "updated_by": "old", "version": 1})
    out = ok(cli("history", "LEGACY-1", "-o", "json"))
    assert out.json() == []
    assert "no audit records" in ok(cli("history", "LEGACY-1", tty="stdout")).stdout


def test_an_empty_trail_verifies(cli) -> None:
    report = ok(cli("audit", "verify", "-o", "json")).json()
    assert report == {"ok": True, "records": 0, "head": {"seq": 0, "hash": "0" * 64}, "problem": None,
                      "unfinished_changes": 0}
    assert "no audit records" in ok(cli("audit", tty="stdout")).stdout
