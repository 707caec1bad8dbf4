"""Several real processes writing to the embedded default at once, and a process killed mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samplectl.config import load_settings
from samplectl.domain.criteria import Criteria, Sort
from samplectl.stores.engines import open_sample_database
from samplectl.stores.samples import SampleStore
from tests.conftest import ROOT, run_samplectl

pytestmark = pytest.mark.slow


def writer(prefix: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.writer", prefix, str(count)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )


def open_store() -> SampleStore:
    return open_sample_database(load_settings()).samples


def test_two_processes_creating_1000_each_leave_exactly_2000() -> None:
    assert run_samplectl("init").returncode == 0
    procs = [writer("A", 1000), writer("B", 1000)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert len(out.split()) == 1000
    store = open_store()
    assert store.count(Criteria()) == 2000
    assert store.count(Criteria(subject_ids=("A",))) == 1000
    assert store.count(Criteria(subject_ids=("B",))) == 1000
    assert len({r["sample_id"] for r in store.find(Criteria(), Sort(), None)}) == 2000


def test_parallel_cli_creates_lose_nothing(process_env: dict[str, str]) -> None:
    assert run_samplectl("init", env=process_env).returncode == 0
    script = (
        'for i in $(seq 1 15); do "$0" -m samplectl create --type blood --subject "$1" '
        '--collected 2025-01-01 --location L -o jsonl >/dev/null || exit 1; done'
    )
    procs = [
        subprocess.Popen(["bash", "-c", script, sys.executable, subject], cwd=ROOT,
                         env={**os.environ, **process_env}, stderr=subprocess.PIPE, text=True)
        for subject in ("P", "Q")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    listed = run_samplectl("list", "--all", "-o", "jsonl", env=process_env)
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == 30


def test_a_writer_killed_mid_write_leaves_a_readable_store_with_every_acknowledged_sample(
    process_env: dict[str, str],
) -> None:
    assert run_samplectl("init").returncode == 0
    proc = writer("K", 100000)
    acknowledged: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            acknowledged.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # Read the rest through the same buffered stream: communicate(timeout=...) reads the raw pipe and
    # would drop lines readline() already buffered, counting them as stored but never acknowledged.
    acknowledged += proc.stdout.read().split()
    store = open_store()
    stored = {r["sample_id"] for r in store.find(Criteria(), Sort(), None)}
    assert set(acknowledged) <= stored
    # At most the one write in flight at the kill may have landed without being acknowledged.
    assert len(stored - set(acknowledged)) <= 1
    # The store still takes writes and keeps ids unique after the crash.
    assert run_samplectl("create", "--id", acknowledged[0], "--type", "blood", "--subject", "K",
                         "--collected", "2025-01-01", "--location", "L", env=process_env).returncode == 7
    assert Path(load_settings().samples_path).exists()


def test_two_imports_of_different_files_at_once_keep_every_row_once(tmp_path: Path, process_env: dict[str, str]) -> None:
    from tests.cli.csvfiles import HEADER, row, write

    files = [write(tmp_path / f"{name}.csv", [HEADER, *(row(i, sample_id=f"{name}-{i:05d}") for i in range(2000))])
             for name in ("P", "Q")]
    procs = [subprocess.Popen([sys.executable, "-m", "samplectl", "import", str(f), "-o", "json"], cwd=ROOT,
                              env={**os.environ, **process_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for f in files]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    store = open_store()
    assert store.count(Criteria()) == 4000
    ids = [r["sample_id"] for r in store.find(Criteria(), Sort("sample_id", False), None)]
    assert ids == sorted({f"{n}-{i:05d}" for n in "PQ" for i in range(2000)})
    verify = run_samplectl("audit", "verify", "-o", "json", env=process_env)
    assert verify.returncode == 0 and '"records": ' in verify.stdout


def _imports_at_once(files: list[Path], env: dict[str, str]) -> list[tuple[int, str, str]]:
    procs = [subprocess.Popen([sys.executable, "-m", "samplectl", "import", str(f), "-o", "json"], cwd=ROOT,
                              env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for f in files]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs, strict=True)]


LARGE = 36_000  # rows: a file large enough for a bulk load (see large_enough)


def large_enough(path: Path) -> Path:
    """A file the import takes for a bulk load (from its size, as it guesses the rows)."""
    from samplectl.services.importing import ROW_BYTES
    from samplectl.stores.sqlite.samples import BULK_LOAD_MIN_ROWS

    assert path.stat().st_size // ROW_BYTES >= BULK_LOAD_MIN_ROWS
    return path


def test_two_large_imports_into_an_empty_store_at_once_keep_every_row_once(
        tmp_path: Path, process_env: dict[str, str]) -> None:
    """The first to take the write lock loads with the id index built after; the second finds samples
    when it gets the lock, and keeps the index up."""
    from tests.cli.csvfiles import HEADER, row, write

    assert run_samplectl("init", env=process_env).returncode == 0
    files = [large_enough(write(tmp_path / f"{name}.csv",
                                [HEADER, *(row(i, sample_id=f"{name}-{i:05d}") for i in range(LARGE))]))
             for name in ("P", "Q")]
    for code, _out, err in _imports_at_once(files, process_env):
        assert code == 0, err
    ids = [r["sample_id"] for r in open_store().find(Criteria(), Sort("sample_id", False), None)]
    assert ids == sorted(f"{n}-{i:05d}" for n in "PQ" for i in range(LARGE))


def test_of_two_large_imports_into_an_empty_store_sharing_an_id_the_second_is_refused(
        tmp_path: Path, process_env: dict[str, str]) -> None:
    from tests.cli.csvfiles import HEADER, row, write

    assert run_samplectl("init", env=process_env).returncode == 0
    p_rows = [row(i, sample_id=f"P-{i:05d}") for i in range(LARGE)]
    r_rows = [row(i, sample_id=f"R-{i:05d}") for i in range(LARGE - 1)] + [row(0, sample_id="P-00000")]
    files = [large_enough(write(tmp_path / "P.csv", [HEADER, *p_rows])),
             large_enough(write(tmp_path / "R.csv", [HEADER, *r_rows]))]
    outcomes = _imports_at_once(files, process_env)
    assert sorted(code for code, _o, _e in outcomes) == [0, 7], [err for _c, _o, err in outcomes]
    winner = "P" if outcomes[0][0] == 0 else "R"
    refused = outcomes[1 if winner == "P" else 0][2]
    assert "'P-00000' already exists" in refused and "Traceback" not in refused
    ids = [r["sample_id"] for r in open_store().find(Criteria(), Sort("sample_id", False), None)]
    expected = ([f"P-{i:05d}" for i in range(LARGE)] if winner == "P"
                else ["P-00000", *(f"R-{i:05d}" for i in range(LARGE - 1))])
    assert ids == sorted(expected)
    verify = run_samplectl("audit", "verify", "-o", "json", env=process_env)
    assert verify.returncode == 0 and '"ok": true' in verify.stdout
    with sqlite3.connect(f"file:{load_settings().samples_path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'import'").fetchone() == (LARGE,)
