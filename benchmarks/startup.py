"""Start-up cost of samplectl as a technician feels it, beside its peers: CPU time of whole processes.

    nice .venv/bin/python benchmarks/startup.py               # 11 runs each, 1,000 stored samples
    nice .venv/bin/python benchmarks/startup.py --runs 21 --samples 100000

Each command is run as its own process, as a shell runs it, and timed by the CPU time (user + system)
the kernel reports for that child: on a machine shared with other work, wall time measures the load
as much as the program, CPU time does not. The median wall time is printed beside it. `python -c pass`
is the floor any Python program pays; sqlite-utils, a Python CLI over the same kind of SQLite file, is
the peer for `--version` and for reading one row.

The store is a fresh embedded store in a temporary SAMPLECTL_HOME: an admin made and logged in
(SAMPLECTL_TOKEN, so `get` is timed with its token check, as every real command runs) and
`--samples` samples imported. With `--keyring`, `get` is also timed as a desktop login runs it: no
SAMPLECTL_TOKEN, the token in the OS keyring, against the same 200 ms (benchmarks/keyring_login.py also
times it through a server). A TAB is timed as the bash script in completions/ asks for it
(`_SAMPLECTL_COMPLETE=complete_bash`, COMP_WORDS, COMP_CWORD).

samplectl's own modules are byte-compiled first, as `pip install` does: an installed samplectl runs from
.pyc files, while a checkout run under PYTHONDONTWRITEBYTECODE (set in this machine's shells) would compile
every samplectl module from source in every timed run, ~35 ms of CPU that no installed copy pays.

Targets (CPU time): `get ID` on the embedded store <= 200 ms (issue 10; issue 13's 150 ms is for remote
mode, timed by benchmarks/remote.py), a TAB completing ids, subjects or locations <= 100 ms (issue 14),
`--version` <= 60 ms. Exits 1 when a median misses its target.
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
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "bench-password-1\n"


@dataclass(frozen=True)
class Case:
    shown: str  # the command as a person would type it
    argv: list[str]
    env: dict[str, str]
    target_ms: float | None = None


def tool(name: str) -> list[str] | None:
    """An installed console script: next to this Python first (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else None


def samplectl_command() -> list[str]:
    return tool("samplectl") or [sys.executable, "-m", "samplectl"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(CPU ms of the child, wall ms, exit code) of one run, its output thrown away."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        proc.stderr.close()
    return (usage.ru_utime + usage.ru_stime) * 1000, wall, proc.returncode


def measure(case: Case, runs: int) -> tuple[float, float]:
    """Median CPU ms and median wall ms over ``runs`` runs, after one warm-up run (file cache)."""
    timed(case.argv, case.env)
    cpu, wall = [], []
    for _ in range(runs):
        c, w, code = timed(case.argv, case.env)
        if code != 0:
            done = subprocess.run(case.argv, env=case.env, capture_output=True, text=True, check=False)
            raise SystemExit(f"{case.shown} failed ({code}): {done.stderr.strip()[:500]}")
        cpu.append(c)
        wall.append(w)
    return statistics.median(cpu), statistics.median(wall)


def compile_bytecode() -> str:
    """Byte-compile the samplectl package that is run (fresh .pyc files, as `pip install` writes them)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("samplectl")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        return "samplectl's bytecode as found"
    if not compileall.compile_dir(locations[0], quiet=1):
        raise SystemExit(f"byte-compiling {locations[0]} failed")
    return "samplectl byte-compiled first, as pip install does"


def prepare_store(exe: list[str], env: dict[str, str], home: Path, samples: int) -> str:
    """A logged-in admin (SAMPLECTL_TOKEN in ``env``) and ``samples`` samples; returns one stored id."""
    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(exe + list(args), env=env, input=stdin, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"samplectl {' '.join(args)} failed: {done.stderr.strip()[:500]}")
        return done.stdout

    run("init", "--admin", "bench", "--password-stdin", stdin=PASSWORD)
    env["SAMPLECTL_TOKEN"] = run("login", "-u", "bench", "--password-stdin", "--print-token", stdin=PASSWORD).strip()
    rows = home / "samples.csv"
    with rows.open("w") as fh:
        fh.write("sample_id,sample_type,subject_id,collection_date,status,storage_location\n")
        for i in range(samples):
            fh.write(f"S-{i:07d},blood,P-{i % 5000:05d},2025-01-{1 + i % 28:02d},collected,"
                     f"FRZ-{i % 4}/R{i % 10}/B{i % 20}/A{1 + i % 9}\n")
    summary = json.loads(run("import", str(rows), "-o", "json", "--quiet"))
    if summary["created"] != samples:
        raise SystemExit(f"the import created {summary['created']} of {samples} samples")
    return f"S-{samples // 2:07d}"


def keyring_login(exe: list[str], env: dict[str, str]) -> dict[str, str] | None:
    """The environment of a desktop login: no SAMPLECTL_TOKEN, the token in the OS keyring (None: no keyring)."""
    desktop = {k: v for k, v in env.items() if k != "SAMPLECTL_TOKEN"}
    subprocess.run(exe + ["login", "-u", "bench", "--password-stdin"], env=desktop, input=PASSWORD, capture_output=True,
                   text=True, check=True)
    whoami = subprocess.run(exe + ["whoami", "-o", "json"], env=desktop, capture_output=True, text=True, check=True)
    return desktop if json.loads(whoami.stdout)["token_stored_in"].startswith("OS keyring") else None


def tab(exe: list[str], env: dict[str, str], line: str, target_ms: float) -> Case:
    """A TAB at the end of ``line`` (a trailing space: a new word), asked as completions/samplectl.bash asks."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return Case(f"TAB: {line}", exe, {**env, "_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": line,
                                       "COMP_CWORD": str(cword)}, target_ms)


def cases(exe: list[str], env: dict[str, str], home: Path, sample_id: str,
          desktop: dict[str, str] | None = None) -> list[Case]:
    prefix = sample_id[:-2]
    listed = [
        Case("python -c pass (the floor)", [sys.executable, "-c", "pass"], env),
        Case("samplectl --version", exe + ["--version"], env, 60.0),
        Case("samplectl --help", exe + ["--help"], env),
        Case("samplectl get ID -o json", exe + ["get", sample_id, "-o", "json"], env, 200.0),
    ]
    if desktop is not None:
        listed.append(Case("samplectl get ID -o json (token in the OS keyring)", exe + ["get", sample_id, "-o", "json"],
                           desktop, 200.0))
    listed += [
        tab(exe, env, f"samplectl get {prefix}", 100.0),
        tab(exe, env, "samplectl filter --subject P-001", 100.0),
        tab(exe, env, "samplectl filter --location FRZ-1/", 100.0),
        tab(exe, env, "samplectl filter --status ", None),  # a vocabulary: typer answers
    ]
    peer = tool("sqlite-utils")
    if peer is not None:
        db = str(home / "samples.db")
        listed += [
            Case("sqlite-utils --version", peer + ["--version"], env),
            Case("sqlite-utils rows DB samples --where 'sample_id = :id'",
                 peer + ["rows", db, "samples", "--where", "sample_id = :id", "-p", "id", sample_id], env),
        ]
    return listed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs per command (default 11)")
    parser.add_argument("--samples", type=int, default=1000, help="samples in the store (default 1000)")
    parser.add_argument("--keyring", action="store_true",
                        help="also time get with the token in the OS keyring, as a desktop login keeps it "
                             "(headless: run under scripts/with-keyring); logged out again at the end")
    args = parser.parse_args(argv)

    exe = samplectl_command()
    compiled = compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="samplectl-startup-") as scratch:
        home = Path(scratch)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("SAMPLECTL_") and not k.startswith("_SAMPLECTL") and k != "COMP_WORDS"}
        env.update(SAMPLECTL_HOME=str(home), SAMPLECTL_CONFIG=str(home / "none.toml"),
                   SAMPLECTL_BCRYPT_ROUNDS="4")
        sample_id = prepare_store(exe, env, home, args.samples)
        desktop = keyring_login(exe, env) if args.keyring else None
        try:
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        except OSError:
            load = "?"
        print(f"samplectl start-up: median of {args.runs} runs, CPU time (user+sys) and wall time")
        print(f"({os.cpu_count()} CPUs, load {load}; {' '.join(exe)}; embedded store of {args.samples} samples;"
              f" {compiled})")
        print(f"  {'command':<58} {'CPU ms':>8} {'wall ms':>8}   target (CPU)")
        missed = 0
        try:
            for case in cases(exe, env, home, sample_id, desktop):
                cpu, wall = measure(case, args.runs)
                verdict = ""
                if case.target_ms is not None:
                    ok = cpu <= case.target_ms
                    missed += not ok
                    verdict = f"<= {case.target_ms:.0f} ms  {'ok' if ok else 'MISSED'}"
                print(f"  {case.shown:<58} {cpu:8.1f} {wall:8.1f}   {verdict}")
        finally:
            if desktop is not None:  # the throwaway login leaves nothing in the keyring
                subprocess.run(exe + ["logout"], env=desktop, capture_output=True, check=False)
        if args.keyring and desktop is None:
            print("  (--keyring: no OS keyring could keep the token, so get with a keyring login is not timed)")
        if tool("sqlite-utils") is None:
            print("  (sqlite-utils is not installed: pip install -e '.[bench]' adds the peer)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
