"""`samplectl filter ... | head -1`: when the pipe's reader goes away, samplectl stops quietly, as Unix tools do.

A real process, a real pipe: the reader takes one line and closes its end while samplectl is still
writing. Nothing may reach stderr then — no "Exception ignored", no traceback from a store whose
rows were still being streamed — and the exit is 0.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_samplectl


def test_a_reader_that_stops_early_gets_no_noise_on_stderr(isolated_env: Path, process_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    rows = tmp_path / "many.csv"
    with rows.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location"])
        for n in range(3000):  # far more than a pipe's buffer once printed
            out.writerow([f"S-{n:05}", "blood", "SUBJ-1", "2025-03-14", "collected", "FRZ-1/R1/B1"])
    imported = run_samplectl("import", str(rows), env=process_env)
    assert imported.returncode == 0, imported.stderr
    # --all: 3,000 rows, far past the pipe's buffer (the default 50 fit in it, and could all be written
    # before the reader left, with the "showing the first 50" notice on stderr).
    for args in (["filter", "--location", "FRZ-1/", "--all", "-o", "jsonl"], ["list", "--all", "-o", "csv"]):
        proc = subprocess.Popen([sys.executable, "-m", "samplectl", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, **process_env})
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()  # one line, then the reader is gone
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, stderr
        assert stderr == "", stderr


def run_with_reader_gone(args: list[str], gone: str, env: dict[str, str], stdin: str = "") -> tuple[int, str]:
    """samplectl with ``gone`` (stdout or stderr) a pipe whose reader has already left: (exit code, the other stream)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, gone: write_end}
    try:
        done = subprocess.run([sys.executable, "-m", "samplectl", *args], input=stdin.encode(), timeout=60,
                              env={**os.environ, **env}, check=False, **streams)  # type: ignore[call-overload]
    finally:
        os.close(write_end)
    other = done.stderr if gone == "stdout" else done.stdout
    return done.returncode, other.decode()


def test_with_no_reader_of_stderr_the_exit_code_and_stdout_stay_whole(isolated_env: Path, process_env: dict[str, str],
                                                                      tmp_path: Path) -> None:
    # `samplectl ... 2>&1 | head -1`: messages nobody reads are dropped; before, the first one ended the command
    # (exit 0 with nothing on stdout after `created sample ...`, exit 1 when the error line could not be written).
    code, stdout = run_with_reader_gone(["create", "--id", "S-1", "--type", "blood", "--subject", "SUBJ-1",
                                         "--collected", "2025-03-14", "--location", "FRZ-1", "-o", "json"],
                                        "stderr", process_env)
    assert code == 0 and json.loads(stdout)["sample_id"] == "S-1"
    assert run_with_reader_gone(["get", "S-2"], "stderr", process_env)[0] == 5
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_type,subject_id,collection_date,storage_location\nplasma,S,2025-01-01,F\n")
    code, stdout = run_with_reader_gone(["import", str(bad), "-o", "json"], "stderr", process_env)
    assert code == 6 and json.loads(stdout)["rejected"] == 1


def test_an_import_that_rejected_rows_says_so_even_when_its_summary_has_no_reader(
        isolated_env: Path, process_env: dict[str, str], tmp_path: Path) -> None:
    # `samplectl import f.csv | head -0`: before, exit 0, as though every row had been imported.
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_type,subject_id,collection_date,storage_location\nplasma,S,2025-01-01,F\n")
    code, stderr = run_with_reader_gone(["import", str(bad), "-o", "json"], "stdout", process_env)
    assert code == 6, stderr
    assert stderr.startswith("error: 1 of 1 row is invalid; nothing was imported\nhint: ")
    good = tmp_path / "good.csv"
    good.write_text("sample_type,subject_id,collection_date,storage_location\nblood,S,2025-01-01,F\n")
    code, stderr = run_with_reader_gone(["import", str(good), "-o", "json"], "stdout", process_env)
    assert (code, stderr) == (0, "")
