"""One output path: tables that fit, -o in any case, --fields, stored text shown literally, safe CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import CliRun

LONG_LOCATION = "FREEZER-NORTH-WING/RACK-0042/BOX-0007/POSITION-A1-LONG"


def create(cli: CliRun, sample_id: str, **flags: str) -> None:
    args = {"--type": "blood", "--subject": "SUBJ-0001", "--collected": "2025-03-14T09:30:00Z",
            "--location": LONG_LOCATION, **flags}
    out = cli("create", "--id", sample_id, *[x for kv in args.items() for x in kv], "-o", "json")
    assert out.exit_code == 0, out.stderr


def screen(cli: CliRun, width: int, *args: str) -> list[str]:
    """What a terminal of ``width`` columns shows (stdout a terminal, no pager)."""
    out = cli("--no-pager", *args, tty="stdout,stderr", env={"COLUMNS": str(width), "LINES": "200", "NO_COLOR": "1"})
    assert out.exit_code == 0, out.stderr
    return out.stdout.rstrip("\n").split("\n")


def assert_fits(lines: list[str], width: int, records: int) -> None:
    assert len(lines) == records + 1, "\n".join(lines)  # the header, then one line per record
    assert all(len(line) <= width for line in lines), "\n".join(lines)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_list_is_one_line_per_sample_at_any_width(cli: CliRun, width: int) -> None:
    for n in range(3):
        create(cli, f"S-{n:04d}", **{"--status": "processing"})
    lines = screen(cli, width, "list")
    assert_fits(lines, width, 3)
    header = lines[0].split()
    # The most useful columns stay; every column shown has room for its values (never zero-width).
    assert header[:2] == ["sample", "id"] and "location" in header
    for line in lines[1:]:
        assert line.startswith("S-000")
        assert "FREEZER-NORTH" in line
    if width < 120:
        assert "…" in lines[1]  # the location is cut, not folded
    assert "processing" in lines[1]
    if width >= 80:
        assert "2025-03-14 09:30" in lines[1] and "blood" in lines[1]


def test_wide_shows_every_column_uncut(cli: CliRun) -> None:
    create(cli, "S-1")
    lines = screen(cli, 60, "list", "-o", "wide")
    assert len(lines) == 2
    for header in ("created", "created by", "updated", "updated by", "ver"):
        assert header in lines[0]
    assert LONG_LOCATION in lines[1] and "tester" in lines[1]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_history_and_audit_fit(cli: CliRun, width: int) -> None:
    create(cli, "S-1")
    assert cli("update", "S-1", "--status", "processing", "--reason", "aliquoted for the PK panel").exit_code == 0
    history = screen(cli, width, "history", "S-1")
    assert_fits(history, width, 2)
    assert all(len(line.split()[0]) == 10 and line[10] == " " and line[13] == ":" for line in history[1:])
    audit = screen(cli, width, "audit", "--action", "create", "--action", "update")
    assert_fits(audit, width, 2)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_users_list_fits(cli: CliRun, width: int) -> None:
    for name, role in (("alice", "technician"), ("vera-with-a-long-name", "viewer")):
        assert cli("users", "add", name, "--role", role, "--password-stdin", input="long-pass-123\n").exit_code == 0
    lines = screen(cli, width, "users", "list")
    assert_fits(lines, width, 3)
    assert "yes" in lines[1].split()  # active: yes or no, never True
    assert ":" in lines[1] and "." not in lines[1].split()[-1]  # minutes, never microseconds


def test_times_in_tables_are_in_the_configured_zone_and_json_stays_utc(cli: CliRun) -> None:
    create(cli, "S-1")
    env = {"SAMPLECTL_TIMEZONE": "Europe/Berlin", "COLUMNS": "120"}
    table = cli("--no-pager", "list", tty="stdout", env=env).stdout
    assert "2025-03-14 10:30" in table
    assert cli("get", "S-1", "-o", "json", env=env).json()["collection_date"] == "2025-03-14T09:30:00Z"


def test_long_tables_go_through_the_pager(cli: CliRun, tmp_path: Path) -> None:
    for n in range(8):
        create(cli, f"S-{n}")
    paged = tmp_path / "paged.txt"
    env = {"SAMPLECTL_PAGER": f"cat > {paged}", "LINES": "5", "COLUMNS": "100"}
    out = cli("list", tty="stdout", env=env)
    assert out.exit_code == 0 and out.stdout == ""
    assert paged.read_text().count("S-") == 8
    paged.unlink()
    direct = cli("--no-pager", "list", tty="stdout", env=env)
    assert direct.stdout.count("S-") == 8 and not paged.exists()
    short = cli("list", "--limit", "2", tty="stdout", env=env)  # fits on the screen: no pager
    assert short.stdout.count("S-") == 2 and not paged.exists()
    piped = cli("list", "-o", "json", tty="stdout", env=env)  # data formats are never paged
    assert len(piped.json()) == 8


@pytest.mark.parametrize("spelling", ["JSON", "Json", " json "])
def test_output_formats_are_read_in_any_case_everywhere(cli: CliRun, spelling: str) -> None:
    create(cli, "S-1")
    assert cli("list", "-o", spelling).json()[0]["sample_id"] == "S-1"
    assert cli("export", "-o", spelling).json()[0]["sample_id"] == "S-1"
    assert cli("history", "S-1", "-o", spelling).json()[0]["action"] == "create"
    assert cli("audit", "-o", spelling).exit_code == 0
    assert cli("users", "list", "-o", spelling).exit_code == 0


def test_an_unknown_format_is_invalid_input(cli: CliRun) -> None:
    out = cli("list", "-o", "yaml")
    assert out.exit_code == 6
    assert "error: -o/--output 'yaml' is not a format here" in out.stderr
    assert "table, wide, json, jsonl, csv" in out.stderr
    assert cli("export", "-o", "table").exit_code == 6


def test_a_kind_or_format_without_a_renderer_fails_loudly() -> None:
    from samplectl.domain.vocab import OUTPUT_FORMATS
    from samplectl.output.formats import WRITERS, Kind, View, render

    assert set(WRITERS) == set(OUTPUT_FORMATS)  # every -o format has its writer
    with pytest.raises(LookupError, match="no 'yaml' renderer for gadgets"):
        render(Kind(name="gadgets", fields=("a",)), [{"a": 1}], io.StringIO(), View(fmt="yaml"))


def test_fields_chooses_columns_and_keys(cli: CliRun) -> None:
    create(cli, "S-1")
    assert cli("list", "--fields", "sample_id,status", "-o", "json").json() == [
        {"sample_id": "S-1", "status": "collected"}]
    assert cli("get", "S-1", "--fields", "status, sample_id", "-o", "json").json() == {
        "status": "collected", "sample_id": "S-1"}
    assert cli("list", "--fields", "sample_id,version", "-o", "csv").stdout == "sample_id,version\nS-1,1\n"
    assert cli("export", "--fields", "sample_id", "-o", "csv").stdout == "sample_id\nS-1\n"
    table = cli("--no-pager", "--no-color", "list", "--fields", "created_by,sample_id", tty="stdout").stdout.splitlines()
    assert table[0].split() == ["created", "by", "sample", "id"] and table[1].split() == ["tester", "S-1"]
    assert cli("history", "S-1", "--fields", "action", "-o", "json").json() == [{"action": "create"}]
    assert cli("users", "list", "--fields", "username", "-o", "json").json()[0] == {"username": "tester"}
    bad = cli("list", "--fields", "sample_id,colour")
    assert bad.exit_code == 6 and "'colour' is not a field of samples" in bad.stderr


# -- stored text is never markup (issue 9, item 3) ---------------------------------------------
MARKUP = ("FRZ[/]", "[link=https://evil.example]SUBJ-1[/link]", "[bold red]X[/]")


def test_stored_text_is_shown_literally_in_every_table(cli: CliRun) -> None:
    create(cli, "S-1", **{"--location": MARKUP[0], "--subject": MARKUP[1]})
    assert cli("update", "S-1", "--location", MARKUP[2], "--reason", "[/]").exit_code == 0
    env = {"COLUMNS": "250"}
    listed = cli("--no-pager", "list", "-o", "wide", tty="stdout", env=env)
    assert listed.exit_code == 0 and MARKUP[1] in listed.stdout and MARKUP[2] in listed.stdout
    history = cli("--no-pager", "history", "S-1", "-o", "wide", tty="stdout", env=env)
    assert history.exit_code == 0 and "[/]" in history.stdout and MARKUP[0] in history.stdout
    audit = cli("--no-pager", "audit", "-o", "wide", tty="stdout", env=env)
    assert audit.exit_code == 0 and MARKUP[1] in audit.stdout
    # Coloured output too: the markup is neither applied nor turned into a terminal hyperlink.
    coloured = cli("--no-pager", "list", "-o", "wide", tty="stdout", env=env)
    assert "\x1b]8;" not in coloured.stdout


def test_import_problems_show_markup_cells_literally(cli: CliRun) -> None:
    out = cli("import", "-", input="sample_type,subject_id,collection_date,storage_location\n[/],S-1,[b]x,FRZ\n",
              tty="stderr", env={"COLUMNS": "200"})
    assert out.exit_code == 6
    assert "'[/]'" in out.stderr and "'[b]x'" in out.stderr


# -- CSV never runs a formula, and still round-trips (issue 9, item 7) --------------------------
FORMULAS = {"location": '=HYPERLINK("https://evil.example","x")', "subject": "+cmd|' /C calc'!A0",
            "id": "@SUM(A1)", "quoted": "'=already-quoted", "dash": "-2+3"}


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_output_never_starts_a_cell_with_a_formula(cli: CliRun, tmp_path: Path) -> None:
    create(cli, FORMULAS["id"], **{"--location": FORMULAS["location"], "--subject": FORMULAS["subject"]})
    create(cli, "S-2", **{"--location": FORMULAS["quoted"], "--subject": FORMULAS["dash"]})
    assert cli("update", "S-2", "--status", "processing", "--reason", "=1+2").exit_code == 0
    for args in (("export", "-o", "csv"), ("list", "-o", "csv"), ("audit", "-o", "csv")):
        cells = _cells(cli(*args).stdout)
        assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], args
    exported = _cells(cli("export", "-o", "csv").stdout)
    assert "'" + FORMULAS["location"] in exported and "''=already-quoted" in exported
    assert "'=1+2" in _cells(cli("audit", "-o", "csv").stdout)


def test_export_then_import_gives_back_identical_samples(cli: CliRun, tmp_path: Path, monkeypatch) -> None:
    create(cli, FORMULAS["id"], **{"--location": FORMULAS["location"], "--subject": FORMULAS["subject"]})
    create(cli, "S-2", **{"--location": FORMULAS["quoted"], "--subject": FORMULAS["dash"]})
    exported = cli("export", "-o", "csv").stdout
    before = {r["sample_id"]: r for r in cli("export", "-o", "jsonl").stdout and cli("list", "-o", "json").json()}
    monkeypatch.setenv("SAMPLECTL_HOME", str(tmp_path / "elsewhere"))
    assert cli("import", "-", "-o", "json", input=exported).exit_code == 0
    after = {r["sample_id"]: r for r in cli("list", "-o", "json").json()}
    fields = ("sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location")
    assert {k: {f: r[f] for f in fields} for k, r in after.items()} == {
        k: {f: r[f] for f in fields} for k, r in before.items()}


def test_rejected_rows_file_is_safe_too(cli: CliRun, tmp_path: Path) -> None:
    errors = tmp_path / "bad.csv"
    out = cli("import", "-", "--partial", "--errors", str(errors),
              input="sample_type,subject_id,collection_date,storage_location\nplasma,=cmd(),2025-01-01,@x\n")
    assert out.exit_code == 6
    cells = _cells(errors.read_text())
    assert "'=cmd()" in cells and "'@x" in cells


# -- errors are printed once at a terminal (issue 14, item 5) -----------------------------------
def test_an_error_at_a_terminal_is_two_lines_even_when_stdout_is_piped(cli: CliRun) -> None:
    out = cli("--no-color", "get", "NOPE", tty="stderr")
    assert out.exit_code == 5
    assert out.stderr.startswith("error: no sample with id 'NOPE'") and "{" not in out.stderr


def test_the_envelope_goes_to_a_stderr_that_is_not_a_terminal_or_with_json(cli: CliRun) -> None:
    piped = cli("get", "NOPE")
    assert json.loads(piped.stderr.splitlines()[-1])["error"]["code"] == "not_found"
    asked = cli("get", "NOPE", "-o", "json", tty="stderr,stdout")
    assert json.loads(asked.stderr.splitlines()[-1])["error"]["code"] == "not_found"
    table = cli("get", "NOPE", "-o", "table", tty="stderr")
    assert "{" not in table.stderr


def test_what_list_prints_as_csv_imports_back(cli: CliRun) -> None:
    create(cli, "S-1", **{"--location": FORMULAS["location"]})
    listed = cli("list", "-o", "csv").stdout
    assert listed.splitlines()[0].endswith("created_at,created_by,updated_at,updated_by,version")
    out = cli("import", "-", "--on-conflict", "skip", "-o", "json", input=listed)
    assert out.exit_code == 0, out.stderr
    assert out.json()["skipped"] == 1


@pytest.mark.parametrize("value", ["=1+2", "+x", "-5", "@SUM(A1)", "\tx", "'=x", "''+y", "'plain", "plain", "", "'",
                                   "a=b", "''"])
def test_csv_marks_round_trip_exactly(value: str) -> None:
    from samplectl.domain.csvcells import neutralise, restore

    written = neutralise(value)
    assert restore(written) == value
    assert written[:1] not in ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("command", [["users", "disable", "alice"], ["users", "set-role", "alice", "admin"]])
def test_a_bad_format_changes_no_account(cli: CliRun, command: list[str]) -> None:
    assert cli("users", "add", "alice", "--role", "viewer", "--password-stdin", input="long-pass-123\n").exit_code == 0
    result = cli(*command, "-o", "yaml")
    assert result.exit_code == 6 and "-o/--output 'yaml'" in result.stderr
    alice = next(a for a in json.loads(cli("users", "list", "-o", "json").stdout) if a["username"] == "alice")
    assert alice["active"] is True and alice["role"] == "viewer"
