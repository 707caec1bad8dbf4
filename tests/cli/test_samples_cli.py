"""The sample commands as users and scripts see them: stdout, stderr, exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import CliRun

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")

BLOOD = ["--type", "blood", "--subject", "SUBJ-0042", "--collected", "2025-03-14T09:30", "--location", "FRZ-2/R3/B14"]


def create(cli: CliRun, *extra: str, sample_id: str | None = None) -> dict:
    args = ["create", *BLOOD, *extra, "-o", "json"]
    if sample_id:
        args += ["--id", sample_id]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_the_commands_run_on_the_engine_under_test(cli: CliRun, store, mode: str) -> None:
    """The `mode` fixture's runs really differ: the embedded store, the MongoDB engine, a server."""
    create(cli, sample_id="S-1")
    assert store.kind == {"local": "embedded", "wire": "mongodb", "remote": "embedded"}[mode]
    assert store.get("S-1")["subject_id"] == "SUBJ-0042"


def test_create_prints_the_record_as_get_does(cli: CliRun) -> None:
    made = create(cli, sample_id="S-1")
    assert made["sample_id"] == "S-1"
    assert made["collection_date"] == "2025-03-14T09:30:00Z"
    assert made["status"] == "collected" and made["version"] == 1
    assert made["created_by"] == "tester" and made["updated_by"] == "tester"
    assert made["created_at"].endswith("Z")
    got = cli("get", "S-1", "-o", "json")
    assert got.exit_code == 0 and got.json() == made


def test_create_generates_a_uuid4_when_no_id(cli: CliRun) -> None:
    import uuid

    made = create(cli)
    assert uuid.UUID(made["sample_id"]).version == 4


def test_get_one_id_is_an_object_several_an_array(cli: CliRun) -> None:
    create(cli, sample_id="A")
    create(cli, sample_id="B")
    assert isinstance(cli("get", "A").json(), dict)
    many = cli("get", "A", "B").json()
    assert [r["sample_id"] for r in many] == ["A", "B"]


def test_get_unknown_id_exits_5_with_hint_and_envelope(cli: CliRun) -> None:
    result = cli("get", "missing")
    assert result.exit_code == 5
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "error: no sample with id 'missing'"
    assert lines[1].startswith("hint: ")
    envelope = json.loads(lines[2])
    assert envelope["error"]["code"] == "not_found"


def test_error_on_a_terminal_has_no_json_envelope(cli: CliRun) -> None:
    result = cli("get", "missing", tty="stdout,stderr")
    assert result.exit_code == 5
    assert "{" not in result.stderr


def test_pipe_gets_json_array_terminal_gets_table(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    piped = cli("list")
    assert piped.json()[0]["sample_id"] == "S-1"
    table = cli("list", tty="stdout", env={"COLUMNS": "200"})
    assert "S-1" in table.stdout and "FRZ-2/R3/B14" in table.stdout
    assert not table.stdout.lstrip().startswith("[")


def test_empty_list_is_success_with_empty_array(cli: CliRun) -> None:
    result = cli("list")
    assert result.exit_code == 0 and result.json() == []


def test_jsonl_is_one_object_per_line(cli: CliRun) -> None:
    for sid in ("A", "B", "C"):
        create(cli, sample_id=sid)
    lines = cli("list", "-o", "jsonl").stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["sample_id"] for line in lines)


def test_csv_has_header_and_rows(cli: CliRun) -> None:
    create(cli, sample_id="A")
    rows = list(csv.DictReader(io.StringIO(cli("list", "-o", "csv").stdout)))
    assert rows[0]["sample_id"] == "A" and rows[0]["collection_date"] == "2025-03-14T09:30:00Z"


def test_unknown_output_format_is_invalid_input(cli: CliRun) -> None:
    result = cli("list", "-o", "xml")
    assert result.exit_code == 6 and "xml" in result.stderr


def test_unknown_flag_is_usage_error(cli: CliRun) -> None:
    result = cli("list", "--colour")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_list_limit_and_all(cli: CliRun) -> None:
    for i in range(5):
        create(cli, sample_id=f"S{i}")
    assert len(cli("list", "--limit", "2").json()) == 2
    assert len(cli("list", "--all").json()) == 5
    assert cli("list", "--limit", "0").exit_code == 6


def test_list_newest_first_and_sort_flag(cli: CliRun) -> None:
    for sid, day in (("old", "2025-01-01"), ("new", "2025-02-01"), ("mid", "2025-01-15")):
        assert cli("create", "--id", sid, "--type", "saliva", "--subject", "S", "--collected", day,
                   "--location", "L").exit_code == 0
    assert [r["sample_id"] for r in cli("list").json()] == ["new", "mid", "old"]
    assert [r["sample_id"] for r in cli("list", "--sort", "sample_id").json()] == ["mid", "new", "old"]
    assert [r["sample_id"] for r in cli("list", "--sort", "-sample_id").json()] == ["old", "new", "mid"]
    assert cli("list", "--sort", "colour").exit_code == 6


@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--type", "plasma", "sample_type 'plasma' is not allowed; expected one of: blood, saliva, tissue"),
        ("--collected", "2999-01-01", "collection_date '2999-01-01' is in the future"),
        ("--collected", "14/03/2025", "not an ISO 8601"),
        ("--collected", "1700000000", "not an ISO 8601"),
        ("--subject", "   ", "subject_id is empty"),
        ("--subject", "x" * 65, "at most 64"),
        ("--location", "y" * 129, "at most 128"),
        ("--location", "FRZ\n2", "single line"),
        ("--status", "frozen", "status 'frozen' is not allowed"),
        ("--id", "has space", "sample_id 'has space' must be one word"),
        ("--id", "tab\there", "must be one word"),
    ],
)
def test_invalid_values_exit_6_and_write_nothing(cli: CliRun, flag: str, value: str, needle: str) -> None:
    args = dict(zip(BLOOD[::2], BLOOD[1::2], strict=True))
    args[flag] = value
    result = cli("create", *[x for pair in args.items() for x in pair])
    assert result.exit_code == 6, result.stderr
    assert needle in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert cli("list").json() == []


def test_values_are_trimmed(cli: CliRun) -> None:
    made = cli("create", "--id", "  S-9 ", "--type", " Blood ", "--subject", " SUBJ-1 ",
               "--collected", "2025-03-14", "--location", " FRZ ").json()
    assert (made["sample_id"], made["subject_id"], made["storage_location"]) == ("S-9", "SUBJ-1", "FRZ")
    assert made["sample_type"] == "blood"


def test_offsets_are_converted_to_utc_and_naive_times_use_configured_zone(cli: CliRun) -> None:
    made = create(cli, "--id", "X")  # naive 09:30 in UTC (the tests' configured zone)
    assert made["collection_date"] == "2025-03-14T09:30:00Z"
    other = cli("create", "--id", "Y", "--type", "tissue", "--subject", "S", "--location", "L",
                "--collected", "2025-03-14T09:30:00+02:00").json()
    assert other["collection_date"] == "2025-03-14T07:30:00Z"
    berlin = cli("create", "--id", "Z", "--type", "tissue", "--subject", "S", "--location", "L",
                 "--collected", "2025-07-01T12:00", env={"SAMPLECTL_TIMEZONE": "Europe/Berlin"}).json()
    assert berlin["collection_date"] == "2025-07-01T10:00:00Z"  # CEST, daylight saving applied


def test_duplicate_id_exits_7_and_keeps_the_original(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    again = cli("create", *BLOOD[:2], "--subject", "OTHER", *BLOOD[4:], "--id", "S-1")
    assert again.exit_code == 7 and "already exists" in again.stderr
    assert cli("get", "S-1").json()["subject_id"] == "SUBJ-0042"


def test_create_without_terminal_refuses_missing_values_with_exit_2(cli: CliRun) -> None:
    result = cli("create", "--type", "blood")
    assert result.exit_code == 2
    assert "--subject" in result.stderr and "--collected" in result.stderr and "--location" in result.stderr
    assert cli("list").json() == []


def test_create_prompts_for_missing_values_on_a_terminal(cli: CliRun) -> None:
    result = cli("create", "--type", "saliva", "-o", "json", input="SUBJ-7\n2025-01-02\nFRZ-9\n", tty="stdin")
    assert result.exit_code == 0, result.stderr
    # CliRunner echoes typed input onto stdout, as a terminal would show it; the record follows.
    made = json.loads(result.stdout[result.stdout.index("{"):])
    assert (made["subject_id"], made["storage_location"]) == ("SUBJ-7", "FRZ-9")
    assert "Subject id" in result.stderr  # prompts go to stderr, stdout stays data


def test_filter_criteria(cli: CliRun) -> None:
    rows = [
        ("1", "blood", "collected", "SUBJ-1", "2025-01-01T08:00", "FRZ-1/R1"),
        ("2", "blood", "processing", "SUBJ-1", "2025-01-31T23:59", "FRZ-1/R2"),
        ("3", "saliva", "collected", "SUBJ-2", "2025-02-01T00:00", "FRZ-2/R1"),
        ("4", "tissue", "archived", "SUBJ-10", "2024-12-31T23:59", "frz-1/R1"),
    ]
    for sid, typ, status, subj, when, loc in rows:
        assert cli("create", "--id", sid, "--type", typ, "--status", status, "--subject", subj,
                   "--collected", when, "--location", loc).exit_code == 0

    def ids(*args: str) -> list[str]:
        result = cli("filter", *args, "--sort", "sample_id")
        assert result.exit_code == 0, result.stderr
        return [r["sample_id"] for r in result.json()]

    assert ids("--type", "blood") == ["1", "2"]
    assert ids("--type", "blood", "--type", "saliva") == ["1", "2", "3"]
    assert ids("--type", "blood", "--status", "collected") == ["1"]
    assert ids("--subject", "SUBJ-1") == ["1", "2"]
    assert ids("--location", "FRZ-1") == ["1", "2"]
    assert ids("--location", "FRZ-1/R2", "--location", "FRZ-2") == ["2", "3"]
    assert ids("--collected-from", "2025-01-01", "--collected-to", "2025-01-31") == ["1", "2"]
    assert ids("--collected-to", "2025-01-31T12:00") == ["1", "4"]
    assert ids("--status", "collected", "--type", "blood", "--collected-from", "2025-01-01") == ["1"]
    count = cli("filter", "--type", "blood", "--count")
    assert count.exit_code == 0 and count.stdout == "2\n"


@pytest.mark.parametrize(
    "args", [["--type", "plasma"], ["--status", "frozen"], ["--collected-from", "yesterday"]]
)
def test_filter_bad_values_exit_6(cli: CliRun, args: list[str]) -> None:
    result = cli("filter", *args)
    assert result.exit_code == 6 and result.stderr.startswith("error: ")


def test_update_changes_fields_and_bumps_version(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    result = cli("update", "S-1", "--status", "processing", "--location", "FRZ-3", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rec = result.json()
    assert (rec["status"], rec["storage_location"], rec["version"]) == ("processing", "FRZ-3", 2)
    assert cli("get", "S-1").json() == rec


def test_update_refuses_a_status_outside_the_lifecycle(cli: CliRun) -> None:
    create(cli, "--status", "archived", sample_id="S-1")
    result = cli("update", "S-1", "--status", "collected")
    assert result.exit_code == 7
    assert "archived is final" in result.stderr
    assert cli("get", "S-1").json()["status"] == "archived"


def test_update_if_version_refuses_a_stale_write(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    assert cli("update", "S-1", "--location", "A", "--if-version", "1").exit_code == 0
    stale = cli("update", "S-1", "--location", "B", "--if-version", "1")
    assert stale.exit_code == 7 and "version 2" in stale.stderr
    assert cli("get", "S-1").json()["storage_location"] == "A"


def test_update_without_changes_is_a_usage_error(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    assert cli("update", "S-1").exit_code == 2


def test_update_unknown_id_exits_5(cli: CliRun) -> None:
    assert cli("update", "nope", "--location", "A").exit_code == 5


def test_force_needs_reason_and_admin(cli: CliRun, act_as) -> None:
    create(cli, "--status", "archived", sample_id="S-1")
    assert cli("update", "S-1", "--status", "collected", "--force").exit_code == 2
    forced = cli("update", "S-1", "--status", "collected", "--force", "--reason", "scanned wrong rack")
    assert forced.exit_code == 0 and forced.json()["status"] == "collected"
    act_as("tina", "technician")
    refused = cli("update", "S-1", "--status", "archived", "--status", "processing")
    assert refused.exit_code in (0, 7)  # processing is a legal next step; only the last --status counts
    denied = cli("update", "S-1", "--status", "collected", "--force", "--reason", "x")
    assert denied.exit_code == 4


def test_delete_needs_yes_without_terminal(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    result = cli("delete", "S-1")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert cli("get", "S-1").exit_code == 0
    assert cli("delete", "S-1", "--yes").exit_code == 0
    assert cli("get", "S-1").exit_code == 5


def test_delete_confirms_on_a_terminal(cli: CliRun) -> None:
    create(cli, sample_id="S-1")
    declined = cli("delete", "S-1", input="n\n", tty="stdin")
    assert declined.exit_code != 0
    assert cli("get", "S-1").exit_code == 0
    accepted = cli("delete", "S-1", input="y\n", tty="stdin")
    assert accepted.exit_code == 0
    assert cli("get", "S-1").exit_code == 5


def test_delete_unknown_id_exits_5(cli: CliRun) -> None:
    assert cli("delete", "nope", "--yes").exit_code == 5


def test_roles(cli: CliRun, act_as) -> None:
    create(cli, sample_id="S-1")
    act_as("vera", "viewer")
    assert cli("get", "S-1").exit_code == 0
    assert cli("list").exit_code == 0
    denied = cli("create", *BLOOD)
    assert denied.exit_code == 4 and "technician" in denied.stderr
    assert cli("update", "S-1", "--location", "X").exit_code == 4
    act_as("tina", "technician")
    assert cli("create", *BLOOD).exit_code == 0
    assert cli("delete", "S-1", "--yes").exit_code == 4


def test_quiet_silences_messages_but_not_data(cli: CliRun) -> None:
    loud = cli("create", *BLOOD, "--id", "A")
    assert "created sample A" in loud.stderr
    quiet = cli("-q", "create", *BLOOD, "--id", "B")
    assert quiet.stderr == "" and json.loads(quiet.stdout)["sample_id"] == "B"


def test_no_color_and_NO_COLOR(cli: CliRun) -> None:
    assert "\x1b[" in cli("get", "x", tty="stderr").stderr
    assert "\x1b[" not in cli("get", "x", tty="stderr", env={"NO_COLOR": "1"}).stderr
    assert "\x1b[" not in cli("--no-color", "get", "x", tty="stderr").stderr


def test_version(cli: CliRun) -> None:
    from samplectl import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.stdout == f"samplectl {__version__}\n"


def test_a_value_of_the_wrong_type_is_invalid_input_but_a_missing_argument_is_usage(cli: CliRun) -> None:
    bad = cli("list", "--limit", "abc")
    assert bad.exit_code == 6 and "--limit" in bad.stderr
    assert cli("get").exit_code == 2
    assert cli("frobnicate").exit_code == 2
    assert cli("list", "-o").exit_code == 2


def test_an_explicitly_empty_id_is_refused_not_generated(cli: CliRun) -> None:
    result = cli("create", *BLOOD, "--id", "  ")
    assert result.exit_code == 6 and "--id is empty" in result.stderr
    assert cli("list").json() == []


def test_update_to_an_empty_id_is_refused_and_keeps_the_sample(cli: CliRun) -> None:
    create(cli, sample_id="REN-1")
    result = cli("update", "REN-1", "--id", "")
    assert result.exit_code == 6 and "--id is empty" in result.stderr
    assert cli("get", "REN-1").json()["version"] == 1
