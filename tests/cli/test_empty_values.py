"""An explicitly empty value is refused, never "not given" or "match everything" (issue 9 items 2 and 6).

In a script an empty value is an unset variable: `update --where --location "$UNSET"` must not
move every sample, and `SAMPLECTL_TOKEN="$(failed login)"` must not run as whoever is logged in.
"""

from __future__ import annotations

import pytest

from tests.conftest import CliRun
from tests.login_support import ADMIN_PW, init_admin, login
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1/R1"]


def _samples(cli: CliRun) -> dict[str, dict]:
    return {r["sample_id"]: r for r in cli("list", "--all", "-o", "json").json()}


@pytest.fixture
def two_samples(cli: CliRun) -> None:
    for sample_id, location in (("S-1", "FRZ-1/R1"), ("S-2", "FRZ-9/R1")):
        made = cli("create", *BLOOD[:-1], location, "--id", sample_id)
        assert made.exit_code == 0, made.stderr


def test_update_where_with_an_empty_location_moves_nothing(cli: CliRun, two_samples: None) -> None:
    out = cli("update", "--where", "--location", "", "--set-location", "X", "--yes")
    assert out.exit_code == 6, out.stderr
    assert out.stderr.startswith("error: --location is empty")
    assert {s["storage_location"] for s in _samples(cli).values()} == {"FRZ-1/R1", "FRZ-9/R1"}


def test_update_where_with_an_equals_sign_and_nothing_after_it_moves_nothing(cli: CliRun, two_samples: None) -> None:
    out = cli("update", "--where", "--location=", "--set-location", "X", "--yes")
    assert out.exit_code == 6
    assert {s["storage_location"] for s in _samples(cli).values()} == {"FRZ-1/R1", "FRZ-9/R1"}


def test_update_where_with_a_blank_location_moves_nothing(cli: CliRun, two_samples: None) -> None:
    out = cli("update", "--where", "--location", "   ", "--set-location", "X", "--yes")
    assert out.exit_code == 6
    assert {s["storage_location"] for s in _samples(cli).values()} == {"FRZ-1/R1", "FRZ-9/R1"}


@pytest.mark.parametrize(
    "args",
    [
        ["filter", "--location", ""],
        ["filter", "--subject", ""],
        ["filter", "--subject", "  "],
        ["filter", "--collected-from", ""],
        ["filter", "--collected-to", ""],
        ["filter", "--sort", ""],
        ["export", "--location", ""],
        ["list", "--sort", ""],
        ["get", ""],
    ],
)
def test_empty_criteria_are_refused(cli: CliRun, two_samples: None, args: list[str]) -> None:
    out = cli(*args, "-o", "json") if args[0] != "export" else cli(*args)
    assert out.exit_code == 6, (out.exit_code, out.stderr)
    assert out.stdout == ""
    assert "is empty" in out.stderr.splitlines()[0]


@pytest.mark.parametrize(
    "args",
    [
        ["create", *BLOOD, "--id", "S-9", "--reason", ""],
        ["create", *BLOOD[:-1], "", "--id", "S-9"],
        ["create", *BLOOD[:2], "--subject", "", *BLOOD[4:], "--id", "S-9"],
        ["update", "S-1", "--location", ""],
        ["update", "S-1", "--subject", ""],
        ["update", "S-1", "--status", "processing", "--reason", ""],
        ["update", "S-1", "--status", "processing", "--reason", "   "],
        ["update", "--where", "--location", "FRZ-1", "--set-location", "", "--yes"],
        ["delete", "S-1", "--yes", "--reason", ""],
    ],
)
def test_empty_values_change_nothing(cli: CliRun, two_samples: None, args: list[str]) -> None:
    before = _samples(cli)
    out = cli(*args)
    assert out.exit_code == 6, (out.exit_code, out.stderr)
    assert "empty" in out.stderr.splitlines()[0]
    assert _samples(cli) == before


@pytest.mark.real_auth
@pytest.mark.no_users
def test_an_empty_samplectl_token_is_refused_not_replaced_by_the_cached_login(cli: CliRun) -> None:
    init_admin(cli)
    assert login(cli, "admin", ADMIN_PW).exit_code == 0
    assert cli("list").exit_code == 0  # the cached login works
    refused = cli("create", *BLOOD, "--id", "S-1", env={"SAMPLECTL_TOKEN": ""})
    assert refused.exit_code == 3, refused.stderr
    assert refused.stderr.startswith("error: SAMPLECTL_TOKEN is set but empty")
    assert cli("list", "-o", "json", env={"SAMPLECTL_TOKEN": ""}).exit_code == 3
    assert cli("list", "-o", "json").json() == []  # nothing was created under the admin's name
