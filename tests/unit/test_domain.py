"""Domain rules that do not need a database: dates, lifecycle, criteria, settings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from samplectl.config import load_settings, mask_uri
from samplectl.domain.criteria import build_criteria
from samplectl.domain.dates import parse_when
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.sample import transition_allowed, validate_sample

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def fields(**overrides: str) -> dict[str, str]:
    base = {"sample_type": "blood", "subject_id": "S", "collection_date": "2025-01-01", "storage_location": "L"}
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("before", "after", "ok"),
    [
        ("collected", "processing", True), ("processing", "archived", True), ("collected", "archived", True),
        ("processing", "collected", False), ("archived", "collected", False), ("archived", "processing", False),
        ("collected", "collected", True),
    ],
)
def test_lifecycle(before: str, after: str, ok: bool) -> None:
    assert transition_allowed(before, after) is ok


def test_date_only_is_midnight_local_and_flagged_bare() -> None:
    when, bare = parse_when("2025-03-14", ZoneInfo("Europe/Berlin"))
    assert when == datetime(2025, 3, 13, 23, 0, tzinfo=UTC) and bare


def test_z_suffix_and_offsets() -> None:
    assert parse_when("2025-03-14T10:00:00Z", UTC_TZ)[0] == datetime(2025, 3, 14, 10, tzinfo=UTC)
    assert parse_when("2025-03-14T10:00:00-05:00", UTC_TZ)[0] == datetime(2025, 3, 14, 15, tzinfo=UTC)


def test_future_is_refused_relative_to_now() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_sample(fields(collection_date="2025-06-01T12:00:01Z"), tz=UTC_TZ, now=NOW)
    assert info.value.details[0]["column"] == "collection_date"
    assert validate_sample(fields(collection_date="2025-06-01T12:00:00Z"), tz=UTC_TZ, now=NOW)


def test_every_problem_is_reported_with_field_value_and_allowed() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_sample(fields(sample_type="plasma", status="frozen", subject_id=""), tz=UTC_TZ, now=NOW)
    by_column = {p["column"]: p for p in info.value.details}
    assert set(by_column) == {"sample_type", "status", "subject_id"}
    assert by_column["sample_type"]["value"] == "plasma"
    assert "blood, saliva, tissue" in by_column["sample_type"]["message"]
    assert "collected, processing, archived" in by_column["status"]["message"]


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="colour is not a sample field"):
        validate_sample(fields(colour="red"), tz=UTC_TZ, now=NOW)


def test_control_characters_refused_in_every_text_field() -> None:
    for name in ("subject_id", "storage_location", "sample_id"):
        with pytest.raises(ValidationFailed):
            validate_sample(fields(**{name: "A\x07B"}), tz=UTC_TZ, now=NOW)


def test_criteria_to_date_covers_the_whole_day() -> None:
    crit = build_criteria(collected_to="2025-01-31", tz=UTC_TZ)
    assert crit.collected_before == datetime(2025, 2, 1, tzinfo=UTC) and crit.collected_to is None
    crit = build_criteria(collected_to="2025-01-31T08:00", tz=UTC_TZ)
    assert crit.collected_to == datetime(2025, 1, 31, 8, tzinfo=UTC) and crit.collected_before is None


def test_criteria_choices_are_validated_and_normalised() -> None:
    assert build_criteria(sample_types=["Blood"], tz=UTC_TZ).sample_types == ("blood",)
    with pytest.raises(ValidationFailed):
        build_criteria(statuses=["frozen"], tz=UTC_TZ)


def test_settings_precedence(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('mongodb_db = "from_file"\ntimezone = "Europe/Paris"\nlockout_attempts = 3\n')
    env = {"SAMPLECTL_CONFIG": str(config), "SAMPLECTL_HOME": str(tmp_path)}
    assert load_settings(env).mongodb_db == "from_file"
    assert load_settings({**env, "SAMPLECTL_MONGODB_DB": "from_env"}).mongodb_db == "from_env"
    assert load_settings({**env, "SAMPLECTL_MONGODB_DB": "from_env"}, mongodb_db="from_flag").mongodb_db == "from_flag"
    assert load_settings(env).lockout_attempts == 3
    assert load_settings({"SAMPLECTL_HOME": str(tmp_path), "SAMPLECTL_CONFIG": str(tmp_path / "none")}).mongodb_db == "samplectl"


def test_settings_default_home_follows_xdg(tmp_path) -> None:
    settings = load_settings({"XDG_DATA_HOME": str(tmp_path), "SAMPLECTL_CONFIG": str(tmp_path / "none")})
    assert settings.home == tmp_path / "samplectl" and settings.embedded


@pytest.mark.parametrize(
    ("content", "needle"),
    [("mongodb_db = ", "cannot read config file"), ('colour = "red"', "unknown setting 'colour'"),
     ("lockout_attempts = -1", "lockout_attempts")],
)
def test_bad_config_file_is_a_clear_error(tmp_path, content: str, needle: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(content + "\n")
    with pytest.raises(ValidationFailed, match=needle):
        load_settings({"SAMPLECTL_CONFIG": str(config)})


def test_a_config_path_that_cannot_be_read_is_a_clear_error(tmp_path) -> None:
    # A directory where the file should be: the file is opened before its parser is loaded, and this is still 6.
    with pytest.raises(ValidationFailed, match=f"cannot read config file {tmp_path}"):
        load_settings({"SAMPLECTL_CONFIG": str(tmp_path)})


def test_mask_uri_hides_passwords() -> None:
    assert mask_uri("mongodb://app:s3cret@db:27017/x?authSource=admin") == "mongodb://app:***@db:27017/x?authSource=admin"
    assert mask_uri("mongodb+srv://u:p%40ss@cluster.example.net/") == "mongodb+srv://u:***@cluster.example.net/"
    assert mask_uri("postgresql+psycopg://u:pw@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert mask_uri("mongodb://localhost") == "mongodb://localhost"
