"""The quick CSV path for samples writes exactly the cells the general path does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from samplectl.domain.csvcells import csv_cell, sample_cells
from samplectl.domain.vocab import RECORD_FIELDS
from samplectl.output.formats import public

WHEN = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)
VALUES: list[Any] = [None, "", "plain", "=HYPERLINK(x)", "'=x", "'a", "-1", "+", "@", "\tx", 3, 2.5, True, False,
                     WHEN, WHEN.astimezone(timezone(timedelta(hours=2))), WHEN.replace(microsecond=0),
                     {"a": 1}, ["=b"]]


def test_the_quick_cells_are_the_general_cells() -> None:
    fields = [*RECORD_FIELDS, "missing"]
    cells = sample_cells(fields)
    for i, value in enumerate(VALUES * 2):  # twice: the second time from the date memo
        record = {name: VALUES[(i + j) % len(VALUES)] for j, name in enumerate(fields)}
        record["collection_date"] = value
        expected = public(record, fields)
        assert cells(record) == [csv_cell(expected[name]) for name in fields], record
