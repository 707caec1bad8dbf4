"""The embedded store's CSV cells, made in SQL, are byte for byte the cells made from records.

`export -o csv` writes the cells SQLite makes (stores.sqlite.cells); `list -o csv`, the MongoDB engine
and remote mode make them from records (domain.csvcells.sample_cells). Formula-like text, apostrophes,
empty and missing values, and dates before the epoch, at the edges of the calendar and with or
without microseconds must come out the same either way.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.csvcells import sample_cells
from samplectl.domain.vocab import INPUT_FIELDS, RECORD_FIELDS
from samplectl.output.formats import View, render, write_csv_rows
from samplectl.output.kinds import SAMPLES
from samplectl.stores.engines import SampleDatabase
from samplectl.stores.sqlite import open_sqlite

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ODD_TEXT = ["plain", "=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'", "'=x", "''+x", "'a",
            "a=b", "é=", "Ω", "x\ny", "a,b", "\"q\"", " =x"]
ODD_DATES = [EPOCH, EPOCH - timedelta(microseconds=1), EPOCH + timedelta(microseconds=1),
             EPOCH - timedelta(days=365 * 60, microseconds=500_000), datetime(1, 1, 1, tzinfo=UTC),
             datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2025, 3, 14, 9, 30, 15, tzinfo=UTC),
             datetime(2025, 3, 14, 9, 30, 15, 120_000, tzinfo=UTC)]
ALL_FIELDS = [*RECORD_FIELDS, "import_batch"]


def record(i: int, text: str, when: datetime, *, placed: bool) -> dict[str, Any]:
    return {
        "sample_id": f"{text}{i}", "sample_type": text, "subject_id": text, "collection_date": when,
        "status": "collected", "storage_location": text, "position": f"{text}:{i}" if placed else None,
        "created_at": when, "created_by": text, "updated_at": ODD_DATES[i % len(ODD_DATES)], "updated_by": "ana",
        "version": i + 1, **({"import_batch": text} if i % 2 else {}),
    }


@pytest.fixture
def store() -> Iterator[SampleDatabase]:
    with tempfile.TemporaryDirectory() as directory:
        database = open_sqlite(Path(directory) / "samples.db")
        try:
            yield database
        finally:
            database.close()


def from_records(database: SampleDatabase, fields: list[str], sort: Sort | None) -> list[list[Any]]:
    records = database.samples.stream(Criteria()) if sort is None else database.samples.find(Criteria(), sort)
    return list(map(sample_cells(fields), records))


def test_odd_text_and_dates_make_the_same_cells(store: SampleDatabase) -> None:
    for i, text in enumerate(ODD_TEXT * 2):
        store.samples.insert(record(i, text, ODD_DATES[i % len(ODD_DATES)], placed=i % 3 == 0))
    for fields in (ALL_FIELDS, list(INPUT_FIELDS), ["collection_date", "created_at", "sample_id"]):
        for sort in (None, Sort.parse("-collection_date"), Sort.parse("sample_id")):
            made = [list(row) for row in store.samples.cells(Criteria(), sort, fields)]
            assert made == from_records(store, fields, sort)
    written = {cell for row in store.samples.cells(Criteria(), None, ALL_FIELDS) for cell in row}
    assert written >= {"'=HYPERLINK(\"x\")", "''=x", "'a", "a=b", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                       "9999-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z", "2025-03-14T09:30:15.120000Z"}


def test_the_export_bytes_are_those_of_the_record_path(store: SampleDatabase) -> None:
    for i, text in enumerate(ODD_TEXT):
        store.samples.insert(record(i, text, ODD_DATES[i % len(ODD_DATES)], placed=i % 2 == 0))
    for fields in (list(INPUT_FIELDS), list(RECORD_FIELDS)):
        quick, general = io.StringIO(), io.StringIO()
        assert write_csv_rows(fields, store.samples.cells(Criteria(), None, fields), quick) == len(ODD_TEXT)
        assert render(SAMPLES, store.samples.stream(Criteria()), general, View(fmt="csv", fields=fields)) \
            == len(ODD_TEXT)
        assert quick.getvalue() == general.getvalue()


def test_an_empty_export_is_the_header_alone(store: SampleDatabase) -> None:
    out = io.StringIO()
    assert write_csv_rows(list(INPUT_FIELDS), store.samples.cells(Criteria(), None, INPUT_FIELDS), out) == 0
    assert out.getvalue() == ",".join(INPUT_FIELDS) + "\n"


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
WHEN = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, WHEN, st.booleans()), min_size=1, max_size=8))
def test_any_text_and_date_make_the_same_cells(store: SampleDatabase, rows: list[tuple[str, datetime, bool]]) -> None:
    with store.samples.transaction():
        for i, (text, when, placed) in enumerate(rows):
            store.samples.insert(record(i, text, when, placed=placed))
        try:
            made = [list(row) for row in store.samples.cells(Criteria(), None, ALL_FIELDS)]
            assert made == from_records(store, ALL_FIELDS, None)
        finally:
            store.samples.db.execute("DELETE FROM samples")
