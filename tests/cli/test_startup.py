"""Start-up: what the entry modules import, the --version fast path, and the benchmark script itself.

The timings are measured by benchmarks/startup.py (too slow and machine-dependent for CI); these tests
guard the causes: nothing heavy imported at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest

from tests.conftest import ROOT, run_samplectl

# Drivers and libraries that cost tens of milliseconds each: only the commands that need them import them.
HEAVY = ("pymongo", "neosqlite", "sqlalchemy", "psycopg", "alembic", "keyring", "jwt", "bcrypt", "pydantic", "rich")


def modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Top-level names of the modules loaded once ``code`` has run in a fresh interpreter."""
    return {name.split(".")[0] for name in _modules(code, env)}


def _modules(code: str, env: dict[str, str] | None = None) -> list[str]:
    probe = (
        "import sys, json, atexit\n"
        "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n'))\n"
        + code
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                          cwd=ROOT, check=False)
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("MODULES "))
    return list(json.loads(line[len("MODULES "):]))


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
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "1", "--samples", "20"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1 = a target missed on this (possibly busy) machine
    lines = done.stdout.splitlines()
    assert lines[0].startswith("samplectl start-up: median of 1 runs, CPU time")
    rows = {line.split("  ")[1].strip(): line for line in lines[3:] if line.startswith("  ")}
    assert "python -c pass (the floor)" in rows
    for shown, target in (("samplectl --version", "60"), ("samplectl get ID -o json", "200"),
                          ("TAB: samplectl get S-00000", "100"), ("TAB: samplectl filter --subject P-001", "100"),
                          ("TAB: samplectl filter --location FRZ-1/", "100")):
        row = rows[shown]
        cpu, wall = (float(x) for x in row[len(shown) + 2:].split()[:2])
        assert cpu > 0 and wall > 0
        assert f"<= {target} ms" in row and row.rstrip().endswith(("ok", "MISSED"))


def test_commands_read_their_options_without_pydantic() -> None:
    # typer checks values through pydantic; samplectl's plain ones (text, numbers, flags, lists) skip it.
    # `audit` fails (nobody is logged in) only after every option was read.
    loaded = modules_after("import sys\nsys.argv = ['samplectl', '-v', '--no-color', 'audit', '-n', '5', '--user', 'x',"
                           " '--user', 'y', '-o', 'json']\nfrom samplectl.cli.entry import main\n"
                           "try:\n    main()\nexcept SystemExit:\n    pass")
    assert "pydantic" not in loaded


@pytest.mark.parametrize(("annotation", "values"), [
    (int, ["7", "-5", "+3", "007", 50, "1_000", " 7 ", "1.0", "abc", "1e20", "100000000000000000000", "٣", True]),
    (str, ["x", "", "S-1 ", 5]),
    (bool, [True, False, "true", "0"]),
    (list[str], [("a", "b"), ["x"], (), "a"]),
])
def test_plain_values_are_coerced_exactly_as_typer_does(annotation: Any, values: list[Any]) -> None:
    import typer
    from typer._coercion import build_runtime_param

    from samplectl.cli.coercion import PlainValues

    def command(value=None):  # type: ignore[no-untyped-def]  # pragma: no cover - only its parameter is used
        pass

    # Annotated here, not in the signature: this module's annotations are strings (__future__).
    command.__annotations__ = {"value": Annotated[annotation, typer.Option("--value")], "return": None}
    demo = typer.Typer()
    demo.command()(command)
    param = next(p for p in typer.main.get_command(demo).params if p.name == "value")
    ours, theirs = PlainValues(param), build_runtime_param(param.type_descriptor)
    for value in [None, *values]:
        try:
            expected: Any = theirs.coerce(value, param=param, ctx=None)
        except Exception as exc:  # noqa: BLE001 - the same error, whatever typer raises
            with pytest.raises(type(exc)) as raised:
                ours.coerce(value, param=param, ctx=None)
            assert raised.value.format_message() == exc.format_message()  # type: ignore[attr-defined]
            continue
        got = ours.coerce(value, param=param, ctx=None)
        assert (got, type(got)) == (expected, type(expected)), value


def loaded_modules(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module (full dotted names) loaded once ``code`` has run in a fresh interpreter."""
    return set(_modules(code, env))


def test_get_reads_a_sample_without_pydantic_cryptography_or_the_other_commands(process_env: dict[str, str]) -> None:
    made = run_samplectl("create", "--id", "S-1", "--type", "blood", "--subject", "P-1", "--collected", "2025-01-01",
                         "--location", "F/1", "-o", "json", env=process_env)
    assert made.returncode == 0, made.stderr
    probe = ("import sys\nsys.argv = ['samplectl', 'get', 'S-1', '-o', 'json']\nfrom samplectl.cli.entry import main\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n")
    loaded = loaded_modules(probe, env={**os.environ, **process_env})
    assert "samplectl.stores.sqlite.samples" in loaded and "jwt" in loaded  # it did read, logged in
    heavy = {"pydantic", "cryptography", "rich", "typer._adapters", "sqlalchemy", "keyring", "bcrypt", "httpx",
             "tomllib"}  # no config file: nothing to parse
    assert not loaded & heavy, sorted(loaded & heavy)
    others = {f"samplectl.cli.{name}" for name in ("serve", "storage", "users", "importing", "export", "doctor")}
    assert not loaded & others, sorted(loaded & others)


# What `get` in remote mode must not load: the server checks the token (no PyJWT), reads the store
# (no driver, no audit chain, no store modules) and validates nothing (no pydantic); with no config
# file there is nothing to parse (no tomllib); it speaks HTTP with the standard library's http.client
# (remote.client), not httpx (~45 ms of imports); JSON out needs no time zone (zoneinfo: only writes and
# tables), SAMPLECTL_TOKEN no token file (whose name is a hashlib digest); and nothing of the other commands.
REMOTE_GET_MUST_NOT_LOAD = {
    "jwt", "cryptography", "bcrypt", "pydantic", "sqlite3", "sqlalchemy", "pymongo", "neosqlite", "keyring", "rich",
    "tomllib", "httpx", "httpcore", "h11", "zoneinfo", "hashlib",
    "samplectl.domain.audit", "samplectl.domain.sample", "samplectl.domain.accounts",
    "samplectl.remote.accounts", "samplectl.services.samples", "samplectl.stores.audit", "samplectl.stores.sqlite",
    *(f"samplectl.cli.{name}" for name in ("auth", "changes", "importing", "export", "audit", "users", "storage")),
}


@pytest.mark.real_auth
def test_get_through_a_server_loads_no_token_library_store_validation_or_audit_chain(
    cli: Any, live_server: Any
) -> None:
    from tests.support.logins import TEST_PASSWORD

    token = cli("login", "-u", "tester", "--password-stdin", "--print-token",
                input=TEST_PASSWORD + "\n").stdout.strip()
    env = {**os.environ, "SAMPLECTL_TOKEN": token}
    made = cli("create", "--id", "S-1", "--type", "blood", "--subject", "P-1", "--collected", "2025-01-01",
               "--location", "F/1", env={"SAMPLECTL_TOKEN": token})
    assert made.exit_code == 0, made.stderr
    assert not Path(env["XDG_CONFIG_HOME"], "samplectl", "config.toml").exists()
    probe = ("import sys\nsys.argv = ['samplectl', 'get', 'S-1', '-o', 'json']\nfrom samplectl.cli.entry import main\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n")
    loaded = loaded_modules(probe, env=env)
    assert {"samplectl.remote.client", "samplectl.remote.samples"} <= loaded  # it did read, through the server
    unwanted = {name for name in loaded if name in REMOTE_GET_MUST_NOT_LOAD or name.split(".")[0] in REMOTE_GET_MUST_NOT_LOAD
                or name.startswith("samplectl.stores.sqlite.")}
    assert not unwanted, sorted(unwanted)


def test_each_command_is_built_from_the_module_the_start_up_table_names() -> None:
    import typer

    from samplectl.cli.app import COMMAND_MODULES, MODULES, build_app

    assert set(typer.main.get_command(build_app()).commands) == set(COMMAND_MODULES)
    for module in MODULES:
        alone = typer.main.get_command(build_app((module,)))
        assert set(alone.commands) == {c for c, m in COMMAND_MODULES.items() if m == module}, module


@pytest.mark.parametrize("command", ["get", "login", "history", "audit", "users", "import", "update"])
def test_a_command_line_builds_the_command_it_names_alone(command: str) -> None:
    # typer builds a click command from the signature of every registered command at each start;
    # `samplectl get` keeps `get` alone (this fails should typer rename its list of commands).
    import typer

    from samplectl.cli.app import COMMAND_MODULES, build_app

    built = typer.main.get_command(build_app((COMMAND_MODULES[command],), command)).commands
    assert command in built
    others = {name for name, cmd in built.items() if name != command}
    assert all(hasattr(built[name], "commands") for name in others), others  # only groups (`audit` beside `history`)


@pytest.mark.parametrize("args", [["get", "--help"], ["users", "--help"], ["--help", "get"], ["-q", "import", "--help"],
                                  ["--log-file", "LOG", "history", "--help"], ["frobnicate"], ["get"], []])
def test_a_command_built_alone_answers_as_the_whole_app(args: list[str], tmp_path: Path) -> None:
    args = [str(tmp_path / "x.log") if a == "LOG" else a for a in args]
    alone = run_samplectl(*args)  # main() builds the named command's module alone
    whole = subprocess.run([sys.executable, "-c", "import sys\nfrom samplectl.cli.app import app\nsys.argv[0] = 'samplectl'\n"
                            "app(prog_name='samplectl')", *args], capture_output=True, text=True, timeout=60, check=False)
    assert (alone.returncode, alone.stdout, alone.stderr) == (whole.returncode, whole.stdout, whole.stderr)
    assert alone.stdout or alone.stderr
