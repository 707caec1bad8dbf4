"""Import files that are not what they should be: JSON nested without end, numbers longer than Python reads,
NaN, and files with no line break at all (binary data, /dev/zero). Each is invalid input (6) with a line
saying why, nothing is stored, and memory stays bounded (the file is never read whole into memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.csvfiles import HEADER, row, stored
from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

pytestmark = LOCAL_AND_REMOTE

GOOD = {"sample_type": "blood", "subject_id": "S", "collection_date": "2025-02-01", "storage_location": "F"}


def refused(out, says: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert out.exit_code == 6, (out.exit_code, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]
    assert lines[1].startswith("hint: "), lines
    return json.loads(lines[-1])["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("suffix", ["json", "jsonl"])
def test_json_nested_deeper_than_python_reads_is_invalid_not_a_crash(cli: CliRun, tmp_path: Path, store,
                                                                      suffix: str) -> None:
    data = tmp_path / f"deep.{suffix}"
    data.write_text(json.dumps(GOOD) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    refused(cli("import", str(data)), "line 2: the JSON cannot be read: it is nested too deeply")
    assert stored(store) == {}


def test_a_number_longer_than_python_reads_is_a_rejected_cell_not_a_crash(cli: CliRun, tmp_path: Path,
                                                                           store) -> None:
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps(GOOD)[:-1] + ', "sample_id": ' + "7" * 5000 + "}\n")
    error = refused(cli("import", str(data), "-o", "json"), "1 of 1 row is invalid")
    assert [(p["line"], p["column"]) for p in error["details"]] == [(1, "sample_id")]
    assert "5000 characters long" in error["details"][0]["message"]
    assert stored(store) == {}


def test_integers_are_read_as_the_digits_written(cli: CliRun, tmp_path: Path, store) -> None:
    data = tmp_path / "ints.jsonl"
    data.write_text(json.dumps(GOOD)[:-1] + ', "subject_id": 12345678901234567890123}\n')
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert [s["subject_id"] for s in stored(store).values()] == ["12345678901234567890123"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_and_never_stored_as_text(cli: CliRun, tmp_path: Path, store,
                                                                constant: str) -> None:
    data = tmp_path / "nan.jsonl"
    data.write_text(json.dumps(GOOD)[:-1] + f', "subject_id": {constant}}}\n')
    refused(cli("import", str(data)), f"line 1: the JSON cannot be read: {constant} is not a JSON value")
    assert stored(store) == {}


@pytest.mark.local_only("a file of tens of megabytes; what is tested is the reading, the same on both sides")
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_dev_zero_is_refused_in_bounded_memory(fmt: str, tmp_path: Path, process_env: dict[str, str]) -> None:
    # A real process under a memory limit: before, /dev/zero was read into memory until the machine ran out.
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
    run = f"{limit}import sys; sys.argv = ['samplectl'] + sys.argv[1:]; from samplectl.cli.entry import main; main()"
    done = subprocess.run([sys.executable, "-c", run, "import", "/dev/zero", "--format", fmt, "--dry-run"],
                          capture_output=True, text=True, env={**os.environ, **process_env}, timeout=120,
                          check=False)
    assert done.returncode == 6, done.stderr
    assert done.stderr.startswith("error: line 1") and "\nhint: " in done.stderr, done.stderr


@pytest.mark.local_only("a file of tens of megabytes; what is tested is the reading, the same on both sides")
def test_a_csv_line_longer_than_16_mb_is_refused_naming_it(cli: CliRun, tmp_path: Path, store) -> None:
    data = tmp_path / "endless.csv"
    with data.open("w") as f:
        f.write(HEADER + "\n" + row(1) + "\n")
        f.write("x" * (17 << 20))
    error = refused(cli("import", str(data)), "line 3 is longer than 16 MB with no line break")
    assert error["details"][0]["line"] == 3
    assert stored(store) == {}


def test_a_csv_header_longer_than_2_mb_is_refused(cli: CliRun, tmp_path: Path, store) -> None:
    data = tmp_path / "header.csv"
    data.write_text("\n" + "a," * (3 << 20) + "\n" + row(1) + "\n")
    refused(cli("import", str(data)), "line 2 (the header) is longer than 2 MB")
    assert stored(store) == {}


def test_a_json_array_on_one_long_line_still_imports(cli: CliRun, tmp_path: Path, store) -> None:
    # What a minifying tool writes: far past the 1 MB a header may have, and the whole file one line.
    records = [dict(GOOD, sample_id=f"M-{i}", storage_location="F" * 100) for i in range(12_000)]
    data = tmp_path / "mini.json"
    data.write_text(json.dumps(records, separators=(",", ":")))
    assert data.stat().st_size > 1 << 21
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert len(stored(store)) == 12_000


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv-with-positions"])
def test_a_file_piped_on_stdin_imports_whole_when_the_first_try_stops_early(cli: CliRun, store, fmt: str) -> None:
    # The import's first try stops early for JSON (its header always names `position`) and for a CSV with a
    # position column; standard input's spool then held only what that try had read (64 KiB), and the next
    # pass ended there: "line 526: the JSON cannot be read", or 746 rows of 2,500 read.
    count = 2500
    records = [dict(GOOD, sample_id=f"P-{i:05d}", subject_id=f"SUBJECT-{i:05d}" + "x" * 20) for i in range(count)]
    if fmt == "jsonl":
        text = "".join(json.dumps(r) + "\n" for r in records)
    elif fmt == "json":
        text = json.dumps(records, indent=1)
    else:
        assert cli("storage", "add", "freezer", "PF").exit_code == 0
        assert cli("storage", "add", "box", "PF/B1", "--grid", "26x99").exit_code == 0
        lines = [",".join([*GOOD, "sample_id", "position"])]
        for i, r in enumerate(records):
            slot = f"{chr(ord('A') + i // 99)}{i % 99 + 1}"
            lines.append(",".join([*(r[k] for k in GOOD if k != "storage_location"), "", r["sample_id"],
                                   f"PF/B1:{slot}"]))
        text = "\n".join(lines) + "\n"
    assert len(text.encode()) > 2 * (1 << 16)
    out = cli("import", "-", "--format", "csv" if fmt.startswith("csv") else fmt, "-o", "json", input=text)
    assert out.exit_code == 0, out.stderr[-2000:]
    assert (json.loads(out.stdout)["read"], json.loads(out.stdout)["created"]) == (count, count)
    assert len(stored(store)) == count


def test_a_value_of_a_megabyte_names_the_delimiter_in_its_hint(cli: CliRun, tmp_path: Path, store) -> None:
    data = tmp_path / "big.csv"
    data.write_text(HEADER + "\n" + row(1).rsplit(",", 1)[0] + "," + "x" * 1_000_000 + "\n")
    error = refused(cli("import", str(data)), "line 2: the CSV cannot be read: field larger than field limit")
    assert error["hint"].startswith("no sample field is that long: check the delimiter (',';")
    assert stored(store) == {}
