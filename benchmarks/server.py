"""`samplectl serve` under load, with wrk on the same machine, for 1, 2 and 4 worker processes.

  get     GET /samples/{id} with a valid token, 32 connections (targets: >= 1,000 req/s, p99 <= 50 ms),
          on the embedded store and over the wire protocol (an nx-27017 server, the real pymongo driver)
  post    POST /samples, validated and audited (target: >= 300 req/s)
  import  POST /imports of N rows beside `samplectl import` of the same file on the same store
          (target: >= 0.7x the local rows/s; the server's memory flat, <= 200 MB)

Every figure is printed side by side with its target. Installs wrk (apt-get) when it is missing.
Not part of the test suite. Usage:

    nice .venv/bin/python benchmarks/server.py                                  # everything, 100,000-row import
    nice .venv/bin/python benchmarks/server.py --rows 1000000 --only import --workers 1
    .venv/bin/python benchmarks/server.py --only get --stores embedded --workers 1 --duration 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_export import free_port, generate, start_wire  # noqa: E402

PASSWORD = "bench-password-1"
SCENARIOS = ("get", "post", "import")
CONNECTIONS = 32


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get install wrk) ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def base_env(home: Path, uri: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
    env.update(SAMPLECTL_HOME=str(home), SAMPLECTL_TIMEZONE="UTC", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    if uri:
        env.update(SAMPLECTL_MONGODB_URI=uri, SAMPLECTL_MONGODB_DB="bench")
    return env


def init(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "samplectl", "init", "--admin", "bench", "--password-stdin"], env=env,
                   input=PASSWORD + "\n", text=True, capture_output=True, check=True)


class Serving:
    """A `samplectl serve --workers N` process tree on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "samplectl", "serve", "--port", str(self.port),
                                      "--workers", str(workers)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("samplectl serve did not become ready")
            time.sleep(0.2)
        answer = httpx.post(self.url + "/token", data={"username": "bench", "password": PASSWORD}, timeout=30)
        self.token = answer.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def pids(self) -> list[int]:
        """The server and its workers."""
        found = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def rss_mb(self) -> float:
        """The largest resident set of one process of the server (the worker that does the work)."""
        largest = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        largest = max(largest, int(line.split()[1]))
            except OSError:
                continue
        return largest / 1024

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's processes have used so far."""
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wrk(exe: str, url: str, script: str, duration: int, base: Path) -> tuple[float, float, int, int]:
    """Requests/s, p99 latency in ms, the count of non-2xx answers, and of requests."""
    lua = base / "bench.lua"
    lua.write_text(script)
    done = subprocess.run([exe, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{duration}s", "--latency", "-s", str(lua), url],
                          capture_output=True, text=True, check=True)
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return rate, latency, int(bad.group(1)) if bad else 0, int(total.group(1)) if total else 0


def measured(server: Serving, exe: str, url: str, script: str, duration: int, base: Path) -> str:
    """One wrk run as a table's figures, with the server's CPU time per request: on a machine shared with
    other work (or with wrk itself) req/s says little, CPU ms per request says what a free core would do."""
    before = server.cpu_seconds()
    rate, p99, bad, total = wrk(exe, url, script, duration, base)
    cpu_ms = (server.cpu_seconds() - before) * 1000 / max(total, 1)
    return f"{rate:>9,.0f} {p99:>8.1f} {bad:>7} {cpu_ms:>7.2f} {1000 / cpu_ms if cpu_ms else 0:>10,.0f}"


GET_LUA = """wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""
POST_LUA = """wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"sample_type": "blood", "subject_id": "SUBJ-BENCH", ' ..
  '"collection_date": "2025-03-14T09:30:00Z", "storage_location": "FRZ-1/R1/B1"}}'
"""


def store_for(name: str, base: Path) -> tuple[str | None, subprocess.Popen[bytes] | None]:
    if name == "embedded":
        return None, None
    proc, uri = start_wire(base)
    return uri, proc


def load(opts: argparse.Namespace, exe: str, base: Path) -> None:
    print("CPU ms: the server's CPU time per request; req/CPU-s: requests one fully free core would answer")
    print(f"{'scenario':<8} {'store':<9} {'workers':>7} {'req/s':>9} {'p99 ms':>8} {'errors':>7} {'CPU ms':>7} "
          f"{'req/CPU-s':>10}  target")
    for store in opts.stores:
        for workers in opts.workers:
            run = base / f"{store}-{workers}"
            uri, wire = store_for(store, run)
            try:
                env = base_env(run / "home", uri)
                init(env)
                server = Serving(env, workers)
                try:
                    first = httpx.post(server.url + "/samples", headers=server.headers, timeout=30, json={
                        "sample_type": "blood", "subject_id": "SUBJ-1", "collection_date": "2025-03-14",
                        "storage_location": "FRZ-1"}).json()
                    if "get" in opts.only:
                        figures = measured(server, exe, f"{server.url}/samples/{first['sample_id']}",
                                           GET_LUA.format(token=server.token), opts.duration, run)
                        print(f"{'get':<8} {store:<9} {workers:>7} {figures}  >= 1,000 req/s, p99 <= 50 ms", flush=True)
                    if "post" in opts.only:
                        figures = measured(server, exe, f"{server.url}/samples", POST_LUA.format(token=server.token),
                                           opts.duration, run)
                        print(f"{'post':<8} {store:<9} {workers:>7} {figures}  >= 300 req/s", flush=True)
                finally:
                    server.stop()
            finally:
                if wire is not None:
                    wire.terminate()
                    wire.wait()


def local_import(data: Path, env: dict[str, str]) -> float:
    token = subprocess.run([sys.executable, "-m", "samplectl", "login", "-u", "bench", "--password-stdin",
                            "--print-token"], env=env, input=PASSWORD + "\n", text=True, capture_output=True,
                           check=True).stdout.strip()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "samplectl", "import", str(data), "-o", "json"],
                   env=dict(env, SAMPLECTL_TOKEN=token), capture_output=True, check=True)
    return time.perf_counter() - started


def remote_import(data: Path, server: Serving) -> tuple[float, float, int]:
    """Seconds, the server's peak RSS (MB) while importing, and the status."""
    peak = [server.rss_mb()]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    with data.open("rb") as body:
        answer = httpx.post(server.url + "/imports", content=body, timeout=3600,
                            headers={**server.headers, "Content-Type": "text/csv"})
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    return seconds, peak[0], answer.status_code


def imports(opts: argparse.Namespace, base: Path) -> None:
    data = base / f"samples-{opts.rows}.csv"
    generate(data, opts.rows)
    print(f"\n{'import':<8} {'store':<9} {'workers':>7} {'rows':>10} {'local r/s':>10} {'server r/s':>10} "
          f"{'ratio':>6} {'server MB':>9}  target: ratio >= 0.7, <= 200 MB")
    for store in opts.stores:
        for workers in opts.workers:
            run = base / f"import-{store}-{workers}"
            uri, wire = store_for(store, run / "local")
            try:
                local_env = base_env(run / "local-home", uri)
                init(local_env)
                local = local_import(data, local_env)
            finally:
                if wire is not None:
                    wire.terminate()
                    wire.wait()
            uri, wire = store_for(store, run / "remote")
            try:
                env = base_env(run / "server-home", uri)
                init(env)
                server = Serving(env, workers)
                try:
                    seconds, peak, status = remote_import(data, server)
                finally:
                    server.stop()
            finally:
                if wire is not None:
                    wire.terminate()
                    wire.wait()
            flag = "" if status == 200 else f"  (HTTP {status})"
            print(f"{'import':<8} {store:<9} {workers:>7} {opts.rows:>10,} {opts.rows / local:>10,.0f} "
                  f"{opts.rows / seconds:>10,.0f} {local / seconds:>6.2f} {peak:>9.0f}{flag}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--stores", nargs="+", choices=("embedded", "wire"), default=["embedded", "wire"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per wrk run")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the import scenario")
    opts = parser.parse_args()
    exe = ensure_wrk() if {"get", "post"} & set(opts.only) else "wrk"
    base = Path(tempfile.mkdtemp(prefix="samplectl-serve-bench-"))
    try:
        print(f"machine: {os.cpu_count()} cores; wrk: 2 threads, {CONNECTIONS} connections, {opts.duration} s per run")
        if {"get", "post"} & set(opts.only):
            load(opts, exe, base)
        if "import" in opts.only:
            imports(opts, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
