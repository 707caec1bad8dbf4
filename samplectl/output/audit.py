"""Audit entries, `audit verify` reports and `update --where` summaries, in every output format."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from samplectl.domain.audit import ENTRY_FIELDS
from samplectl.output.records import print_table

AUDIT_FIELDS = ("seq",) + ENTRY_FIELDS


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def describe_changes(changes: Any) -> str:
    """Changes for a person: `status: collected -> processing`, `= value` when set, `was value` when removed.

    Anything but a mapping (only an altered record holds one) is shown as it was stored."""
    if not isinstance(changes, Mapping):
        return _dumps(changes)
    lines = []
    for name, change in changes.items():
        if not isinstance(change, Mapping):
            lines.append(f"{name}: {change}")
            continue
        before, after = change.get("before"), change.get("after")
        if before is None:
            lines.append(f"{name} = {after}")
        elif after is None:
            lines.append(f"{name} was {before}")
        else:
            lines.append(f"{name}: {before} -> {after}")
    return "\n".join(lines)


def write_entries(
    entries: Iterable[Mapping[str, Any]], fmt: str, out: IO[str], *, color: bool, with_seq: bool = False
) -> int:
    """Write audit entries; JSON is an array written entry by entry, so a long trail streams."""
    iterator = iter(entries)
    first = next(iterator, None)  # a database error then leaves stdout empty, not half a document
    records = iter(()) if first is None else itertools.chain([first], iterator)
    count = 0
    if fmt == "json":
        out.write("[")
        for entry in records:
            out.write(",\n  " if count else "\n  ")
            out.write(_dumps(entry))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif fmt == "jsonl":
        for entry in records:
            out.write(_dumps(entry) + "\n")
            count += 1
    elif fmt == "csv":
        fields = list(AUDIT_FIELDS if with_seq else ENTRY_FIELDS)
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for entry in records:
            row = dict(entry)
            row["changes"] = _dumps(entry.get("changes") or {})
            writer.writerow(row)
            count += 1
    else:
        count = _table(records, out, color=color, with_seq=with_seq)
    return count


# A table is for reading at a terminal: a deleted sample's full last state is in -o json.
_TABLE_HIDDEN = ("created_at", "created_by", "updated_at", "updated_by")


def _table(entries: Iterable[Mapping[str, Any]], out: IO[str], *, color: bool, with_seq: bool) -> int:
    from rich.table import Table

    table = Table(header_style="bold", show_lines=True)
    if with_seq:
        table.add_column("seq", no_wrap=True)
    table.add_column("at (UTC)")
    table.add_column("user", overflow="fold")
    table.add_column("action")
    table.add_column("sample id", overflow="fold")
    table.add_column("changes", overflow="fold")
    table.add_column("reason", overflow="fold")
    count = 0
    for entry in entries:
        action = str(entry.get("action"))
        if entry.get("forced"):
            action += " (forced)"
        changes = entry.get("changes") or {}
        if isinstance(changes, Mapping):
            changes = {k: v for k, v in changes.items() if k not in _TABLE_HIDDEN}
        at = str(entry.get("at") or "")
        row = [at[:19].replace("T", " "), str(entry.get("user") or ""), action,
               str(entry.get("sample_id") or ""), describe_changes(changes), str(entry.get("reason") or "")]
        table.add_row(*(([str(entry.get("seq"))] if with_seq else []) + row))
        count += 1
    print_table(table, out, color=color, empty=None if count else "no audit records")
    return count


def write_report(report: Mapping[str, Any], fmt: str, out: IO[str], *, color: bool,
                 rows: Sequence[tuple[str, Any]] | None = None) -> None:
    """One result object (a verify report, a bulk summary): JSON for scripts, key/value lines for people."""
    if fmt in ("json", "jsonl"):
        out.write(_dumps(report, indent=2 if fmt == "json" else None) + "\n")
        return
    pairs = rows if rows is not None else [(k, v) for k, v in report.items() if not isinstance(v, list | dict)]
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([k for k, _ in pairs])
        writer.writerow(["" if v is None else v for _, v in pairs])
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in pairs:
        table.add_row(key, "" if value is None else str(value))
    print_table(table, out, color=color)
