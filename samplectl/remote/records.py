"""Records from the server's JSON back into the values the local services hand out.

The server prints times as UTC ISO 8601 with ``Z``; the command line's output code takes
datetimes (tables show them in the configured time zone), so they become aware datetimes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

SAMPLE_TIMES = ("collection_date", "created_at", "updated_at")
ACCOUNT_TIMES = ("created_at", "password_changed_at", "locked_until")
ENTRY_TIMES = ("at",)


def parse_time(value: Any) -> Any:
    """An ISO 8601 text as an aware UTC datetime; anything else (None, a bad value) as it is."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def with_times(record: Mapping[str, Any], names: Iterable[str] = SAMPLE_TIMES) -> dict[str, Any]:
    out = dict(record)
    for name in names:
        if name in out:
            out[name] = parse_time(out[name])
    return out


def wire_time(value: datetime) -> str:
    """A datetime as the server reads it: UTC, with microseconds when it has them."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
