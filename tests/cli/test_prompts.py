"""Issue 14 items 2 and 11: prompts check each answer as it is given; the details a technician sees."""

from __future__ import annotations

from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE


def test_create_asks_again_for_a_wrong_answer_and_keeps_the_others(cli: CliRun) -> None:
    answers = "plasma\nblood\nSUBJ-1\n14/03/2025\n2025-03-14T09:30\nFRZ-1/R1/B1\n"
    out = cli("create", "--id", "S-1", "-o", "json", input=answers, tty="stdin")
    assert out.exit_code == 0, out.stderr
    assert "Sample type (blood, saliva, tissue):" in out.stderr
    assert "error: 'plasma' is not one of: blood, saliva, tissue; try again" in out.stderr
    assert "is not an ISO 8601 date" in out.stderr and "try again" in out.stderr
    record = cli("get", "S-1", "-o", "json").json()
    assert (record["sample_type"], record["subject_id"], record["storage_location"]) == ("blood", "SUBJ-1", "FRZ-1/R1/B1")
    assert record["collection_date"] == "2025-03-14T09:30:00Z"


def test_the_collection_prompt_offers_now(cli: CliRun) -> None:
    from datetime import UTC, datetime, timedelta

    out = cli("create", "--id", "S-1", "--type", "blood", "--subject", "SUBJ-1", "--location", "F", "-o", "json",
              input="\n", tty="stdin")
    assert out.exit_code == 0, out.stderr
    assert "[now]:" in out.stderr
    collected = datetime.fromisoformat(cli("get", "S-1", "-o", "json").json()["collection_date"].replace("Z", "+00:00"))
    assert datetime.now(UTC) - collected < timedelta(minutes=1)


def test_collected_now_is_accepted_by_create_update_and_import(cli: CliRun, tmp_path) -> None:
    made = cli("create", "--id", "S-1", "--type", "blood", "--subject", "S", "--collected", "now", "--location", "F")
    assert made.exit_code == 0, made.stderr
    assert cli("update", "S-1", "--collected", "NOW").exit_code == 0
    data = tmp_path / "in.csv"
    data.write_text("sample_type,subject_id,collection_date,storage_location\nblood,S,now,F\n")
    assert cli("import", str(data), "-o", "json").exit_code == 0


def test_a_prompt_gives_up_after_a_few_wrong_answers(cli: CliRun) -> None:
    out = cli("create", "--subject", "S", "--collected", "now", "--location", "F", input="x\n" * 10, tty="stdin")
    assert out.exit_code == 6 and "no valid answer" in out.stderr


def set_up_users(cli: CliRun) -> None:
    made = cli("init", "--admin", "admin", "--password-stdin", input="admin-pass-123\n")
    assert made.exit_code == 0, made.stderr


def test_users_add_checks_the_length_before_asking_twice(cli: CliRun) -> None:
    set_up_users(cli)
    out = cli("users", "add", "alice", "--role", "viewer", input="short\nlong-enough-1\nlong-enough-1\n",
              tty="stdin")
    assert out.exit_code == 0, out.stderr
    assert out.stderr.count("Password for alice:") == 2 and out.stderr.count("(again)") == 1
    assert "too short" in out.stderr


def test_differing_passwords_are_said_plainly_not_in_clicks_words(cli: CliRun) -> None:
    set_up_users(cli)
    out = cli("users", "add", "alice", "--role", "viewer",
              input="long-enough-1\nlong-enough-2\nlong-enough-1\nlong-enough-1\n", tty="stdin")
    assert out.exit_code == 0, out.stderr
    assert "Error: The two entered values do not match." not in out.stderr
    assert "error: the two passwords differ; enter the password again\n" in out.stderr


# -- item 11 ----------------------------------------------------------------------------------------
def test_the_delete_prompt_shows_what_is_being_deleted(cli: CliRun) -> None:
    cli("create", "--id", "S-1", "--type", "tissue", "--subject", "SUBJ-7", "--collected", "2025-03-14T09:30",
        "--location", "FRZ-9/B2")
    out = cli("delete", "S-1", input="n\n", tty="stdin")
    shown = out.stderr[: out.stderr.index("Delete this sample?")]
    assert "S-1" in shown and "tissue" in shown and "SUBJ-7" in shown and "FRZ-9/B2" in shown
    assert cli("get", "S-1").exit_code == 0


def test_users_list_shows_minutes_and_a_readable_active_column(cli: CliRun) -> None:
    set_up_users(cli)
    cli("users", "add", "alice", "--role", "viewer", "--password-stdin", input="long-enough-1\n")
    table = cli("users", "list", tty="stdout", env={"COLUMNS": "200"}).stdout
    line = next(line for line in table.splitlines() if "alice" in line)
    assert "yes" in line and "True" not in line
    import re

    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(?!:)", line) and not re.search(r"\d\d:\d\d:\d\d\.\d", line)
    as_json = cli("users", "list", "-o", "json").json()
    assert any(a["active"] is True for a in as_json)  # JSON keeps the contract's types


def test_a_refused_technician_is_not_sent_to_ask_for_set_role(cli: CliRun, act_as) -> None:
    cli("create", "--id", "S-1", "--type", "blood", "--subject", "S", "--collected", "now", "--location", "F")
    act_as("tess", "technician")
    out = cli("delete", "S-1", "--yes")
    assert out.exit_code == 4
    assert "set-role" not in out.stderr and "hint: ask a lab admin to do it" in out.stderr
