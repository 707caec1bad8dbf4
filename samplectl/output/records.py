"""Records to stdout in the chosen format. JSON and CSV stream; a table is built in memory."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from samplectl.domain.dates import iso_z
from samplectl.domain.vocab import RECORD_FIELDS, TABLE_FIELDS

SECONDS_ONLY = {"collection_date"}


def public(record: Mapping[str, Any], fields: Sequence[str] = RECORD_FIELDS) -> dict[str, Any]:
    """A record as scripts see it: contract field names, UTC timestamps with Z."""
    out = {name: record.get(name) for name in fields}
    for name, value in out.items():
        if isinstance(value, datetime):
            out[name] = iso_z(value, seconds_only=name in SECONDS_ONLY)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def write_json_array(records: Iterable[Mapping[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    """One JSON array, written record by record so that `list --all` never holds every sample."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n  " if count else "\n  ")
        out.write(dumps(public(record, fields)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_jsonl(records: Iterable[Mapping[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    count = 0
    for record in records:
        out.write(dumps(public(record, fields)))
        out.write("\n")
        count += 1
    return count


def write_csv(records: Iterable[Mapping[str, Any]], out: IO[str], fields: Sequence[str]) -> int:
    # csv.writer with a list per row: DictWriter's per-row generator costs a third of an export.
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for record in records:
        row = public(record, fields)
        writer.writerow([row[name] for name in fields])
        count += 1
    return count


def write_table(
    records: Iterable[Mapping[str, Any]], out: IO[str], fields: Sequence[str], *, color: bool, title: str | None = None
) -> int:
    from rich.table import Table

    table = Table(title=title, header_style="bold", show_lines=False)
    for name in fields:
        # Ids stay on one line so that they can be copied from the terminal.
        table.add_column(name.replace("_", " "), overflow="fold", no_wrap=name == "sample_id")
    count = 0
    for record in records:
        row = public(record, fields)
        table.add_row(*("" if row[n] is None else str(row[n]) for n in fields))
        count += 1
    print_table(table, out, color=color, empty=None if count else "no samples")
    return count


def print_table(table: Any, out: IO[str], *, color: bool, empty: str | None = None) -> None:
    """Print a Rich table the way every samplectl table is printed, or ``empty`` (dimmed) instead."""
    from rich.console import Console

    console = Console(file=out, no_color=not color, highlight=False, soft_wrap=False)
    if empty is None:
        console.print(table)
    else:
        console.print(empty, style="dim")


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: str,
    out: IO[str],
    *,
    fields: Sequence[str] = RECORD_FIELDS,
    color: bool = True,
    single: bool = False,
) -> int:
    """Write records in ``fmt``; ``single`` prints one JSON object instead of an array."""
    # Fetch the first record before printing anything: a database error then leaves stdout empty
    # instead of half a document.
    iterator = iter(records)
    first = next(iterator, None)
    records = iterator if first is None else itertools.chain([first], iterator)
    if single and fmt == "json":
        record = next(iter(records))
        out.write(json.dumps(public(record, fields), ensure_ascii=False, indent=2, default=_jsonable) + "\n")
        return 1
    if fmt == "json":
        return write_json_array(records, out, fields)
    if fmt == "jsonl":
        return write_jsonl(records, out, fields)
    if fmt == "csv":
        return write_csv(records, out, fields)
    return write_table(records, out, TABLE_FIELDS if fields == RECORD_FIELDS else fields, color=color)
