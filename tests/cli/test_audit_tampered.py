"""A tampered audit record is reported, never a crash (issue 9 item 17): embedded store, edited with sqlite3."""

from __future__ import annotations

import sqlite3

import pytest

from samplectl.config import load_settings
from tests.conftest import CliRun

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1"]


def tamper(sql: str) -> None:
    with sqlite3.connect(load_settings().samples_path) as conn:
        assert conn.execute(sql).rowcount == 1


@pytest.fixture
def trail(cli: CliRun) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    assert cli("update", "S-1", "--location", "FRZ-2").exit_code == 0


@pytest.mark.parametrize("at", ["1e18", "-1e18", "'not a time'"])
def test_verify_reports_a_record_whose_time_is_out_of_range(cli: CliRun, trail: None, at: str) -> None:
    tamper(f"UPDATE audit SET at = {at} WHERE seq = 1")
    out = cli("audit", "verify", "-o", "json")
    assert out.exit_code == 6, out.stderr
    assert "unexpected" not in out.stderr
    listed = cli("audit", "-o", "json")
    assert listed.exit_code in (0, 6), listed.stderr
    assert "unexpected" not in listed.stderr


def test_audit_shows_a_record_whose_changes_is_a_list(cli: CliRun, trail: None) -> None:
    tamper("UPDATE audit SET changes = '[1, 2]' WHERE seq = 2")
    for output in (["-o", "json"], ["-o", "csv"]):
        out = cli("audit", *output)
        assert out.exit_code == 0, out.stderr
    table = cli("audit", tty="stdout", env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.stderr
    history = cli("history", "S-1", tty="stdout", env={"COLUMNS": "160"})
    assert history.exit_code == 0, history.stderr
    assert cli("audit", "verify").exit_code == 6
