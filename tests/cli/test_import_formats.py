"""Issue 14 items 4, 8 and 10: spreadsheet and JSON files import, what samplectl prints imports back,
dry runs count what the import would do, Ctrl-C says what was kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.csvfiles import HEADER, row, stored, summary, write
from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

EXCEL_HEADER = "Sample ID;Sample Type;Subject ID;Collection Date;Status;Storage Location"


def excel_row(i: int) -> str:
    return f"S-{i};Blood;SUBJ-{i};14/03/2025;collected;FRZ-1/R1/B{i}"


def test_a_windows_excel_csv_imports(cli: CliRun, tmp_path: Path, store) -> None:
    # Excel on a German or French Windows: semicolons, a UTF-8 BOM, CRLF, day/month/year.
    data = tmp_path / "excel.csv"
    data.write_bytes(("\ufeff" + "\r\n".join([EXCEL_HEADER, excel_row(1), excel_row(2)]) + "\r\n").encode("utf-8"))
    out = cli("import", str(data), "--date-format", "%d/%m/%Y", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert summary(out)["created"] == 2
    sample = stored(store)["S-1"]
    assert sample["storage_location"] == "FRZ-1/R1/B1" and sample["sample_type"] == "blood"


@pytest.mark.parametrize("delimiter", ["\t", "|", ";", ","])
def test_the_delimiter_is_detected_from_the_header(cli: CliRun, tmp_path: Path, store, delimiter: str) -> None:
    lines = [line.replace(",", delimiter) for line in [HEADER, row(1), row(2)]]
    out = cli("import", str(write(tmp_path / "in.txt", lines)), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert sorted(stored(store)) == ["S-0001", "S-0002"]


def test_delimiter_flag_overrides_detection(cli: CliRun, tmp_path: Path, store) -> None:
    # A header with more commas than semicolons, in a file that is really ;-separated.
    data = write(tmp_path / "in.csv", ["sample_type;subject_id;collection_date;storage_location",
                                       "blood;SUBJ,1;2025-01-01;FRZ,1"])
    out = cli("import", str(data), "--delimiter", ";", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert [s["subject_id"] for s in stored(store).values()] == ["SUBJ,1"]
    bad = cli("import", str(data), "--delimiter", ";;")
    assert bad.exit_code == 6 and "--delimiter" in bad.stderr


def test_json_lines_and_json_arrays_import(cli: CliRun, tmp_path: Path, store) -> None:
    records = [{"sample_id": f"J-{i}", "sample_type": "saliva", "subject_id": "SUBJ-9",
                "collection_date": "2025-02-01T10:00:00Z", "storage_location": f"FRZ-3/B{i}"} for i in range(3)]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records[:2]) + "\n")
    array = tmp_path / "in.data"  # no telling name: detected from the first character
    array.write_text(json.dumps(records[2:], indent=2))
    assert cli("import", str(jsonl), "-o", "json").exit_code == 0
    out = cli("import", str(array), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert sorted(stored(store)) == ["J-0", "J-1", "J-2"]


def test_json_problems_name_the_line_where_the_object_starts(cli: CliRun, tmp_path: Path) -> None:
    good = {"sample_type": "blood", "subject_id": "S", "collection_date": "2025-02-01", "storage_location": "F"}
    data = tmp_path / "in.json"
    data.write_text("[\n" + json.dumps(good) + ",\n" + json.dumps(dict(good, sample_type="plasma"), indent=1) + "\n]\n")
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6
    problems = json.loads(out.stderr.strip().splitlines()[-1])["error"]["details"]
    assert [(p["line"], p["column"]) for p in problems] == [(3, "sample_type")]


def test_a_json_file_cut_short_is_unreadable_with_its_line(cli: CliRun, tmp_path: Path) -> None:
    data = tmp_path / "in.json"
    data.write_text('[\n{"sample_type": "blood",\n')
    out = cli("import", str(data), "--format", "json")
    assert out.exit_code == 6 and "line 2" in out.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_what_list_prints_imports_back(cli: CliRun, tmp_path: Path, fmt: str, store) -> None:
    for i in range(3):
        made = cli("create", "--id", f"S-{i}", "--type", "tissue", "--subject", "SUBJ-1", "--collected",
                   "2025-03-14T09:30", "--location", f"FRZ-1/B{i}")
        assert made.exit_code == 0
    printed = cli("list", "-o", fmt).stdout
    assert "created_at" in printed and "version" in printed
    again = cli("import", "-", "--on-conflict", "skip", "-o", "json", input=printed)
    assert again.exit_code == 0, again.stderr
    assert (summary(again)["read"], summary(again)["skipped"]) == (3, 3)
    # Into an empty store, the same output recreates the samples (the record columns ignored).
    cli("delete", "S-0", "S-1", "S-2", "--yes")
    back = cli("import", "-", "-o", "json", "--allow-repeat", input=printed)
    assert back.exit_code == 0, back.stderr
    assert summary(back)["created"] == 3
    assert stored(store)["S-1"]["storage_location"] == "FRZ-1/B1" and stored(store)["S-1"]["version"] == 1


def test_export_json_imports_back(cli: CliRun, tmp_path: Path) -> None:
    cli("create", "--id", "S-1", "--type", "tissue", "--subject", "SUBJ-1", "--collected", "2025-03-14T09:30",
        "--location", "FRZ-1/B1")
    printed = cli("export", "-o", "json").stdout
    out = cli("import", "-", "--on-conflict", "skip", "-o", "json", input=printed)
    assert out.exit_code == 0, out.stderr and summary(out)["skipped"] == 1


def test_the_import_streams_json_in_chunks(tmp_path: Path) -> None:
    # A file much larger than one read chunk decodes with objects cut at every chunk boundary.
    import io

    from samplectl.services.jsonsource import JsonRecords
    from samplectl.services.rowcheck import IMPORT_COLUMNS, column_key

    text = "[" + ",".join(json.dumps({"subject_id": f"S-{i}" * 7}) for i in range(5000)) + "]"
    records = JsonRecords([], io.StringIO(text), columns=IMPORT_COLUMNS, key=column_key, ignore_unknown=False)
    header, line = records.read_header()  # type: ignore[misc]
    rows = list(records)
    assert len(rows) == 5000 and rows[4999][header.index("subject_id")] == "S-4999" * 7
    assert len(records.buf) < 2 * (1 << 16)


# -- item 10: dry runs ------------------------------------------------------------------------
@pytest.mark.parametrize("on_conflict, expected", [("skip", (1, 0, 2, 1)), ("update", (1, 1, 1, 1)),
                                                   ("fail", (1, 0, 0, 3))])
def test_a_dry_run_counts_what_the_import_would_do(cli: CliRun, tmp_path: Path, store, on_conflict: str,
                                                   expected: tuple[int, int, int, int]) -> None:
    cli("import", str(write(tmp_path / "first.csv", [HEADER, row(1), row(2)])))
    lines = [HEADER, row(1), row(2, storage_location="FRZ-9"), row(3), row(4, sample_type="plasma")]
    out = cli("import", str(write(tmp_path / "second.csv", lines)), "--dry-run", "--on-conflict", on_conflict,
              "-o", "json")
    result = summary(out)
    assert result["dry_run"] is True and result["batch_id"] is None
    assert (result["created"], result["updated"], result["skipped"], result["rejected"]) == expected
    assert sorted(stored(store)) == ["S-0001", "S-0002"]


def test_after_partial_with_errors_the_hint_says_how_to_reimport(cli: CliRun, tmp_path: Path, store) -> None:
    bad = tmp_path / "bad rows.csv"
    data = write(tmp_path / "in.csv", [HEADER, row(1), row(2, sample_type="plasma")])
    out = cli("import", str(data), "--partial", "--errors", str(bad))
    assert out.exit_code == 6
    hint = [line for line in out.stderr.splitlines() if line.startswith("hint:")][0]
    assert f"samplectl import '{bad}' --ignore-unknown" in hint
    fixed = bad.read_text().replace("plasma", "blood")
    bad.write_text(fixed)
    again = cli("import", str(bad), "--ignore-unknown", "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert sorted(stored(store)) == ["S-0001", "S-0002"]


# -- item 8: Ctrl-C -----------------------------------------------------------------------------
@pytest.mark.local_only("it interrupts the import's writer in this process; in remote mode that runs in the server")
def test_ctrl_c_during_an_import_exits_130_saying_nothing_was_kept(cli: CliRun, tmp_path: Path, store,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from samplectl.services.batchwriter import BatchWriter

    def interrupted(self, valid):  # noqa: ANN001 - the writer's own signature
        raise KeyboardInterrupt

    monkeypatch.setattr(BatchWriter, "write", interrupted)
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1), row(2)])), "--partial")
    assert out.exit_code == 130
    assert out.stderr.strip().splitlines()[-1] == "interrupted: nothing of this import was kept"
    assert stored(store) == {}


def test_an_interrupted_bar_stays_where_it_stopped() -> None:
    import io

    from samplectl.output.progress import RowsProgress

    err = io.StringIO()
    bar = RowsProgress(err, color=False)
    bar.phase("importing", 1000)
    bar.update(10, 100)
    bar.done(finished=False)
    assert bar.bar.tasks[-1].completed == 100
    finished = RowsProgress(io.StringIO(), color=False)
    finished.phase("importing", 1000)
    finished.done()
    assert finished.bar.tasks[-1].completed == 1000
