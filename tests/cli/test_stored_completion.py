"""A TAB completes stored sample ids, subjects and locations, before typer loads, as typer would answer.

The fast path (samplectl.cli.completion, asked by the console entry point) and typer's own completion
(the parameters' ``autocompletion``) must offer the same values in every shell's protocol; the fast
path must import nothing heavy (that is what makes it fast) and must not create a store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from samplectl.cli.completion import ID_COMMANDS, OPTION_FIELDS, field_for
from samplectl.stores.sqlite.values import stored_values
from samplectl.stores.values import prefix_end
from tests.cli.test_completions import root_command, walk
from tests.cli.test_startup import HEAVY, modules_after

SAMPLES = [  # (id, subject, location)
    ("S-0001", "P-01", "FRZ-1/R1/B1/A1"),
    ("S-0002", "P-01", "FRZ-1/R1/B2/A1"),
    ("S-0010", "P-02", "FRZ-1/R2/B1/A1"),
    ("S-0011", "P-10", "FRZ-2/R1/B1/A1"),
    ("2025-03-14T00:00:00Z", "Q-1", "bench top"),
]


@pytest.fixture
def stored(cli) -> None:
    for sample_id, subject, location in SAMPLES:
        done = cli("create", "--id", sample_id, "--type", "blood", "--subject", subject, "--collected", "2025-01-01",
                   "--location", location, "-o", "json")
        assert done.exit_code == 0, done.stderr


def shell_env(shell: str, line: str) -> dict[str, str]:
    """The environment each script in completions/ sets for a TAB at the end of ``line``."""
    words = line.split()
    if shell == "bash":
        cword = len(words) if line.endswith(" ") else len(words) - 1
        return {"_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    env = {"_SAMPLECTL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    if shell == "powershell":
        env["_TYPER_COMPLETE_WORD_TO_COMPLETE"] = "" if line.endswith(" ") else words[-1]
    return env


def tab(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A TAB as the shell runs it: a real samplectl process (through the console entry point)."""
    return subprocess.run([sys.executable, "-m", "samplectl"], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


def candidates(line: str) -> list[str]:
    done = tab(shell_env("bash", line))
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:-1] if done.stdout.strip() else []


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("line", "expected"), [
    ("samplectl get ", ["2025-03-14T00:00:00Z", "S-0001", "S-0002", "S-0010", "S-0011"]),
    ("samplectl get S-001", ["S-0010", "S-0011"]),
    ("samplectl get S-0001 S-000", ["S-0001", "S-0002"]),  # several ids: each one completes
    ("samplectl get -o json S-000", ["S-0001", "S-0002"]),  # after an option's value
    ("samplectl delete S-0", ["S-0001", "S-0002", "S-0010", "S-0011"]),
    ("samplectl history 2025-03", ["2025-03-14T00:00:00Z"]),
    ("samplectl update S-0002", ["S-0002"]),
    ("samplectl -q get S-0011", ["S-0011"]),  # a global option before the command
    ("samplectl get X", []),
    ("samplectl filter --subject P-0", ["P-01", "P-02"]),  # each subject once
    ("samplectl filter --subject ", ["P-01", "P-02", "P-10", "Q-1"]),
    ("samplectl create --subject P-1", ["P-10"]),
    ("samplectl update S-0001 --subject Q", ["Q-1"]),
    ("samplectl filter --location ", ["FRZ-1/", "FRZ-2/", "bench top"]),  # one level at a time
    ("samplectl filter --location FRZ-1/", ["FRZ-1/R1/", "FRZ-1/R2/"]),
    ("samplectl export --location FRZ-1/R1/", ["FRZ-1/R1/B1/", "FRZ-1/R1/B2/"]),
    ("samplectl update --where --location FRZ-2/R1/B1/", ["FRZ-2/R1/B1/A1"]),
])
def test_stored_values_complete(line: str, expected: list[str]) -> None:
    assert candidates(line) == expected


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
@pytest.mark.parametrize("line", ["samplectl get S-00", "samplectl update S-0001 --location FRZ-1/",
                                  "samplectl get --debug S-001", "samplectl history ", "samplectl get nothing"])
def test_the_fast_path_answers_as_typer_does(cli, shell: str, line: str) -> None:
    # typer's answer: the app in-process (no entry point), through the parameters' autocompletion.
    env = shell_env(shell, line)
    slow = cli(env=env)
    fast = tab(env)
    assert (fast.returncode, fast.stdout) == (slow.exit_code, slow.stdout)
    if "nothing" not in line:
        assert "S-00" in fast.stdout or "FRZ-1/R" in fast.stdout


@pytest.mark.usefixtures("stored")
def test_fish_asks_first_whether_there_are_candidates() -> None:
    for line, code in (("samplectl get S-00", 0), ("samplectl get nothing", 1)):
        env = {**shell_env("fish", line), "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
        assert tab(env).returncode == code


@pytest.mark.usefixtures("stored")
def test_words_that_are_not_stored_values_are_still_completed_by_typer() -> None:
    assert candidates("samplectl ge") == ["get"]
    assert candidates("samplectl get -o js") == ["json", "jsonl"]
    assert candidates("samplectl filter --status arch") == ["archived"]


def test_a_tab_reads_the_store_without_loading_typer_or_anything_heavy(cli, stored: None) -> None:
    env = {**os.environ, **shell_env("bash", "samplectl get S-001")}
    probe = ("import io, sys\nfrom samplectl.cli.entry import main\nsys.argv = ['samplectl']\n"
             "out, sys.stdout = sys.stdout, io.StringIO()\nmain()\nvalue, sys.stdout = sys.stdout.getvalue(), out\n"
             "assert value == 'S-0010\\nS-0011\\n', repr(value)\n")
    loaded = modules_after(probe, env=env)
    assert "typer" not in loaded and "click" not in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_tab_on_a_fresh_machine_creates_nothing(isolated_env: Path) -> None:
    data = Path(os.environ["SAMPLECTL_HOME"])
    assert candidates("samplectl get ") == []
    assert candidates("samplectl filter --subject P") == []
    assert not data.exists()


@pytest.mark.usefixtures("stored")
def test_a_server_or_mongodb_that_cannot_be_reached_offers_nothing_not_the_local_values() -> None:
    # Values offered when they are there: tests/cli/test_completion_sources.py.
    for setting in ({"SAMPLECTL_SERVER": "http://127.0.0.1:9", "SAMPLECTL_TOKEN": "x.y.z"},
                    {"SAMPLECTL_MONGODB_URI": "mongodb://127.0.0.1:9"}):
        done = tab({**shell_env("bash", "samplectl get S-00"), **setting})
        assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")


def test_every_stored_value_parameter_of_the_app_is_known_to_the_fast_path() -> None:
    """ID_COMMANDS and OPTION_FIELDS say what the fast path answers without typer: they must match the app."""
    declared: set[tuple[str, str, str]] = set()  # (command, parameter, field)
    for path, command in walk(root_command()):
        for param in getattr(command, "params", []):
            field = getattr(_original(getattr(param, "_custom_shell_complete", None)), "stored_field", None)
            if field is not None:
                name = param.opts[0] if param.param_type_name == "option" else "ID"
                declared.add((" ".join(path), name, field))
    ids = {(c, "ID", "sample_id") for c in ID_COMMANDS}
    assert ids <= declared, f"id arguments without stored completion: {sorted(ids - declared)}"
    # The fast path answers --subject and --location on any command: typer must offer the same there.
    options = {(" ".join(path), flag, OPTION_FIELDS[flag]) for path, command in walk(root_command())
               for param in getattr(command, "params", []) for flag in getattr(param, "opts", []) if flag in OPTION_FIELDS}
    assert {("filter", "--subject", "subject_id"), ("create", "--location", "storage_location")} <= options
    assert options <= declared, f"options without stored completion: {sorted(options - declared)}"
    for command, name, field in declared:
        if name == "ID":
            assert command in ID_COMMANDS and field == "sample_id"
        else:
            assert OPTION_FIELDS.get(name) == field, (command, name, field)


def _original(complete: Any) -> Any:
    """typer wraps an ``autocompletion`` in a closure: the function it was given."""
    for cell in getattr(complete, "__closure__", None) or ():
        if callable(cell.cell_contents) and hasattr(cell.cell_contents, "stored_field"):
            return cell.cell_contents
    return None


@pytest.mark.parametrize(("args", "incomplete", "field"), [
    (["get"], "", "sample_id"),
    (["--log-file", "x.log", "get"], "S", "sample_id"),
    (["filter", "--subject"], "P", "subject_id"),
    (["filter", "--location"], "", "storage_location"),
    (["get", "-o"], "j", None),  # an option's value: typer knows which
    (["get", "--debug"], "S", None),  # a flag or an option? typer knows
    (["list"], "", None),
    ([], "ge", None),
    (["get"], "-", None),
])
def test_which_words_the_fast_path_answers(args: list[str], incomplete: str, field: str | None) -> None:
    assert field_for(args, incomplete) == field


def test_prefix_ranges_cover_exactly_the_values_that_start_with_the_prefix(tmp_path: Path) -> None:
    import sqlite3

    assert prefix_end("") is None
    assert prefix_end("S-1") == "S-2"
    assert prefix_end("a\ud7ff") == "a\ue000"
    assert prefix_end("a\U0010ffff") == "b"
    path = tmp_path / "samples.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE samples (sample_id TEXT UNIQUE, subject_id TEXT, storage_location TEXT)")
    ids = ["a", "a\U0010ffff", "a\U0010ffffz", "aé", "a~", "b", "ä"]
    conn.executemany("INSERT INTO samples VALUES (?, 'P', 'L')", [(i,) for i in ids])
    conn.commit()
    conn.close()
    assert stored_values(path, "sample_id", "a") == sorted(i for i in ids if i.startswith("a"))
    assert stored_values(path, "sample_id", "a\U0010ffff") == ["a\U0010ffff", "a\U0010ffffz"]
    assert stored_values(path, "sample_id", "", limit=3) == sorted(ids)[:3]
    assert stored_values(path, "subject_id", "") == ["P"]
