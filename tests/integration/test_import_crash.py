"""kill -9 in the middle of an import on the embedded default: nothing half-visible, and the next
run reports the interrupted batch and ends with every row of the file exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samplectl.config import load_settings
from tests.cli.csvfiles import HEADER, row, write
from tests.conftest import ROOT, run_samplectl

pytestmark = pytest.mark.slow
ROWS = 30_000


def running_batches(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM import_batches WHERE state = 'running'").fetchone()[0])
    except sqlite3.OperationalError:  # the table does not exist yet
        return 0


def samples_in(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return [r[0] for r in conn.execute("SELECT sample_id FROM samples")]


def test_an_import_killed_while_writing_leaves_nothing_and_the_next_run_finishes(
    tmp_path: Path, process_env: dict[str, str]
) -> None:
    data = write(tmp_path / "big.csv", [HEADER, *(row(i) for i in range(ROWS))])
    db = load_settings().samples_path
    proc = subprocess.Popen([sys.executable, "-m", "samplectl", "import", str(data), "-o", "json"], cwd=ROOT,
                            env={**os.environ, **process_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while running_batches(db) == 0:  # the batch is marked running just before the first write
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.05)
    time.sleep(0.5)  # well into the writing
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert samples_in(db) == []  # nothing of the killed batch is visible
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:  # the load had dropped it
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'samples_by_id'").fetchone() == (1,)

    again = run_samplectl("import", str(data), "-o", "json", env=process_env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "was interrupted; rolled back" in again.stderr
    assert json.loads(again.stdout)["created"] == ROWS
    ids = samples_in(db)
    assert len(ids) == ROWS and len(set(ids)) == ROWS  # every row exactly once


def peak_mb(args: list[str], env: dict[str, str]) -> float:
    proc = subprocess.Popen([sys.executable, "-m", "samplectl", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss / 1024


def test_memory_does_not_grow_with_the_file(tmp_path: Path, process_env: dict[str, str]) -> None:
    small = write(tmp_path / "small.csv", [HEADER, *(row(i) for i in range(5_000))])
    large = write(tmp_path / "large.csv", [HEADER, *(row(i) for i in range(100_000))])
    grown = peak_mb(["import", str(large), "--dry-run"], process_env) - peak_mb(["import", str(small), "--dry-run"],
                                                                                 process_env)
    assert grown < 12, f"a file 20 times larger took {grown:.0f} MB more"
