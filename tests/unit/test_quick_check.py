"""The import's quick row check (domain.sample.quick_check) says what the sample model says, or nothing.

Every row it accepts must come out exactly as ``SampleInput`` makes it (same values, same key order:
the audit record lists the values in that order); every row it refuses goes to the model, so only
acceptance needs checking. Canonical rows must take the quick way, or imports lose their speed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from samplectl.domain.sample import SampleInput, quick_check
from samplectl.services.rowcheck import record_of

NOW = datetime(2025, 6, 1, 12, 0, 0, 250_000, tzinfo=UTC)
ROW = {"sample_id": "S-1", "sample_type": "blood", "subject_id": "SUBJ-00001",
       "collection_date": "2024-05-18T01:21:37Z", "status": "archived", "storage_location": "FRZ-1/R2/B3"}


def model(data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return record_of(SampleInput.model_validate(data, context={"tz": UTC, "now": NOW}))
    except ValidationError:
        return None


def agrees(data: dict[str, Any]) -> dict[str, Any] | None:
    quick = quick_check(NOW)(dict(data))
    if quick is not None:
        expected = model(data)
        assert quick == expected, data
        assert list(quick) == list(expected or {}), data
        assert all(type(quick[k]) is type(v) for k, v in (expected or {}).items()), data
        assert quick["collection_date"].tzinfo is UTC
    return quick


def test_canonical_rows_take_the_quick_way() -> None:
    assert agrees(ROW) is not None
    assert agrees({k: v for k, v in ROW.items() if k != "status"}) is not None  # the default status
    assert agrees({**ROW, "position": "BOX-1:A1"}) is not None
    assert agrees({**ROW, "collection_date": "2025-06-01T12:00:00Z"}) is not None  # now, to the second


def test_what_the_quick_way_leaves_to_the_model() -> None:
    for change in ({"collection_date": "2025-06-01T12:00:01Z"},  # in the future
                   {"collection_date": "2025-02-30T00:00:00Z"},  # no such day
                   {"collection_date": "2024-12-31T23:59:60Z"}, {"collection_date": "0000-01-01T00:00:00Z"},
                   {"collection_date": " 2024-05-18T01:21:37Z"}, {"collection_date": "2024-05-18"},
                   {"collection_date": "2024-05-18T01:21:37+00:00"}, {"collection_date": "2024-05-18T01:21:37.5Z"},
                   {"collection_date": "٢٠٢٤-05-18T01:21:37Z"}, {"collection_date": "now"},
                   {"subject_id": " SUBJ-1"}, {"storage_location": "FRZ-1 "}, {"sample_type": "Blood"},
                   {"status": " archived"}, {"subject_id": "a\u200bb"}, {"sample_id": "S 1"}, {"sample_id": ""}):
        assert agrees({**ROW, **change}) is None, change


TEXT = st.text(st.sampled_from(["a", " ", "\t", "\u3000", "\u00a0", "\u200b", "=", "'", "Z", "-", "é"]), max_size=6)
DATE = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")),
    st.builds(lambda d, pad: pad + (NOW + timedelta(seconds=d)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              st.integers(-3, 3), st.sampled_from(["", " "])),
    st.text(st.sampled_from("0123456789-T:Z+. "), max_size=22),
)


@settings(max_examples=400, deadline=None)
@given(sample_id=TEXT, subject=TEXT, location=TEXT, when=DATE,
       kind=st.sampled_from(["blood", "saliva", "Blood", " blood", ""]),
       status=st.sampled_from([None, "collected", "archived", "ARCHIVED", ""]),
       position=st.sampled_from([None, "B:1", " B:1", "B 1"]))
def test_whatever_the_quick_way_accepts_the_model_makes_alike(
    sample_id: str, subject: str, location: str, when: str, kind: str, status: str | None, position: str | None
) -> None:
    data = {"sample_id": sample_id or "S", "sample_type": kind, "subject_id": subject, "collection_date": when,
            "storage_location": location}
    if status is not None:
        data["status"] = status
    if position is not None:
        data["position"] = position
    agrees(data)
