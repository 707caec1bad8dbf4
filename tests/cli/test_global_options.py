"""Issue 14 items 6, 7 and 9 (bare samplectl): global options anywhere, a fresh machine's first steps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14T09:30", "--location", "FRZ-1/R1"]


def test_bare_samplectl_prints_the_help_and_succeeds(cli: CliRun) -> None:
    result = cli()
    assert result.exit_code == 0 and "Usage: samplectl" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("args", [["export", "--quiet"], ["export", "-q"], ["list", "--no-color", "-o", "json"],
                                  ["list", "-o", "json", "--debug"], ["list", "-v", "-o", "json"], ["list", "--no-pager"]])
def test_global_options_are_accepted_after_the_command(cli: CliRun, args: list[str]) -> None:
    cli("create", *BLOOD, "--id", "S-1")
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "S-1" in result.stdout


def test_quiet_after_the_command_silences_messages(cli: CliRun) -> None:
    loud = cli("create", *BLOOD, "--id", "S-1")
    quiet = cli("create", *BLOOD, "--id", "S-2", "-q")
    assert "created sample S-1" in loud.stderr
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_import_q_after_the_subcommand_and_file(cli: CliRun, tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    data.write_text("sample_type,subject_id,collection_date,storage_location\nblood,S,2025-01-01,F\n")
    result = cli("import", "-q", str(data), "-o", "json", tty="stderr")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 1 and result.stderr == ""


def test_version_after_the_command(cli: CliRun) -> None:
    from samplectl import __version__

    result = cli("list", "--version")
    assert result.exit_code == 0 and result.stdout == f"samplectl {__version__}\n"


def test_a_value_that_looks_like_a_global_flag_stays_a_value(cli: CliRun) -> None:
    result = cli("create", *BLOOD, "--id", "S-1", "--reason", "-q", "-o", "json")
    assert result.exit_code == 0, result.stderr
    history = cli("history", "S-1", "-o", "json").json()
    assert history[0]["reason"] == "-q"
    assert "created sample" in result.stderr  # -q was --reason's value, not --quiet


@pytest.mark.real_auth
@pytest.mark.local_only("in remote mode the server is set up: the next step is login (tests/remote)")
def test_a_fresh_machine_points_to_init_and_leaves_no_files(cli: CliRun, isolated_env: Path) -> None:
    result = cli("list")
    assert result.exit_code == 3
    assert "hint: run samplectl init --admin NAME, then samplectl login" in result.stderr
    assert "login\n" not in result.stderr.split("hint:")[1].split("then")[0]
    left = [str(p) for p in Path(os.environ["SAMPLECTL_HOME"]).rglob("*")] if Path(
        os.environ["SAMPLECTL_HOME"]).exists() else []
    assert left == []


@pytest.mark.real_auth
def test_after_init_the_hint_is_login(cli: CliRun) -> None:
    made = cli("init", "--admin", "admin", "--password-stdin", input="admin-pass-123\n")
    assert made.exit_code == 0, made.stderr
    result = cli("list")
    assert result.exit_code == 3 and "hint: run samplectl login" in result.stderr
