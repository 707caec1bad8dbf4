"""The CLI over the real pymongo driver: a wire-protocol server, and an unreachable MongoDB."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import CliRun, free_port, run_samplectl


@pytest.mark.wire
def test_acceptance_walkthrough_over_the_wire(cli: CliRun, wire_env: str) -> None:
    assert cli("init").exit_code == 0
    made = cli("create", "--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-02-01T10:00",
               "--location", "FRZ-1/R1", "-o", "json")
    assert made.exit_code == 0, made.stderr
    sample_id = made.json()["sample_id"]
    assert cli("get", sample_id).json()["subject_id"] == "SUBJ-1"
    assert [r["sample_id"] for r in cli("list").json()] == [sample_id]
    found = cli("filter", "--status", "collected", "--type", "blood", "--collected-from", "2025-01-01").json()
    assert [r["sample_id"] for r in found] == [sample_id]
    updated = cli("update", sample_id, "--status", "processing", "-o", "json").json()
    assert updated["status"] == "processing" and updated["version"] == 2
    dup = cli("create", "--id", sample_id, "--type", "blood", "--subject", "S", "--collected", "2025-01-01",
              "--location", "L")
    assert dup.exit_code == 7
    assert cli("delete", sample_id, "--yes").exit_code == 0
    assert cli("get", sample_id).exit_code == 5


@pytest.mark.slow
def test_unreachable_mongodb_exits_8_quickly_with_the_password_masked(process_env: dict[str, str]) -> None:
    uri = f"mongodb://labapp:Sup3rSecret@127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=60000"
    started = time.monotonic()
    result = run_samplectl("list", env={**process_env, "SAMPLECTL_MONGODB_URI": uri, "SAMPLECTL_SERVER_TIMEOUT_MS": "1500"})
    elapsed = time.monotonic() - started
    assert result.returncode == 8
    assert result.stdout == ""
    assert "Sup3rSecret" not in result.stderr
    assert "labapp:***@" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["error"]["code"] == "database_unavailable"
    assert elapsed < 10


@pytest.mark.parametrize("uri", ["mongodb://user:pw@", "http://user:pw@host", "mongodb://h:notaport"])
def test_malformed_uri_is_a_clear_error(uri: str) -> None:
    result = run_samplectl("list", env={"SAMPLECTL_MONGODB_URI": uri})
    assert result.returncode == 8, result.stderr
    assert "pw" not in result.stderr.replace("pymongo", "")
    assert result.stderr.startswith("error: ")
