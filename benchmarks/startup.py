"""Start-up time of samplectl, as a technician feels it: median wall time of whole processes.

    .venv/bin/python benchmarks/startup.py            # 21 runs each, prints medians against the targets
    .venv/bin/python benchmarks/startup.py --runs 5

Targets (2-core machine): `--version` <= 60 ms, `--help` <= 90 ms, `get ID` on the embedded store <= 300 ms.
Exits 1 when a median misses its target.

By default `get` runs against a fresh embedded store in a temporary SAMPLECTL_HOME holding one sample.
When SAMPLECTL_TOKEN is set (a logged-in user's cached token, once login exists), the benchmark uses the
environment as it is instead — the user's own SAMPLECTL_HOME and token — so that token checking is
measured too; give `--sample-id` to read an existing sample rather than create one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_MS = {"version": 60.0, "help": 90.0, "get": 300.0}


def samplectl_command() -> list[str]:
    """The installed console script next to this Python (what a user runs), else `python -m samplectl`."""
    script = Path(sys.executable).parent / "samplectl"
    if script.exists():
        return [str(script)]
    found = shutil.which("samplectl")
    return [found] if found else [sys.executable, "-m", "samplectl"]


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def median_ms(cmd: list[str], env: dict[str, str], runs: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        run(cmd, env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = run(cmd, env)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[1:])} failed ({done.returncode}): {done.stderr.strip()}")
    return statistics.median(times)


def prepare_sample(exe: list[str], env: dict[str, str], sample_id: str | None) -> str:
    if sample_id:
        return sample_id
    if env.get("SAMPLECTL_TOKEN"):
        run(exe + ["init"], env)
    else:
        # A fresh store has no user yet: make the benchmark's own admin and log in as it, so that `get`
        # is timed with its token check, as every real command runs.
        password = "bench-password-1\n"
        subprocess.run(exe + ["init", "--admin", "bench", "--password-stdin"], env=env, input=password,
                       capture_output=True, text=True, check=True)
        env["SAMPLECTL_TOKEN"] = subprocess.run(
            exe + ["login", "-u", "bench", "--password-stdin", "--print-token"], env=env, input=password,
            capture_output=True, text=True, check=True).stdout.strip()
    done = run(exe + ["create", "--type", "blood", "--subject", "BENCH-1", "--collected", "2025-01-01",
                      "--location", "BENCH/R1", "-o", "json"], env)
    if done.returncode != 0:
        raise SystemExit(f"could not create a sample to read: {done.stderr.strip()}")
    return str(json.loads(done.stdout)["sample_id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per command (default 21)")
    parser.add_argument("--sample-id", help="read this existing sample instead of creating one")
    args = parser.parse_args(argv)

    exe = samplectl_command()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="samplectl-bench-") as scratch:
        if env.get("SAMPLECTL_TOKEN"):
            where = f"SAMPLECTL_HOME={env.get('SAMPLECTL_HOME', '(default)')} with SAMPLECTL_TOKEN"
        else:
            env.update(SAMPLECTL_HOME=scratch, SAMPLECTL_CONFIG=str(Path(scratch) / "none.toml"))
            env = {k: v for k, v in env.items() if k not in ("SAMPLECTL_MONGODB_URI", "SAMPLECTL_DATABASE_URL")}
            where = "a fresh embedded store"
        sample_id = prepare_sample(exe, env, args.sample_id)
        cases = {
            "version": exe + ["--version"],
            "help": exe + ["--help"],
            "get": exe + ["get", sample_id],
        }
        print(f"samplectl start-up, median of {args.runs} runs "
              f"({os.cpu_count()} CPUs; {' '.join(exe)}; get on {where})")
        missed = 0
        for name, cmd in cases.items():
            ms = median_ms(cmd, env, args.runs)
            ok = ms <= TARGETS_MS[name]
            missed += not ok
            shown = " ".join(["samplectl", *cmd[len(exe):]]).replace(sample_id, "ID")
            print(f"  {shown:<22} {ms:7.1f} ms   target <= {TARGETS_MS[name]:.0f} ms   {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
