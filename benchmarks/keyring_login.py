"""A desktop login beside SAMPLECTL_TOKEN: what reading the token from the OS keyring costs each command.

    nice bash scripts/with-keyring .venv/bin/python benchmarks/keyring_login.py            # 11 runs each
    nice bash scripts/with-keyring .venv/bin/python benchmarks/keyring_login.py --runs 21

A technician at a desktop is logged in through the OS keyring (`samplectl login`); scripts and the other
benchmarks set SAMPLECTL_TOKEN. This logs in both ways, on the embedded store and through a real
`samplectl serve` on loopback, and times the same commands side by side, each as its own process
(median CPU time, user + system, of the client; see startup.py): `get ID` locally and through the
server, and a TAB completing a sample id through the server (a TAB on the embedded store needs no login).
The runs of the two ways alternate, so a change in the machine's load touches both alike.

Needs a working OS keyring: on a headless machine run it under scripts/with-keyring (gnome-keyring in a
private D-Bus session). Targets (CPU): `get ID` <= 200 ms locally (issue 10), <= 150 ms through a server
(issue 13), a TAB <= 100 ms (issue 14); exits 1 when a keyring median misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from remote import LAST_CPU, PASSWORD, free_port, measured, samplectl, start_server  # noqa: E402
from startup import compile_bytecode  # noqa: E402 - timed as installed: samplectl's .pyc files fresh

SAMPLE = ["--id", "S-0000001", "--type", "blood", "--subject", "P-1", "--collected", "2025-01-01",
          "--location", "FRZ-1/R1"]


def run(exe: list[str], env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*exe, *args], env=env, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"samplectl {' '.join(args)} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def logged_in_both_ways(exe: list[str], env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(desktop: the token in the OS keyring, script: SAMPLECTL_TOKEN) for the store or server ``env`` names."""
    token = run(exe, env, "login", "-u", "bench", "--password-stdin", "--print-token", stdin=PASSWORD + "\n").strip()
    run(exe, env, "login", "-u", "bench", "--password-stdin", stdin=PASSWORD + "\n")
    stored_in = json.loads(run(exe, env, "whoami", "-o", "json"))["token_stored_in"]
    if not stored_in.startswith("OS keyring"):
        raise SystemExit(f"no OS keyring kept the token ({stored_in}): run under scripts/with-keyring")
    return env, {**env, "SAMPLECTL_TOKEN": token}


def side_by_side(argv: list[str], desktop: dict[str, str], script: dict[str, str], runs: int) -> tuple[float, float]:
    """Median CPU ms of ``argv`` with the token in the keyring and with SAMPLECTL_TOKEN, runs alternating."""
    cpu: dict[str, list[float]] = {"desktop": [], "script": []}
    for _ in range(runs + 1):  # the first round warms the file cache and is not counted
        for name, env in (("desktop", desktop), ("script", script)):
            _, _, code = measured(argv, env)
            if code != 0:
                raise SystemExit(f"{' '.join(argv)} failed with exit {code}")
            cpu[name].append(LAST_CPU[0] * 1000)
    return statistics.median(cpu["desktop"][1:]), statistics.median(cpu["script"][1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs per command and way (default 11)")
    args = parser.parse_args(argv)
    exe = samplectl()
    compiled = compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="samplectl-keyring-bench-") as scratch:
        base = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
        base.update(SAMPLECTL_CONFIG=str(Path(scratch) / "none.toml"), SAMPLECTL_BCRYPT_ROUNDS="4")
        local = {**base, "SAMPLECTL_HOME": str(Path(scratch) / "local")}
        run(exe, local, "init", "--admin", "bench", "--password-stdin", stdin=PASSWORD + "\n")
        port = free_port()
        server = start_server(local, port, Path(scratch) / "server.log")
        client = {**base, "SAMPLECTL_HOME": str(Path(scratch) / "client"), "SAMPLECTL_SERVER": f"http://127.0.0.1:{port}"}
        desktops: list[dict[str, str]] = []
        missed = 0
        try:
            local_desktop, local_script = logged_in_both_ways(exe, local)
            client_desktop, client_script = logged_in_both_ways(exe, client)
            desktops = [local_desktop, client_desktop]
            run(exe, local_script, "create", *SAMPLE)
            tab = {"_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": "samplectl get S-000", "COMP_CWORD": "2"}
            if "S-0000001" not in run(exe, {**client_desktop, **tab}):
                raise SystemExit("the TAB through the server offered nothing")
            cases = [
                ("samplectl get ID -o json (embedded store)", ["get", "S-0000001", "-o", "json"], local_desktop,
                 local_script, 200.0),
                ("samplectl get ID -o json (through samplectl serve)", ["get", "S-0000001", "-o", "json"],
                 client_desktop, client_script, 150.0),
                ("TAB: samplectl get S-000 (through samplectl serve)", [], {**client_desktop, **tab},
                 {**client_script, **tab}, 100.0),
            ]
            print(f"samplectl with the token in the OS keyring vs SAMPLECTL_TOKEN: median of {args.runs} runs, CPU time"
                  f" (user + system) ms ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {compiled})")
            print(f"  {'command':<52} {'keyring':>8} {'TOKEN':>8}   target (keyring)")
            for shown, words, desktop, script, target in cases:
                keyring_ms, token_ms = side_by_side([*exe, *words], desktop, script, args.runs)
                ok = keyring_ms <= target
                missed += not ok
                print(f"  {shown:<52} {keyring_ms:8.1f} {token_ms:8.1f}   <= {target:.0f} ms  {'ok' if ok else 'MISSED'}")
        finally:
            for desktop in desktops:  # the throwaway logins leave nothing in the keyring
                subprocess.run([*exe, "logout"], env=desktop, capture_output=True, check=False)
            server.terminate()
            server.wait(timeout=20)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
