"""`samplectl filter ... | head -1`: when the pipe's reader goes away, samplectl stops quietly, as Unix tools do.

A real process, a real pipe: the reader takes one line and closes its end while samplectl is still
writing. Nothing may reach stderr then — no "Exception ignored", no traceback from a store whose
rows were still being streamed — and the exit is 0.
"""

from __future__ import annotations

import csv
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
