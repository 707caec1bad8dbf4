"""The one output path: every `-o` format, for every kind of thing samplectl prints.

A *kind* (samples, accounts, audit entries, a report) says which fields it has and how its table
looks; a *writer* per format turns any kind into that format. Commands call ``render`` and nothing
else, so a new format is one writer here, and a kind or format without a writer fails loudly
instead of quietly printing something else.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import IO, Any

from samplectl.domain.csvcells import SECONDS_ONLY, csv_cell, json_default, sample_cells
from samplectl.domain.dates import iso_z
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.vocab import OUTPUT_FORMATS, RECORD_FIELDS
from samplectl.output.table import Column, write_pairs, write_table


def parse_format(value: str | None, allowed: Sequence[str] = OUTPUT_FORMATS) -> str | None:
    """The one reader of `-o`: trimmed, any case (`-o JSON`); an unknown format is invalid input (6)."""
    if value is None:
        return None
    fmt = value.strip().lower()
    if fmt not in allowed:
        raise ValidationFailed(f"-o/--output {value.strip()[:100]!r} is not a format here",
                               hint=f"use one of: {', '.join(allowed)}")
    return fmt


def public(record: Mapping[str, Any], fields: Sequence[str] | None = None) -> dict[str, Any]:
    """A record as scripts see it: the fields asked for (a sample's, by default), UTC timestamps with Z."""
    out = {name: record.get(name) for name in (fields if fields is not None else RECORD_FIELDS)}
    for name, value in out.items():
        if isinstance(value, datetime):
            out[name] = iso_z(value, seconds_only=name in SECONDS_ONLY)
    return out


@dataclass(frozen=True)
class Kind:
    """Something samplectl prints: its fields (JSON keys, CSV columns) and its table."""

    name: str  # for messages: "samples"
    fields: tuple[str, ...]  # in order; --fields chooses among them
    columns: tuple[Column, ...] = ()  # the table's columns (-o wide: all of them)
    empty: str = "nothing to show"
    pairs: bool = False  # one result shown as labelled lines, not a one-row table
    to_json: Callable[[Mapping[str, Any], Sequence[str]], dict[str, Any]] = public
    writers: Mapping[str, Writer] = field(default_factory=dict)  # a kind's own writer for a format

    def select(self, names: Sequence[str] | None) -> tuple[str, ...]:
        """The fields --fields asks for, checked (6 for a name this kind does not have)."""
        if not names:
            return self.fields
        unknown = [n for n in names if n not in self.fields]
        if unknown:
            raise ValidationFailed(f"--fields: {', '.join(repr(n[:100]) for n in unknown[:5])} "
                                   f"{'is not a field' if len(unknown) == 1 else 'are not fields'} of {self.name}",
                                   hint=f"choose from: {', '.join(self.fields)}")
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class View:
    """How the person asked to see it: the format, and what a table needs to know."""

    fmt: str
    color: bool = False
    width: int = 80
    tz: tzinfo | None = None
    fields: Sequence[str] | None = None  # --fields
    single: bool = False  # one record: a JSON object instead of an array
    title: str | None = None


Writer = Callable[[Kind, Iterator[Mapping[str, Any]], IO[str], View], int]


def parse_fields(text: str | None) -> list[str] | None:
    """`--fields a,b,c` as names (spaces around commas ignored)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValidationFailed("--fields is empty", hint="name the fields, e.g. --fields sample_id,status")
    return names


# -- writers ----------------------------------------------------------------------------------
def dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=json_default)


def _json(kind: Kind, records: Iterator[Mapping[str, Any]], out: IO[str], view: View) -> int:
    fields = kind.select(view.fields)
    if view.single:
        record = next(records, None)
        if record is None:
            return 0
        out.write(dumps(kind.to_json(record, fields), indent=2) + "\n")
        return 1
    # One array, written record by record so that `list --all` never holds every sample.
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n  " if count else "\n  ")
        out.write(dumps(kind.to_json(record, fields)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _jsonl(kind: Kind, records: Iterator[Mapping[str, Any]], out: IO[str], view: View) -> int:
    fields = kind.select(view.fields)
    count = 0
    for record in records:
        out.write(dumps(kind.to_json(record, fields)))
        out.write("\n")
        count += 1
    return count


def _csv(kind: Kind, records: Iterator[Mapping[str, Any]], out: IO[str], view: View) -> int:
    fields = kind.select(view.fields)
    # csv.writer with a list per row: DictWriter's per-row generator costs a third of an export.
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    if kind.to_json is public:  # samples: cells straight from the record (an export writes millions)
        cells = sample_cells(fields)
        for record in records:
            writer.writerow(cells(record))
            count += 1
        return count
    for record in records:
        row = kind.to_json(record, fields)
        writer.writerow([csv_cell(row[name]) for name in fields])
        count += 1
    return count


def write_csv_rows(fields: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[str]) -> int:
    """CSV of rows that are already cells (see domain.csvcells.sample_cells): csv.writer writes them
    in C, the fastest way to export. As ``render``, the first row is read before anything is written."""
    iterator = iter(rows)
    first = next(iterator, None)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    if first is None:
        return 0
    writer.writerow(first)
    count = 1

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal count
        for count, row in enumerate(iterator, 2):  # noqa: B007 - the count is what is wanted
            yield row

    writer.writerows(counted())
    return count


def _table(kind: Kind, records: Iterator[Mapping[str, Any]], out: IO[str], view: View) -> int:
    if kind.pairs:
        record = next(records, None)
        if record is None:
            return 0
        row = kind.to_json(record, kind.select(view.fields))
        write_pairs([(k.replace("_", " "), v) for k, v in row.items()], out, color=view.color, title=view.title)
        return 1
    columns = kind.columns
    if view.fields:
        by_key = {c.key: c for c in columns}
        # --fields: exactly those columns, in that order, each shown (a field without a column gets one).
        columns = tuple(replace(by_key[n], priority=0, wide_only=False) if n in by_key
                        else Column(n, n.replace("_", " ")) for n in kind.select(view.fields))
    return write_table(records, columns, out, width=view.width, wide=view.fmt == "wide", color=view.color,
                       tz=view.tz, empty=kind.empty)


WRITERS: dict[str, Writer] = {"table": _table, "wide": _table, "json": _json, "jsonl": _jsonl, "csv": _csv}


def writer_for(kind: Kind, fmt: str) -> Writer:
    """The writer of ``fmt`` for ``kind``; a missing one is a programming error, said loudly."""
    writer = kind.writers.get(fmt) or WRITERS.get(fmt)
    if writer is None:
        raise LookupError(f"no {fmt!r} renderer for {kind.name}: add one to output.formats.WRITERS")
    return writer


def render(kind: Kind, records: Iterable[Mapping[str, Any]], out: IO[str], view: View) -> int:
    """Write ``records`` of ``kind`` as ``view`` asks; returns how many were written."""
    write = writer_for(kind, view.fmt)
    kind.select(view.fields)  # refuse unknown --fields before printing anything
    # Fetch the first record before printing anything: a database error then leaves stdout empty
    # instead of half a document.
    iterator = iter(records)
    first = next(iterator, None)
    chained: Iterator[Mapping[str, Any]] = iter(()) if first is None else _chain(first, iterator)
    return write(kind, chained, out, view)


def _chain(first: Mapping[str, Any], rest: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    yield first
    yield from rest


def report_kind(report: Mapping[str, Any], name: str = "report") -> Kind:
    """A one-off result (an import summary, a verify report): its own keys are its fields."""
    return Kind(name=name, fields=tuple(report), pairs=True, to_json=pick)


def pick(record: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {name: record.get(name) for name in fields}
