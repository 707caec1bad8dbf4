"""samplectl import: the contract's "CSV import" rules, one test each, through the command line."""

from __future__ import annotations

import csv
import json

import pytest

from tests.cli.csvfiles import HEADER, envelope, row, stored, summary, write

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")


# -- the happy path and the summary ---------------------------------------------------------------
def test_import_creates_every_row_and_ends_with_the_summary(cli, tmp_path, store) -> None:
    data = write(tmp_path / "in.csv", [HEADER, *(row(i) for i in range(5))])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 0, out.stderr
    result = summary(out)
    assert (result["read"], result["created"], result["updated"], result["skipped"], result["rejected"]) == (5, 5, 0, 0, 0)
    assert result["batch_id"] and isinstance(result["seconds"], float)
    samples = stored(store)
    assert sorted(samples) == [f"S-{i:04d}" for i in range(5)]
    first = samples["S-0000"]
    assert first["version"] == 1 and first["created_by"] == "tester"
    assert first["import_batch"] == result["batch_id"]  # created samples carry their batch


def test_json_output_shows_no_batch_field_on_samples(cli, tmp_path) -> None:
    cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1)])), "-o", "json")
    shown = json.loads(cli("get", "S-0001", "-o", "json").stdout)
    assert "import_batch" not in shown  # the record shape of the contract; the batch is in the audit trail


def test_summary_is_a_table_on_a_terminal_and_json_in_a_pipe(cli, tmp_path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1)])
    piped = cli("import", str(data), "--dry-run")
    assert json.loads(piped.stdout)["read"] == 1
    table = cli("import", str(data), "--dry-run", tty="stdout")
    assert "read" in table.stdout and "{" not in table.stdout


def test_each_created_sample_gets_one_import_audit_record(cli, tmp_path, embedded_db) -> None:
    result = summary(cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1), row(2)])), "-o", "json",
                         "--reason", "freezer move"))
    entries = list(embedded_db.audit.for_sample("S-0001"))
    assert [e["action"] for e in entries] == ["import"]
    entry = entries[0]
    assert entry["user"] == "tester" and entry["reason"] == "freezer move"
    assert entry["import_batch"] == result["batch_id"]
    assert entry["changes"]["status"] == {"before": None, "after": "collected"}
    assert entry["changes"]["collection_date"] == {"before": None, "after": "2025-01-02T08:30:00Z"}


def test_header_only_imports_nothing_and_succeeds(cli, tmp_path, store) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER])), "-o", "json")
    assert out.exit_code == 0
    assert summary(out)["read"] == 0 and summary(out)["batch_id"] is None
    assert stored(store) == {}


def test_empty_file_has_no_header_and_is_invalid(cli, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = cli("import", str(empty))
    assert out.exit_code == 6
    assert "empty" in out.stderr and "hint:" in out.stderr and out.stdout == ""


def test_missing_file_is_invalid_input(cli, tmp_path) -> None:
    out = cli("import", str(tmp_path / "nope.csv"))
    assert out.exit_code == 6 and "cannot read" in out.stderr and "Traceback" not in out.stderr


# -- the header ------------------------------------------------------------------------------------
def test_header_names_ignore_case_spaces_and_a_bom(cli, tmp_path, store) -> None:
    header = "\ufeff Sample ID ,SAMPLE_TYPE, subject_id,Collection Date,Status ,storage-location"
    out = cli("import", str(write(tmp_path / "in.csv", [header, row(1)])), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert stored(store)["S-0001"]["storage_location"] == "FRZ-1/R1/B1"


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out(cli, tmp_path, store) -> None:
    lines = ["storage_location,collection_date,subject_id,sample_type", "FRZ-9,2025-02-03,SUBJ-1,saliva"]
    data = write(tmp_path / "in.csv", lines)
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 0, out.stderr
    (sample,) = stored(store).values()
    assert sample["status"] == "collected" and len(sample["sample_id"]) == 36  # generated UUID 4
    assert sample["sample_id"][14] == "4"


def test_unknown_columns_are_refused_unless_ignored(cli, tmp_path, store) -> None:
    data = write(tmp_path / "in.csv", [HEADER + ",freezer_temp", row(1) + ",-80"])
    refused = cli("import", str(data))
    assert refused.exit_code == 6
    assert "freezer_temp" in refused.stderr and "--ignore-unknown" in refused.stderr
    assert stored(store) == {}
    accepted = cli("import", str(data), "--ignore-unknown", "-o", "json")
    assert accepted.exit_code == 0 and summary(accepted)["created"] == 1


def test_a_missing_required_column_is_named(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", ["sample_id,sample_type,subject_id", "S-1,blood,SUBJ-1"])))
    assert out.exit_code == 6
    assert "collection_date" in out.stderr and "storage_location" in out.stderr


def test_a_repeated_column_is_refused(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER + ",status", row(1) + ",archived"])))
    assert out.exit_code == 6 and "two status columns" in out.stderr


# -- rows: validation and problems -------------------------------------------------------------------
def test_every_row_is_checked_before_anything_is_written(cli, tmp_path, store) -> None:
    lines = [HEADER, *(row(i) for i in range(50)), row(50, sample_type="plasma")]
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "-o", "json")
    assert out.exit_code == 6
    assert stored(store) == {}  # the bad last row kept the 50 good ones out
    assert summary(out)["created"] == 0 and summary(out)["rejected"] == 1


def test_problems_carry_line_column_value_and_the_create_message(cli, tmp_path) -> None:
    lines = [HEADER, row(1), row(2, collection_date="2999-01-01"), row(3, subject_id="", sample_type="Plasma")]
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "-o", "json")
    assert out.exit_code == 6
    details = envelope(out)["details"]
    assert details == [
        {"line": 3, "column": "collection_date", "value": "2999-01-01",
         "message": "collection_date '2999-01-01' is in the future"},
        {"line": 4, "column": "sample_type", "value": "Plasma",
         "message": "sample_type 'Plasma' is not allowed; expected one of: blood, saliva, tissue"},
        {"line": 4, "column": "subject_id", "value": "", "message": "subject_id is empty; a value is required"},
    ]
    # The same words as `create` uses for the same value.
    created = cli("create", "--type", "Plasma", "--subject", "S", "--collected", "2025-01-01", "--location", "X")
    assert "sample_type 'Plasma' is not allowed; expected one of: blood, saliva, tissue" in created.stderr


def test_line_numbers_are_physical_lines_of_the_file(cli, tmp_path) -> None:
    # A quoted value spanning lines 3-4, a blank line 5 and CRLF line ends: the last row is line 6.
    lines = [HEADER, row(1), 'S-2,blood,SUBJ-2,2025-01-01,collected,"FRZ-1', 'R2"', "", row(3, status="lost")]
    out = cli("import", str(write(tmp_path / "in.csv", lines, newline="\r\n")), "-o", "json")
    assert out.exit_code == 6
    assert [(d["line"], d["column"]) for d in envelope(out)["details"]] == [(3, "storage_location"), (6, "status")]


def test_problems_are_a_table_on_a_terminal(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1, status="lost")])), tty="stdout,stderr")
    assert out.exit_code == 6
    assert "Rows that cannot be imported" in out.stderr and "'lost'" in out.stderr
    assert '{"error"' not in out.stderr


def test_problems_are_plain_lines_without_a_terminal_or_json(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1, status="lost")])), "-o", "table", tty="stdout")
    assert out.exit_code == 6
    assert "line 2: status 'lost' is not allowed" in out.stderr


def test_real_world_files_crlf_quotes_spaces_and_trailing_blank_lines(cli, tmp_path, store) -> None:
    lines = [HEADER, '  S-1 , blood ,SUBJ-1, 2025-01-02 ,collected," FRZ-1, rack ""A"" "', row(2), "", "", ",,,,,"]
    out = cli("import", str(write(tmp_path / "in.csv", lines, newline="\r\n")), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert summary(out)["read"] == 2
    assert stored(store)["S-1"]["storage_location"] == 'FRZ-1, rack "A"'


def test_a_value_with_a_line_break_is_refused_with_its_line(cli, tmp_path) -> None:
    lines = [HEADER, 'S-1,blood,SUBJ-1,2025-01-02,collected,"FRZ-1', 'R2"']
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "-o", "json")
    assert out.exit_code == 6
    (problem,) = envelope(out)["details"]
    assert problem["line"] == 2 and "single line" in problem["message"]


def test_a_row_with_more_values_than_columns_is_rejected(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1) + ",extra"])), "-o", "json")
    assert out.exit_code == 6
    assert "more values than the header" in envelope(out)["details"][0]["message"]


def test_date_format_reads_other_dates(cli, tmp_path, store) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1, collection_date="14/03/2025"), row(2, collection_date="2025-03-14")])
    out = cli("import", str(data), "--date-format", "%d/%m/%Y", "-o", "json")
    assert out.exit_code == 6
    assert envelope(out)["details"][0]["line"] == 3
    assert "does not match the date format '%d/%m/%Y'" in envelope(out)["details"][0]["message"]
    ok = cli("import", str(data), "--date-format", "%d/%m/%Y", "--partial", "-o", "json")
    assert summary(ok)["created"] == 1
    assert stored(store)["S-0001"]["collection_date"].isoformat() == "2025-03-14T00:00:00+00:00"


def test_dates_without_offset_are_in_the_lab_time_zone(cli, tmp_path, store) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1, collection_date="2025-07-01T10:00")])
    assert cli("import", str(data), "-o", "json", env={"SAMPLECTL_TIMEZONE": "Europe/Berlin"}).exit_code == 0
    assert stored(store)["S-0001"]["collection_date"].isoformat() == "2025-07-01T08:00:00+00:00"


# -- encodings ---------------------------------------------------------------------------------------
def test_a_file_that_is_not_utf8_names_the_line(cli, tmp_path, store) -> None:
    lines = [HEADER, row(1), row(2, storage_location="Kühlraum-3")]
    data = write(tmp_path / "in.csv", lines, encoding="cp1252")
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6
    assert "line 3 is not valid UTF-8" in out.stderr and "--encoding" in out.stderr
    assert stored(store) == {}
    ok = cli("import", str(data), "--encoding", "cp1252", "-o", "json")
    assert ok.exit_code == 0, ok.stderr
    assert stored(store)["S-0002"]["storage_location"] == "Kühlraum-3"


def test_utf16_gets_a_hint(cli, tmp_path) -> None:
    data = tmp_path / "in.csv"
    data.write_bytes(("\n".join([HEADER, row(1)]) + "\n").encode("utf-16"))
    out = cli("import", str(data))
    assert out.exit_code == 6 and "--encoding utf-16" in out.stderr
    assert cli("import", str(data), "--encoding", "utf-16", "-o", "json").exit_code == 0


def test_an_unknown_encoding_is_invalid_input(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER])), "--encoding", "klingon")
    assert out.exit_code == 6 and "klingon" in out.stderr


# -- partial imports and the rejected rows ----------------------------------------------------------
def test_partial_writes_the_valid_rows_and_still_exits_6(cli, tmp_path, store) -> None:
    lines = [HEADER, row(1), row(2, status="lost"), row(3)]
    bad = tmp_path / "bad.csv"
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "--partial", "--errors", str(bad), "-o", "json")
    assert out.exit_code == 6
    result = summary(out)
    assert (result["created"], result["rejected"]) == (2, 1) and result["batch_id"]
    assert sorted(stored(store)) == ["S-0001", "S-0003"]
    rejected = list(csv.DictReader(bad.open(encoding="utf-8")))
    assert len(rejected) == 1
    assert rejected[0]["sample_id"] == "S-0002" and rejected[0]["status"] == "lost"
    assert rejected[0]["line"] == "3" and "status 'lost' is not allowed" in rejected[0]["reason"]


def test_the_rejected_rows_file_imports_again_once_fixed(cli, tmp_path, store) -> None:
    bad = tmp_path / "bad.csv"
    cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1, status="lost")])), "--errors", str(bad))
    fixed = bad.read_text(encoding="utf-8").replace(",lost,", ",archived,")
    (tmp_path / "fixed.csv").write_text(fixed, encoding="utf-8")
    out = cli("import", str(tmp_path / "fixed.csv"), "--ignore-unknown", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert stored(store)["S-0001"]["status"] == "archived"


def test_dry_run_checks_and_writes_nothing(cli, tmp_path, store) -> None:
    good = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1), row(2)])), "--dry-run", "-o", "json")
    assert good.exit_code == 0
    # A dry run counts what the import would do (issue 14, item 10): two samples would be created.
    assert summary(good)["read"] == 2 and summary(good)["created"] == 2 and summary(good)["dry_run"] is True
    bad = cli("import", str(write(tmp_path / "bad.csv", [HEADER, row(1, sample_type="x")])), "--dry-run", "-o", "json")
    assert bad.exit_code == 6 and summary(bad)["rejected"] == 1
    assert stored(store) == {}


# -- ids: repeated in the file, or already stored --------------------------------------------------
def test_an_id_repeated_in_the_file_is_an_invalid_row(cli, tmp_path, store) -> None:
    lines = [HEADER, row(1), row(2), row(3, sample_id="S-0001", subject_id="OTHER")]
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "-o", "json")
    assert out.exit_code == 6
    (problem,) = envelope(out)["details"]
    assert problem == {"line": 4, "column": "sample_id", "value": "S-0001",
                       "message": "sample_id 'S-0001' is also on line 2: ids must be unique in a file"}
    partial = cli("import", str(tmp_path / "in.csv"), "--partial", "-o", "json")
    assert summary(partial)["created"] == 2
    assert stored(store)["S-0001"]["subject_id"] == "SUBJ-1"  # the first one stands


def test_repeated_ids_are_found_across_a_spill_to_disk(cli, tmp_path, monkeypatch) -> None:
    from samplectl.services.rowcheck import SeenIds

    monkeypatch.setattr(SeenIds, "SPILL_AT", 3)
    lines = [HEADER, *(row(i) for i in range(10)), row(11, sample_id="S-0002")]
    out = cli("import", str(write(tmp_path / "in.csv", lines)), "--dry-run", "-o", "json")
    assert out.exit_code == 6
    assert [d["line"] for d in envelope(out)["details"]] == [12]


def test_existing_ids_fail_by_default_and_nothing_is_written(cli, tmp_path, store) -> None:
    cli("create", "--id", "S-0002", "--type", "saliva", "--subject", "X", "--collected", "2025-01-01", "--location", "L")
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1), row(2)])), "-o", "json")
    assert out.exit_code == 7
    assert envelope(out)["details"] == [{"line": 3, "column": "sample_id", "value": "S-0002",
                                         "message": "sample_id 'S-0002' already exists"}]
    assert "--on-conflict skip" in out.stderr
    assert sorted(stored(store)) == ["S-0002"]


def test_on_conflict_skip_leaves_stored_samples_alone(cli, tmp_path, store) -> None:
    cli("create", "--id", "S-0002", "--type", "saliva", "--subject", "X", "--collected", "2025-01-01", "--location", "L")
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1), row(2)])), "--on-conflict", "skip", "-o", "json")
    assert out.exit_code == 0
    assert (summary(out)["created"], summary(out)["skipped"]) == (1, 1)
    assert stored(store)["S-0002"]["sample_type"] == "saliva"


def test_on_conflict_update_changes_stored_samples_with_a_new_version(cli, tmp_path, store, embedded_db) -> None:
    cli("import", str(write(tmp_path / "a.csv", [HEADER, row(1), row(2)])), "-o", "json")
    lines = [HEADER, row(1, status="processing"), row(2), row(3)]
    out = cli("import", str(write(tmp_path / "b.csv", lines)), "--on-conflict", "update", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert (summary(out)["created"], summary(out)["updated"], summary(out)["skipped"]) == (1, 1, 1)
    updated = stored(store)["S-0001"]
    assert updated["status"] == "processing" and updated["version"] == 2
    history = list(embedded_db.audit.for_sample("S-0001"))
    assert [e["action"] for e in history] == ["import", "import"]
    assert history[1]["changes"] == {"status": {"before": "collected", "after": "processing"}}


def test_on_conflict_update_follows_the_status_lifecycle(cli, tmp_path, store) -> None:
    cli("import", str(write(tmp_path / "a.csv", [HEADER, row(1, status="archived")])), "-o", "json")
    out = cli("import", str(write(tmp_path / "b.csv", [HEADER, row(1, status="collected")])),
              "--on-conflict", "update", "-o", "json")
    assert out.exit_code == 7
    assert "status cannot change from archived to collected" in envelope(out)["details"][0]["message"]
    assert stored(store)["S-0001"]["status"] == "archived"


def test_an_unknown_on_conflict_value_is_invalid(cli, tmp_path) -> None:
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER])), "--on-conflict", "merge")
    assert out.exit_code == 6 and "fail, skip, update" in out.stderr


# -- batches ------------------------------------------------------------------------------------------
def test_the_same_file_twice_is_refused_with_a_hint(cli, tmp_path, store) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1), row(2)])
    first = summary(cli("import", str(data), "-o", "json"))
    again = cli("import", str(data), "-o", "json")
    assert again.exit_code == 7
    assert first["batch_id"] in again.stderr and "--allow-repeat" in again.stderr
    repeat = cli("import", str(data), "--allow-repeat", "--on-conflict", "skip", "-o", "json")
    assert repeat.exit_code == 0
    assert (summary(repeat)["created"], summary(repeat)["skipped"]) == (0, 2)
    assert len(stored(store)) == 2


def test_a_rejected_import_is_not_a_batch(cli, tmp_path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1, status="lost")])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6 and summary(out)["batch_id"] is None
    # Not a batch: the same file may be tried again (still rejected for its row, not as a repeat).
    assert cli("import", str(data), "-o", "json").exit_code == 6


def test_import_reads_standard_input(cli, store) -> None:
    out = cli("import", "-", "-o", "json", input="\n".join([HEADER, row(1), row(2)]) + "\n")
    assert out.exit_code == 0, out.stderr
    assert summary(out)["created"] == 2 and len(stored(store)) == 2


# -- roles, progress -----------------------------------------------------------------------------------
def test_viewers_cannot_import(cli, tmp_path, act_as, store) -> None:
    act_as("vera", "viewer")
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1)])))
    assert out.exit_code == 4 and stored(store) == {}


def test_a_progress_bar_only_on_a_terminal_and_not_when_quiet(cli, tmp_path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, *(row(i) for i in range(20))])
    shown = cli("import", str(data), "-o", "json", tty="stderr")
    assert "rows/s" in shown.stderr and "rows/s" not in shown.stdout
    assert "rows/s" not in cli("import", str(data), "-o", "json", "--allow-repeat", "--on-conflict", "skip").stderr
    quiet = cli("-q", "import", str(data), "-o", "json", "--dry-run", tty="stderr")
    assert "rows/s" not in quiet.stderr


def test_import_help_shows_the_file_and_undo(cli) -> None:
    out = cli("import", "--help")
    assert out.exit_code == 0
    assert "Usage: samplectl import [OPTIONS] FILE\n" in out.stdout and "- reads standard input" in out.stdout
    assert "undo  Remove the samples an import batch created (admin)." in out.stdout


def test_import_without_a_file_is_a_usage_error(cli) -> None:
    out = cli("import")
    assert out.exit_code == 2 and "samplectl import --help" in out.stderr


# -- the acceptance of issue 4 ------------------------------------------------------------------------
def test_acceptance_200_rows_with_three_bad(cli, tmp_path, store) -> None:
    lines = [HEADER] + [row(i) for i in range(1, 201)]
    lines[40] = row(40, collection_date="2025-13-01")
    lines[99] = row(99, sample_type="urine")
    lines[150] = row(150, subject_id="")
    data = write(tmp_path / "samples.csv", lines)
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6 and stored(store) == {}
    assert [d["line"] for d in envelope(out)["details"]] == [41, 100, 151]
    bad = tmp_path / "bad.csv"
    partial = cli("import", str(data), "--partial", "--errors", str(bad), "-o", "json")
    assert partial.exit_code == 6
    assert summary(partial)["created"] == 197 and len(stored(store)) == 197
    rejected = list(csv.DictReader(bad.open(encoding="utf-8")))
    assert [r["line"] for r in rejected] == ["41", "100", "151"] and all(r["reason"] for r in rejected)


def test_fixed_choices_in_any_case_are_accepted_like_create(cli, tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("sample_id,sample_type,subject_id,collection_date,status,storage_location\n"
                    "M-1, Blood ,S,2025-01-01,PROCESSING,L\n")
    result = cli("import", str(path), "-o", "json")
    assert result.exit_code == 0, result.stderr
    got = cli("get", "M-1").json()
    assert (got["sample_type"], got["status"]) == ("blood", "processing")
