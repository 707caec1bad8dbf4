"""The embedded store side by side with sqlite-utils, on the same generated file, in one run.

Generates N seed-shaped rows (UUID ids, the three types and statuses, 5,000 subjects, dates over
three years, freezer/rack/box locations) and runs each side as its own process:

  import    samplectl import (one hash-chained audit record per sample)
            vs sqlite-utils insert DB samples FILE --csv --pk sample_id
  dry-run   samplectl import --dry-run
            vs csv.DictReader + a Pydantic model's model_validate per row
  export    samplectl export -o csv --file F   vs   sqlite-utils rows DB samples --csv > F
  floor     SQLite's own share of that import: the very rows it stored (samples and audit records),
            read back and written again into an empty store the way the import writes them (one
            transaction, its bulk load, CHUNK rows per executemany, the same SQL), with no reading,
            checking or hashing: the fastest any import into this layout can be, whatever its Python does
  disk      bytes per stored sample (samplectl: samples.db with the audit trail) vs sqlite-utils' DB
  get       `samplectl get ID` as a whole process, logged in (median of 15)
            vs sqlite-utils rows DB samples --limit 1

Peak memory is the process's maximum resident set size (wait4's ru_maxrss). Needs sqlite-utils in
the same environment (pip install -e '.[bench]'). Not part of the test suite. Usage:

    nice .venv/bin/python benchmarks/import_export.py --rows 50000
    nice .venv/bin/python benchmarks/import_export.py --rows 1000000 --only import floor disk
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

MEASURES = ("import", "floor", "dry-run", "export", "disk", "get")
BIN = Path(sys.executable).parent

# The peer of `import --dry-run`: the same rows through csv.DictReader and a plain Pydantic model.
PYDANTIC_PEER = '''
import csv, sys
from datetime import datetime
from typing import Literal
from pydantic import BaseModel, Field

class Row(BaseModel):
    sample_id: str = Field(min_length=1, max_length=64)
    sample_type: Literal["blood", "saliva", "tissue"]
    subject_id: str = Field(min_length=1, max_length=64)
    collection_date: datetime
    status: Literal["collected", "processing", "archived"]
    storage_location: str = Field(min_length=1, max_length=128)

with open(sys.argv[1], newline="", encoding="utf-8") as fh:
    count = sum(1 for row in csv.DictReader(fh) if Row.model_validate(row))
print(count)
'''

# The floor: run in its own process so that its CPU time is SQLite's writing and nothing else.
SQLITE_FLOOR = '''
import resource, sys
from pathlib import Path
from samplectl.services.importing import CHUNK
from samplectl.stores.sqlite import open_sqlite
from samplectl.stores.sqlite.audit import AUDIT_INSERT, COLUMNS
from samplectl.stores.sqlite.samples import SAMPLE_NAMES

source, target = open_sqlite(Path(sys.argv[1])), open_sqlite(Path(sys.argv[2]))
samples = source.samples.db.conn.execute(f"SELECT {', '.join(SAMPLE_NAMES)} FROM samples ORDER BY rowid")
records = source.audit.db.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit WHERE action = 'import' ORDER BY seq")
n = source.samples.db.one("SELECT count(*) FROM samples")[0]
store, audit, db = target.samples, target.audit, target.samples.db

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

reading = 0.0  # the rows are read from the source a chunk at a time (memory stays small); not counted
before = cpu()
# As the one-pass import into an empty store: no sample looked up by id, so the id index waits too.
with store.transaction(), store.bulk_load(n, lookups=False), audit.bulk_load(n):
    while True:
        start = cpu()
        rows, chunk = samples.fetchmany(CHUNK), records.fetchmany(CHUNK)
        reading += cpu() - start
        if not rows:
            break
        store.insert_new(rows, [{}] * len(rows))
        db.executemany(AUDIT_INSERT, chunk)
after = cpu()
print(after - before - reading, n)
'''


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    start = datetime(2023, 1, 1)
    span = 3 * 365 * 86400
    types, statuses = ("blood", "saliva", "tissue"), ("collected", "processing", "archived")
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location"])
        for _ in range(rows):
            when = start + timedelta(seconds=rnd.randrange(span))
            out.writerow([
                str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                rnd.choice(types),
                f"SUBJ-{rnd.randrange(1, 5001):05d}",
                when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                rnd.choice(statuses),
                f"FRZ-{rnd.randrange(1, 21)}/R{rnd.randrange(1, 11)}/B{rnd.randrange(1, 101)}",
            ])


@dataclass
class Run:
    seconds: float  # wall
    cpu: float  # user + system, the process and its children: what a shared machine does not inflate
    peak_mb: float
    code: int


def run(argv: list[str], env: dict[str, str], stdout: Path | None = None) -> Run:
    """Seconds, peak RSS and exit code of one process."""
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if stdout:
        out.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.stderr.write(f"{' '.join(argv[:4])}... exited {code}: {err.decode()[-1500:]}\n")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)


def samplectl(*args: str) -> list[str]:
    return [sys.executable, "-m", "samplectl", *args]


def sqlite_utils(*args: str) -> list[str]:
    return [str(BIN / "sqlite-utils"), *args]


def logged_in(env: dict[str, str]) -> dict[str, str]:
    """An admin "bench" in this home's users database, and its token (as scripts use samplectl)."""
    password = "bench-password-1\n"
    subprocess.run(samplectl("init", "--admin", "bench", "--password-stdin"), env=env, input=password, text=True,
                   capture_output=True, check=True)
    token = subprocess.run(samplectl("login", "-u", "bench", "--password-stdin", "--print-token"), env=env,
                           input=password, text=True, capture_output=True, check=True).stdout.strip()
    return dict(env, SAMPLECTL_TOKEN=token)


def store_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("samples.db*"))


def median_run(argv: list[str], env: dict[str, str], times: int = 15) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``times`` runs."""
    runs = [run(argv, env) for _ in range(times)]
    return statistics.median(r.seconds for r in runs), statistics.median(r.cpu for r in runs)


def line(measure: str, ours: str, theirs: str, ratio: float, target: str) -> None:
    print(f"{measure:<44} {ours:>14} {theirs:>14} {ratio:>7.2f}x  {target}", flush=True)


def rates(measure: str, n: int, ours: Run, theirs: Run, target: str) -> None:
    """Rows per second of wall time, and per second of CPU time (user + system): on a shared machine
    the wall clock counts other people's work too, so the CPU line is the one to compare."""
    line(f"{measure}, wall", f"{n / ours.seconds:,.0f}", f"{n / theirs.seconds:,.0f}",
         theirs.seconds / ours.seconds, target)
    line(f"{measure}, CPU", f"{n / ours.cpu:,.0f}", f"{n / theirs.cpu:,.0f}", theirs.cpu / ours.cpu, target)


def floor(n: int, home: Path, base: Path, ours: Run, theirs: Run) -> None:
    """What bounds the import: SQLite's share alone (see SQLITE_FLOOR), and the rest of the import."""
    out = subprocess.run([sys.executable, "-c", SQLITE_FLOOR, str(home / "samples.db"), str(base / "floor.db")],
                         capture_output=True, text=True, check=True).stdout.split()
    sqlite_cpu, rows = float(out[0]), int(out[1])
    assert rows == n, f"the store holds {rows} samples, not {n}"
    line("import, SQLite's share alone, CPU rows/s", f"{n / sqlite_cpu:,.0f}", f"{n / theirs.cpu:,.0f}",
         theirs.cpu / sqlite_cpu, "the best any import could do")
    per_row = 1e6 / n
    print(f"  CPU per sample: samplectl import {ours.cpu * per_row:.1f} us = SQLite {sqlite_cpu * per_row:.1f} + "
          f"the rest {(ours.cpu - sqlite_cpu) * per_row:.1f}; sqlite-utils {theirs.cpu * per_row:.1f}; "
          f"3x sqlite-utils needs {theirs.cpu * per_row / 3:.1f}", flush=True)
    for suffix in ("", "-wal", "-shm"):
        (base / f"floor.db{suffix}").unlink(missing_ok=True)


def bench(n: int, base: Path, only: list[str]) -> None:
    data = base / f"samples-{n}.csv"
    generate(data, n)
    home = base / f"home-{n}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
    env.update(SAMPLECTL_TIMEZONE="UTC", SAMPLECTL_HOME=str(home))
    env = logged_in(env)
    peer_db = base / f"sqlite-utils-{n}.db"
    print(f"\n{n:,} rows ({data.stat().st_size / 1e6:.1f} MB CSV)")
    print(f"{'measure':<44} {'samplectl':>14} {'peer':>14} {'ratio':>8}  target")
    if "dry-run" in only:
        # Into the empty store, before the import: a dry run then checks the rows as the peer does;
        # after it, every row would be an existing id (a conflict), a different job.
        ours = run(samplectl("import", str(data), "--dry-run", "-o", "json"), env)
        theirs = run([sys.executable, "-c", PYDANTIC_PEER, str(data)], env)
        rates("import --dry-run rows/s (pydantic)", n, ours, theirs, ">= 0.8x")
    need_store = {"import", "floor", "export", "disk", "get"} & set(only)
    if need_store:
        ours = run(samplectl("import", str(data), "-o", "json"), env)
        theirs = run(sqlite_utils("insert", str(peer_db), "samples", str(data), "--csv", "--pk", "sample_id"), env)
        if "import" in only:
            rates("import rows/s (sqlite-utils insert)", n, ours, theirs, ">= 3x")
            line("import peak memory MB", f"{ours.peak_mb:.0f}", f"{theirs.peak_mb:.0f}",
                 ours.peak_mb / theirs.peak_mb, "<= 150 MB")
        if "floor" in only:
            floor(n, home, base, ours, theirs)
    if "export" in only:
        ours = run(samplectl("export", "-o", "csv", "--file", str(base / f"export-{n}.csv")), env)
        theirs = run(sqlite_utils("rows", str(peer_db), "samples", "--csv"), env, stdout=base / f"peer-{n}.csv")
        rates("export -o csv rows/s (rows --csv)", n, ours, theirs, ">= 1x")
    if "disk" in only:
        ours_bytes, theirs_bytes = store_bytes(home), peer_db.stat().st_size
        line("disk bytes per sample (audit incl.)", f"{ours_bytes / n:,.0f}", f"{theirs_bytes / n:,.0f}",
             ours_bytes / theirs_bytes, "<= 2x (ratio)")
    if "get" in only:
        with data.open(encoding="utf-8") as fh:
            fh.readline()
            some_id = fh.readline().split(",", 1)[0]
        ours_s = median_run(samplectl("get", some_id, "-o", "json"), env)
        theirs_s = median_run(sqlite_utils("rows", str(peer_db), "samples", "--limit", "1"), env)
        for i, kind in enumerate(("wall", "CPU")):
            line(f"get ID, whole process, median ms, {kind}", f"{ours_s[i] * 1000:.0f}", f"{theirs_s[i] * 1000:.0f}",
                 ours_s[i] / theirs_s[i], "<= 200 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000])
    parser.add_argument("--only", nargs="+", choices=MEASURES, default=list(MEASURES))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    opts = parser.parse_args()
    if not (BIN / "sqlite-utils").exists():
        sys.exit("sqlite-utils is not installed next to this Python: pip install -e '.[bench]'")
    base = Path(tempfile.mkdtemp(prefix="samplectl-bench-"))
    print("ratio: how many times the peer's time samplectl's is faster (rows/s), or samplectl / peer (memory, disk, ms)")
    try:
        for n in opts.rows:
            bench(n, base, opts.only)
    finally:
        if opts.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
