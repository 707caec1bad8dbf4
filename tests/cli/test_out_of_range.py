"""Out-of-range values and unusable settings are invalid input (6) with a clear line, never a crash (issue 9 items 12, 13, 17)."""

from __future__ import annotations

import json

import pytest

from tests.cli.csvfiles import envelope
from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--location", "FRZ-1"]


@pytest.mark.parametrize(
    ("zone", "collected"),
    [
        ("Asia/Tokyo", "0001-01-01"),  # year 1 east of UTC is before year 1 in UTC
        ("UTC", "0001-01-01T00:00:00+05:00"),
        ("UTC", "2025-01-01T00:00:00+15:00"),  # no time zone is 15 hours ahead
        ("UTC", "2025-01-01T00:00:00-13:00"),
    ],
)
def test_create_with_a_date_out_of_range_is_exit_6(cli: CliRun, zone: str, collected: str) -> None:
    out = cli("create", *BLOOD, "--collected", collected, env={"SAMPLECTL_TIMEZONE": zone})
    assert out.exit_code == 6, out.stderr
    assert out.stderr.startswith("error: collection_date ")
    assert cli("list", "-o", "json").json() == []


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_filter_to_the_last_storable_day_works_or_says_why(cli: CliRun, zone: str) -> None:
    assert cli("create", *BLOOD, "--collected", "2025-01-01", "--id", "S-1").exit_code == 0
    out = cli("filter", "--collected-to", "9999-12-31", "-o", "json", env={"SAMPLECTL_TIMEZONE": zone})
    assert out.exit_code in (0, 6), out.stderr
    if out.exit_code == 0:
        assert [r["sample_id"] for r in out.json()] == ["S-1"]
    else:
        assert "outside the dates" in out.stderr


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_audit_since_year_one(cli: CliRun, zone: str) -> None:
    out = cli("audit", "--since", "0001-01-01", "-o", "json", env={"SAMPLECTL_TIMEZONE": zone})
    assert out.exit_code in (0, 6), out.stderr
    assert "unexpected" not in out.stderr


@pytest.mark.parametrize("command", [["list"], ["filter", "--type", "blood"], ["audit"]])
@pytest.mark.parametrize("limit", ["100000000000000000000", "1e20", "0", "-5"])
def test_limit_out_of_range_is_exit_6(cli: CliRun, command: list[str], limit: str) -> None:
    out = cli(*command, "--limit", limit, "-o", "json")
    assert out.exit_code == 6, out.stderr
    assert "--limit" in out.stderr.splitlines()[0]


def test_a_csv_row_dated_year_one_is_one_rejected_row_and_partial_keeps_the_rest(cli: CliRun, tmp_path) -> None:
    data = tmp_path / "in.csv"
    data.write_text("sample_id,sample_type,subject_id,collection_date,storage_location\n"
                    "S-1,blood,X,0001-01-01T00:00:00+01:00,F\n"
                    "S-2,blood,Y,2025-01-01,G\n")
    out = cli("import", str(data), "--partial", "-o", "json")
    assert out.exit_code == 6, out.stderr
    assert json.loads(out.stdout)["created"] == 1
    problem = envelope(out)["details"][0]
    assert (problem["line"], problem["column"]) == (2, "collection_date")
    assert "outside the dates" in problem["message"]
    assert [r["sample_id"] for r in cli("list", "-o", "json").json()] == ["S-2"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAMPLECTL_LOCKOUT_MINUTES", "1e12"),
        ("SAMPLECTL_TOKEN_LIFETIME_HOURS", "nan"),
        ("SAMPLECTL_TOKEN_LIFETIME_HOURS", "inf"),
        ("SAMPLECTL_TOKEN_LIFETIME_HOURS", "-1"),
        ("SAMPLECTL_LOCKOUT_ATTEMPTS", "99999999999999999999"),
    ],
)
def test_unusable_settings_are_exit_6(cli: CliRun, name: str, value: str) -> None:
    out = cli("list", "-o", "json", env={name: value})
    assert out.exit_code == 6, out.stderr
    assert name in out.stderr.splitlines()[0]


@pytest.mark.parametrize("encoding", ["rot13", "base64", "hex", "zlib", "bz2", "uu", "punycode", "idna"])
def test_a_codec_that_is_not_a_text_encoding_is_exit_6(cli: CliRun, tmp_path, encoding: str) -> None:
    data = tmp_path / "in.csv"
    data.write_text("sample_type,subject_id,collection_date,storage_location\nblood,X,2025-01-01,F\n")
    out = cli("import", str(data), "--encoding", encoding)
    assert out.exit_code == 6, out.stderr
    assert out.stderr.startswith(f"error: --encoding {encoding!r} is not a known text encoding")
