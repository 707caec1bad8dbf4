"""Start-up: what the entry modules import, the --version fast path, and the benchmark script itself.

The timings are measured by benchmarks/startup.py (too slow and machine-dependent for CI); these tests
guard the causes: nothing heavy imported at start-up.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Drivers and libraries that cost tens of milliseconds each: only the commands that need them import them.
HEAVY = ("pymongo", "neosqlite", "sqlalchemy", "psycopg", "alembic", "keyring", "jwt", "bcrypt", "pydantic", "rich")


def modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level names of the modules loaded once ``code`` has run in a fresh interpreter."""
    probe = (
        "import sys, json, atexit\n"
        "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n'))\n"
        + code
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                          cwd=ROOT, check=False)
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("MODULES "))
    return {name.split(".")[0] for name in json.loads(line[len("MODULES "):])}


@pytest.mark.parametrize("module", ["samplectl.cli.app", "samplectl.cli.entry", "samplectl.__main__"])
def test_importing_the_cli_entry_imports_nothing_heavy(module: str) -> None:
    loaded = modules_after(f"import {module}")
    assert not loaded & set(HEAVY), f"importing {module} loads {sorted(loaded & set(HEAVY))}"


def test_version_is_answered_without_loading_typer() -> None:
    loaded = modules_after("import sys\nsys.argv = ['samplectl', '--version']\n"
                           "from samplectl.cli.entry import main\nmain()")
    assert "typer" not in loaded


def test_root_help_loads_neither_rich_nor_pydantic() -> None:
    # Typer renders help with Rich when allowed and coerces option values with pydantic: root --help avoids both.
    loaded = modules_after("import sys\nsys.argv = ['samplectl', '--help']\n"
                           "from samplectl.cli.entry import main\ntry:\n    main()\nexcept SystemExit:\n    pass")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_fast_path_prints_what_the_app_prints(cli) -> None:
    fast = subprocess.run([sys.executable, "-m", "samplectl", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    slow = cli("--version")
    assert fast.returncode == slow.exit_code == 0
    assert fast.stdout == slow.stdout
    from samplectl import __version__

    assert fast.stdout == f"samplectl {__version__}\n"


@pytest.mark.slow
def test_startup_benchmark_runs_and_reports_each_target() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1 = a target missed on this (possibly busy) machine
    lines = done.stdout.splitlines()
    assert lines[0].startswith("samplectl start-up, median of 1 runs")
    for shown, target in (("samplectl --version", "60"), ("samplectl --help", "90"), ("samplectl get ID", "300")):
        row = next(line for line in lines if line.strip().startswith(shown))
        assert f"target <= {target} ms" in row and row.rstrip().endswith(("ok", "MISSED"))
