"""A TAB completing stored values in each configuration, side by side: embedded store, remote mode, MongoDB.

    nice .venv/bin/python benchmarks/completion.py                  # 11 runs each, 1,000 stored samples
    nice .venv/bin/python benchmarks/completion.py --runs 21 --samples 100000

The same samples in three places: the embedded store of a fresh SAMPLECTL_HOME (as benchmarks/startup.py
makes it), a real `samplectl serve` on loopback over that store (remote mode: the TAB's process has only
SAMPLECTL_SERVER and the token, SAMPLECTL_TOKEN), and MongoDB (pymongo to the nx-27017 wire server the
tests use; skipped when it is not installed). Each TAB is a whole samplectl process asked as
completions/samplectl.bash asks (`_SAMPLECTL_COMPLETE=complete_bash`, COMP_WORDS, COMP_CWORD), timed by
its CPU time (user + system) as benchmarks/startup.py times it; the server's own CPU is not counted (it is
another machine's in a lab). Each TAB is checked once to offer what it should before it is timed: a TAB
that failed would offer nothing, quickly.

With MongoDB a TAB answers from the store's completion cache (samplectl.stores.mongo.completion_cache), so
it is timed three ways, each run prepared untimed:
- cold: no cache (removed before each run): MongoDB is asked through pymongo, as before the cache, and a
  refresher is started in the background to write one. What the first TAB on a machine pays, and the
  first after a write through samplectl.
- warm: a cache younger than STALE_AFTER (refreshed before each run when it is not): answered from the
  file, pymongo not imported. What nearly every TAB pays.
- stale: a cache older than STALE_AFTER: answered from the file, and the background refresher started.
  What the first TAB after STALE_AFTER seconds pays.
The background refresher's own CPU is not counted: nobody waits for it (it runs at a lower priority after
the TAB's process has ended), as the server's is not.

Target (issue 14, CPU time): a TAB <= 100 ms, compared with the embedded, remote and MongoDB warm figures:
warm is what a TAB costs with MongoDB once a machine has completed once, and cold cannot meet it (importing
pymongo alone costs ~100 ms). Exits 1 when one of those medians misses it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from remote import free_port, start_server  # noqa: E402 - the same `samplectl serve` as benchmarks/remote.py
from startup import Case, measure, prepare_store, samplectl_command, tab, timed  # noqa: E402

TARGET_MS = 100.0
JUDGED = ("embedded", "remote", "MongoDB warm")  # MongoDB cold is pymongo's import: see the docstring


def start_wire(scratch: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """The nx-27017 wire server on a free loopback port, as the tests start it; None when not installed."""
    import socket
    import time

    exe = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    if not Path(exe).exists():
        return None
    port = free_port()
    base = scratch / "wire"
    base.mkdir()
    proc = subprocess.Popen([exe, "--data-dir", str(base / "dbs"), "--host", "127.0.0.1", "-p", str(port),
                             "--log-file", str(base / "server.log"), "--pid-file", str(base / "server.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"mongodb://127.0.0.1:{port}/?directConnection=true"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("nx-27017 did not start listening")


def offers(case: Case) -> list[str]:
    done = subprocess.run(case.argv, env=case.env, capture_output=True, text=True, check=False)
    return done.stdout.split()


class MongoCache:
    """The completion cache of the benchmark's MongoDB store, put in each state before a timed TAB."""

    def __init__(self, env: dict[str, str]) -> None:
        from samplectl.config import load_settings
        from samplectl.stores.mongo.completion_cache import CacheFiles

        self.env = env
        self.files = CacheFiles.of(load_settings(env))

    def idle(self) -> None:
        """Until no refresher holds the store's lock: a refresh a TAB started has finished."""
        deadline = time.monotonic() + 120
        while self.files.refreshing() and time.monotonic() < deadline:
            time.sleep(0.02)

    def cold(self) -> None:
        self.idle()
        self.files.values.unlink(missing_ok=True)

    def warm(self) -> None:
        """A fresh cache: the refresher run in the foreground (it reads nothing when the cache is fresh)."""
        self.idle()
        subprocess.run([sys.executable, "-m", "samplectl.stores.mongo.completion_cache"], env=self.env, check=True)

    def stale(self) -> None:
        from samplectl.stores.mongo.completion_cache import STALE_AFTER
        from samplectl.stores.values import FIELDS

        self.warm()
        read = {f: self.files.read(f) for f in FIELDS}
        as_of = next(iter(read.values()))[0] - STALE_AFTER - 1
        self.files.write(as_of, {f: r[1] for f, r in read.items()}, {f: r[2] for f, r in read.items()})


def measure_prepared(case: Case, runs: int, prepare: Callable[[], None]) -> float:
    """Median CPU ms of ``runs`` runs of ``case``, each after ``prepare()`` (untimed), after one warm-up run."""
    cpu = []
    for _ in range(runs + 1):
        prepare()
        used, _, code = timed(case.argv, case.env)
        if code != 0:
            raise SystemExit(f"{case.shown} failed ({code})")
        cpu.append(used)
    return statistics.median(cpu[1:])


def main(argv: list[str] | None = None) -> int:
    from samplectl.stores.mongo.completion_cache import STALE_AFTER

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs per TAB (default 11)")
    parser.add_argument("--samples", type=int, default=1000, help="samples in each store (default 1000)")
    args = parser.parse_args(argv)
    exe = samplectl_command()
    with tempfile.TemporaryDirectory(prefix="samplectl-completion-") as scratch_dir:
        scratch = Path(scratch_dir)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("SAMPLECTL_") and not k.startswith("_SAMPLECTL") and k != "COMP_WORDS"}
        base.update(SAMPLECTL_CONFIG=str(scratch / "none.toml"), SAMPLECTL_BCRYPT_ROUNDS="4")
        embedded = {**base, "SAMPLECTL_HOME": str(scratch / "embedded")}
        Path(embedded["SAMPLECTL_HOME"]).mkdir()
        sample_id = prepare_store(exe, embedded, Path(embedded["SAMPLECTL_HOME"]), args.samples)
        configurations = {"embedded": embedded}
        port = free_port()
        server = start_server({k: v for k, v in embedded.items() if k != "SAMPLECTL_TOKEN"}, port,
                              scratch / "server.log")
        configurations["remote"] = {**base, "SAMPLECTL_HOME": str(scratch / "client"),
                                    "SAMPLECTL_SERVER": f"http://127.0.0.1:{port}",
                                    "SAMPLECTL_TOKEN": embedded["SAMPLECTL_TOKEN"]}
        wire = start_wire(scratch)
        states: dict[str, Callable[[], None]] = {}
        try:
            if wire is not None:
                mongo = {**base, "SAMPLECTL_HOME": str(scratch / "mongo"), "SAMPLECTL_MONGODB_URI": wire[1],
                         "SAMPLECTL_MONGODB_DB": "bench" + uuid.uuid4().hex[:8]}
                Path(mongo["SAMPLECTL_HOME"]).mkdir()
                prepare_store(exe, mongo, Path(mongo["SAMPLECTL_HOME"]), args.samples)
                cache = MongoCache(mongo)
                configurations.update({"MongoDB cold": mongo, "MongoDB warm": mongo, "MongoDB stale": mongo})
                states = {"MongoDB cold": cache.cold, "MongoDB warm": cache.warm, "MongoDB stale": cache.stale}
            lines = [f"samplectl get {sample_id[:-2]}", "samplectl filter --subject P-001",
                     "samplectl filter --location FRZ-1/"]
            print(f"A TAB completing stored values: median CPU ms (user+sys) of {args.runs} whole processes, "
                  f"{args.samples} samples")
            print(f"({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {' '.join(exe)}; remote: samplectl serve "
                  "on 127.0.0.1; MongoDB: pymongo to nx-27017)")
            floor = Case("python -c pass", [sys.executable, "-c", "pass"], base)
            print(f"  {'python -c pass (the floor)':<40} {measure(floor, args.runs)[0]:9.1f}")
            width = max(9, *(len(name) for name in configurations))
            print(f"  {'TAB':<40} " + " ".join(f"{name:>{width}}" for name in configurations)
                  + f"   target {TARGET_MS:.0f} (embedded, remote, MongoDB warm)")
            missed = 0
            for line in lines:
                figures = []
                for name, env in configurations.items():
                    case = tab(exe, env, line, TARGET_MS)
                    prepare = states.get(name)
                    if prepare is not None:
                        prepare()
                    if not offers(case):
                        raise SystemExit(f"TAB on `{line}` offered nothing ({name}): it would be timed failing")
                    cpu = measure(case, args.runs)[0] if prepare is None else measure_prepared(case, args.runs, prepare)
                    missed += cpu > TARGET_MS and name in JUDGED
                    figures.append(f"{cpu:{width}.1f}")
                print(f"  {line:<40} " + " ".join(figures))
            if states:
                print(f"  (MongoDB cold: no cache, pymongo asked; warm: from the cache, younger than {STALE_AFTER:g} s; "
                      "stale: from the cache, and the background refresh started; its own CPU not counted)")
            print("  (the server's CPU is not counted; in remote mode a token in the OS keyring instead of "
                  "SAMPLECTL_TOKEN adds the keyring's own cost)")
        finally:
            server.terminate()
            server.wait(timeout=20)
            if wire is not None:
                wire[0].terminate()
                wire[0].wait(timeout=10)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
