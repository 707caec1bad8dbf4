"""Storage geometry at freezer scale, against the issue's targets, in one run.

A freezer of 20 racks x 10 boxes x 81 positions (16,200) with 12,000 samples placed at random positions
(imported with a position column). Then:

  free      `storage free --need 24 --together` over the freezer     target <= 200 ms inside the command
  show      `storage show BOX` of a full-ish box, drawn as the grid   target <= 50 ms inside the command
  fill      `import --fill` of 10,000 rows into empty boxes, beside a plain import of the same file
            (fresh stores each)                                       target >= 0.5x the plain rows/s

"Inside the command" is the command's own work once its process is up: the service call (store
queries) and the drawing, timed in this process, median of 7 runs. The whole `samplectl` process
(start-up, login check) is printed beside it for reference. Imports are compared on the `seconds` of
their own summaries. Not part of the test suite. Usage:

    .venv/bin/python benchmarks/storage.py                 # embedded store
    .venv/bin/python benchmarks/storage.py --backend wire  # over pymongo to an nx-27017 server
    .venv/bin/python benchmarks/storage.py --remote        # and beside it, through `samplectl serve` (remote mode)

With --remote the same freezer is served by a real `samplectl serve` on loopback, and the same commands
run in remote mode: "inside the command" is then the request and the server's work (the service call
of samplectl.remote, timed in this process), and each whole process is given as wall and CPU time (the
client's user + system: what the technician's machine spends). `import --fill` goes through the server
into boxes of their own.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_export import logged_in  # noqa: E402
from remote import LAST_CPU, free_port, measured, start_server  # noqa: E402

RACKS, BOXES, ROWS, COLS = 20, 10, 9, 9
PLACED, FILLED = 12_000, 10_000


def start_wire(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    """An nx-27017 wire-protocol server on a free loopback port, and its URI."""
    import socket

    exe = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen([exe, "--data-dir", str(base), "--host", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"mongodb://127.0.0.1:{port}/?directConnection=true"


def samplectl(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "samplectl", *args], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"samplectl {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return time.perf_counter() - started, proc.stdout


def open_services(env: dict[str, str]) -> tuple[Any, Any]:
    """The storage service and the database, opened in this process as a command opens them."""
    os.environ.update(env)
    from samplectl.config import load_settings
    from samplectl.domain.identity import Identity
    from samplectl.services.storage import StorageService
    from samplectl.stores.engines import open_sample_database

    database = open_sample_database(load_settings())
    return StorageService(database.containers, Identity("bench", "admin")), database


def build_freezer(service: Any) -> list[str]:
    service.add("freezer", "FRZ-1")
    boxes = []
    for r in range(1, RACKS + 1):
        service.add("rack", f"FRZ-1/R{r}")
        for b in range(1, BOXES + 1):
            service.add("box", f"FRZ-1/R{r}/B{b}", grid=f"{ROWS}x{COLS}")
            boxes.append(f"FRZ-1/R{r}/B{b}")
    return boxes


def write_rows(path: Path, rows: int, positions: list[str] | None = None, seed: int = 11) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        header = ["sample_type", "subject_id", "collection_date", "storage_location"]
        out.writerow(header + (["position"] if positions else []))
        for i in range(rows):
            row = [rnd.choice(("blood", "saliva", "tissue")), f"SUBJ-{rnd.randrange(1, 5001):05d}",
                   f"2025-0{1 + i % 9}-1{i % 10}T08:00:00Z", "" if positions else "FRZ-9/R1/B1"]
            out.writerow(row + ([positions[i]] if positions else []))


def remote_service(env: dict[str, str]) -> Any:
    """The storage service of remote mode (samplectl.remote), opened in this process as a command opens it."""
    from samplectl.config import load_settings
    from samplectl.domain.identity import Identity
    from samplectl.remote.services import RemoteServices
    from samplectl.stores.tokens import CachedToken

    token = CachedToken(env["SAMPLECTL_TOKEN"], "environment", "SAMPLECTL_TOKEN")
    services = RemoteServices(load_settings(env), lambda: Identity("bench", "admin"), lambda: token)
    return services.storage_service()


def process_ms(args: list[str], env: dict[str, str], runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU (user + system) milliseconds of whole `samplectl` processes."""
    walls, cpus = [], []
    for _ in range(runs):
        seconds, _, code = measured([sys.executable, "-m", "samplectl", *args], env)
        if code:
            raise SystemExit(f"samplectl {' '.join(args)} exited {code}")
        walls.append(seconds * 1000)
        cpus.append(LAST_CPU[0] * 1000)
    return statistics.median(walls), statistics.median(cpus)


def median_ms(call: Callable[[], Any], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("embedded", "wire"), default="embedded")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--remote", action="store_true", help="also through `samplectl serve` (remote mode)")
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="samplectl-bench-storage-"))
    servers = []
    try:
        def environment(name: str) -> dict[str, str]:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
            env.update(SAMPLECTL_TIMEZONE="UTC", SAMPLECTL_HOME=str(base / name))
            if opts.backend == "wire":
                server, uri = start_wire(base / f"wire-{name}")
                servers.append(server)
                env.update(SAMPLECTL_MONGODB_URI=uri, SAMPLECTL_MONGODB_DB="bench")
            return logged_in(env)

        # -- a freezer with 12,000 samples ----------------------------------------------------
        env = environment("freezer")
        service, database = open_services(env)
        boxes = build_freezer(service)
        everywhere = [f"{box}:{'ABCDEFGHI'[i // COLS]}{i % COLS + 1}" for box in boxes for i in range(ROWS * COLS)]
        placed = base / "placed.csv"
        write_rows(placed, PLACED, random.Random(5).sample(everywhere, PLACED))
        seconds, out = samplectl(["import", str(placed), "-o", "json"], env)
        print(f"set-up: {PLACED:,} samples placed at random in {len(boxes)} boxes "
              f"({json.loads(out)['seconds']:.2f} s import, {opts.backend})")

        from samplectl.output.formats import View, render
        from samplectl.output.storage import FREE, write_box

        def write_free(rows: Any, out: io.StringIO, color: bool) -> None:
            render(FREE, rows, out, View("table", color=color))  # as `storage free` draws its table

        def free() -> None:
            write_free(service.free("FRZ-1", need=24, together=True), io.StringIO(), color=False)

        def show() -> None:
            write_box(service.show("FRZ-1/R10/B5"), io.StringIO(), color=False)

        free_ms, show_ms = median_ms(free), median_ms(show)
        free_args = ["storage", "free", "--under", "FRZ-1", "--need", "24", "--together", "-o", "json"]
        show_args = ["storage", "show", "FRZ-1/R10/B5", "-o", "table"]
        free_proc, _ = samplectl(free_args, env)
        show_proc, _ = samplectl(show_args, env)
        database.close()
        remote_rows: list[str] = []
        if opts.remote:
            port = free_port()
            servers.append(start_server(env, port, base / "serve.log"))
            client = {**{k: v for k, v in env.items() if k != "SAMPLECTL_HOME"},
                      "SAMPLECTL_HOME": str(base / "client"), "SAMPLECTL_SERVER": f"http://127.0.0.1:{port}"}
            remote = remote_service(client)

            def free_remote() -> None:
                write_free(remote.free("FRZ-1", need=24, together=True), io.StringIO(), color=False)

            def show_remote() -> None:
                write_box(remote.show("FRZ-1/R10/B5"), io.StringIO(), color=False)

            for name, call, args, local_ms in (("storage free --need 24 --together", free_remote, free_args, free_ms),
                                               ("storage show BOX", show_remote, show_args, show_ms)):
                inside = median_ms(call)
                wall, cpu = process_ms(args, client)
                local_wall, local_cpu = process_ms(args, env)
                remote_rows.append(f"{name:<36} {local_ms:>8.1f} ms {inside:>8.1f} ms   "
                                   f"{local_wall:>6.0f} / {local_cpu:>4.0f} ms {wall:>6.0f} / {cpu:>4.0f} ms")

        # -- import --fill beside a plain import of the same file ------------------------------
        rows_file = base / "rows.csv"
        write_rows(rows_file, FILLED)
        plain_env = environment("plain")
        _, out = samplectl(["import", str(rows_file), "-o", "json"], plain_env)
        plain_seconds = json.loads(out)["seconds"]
        fill_env = environment("fill")
        fill_service, fill_db = open_services(fill_env)
        fill_boxes = build_freezer(fill_service)
        fill_db.close()
        fill_args = [arg for box in fill_boxes for arg in ("--fill", box)]
        _, out = samplectl(["import", str(rows_file), *fill_args, "-o", "json"], fill_env)
        fill_seconds = json.loads(out)["seconds"]
        if opts.remote:
            # The same file through a server over a freezer of its own: the client's whole process, timed here.
            served_env = environment("fill-served")
            served_service, served_db = open_services(served_env)
            build_freezer(served_service)
            served_db.close()
            port = free_port()
            servers.append(start_server(served_env, port, base / "serve-fill.log"))
            client = {**{k: v for k, v in served_env.items() if k != "SAMPLECTL_HOME"},
                      "SAMPLECTL_HOME": str(base / "client-fill"), "SAMPLECTL_SERVER": f"http://127.0.0.1:{port}"}
            seconds, _, code = measured([sys.executable, "-m", "samplectl", "-q", "import", str(rows_file),
                                         *fill_args], client)
            if code:
                raise SystemExit(f"import --fill through the server exited {code}")
            remote_rows.append(f"{'import --fill, 10,000 rows (client process)':<36} "
                               f"{FILLED / fill_seconds:>6,.0f} r/s {FILLED / seconds:>6,.0f} r/s   "
                               f"(remote: {seconds:.2f} s wall, {LAST_CPU[0]:.2f} s client CPU)")

        print(f"{'measure':<44} {'figure':>12} {'target':>12} {'process':>10}")
        print(f"{'storage free --need 24 --together':<44} {free_ms:>9.1f} ms {'<= 200 ms':>12} "
              f"{free_proc * 1000:>7.0f} ms")
        print(f"{'storage show BOX':<44} {show_ms:>9.1f} ms {'<= 50 ms':>12} {show_proc * 1000:>7.0f} ms")
        plain_rate, fill_rate = FILLED / plain_seconds, FILLED / fill_seconds
        print(f"{'import (plain), 10,000 rows':<44} {plain_rate:>8,.0f} r/s {'':>12} {plain_seconds:>8.2f} s")
        print(f"{'import --fill (200 boxes), 10,000 rows':<44} {fill_rate:>8,.0f} r/s "
              f"{'>= 0.5x':>12} {fill_seconds:>8.2f} s")
        print(f"{'import --fill / plain':<44} {fill_rate / plain_rate:>11.2f}x")
        if remote_rows:
            print(f"\nremote mode (samplectl serve on 127.0.0.1, embedded store; load average {os.getloadavg()[0]:.1f})")
            print(f"{'measure':<36} {'local':>11} {'remote':>11}   {'process local':>16} {'remote':>15}")
            print(f"{'':<36} {'inside the command':>23}   {'(wall / CPU, median of 5)':>32}")
            for row in remote_rows:
                print(row)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        if opts.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
