"""Keyset paging for GET /samples: an opaque `after` cursor naming the last sample of a page.

The cursor holds the sort and the last sample's (sort value, sample_id). For the default sort on
``collection_date`` the next page is read from that date on (the criteria's own date range narrows
the query, so the page costs the same at any depth), skipping only the ties already sent; for other
sort fields the samples before the cursor are skipped as they stream by.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.dates import as_utc
from samplectl.domain.errors import ValidationFailed
from samplectl.services.samples import SampleService


@dataclasses.dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any
    sample_id: str

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.value, self.sample_id], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            spec, value, sample_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(spec, str) or not isinstance(sample_id, str):
                raise ValueError
        except (ValueError, TypeError, UnicodeError):
            raise ValidationFailed("after is not a cursor this server gave out",
                                   hint="follow the Link: rel=\"next\" header of the previous page",
                                   details=[{"column": "after", "value": text[:100], "message": "not a cursor"}]) from None
        if spec != _spec(sort):
            raise ValidationFailed(f"after was given out for sort {spec!r}, not {_spec(sort)!r}",
                                   hint="keep the same sort while paging",
                                   details=[{"column": "after", "value": text[:100], "message": "another sort"}])
        return cls(spec, value, sample_id)


def _spec(sort: Sort) -> str:
    return ("-" if sort.descending else "") + sort.field


def _key_value(record: dict[str, Any], field: str) -> Any:
    value = record.get(field)
    # Fixed width, so that text order is time order (iso_z leaves out a zero fraction).
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(value, datetime) else value


def cursor_after(record: dict[str, Any], sort: Sort) -> str:
    return Cursor(_spec(sort), _key_value(record, sort.field), record["sample_id"]).encode()


def _passed(record: dict[str, Any], sort: Sort, cursor: Cursor) -> bool:
    """Whether ``record`` comes after the cursor in the sort order (ties broken by sample_id, ascending)."""
    value = _key_value(record, sort.field)
    if value == cursor.value:
        return record["sample_id"] > cursor.sample_id if sort.field != "sample_id" else (
            record["sample_id"] < cursor.sample_id if sort.descending else record["sample_id"] > cursor.sample_id)
    if value is None or cursor.value is None:
        return True  # None sorts apart; never seen on the fields samplectl writes
    return value < cursor.value if sort.descending else value > cursor.value


def page(service: SampleService, criteria: Criteria, sort: Sort, limit: int, after: str | None) -> Iterator[dict[str, Any]]:
    """At most ``limit`` samples in sort order, after the cursor when one is given."""
    if after is None:
        yield from service.find(criteria, sort, limit)
        return
    cursor = Cursor.decode(after, sort)
    narrowed = criteria
    if sort.field == "collection_date" and isinstance(cursor.value, str):
        try:
            when: datetime | None = datetime.fromisoformat(cursor.value)
        except ValueError:
            when = None
        if when is not None:
            if sort.descending and (criteria.collected_to is None or when < criteria.collected_to):
                narrowed = dataclasses.replace(criteria, collected_to=when)
            elif not sort.descending and (criteria.collected_from is None or when > criteria.collected_from):
                narrowed = dataclasses.replace(criteria, collected_from=when)
    sent = 0
    for record in service.find(narrowed, sort, None):
        if sent >= limit:
            return
        if _passed(record, sort, cursor):
            sent += 1
            yield record
