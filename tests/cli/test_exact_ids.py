"""Ids are opaque text compared exactly, whatever they look like (issue 9 item 1, the contract's "Flags and shapes").

The embedded engine used to compare values that start like a date as dates: `delete 2025-03-14T00:00:00+00:00`
deleted `2025-03-14`, and ids like `2025-03-14-001` could be listed but not found. Every command that
names a sample by id must reach exactly that sample and no other.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

DATE_SHAPED = [
    "2025-03-14",
    "2025-03-14T00:00:00Z",
    "2025-03-14T00:00:00+00:00",
    "2025-03-14-001",
    "2025/03/14-B",
    "01/15/2023-7",
]
BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1/R1"]


@pytest.fixture
def all_created(cli: CliRun) -> None:
    for sample_id in DATE_SHAPED:
        made = cli("create", *BLOOD, "--id", sample_id)
        assert made.exit_code == 0, made.stderr


def _locations(cli: CliRun) -> dict[str, str]:
    return {r["sample_id"]: r["storage_location"] for r in cli("list", "--all", "-o", "json").json()}


def test_every_date_shaped_id_is_created_and_listed(cli: CliRun, all_created: None) -> None:
    assert sorted(_locations(cli)) == sorted(DATE_SHAPED)


@pytest.mark.parametrize("sample_id", DATE_SHAPED)
def test_get_reaches_exactly_that_sample(cli: CliRun, all_created: None, sample_id: str) -> None:
    out = cli("get", sample_id, "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert out.json()["sample_id"] == sample_id


@pytest.mark.parametrize("sample_id", DATE_SHAPED)
def test_update_changes_exactly_that_sample(cli: CliRun, all_created: None, sample_id: str) -> None:
    out = cli("update", sample_id, "--location", "MOVED", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert out.json()["sample_id"] == sample_id
    assert {k for k, v in _locations(cli).items() if v == "MOVED"} == {sample_id}


@pytest.mark.parametrize("sample_id", DATE_SHAPED)
def test_delete_removes_exactly_that_sample(cli: CliRun, all_created: None, sample_id: str) -> None:
    out = cli("delete", sample_id, "--yes")
    assert out.exit_code == 0, out.stderr
    assert sorted(_locations(cli)) == sorted(set(DATE_SHAPED) - {sample_id})


@pytest.mark.parametrize("sample_id", DATE_SHAPED)
def test_history_shows_exactly_that_samples_trail(cli: CliRun, all_created: None, sample_id: str) -> None:
    assert cli("update", sample_id, "--location", "MOVED").exit_code == 0
    out = cli("history", sample_id, "-o", "json")
    assert out.exit_code == 0, out.stderr
    entries = out.json()
    assert [e["action"] for e in entries] == ["create", "update"]
    assert {e["sample_id"] for e in entries} == {sample_id}


@pytest.mark.parametrize("sample_id", DATE_SHAPED)
def test_update_where_selects_by_location_and_changes_only_the_selected(
    cli: CliRun, all_created: None, sample_id: str
) -> None:
    assert cli("update", sample_id, "--location", f"SOLO-{sample_id}").exit_code == 0
    out = cli("update", "--where", "--location", f"SOLO-{sample_id}", "--set-status", "processing", "--yes",
              "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["changed"] == 1
    statuses = {r["sample_id"]: r["status"] for r in cli("list", "--all", "-o", "json").json()}
    assert {k for k, v in statuses.items() if v == "processing"} == {sample_id}


def test_import_on_conflict_update_reaches_exactly_each_id(cli: CliRun, all_created: None, tmp_path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sample_id", "sample_type", "subject_id", "collection_date", "storage_location"])
    for sample_id in DATE_SHAPED:
        writer.writerow([sample_id, "blood", "SUBJ-1", "2025-03-14", f"IMPORTED-{sample_id}"])
    data = tmp_path / "in.csv"
    data.write_text(buffer.getvalue())
    out = cli("import", str(data), "--on-conflict", "update", "-o", "json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["created"], result["updated"]) == (0, len(DATE_SHAPED))
    assert _locations(cli) == {sample_id: f"IMPORTED-{sample_id}" for sample_id in DATE_SHAPED}
