"""Import and export at lab scale: rows/s and peak memory of the real command, for N rows.

Generates N seed-shaped rows (UUID ids, the three types and statuses, 5,000 subjects, dates
over three years, freezer/rack/box locations) and runs samplectl as a separate process for:

  dry-run   import --dry-run
  embedded  import into the embedded default (a fresh SAMPLECTL_HOME)
  wire      import over the real pymongo driver into an nx-27017 wire-protocol server
  export    export -o csv --file, from the embedded store filled above

Peak memory is the maximum resident set size of the samplectl process (wait4's ru_maxrss).
Not part of the test suite. Usage:

    .venv/bin/python benchmarks/import_export.py --rows 100000 1000000
    .venv/bin/python benchmarks/import_export.py --rows 100000 --only dry-run embedded
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

SCENARIOS = ("dry-run", "embedded", "wire", "export")


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


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB, and exit code of one samplectl process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "samplectl", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode()[-2000:] if proc.stderr else "")
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def logged_in(env: dict[str, str]) -> dict[str, str]:
    """An admin "bench" in this home's users database, and its token (as scripts use samplectl)."""
    password = "bench-password-1\n"
    exe = [sys.executable, "-m", "samplectl"]
    subprocess.run([*exe, "init", "--admin", "bench", "--password-stdin"], env=env, input=password, text=True,
                   capture_output=True, check=True)
    token = subprocess.run([*exe, "login", "-u", "bench", "--password-stdin", "--print-token"], env=env,
                           input=password, text=True, capture_output=True, check=True).stdout.strip()
    return dict(env, SAMPLECTL_TOKEN=token)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_wire(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    port = free_port()
    proc = subprocess.Popen([exe, "--data-dir", str(base / "wire"), "--host", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"mongodb://127.0.0.1:{port}/?directConnection=true"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="samplectl-bench-"))
    print(f"{'scenario':<10} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    try:
        for n in opts.rows:
            data = base / f"samples-{n}.csv"
            generate(data, n)
            env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
            env.update(SAMPLECTL_TIMEZONE="UTC", SAMPLECTL_HOME=str(base / f"home-{n}"))
            env = logged_in(env)
            results = {}
            if "dry-run" in opts.only:
                results["dry-run"] = run(["import", str(data), "--dry-run", "-o", "json"], env)
            if "embedded" in opts.only or "export" in opts.only:
                results["embedded"] = run(["import", str(data), "-o", "json"], env)
            if "wire" in opts.only:
                server, uri = start_wire(base / f"wire-{n}")
                try:
                    wire_env = dict(env, SAMPLECTL_MONGODB_URI=uri, SAMPLECTL_MONGODB_DB="bench")
                    results["wire"] = run(["import", str(data), "-o", "json"], wire_env)
                finally:
                    server.terminate()
                    server.wait()
            if "export" in opts.only:
                results["export"] = run(["export", "-o", "csv", "--file", str(base / f"export-{n}.csv")], env)
            for name in SCENARIOS:
                if name in results and (name in opts.only or name == "embedded"):
                    seconds, peak, code = results[name]
                    flag = "" if code == 0 else f"  (exit {code})"
                    print(f"{name:<10} {n:>10,} {seconds:>8.2f} {n / seconds:>10,.0f} {peak:>8.0f}{flag}", flush=True)
    finally:
        if opts.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
