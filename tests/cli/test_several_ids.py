"""Several ids in one command are checked first: when one does not exist nothing changes (issue 9 item 15)."""

from __future__ import annotations

from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1/R1"]


def _ids(cli: CliRun) -> list[str]:
    return sorted(r["sample_id"] for r in cli("list", "--all", "-o", "json").json())


def _make(cli: CliRun, *ids: str) -> None:
    for sample_id in ids:
        assert cli("create", *BLOOD, "--id", sample_id).exit_code == 0


def test_delete_with_one_unknown_id_deletes_nothing_and_names_it(cli: CliRun) -> None:
    _make(cli, "A", "B")
    out = cli("delete", "A", "NOPE", "B", "--yes")
    assert out.exit_code == 5
    assert out.stderr.splitlines()[0] == "error: no sample with id 'NOPE' (nothing was changed)"
    assert _ids(cli) == ["A", "B"]
    assert [e["action"] for e in cli("history", "A", "-o", "json").json()] == ["create"]


def test_delete_names_every_unknown_id(cli: CliRun) -> None:
    _make(cli, "A")
    out = cli("delete", "X1", "A", "X2", "--yes")
    assert out.exit_code == 5
    assert "'X1'" in out.stderr and "'X2'" in out.stderr
    assert _ids(cli) == ["A"]


def test_delete_of_the_same_id_twice_deletes_it_once_and_succeeds(cli: CliRun) -> None:
    _make(cli, "A", "B")
    out = cli("delete", "A", "A", "--yes")
    assert out.exit_code == 0, out.stderr
    assert out.stderr.count("deleted A") == 1
    assert _ids(cli) == ["B"]
    assert [e["action"] for e in cli("history", "A", "-o", "json").json()] == ["create", "delete"]


def test_get_of_several_ids_names_the_missing_one(cli: CliRun) -> None:
    _make(cli, "A")
    out = cli("get", "A", "NOPE")
    assert out.exit_code == 5 and out.stdout == ""
    assert "'NOPE'" in out.stderr.splitlines()[0]
