"""The embedded store's sample rows: dates survive the encoders' and decoders' one-value memories."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from samplectl.stores.sqlite.samples import EPOCH, decode, encode

BASE = {"sample_id": "S-1", "sample_type": "blood", "subject_id": "A", "status": "collected",
        "storage_location": "L", "created_by": "ana", "updated_by": "ana", "version": 1, "position": None}


def test_records_round_trip_whatever_dates_came_before() -> None:
    shared = datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    dates = [shared, shared, datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), EPOCH, shared,
             shared.astimezone(ZoneInfo("Europe/Berlin")), EPOCH - timedelta(days=3650)]
    for i, when in enumerate(dates):
        record = {**BASE, "collection_date": when, "created_at": shared, "updated_at": dates[i - 1]}
        back = decode(encode(record))
        assert back["collection_date"] == when and back["created_at"] == shared and back["updated_at"] == dates[i - 1]


def test_the_first_row_a_process_reads_may_hold_any_date() -> None:
    """One microsecond before the epoch is -1 when stored: no memory may take it for "nothing read yet"."""
    code = ("from samplectl.stores.sqlite.samples import decode, SAMPLE_NAMES; "
            "row = tuple(-1 if n in ('collection_date', 'created_at', 'updated_at') else 1 if n == 'version' "
            "else None if n in ('import_batch', 'position') else 'x' for n in SAMPLE_NAMES); "
            "print(decode(row)['collection_date'].isoformat())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1969-12-31T23:59:59.999999+00:00"
