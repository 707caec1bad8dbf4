"""Checking the rows of an import file: columns from the header, each row against the sample rules.

Rows are validated by the same pydantic model as `create` (``SampleInput``), so a problem reads
the same whichever way a sample was entered. The model is called directly, once per row, with
no exception-to-error translation unless the row is bad: at a million rows per import, every
microsecond spent per row is a second of the technician's time.
"""

from __future__ import annotations

import hashlib
import os
import re
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from samplectl.domain.csvcells import FORMULA_CLASS, restore
from samplectl.domain.errors import SamplectlError, ValidationFailed
from samplectl.domain.fields import fields
from samplectl.domain.sample import SampleInput, problems_of, quick_check
from samplectl.domain.text import shorten, shown
from samplectl.domain.vocab import INPUT_FIELDS, RECORD_FIELDS

REQUIRED_COLUMNS = tuple(f.name for f in fields().where(lambda f: f.entered and f.required))
COLUMN_LIST = ",".join(INPUT_FIELDS)
# Header names a file may use: every entered field's own name and its aliases.
_COLUMN_OF = {alias: name for alias, name in fields().column_names().items() if name in INPUT_FIELDS}
# Empty cells of these fields mean "not given" (the default applies, or the field stays unset).
_BLANK_MEANS_UNSET = tuple(f.name for f in fields().entered if f.blank != "generate" and not f.required)
_CHOICES = tuple((f.name, f.choices) for f in fields().entered if f.choices)
# A cell samplectl marked so a spreadsheet shows it as text (domain.csvcells): found in one search per row.
_MARKED_CELL = re.compile(rf"(?:^|\x1f)'+{FORMULA_CLASS}")
NAMED_COLUMNS = 5  # unknown columns named in an error; the rest are counted
# The record's own columns (created_at, ..., version) that list, filter and export print: accepted
# and ignored, so that whatever samplectl prints imports back. samplectl sets them itself.
RECORD_ONLY = tuple(f for f in RECORD_FIELDS if f not in INPUT_FIELDS)
IMPORT_COLUMNS = INPUT_FIELDS + RECORD_ONLY

Problem = dict[str, Any]  # {"line", "column", "value", "message"}


def column_key(name: str) -> str:
    """A header cell as a field name: case, surrounding spaces and a BOM ignored.

    Inner spaces and hyphens read as underscores, so a spreadsheet's "Sample ID" is sample_id.
    """
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower())


@dataclass(frozen=True)
class Columns:
    """Which field each column of the file holds (None: an unknown column being ignored)."""

    fields: tuple[str | None, ...]
    ignored: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return len(self.fields)

    def index_of(self, field: str) -> int | None:
        return self.fields.index(field) if field in self.fields else None


def map_header(cells: Sequence[str], *, ignore_unknown: bool, line: int = 1, filled: bool = False) -> Columns:
    """Match header cells to sample fields, refusing (exit 6) what cannot be imported.

    With a ``position`` column, or ``filled`` (import --fill), the storage location comes from the
    positions and its column may be left out.
    """
    keys = [_COLUMN_OF.get(k, k) for k in (column_key(c) for c in cells)]
    unknown = [(i, cells[i]) for i, k in enumerate(keys) if k not in IMPORT_COLUMNS]
    if unknown and not ignore_unknown:
        # The first few and a count: a header of a million stray columns must not become a million lines.
        few = unknown[:NAMED_COLUMNS]
        names = ", ".join(shown(c.strip()) if c.strip() else f"(column {i + 1} has no name)" for i, c in few)
        if len(unknown) > len(few):
            names += f" and {len(unknown) - len(few)} more ({len(unknown)} unknown columns)"
        raise ValidationFailed(
            f"the header names {'a column' if len(unknown) == 1 else 'columns'} samplectl does not know: {names}",
            hint=f"columns are {COLUMN_LIST} (any case); add --ignore-unknown to skip the others",
            details=[
                {"line": line, "column": shorten(c.strip()), "value": shorten(c), "message": "not a sample field"}
                for _, c in few
            ],
        )
    seen: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k in INPUT_FIELDS:
            if k in seen:
                raise ValidationFailed(
                    f"the header has two {k} columns (columns {seen[k] + 1} and {i + 1})",
                    hint="keep one of them",
                    details=[{"line": line, "column": k, "value": shorten(cells[i]), "message": "repeated column"}],
                )
            seen[k] = i
    placed = filled or "position" in seen
    missing = [f for f in REQUIRED_COLUMNS if f not in seen and not (placed and f == "storage_location")]
    if missing:
        raise ValidationFailed(
            f"the header has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}",
            hint=f"the first line names the columns: {COLUMN_LIST} (sample_id and status may be left out)",
            details=[{"line": line, "column": m, "value": None, "message": "missing column"} for m in missing],
        )
    return Columns(fields=tuple(k if k in INPUT_FIELDS else None for k in keys), ignored=tuple(c for _, c in unknown))


class IdMaker:
    """Sample ids for rows that give none: UUID 4, and the same for the same line on every pass.

    An import reads its file twice (check, then write); the id a row gets must not change in
    between. The bits come from a keyed hash of the line number with a key drawn per import.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or os.urandom(32)

    def __call__(self, line: int) -> str:
        raw = bytearray(hashlib.blake2b(line.to_bytes(8, "big"), key=self.key, digest_size=16).digest())
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class RowChecker:
    """Validate one row of cells into a sample's fields (by ``SampleInput``) or a list of problems."""

    def __init__(
        self,
        columns: Columns,
        *,
        tz: tzinfo,
        now: datetime,
        date_format: str | None = None,
        make_id: IdMaker | None = None,
        place: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.place = place  # resolves a row's position (or --fill's stand-in) before validation
        self.fields = columns.fields
        self.width = columns.width
        self.drop_ignored = None in self.fields
        self.id_at = columns.index_of("sample_id")
        self.choices = [(name, choices) for name, choices in _CHOICES if name in self.fields]
        self.blank_unset = [name for name in _BLANK_MEANS_UNSET if name in self.fields]
        self.context = {"tz": tz, "now": now, "date_format": date_format}
        self.make_id = make_id or IdMaker()
        self._validate = SampleInput.__pydantic_validator__.validate_python
        # Rows in samplectl's own date form skip the model's Python validators (sample.quick_check); a
        # --date-format reads every date its own way, so only the full model may read them.
        self._quick = quick_check(now) if date_format is None else None

    def check(self, line: int, cells: list[str]) -> tuple[dict[str, Any] | None, list[Problem] | None, str | None]:
        """The row's fields as the sample model makes them (a dict: what the store writes), or its
        problems; and the id it gives (trimmed), if it gives one."""
        if len(cells) != self.width:
            fitted = self._fit(cells)
            if fitted is None:
                return None, [self._width_problem(line)], None
            cells = fitted
        # The substring test first: C's fast search, where the pattern would try every position.
        if "'" in (joined := "\x1f".join(cells)) and _MARKED_CELL.search(joined):
            cells = [restore(c) for c in cells]  # a cell samplectl's CSV marked as text: its value
        # Lengths match (just checked). No strict= at all: a keyword makes zip() a slower call
        # (~0.25 µs, 6% of a dry run), and strict=True would re-check the lengths as well.
        data = dict(zip(self.fields, cells))  # noqa: B905
        if self.drop_ignored:
            data.pop(None, None)  # type: ignore[call-overload]
        given = cells[self.id_at].strip() or None if self.id_at is not None else None
        if given is None:
            data["sample_id"] = self.make_id(line)
        for name in self.blank_unset:
            if not data[name].strip():
                del data[name]  # an empty cell means "not given": the default applies, or nothing
        if self.place is not None:
            try:
                data = self.place(data)  # type: ignore[arg-type,assignment]
            except SamplectlError as exc:
                column = (exc.details[0].get("column") if exc.details else None) or "position"
                return None, [{"line": line, "column": column, "value": data.get("position"),
                               "message": exc.message}], given
        if self._quick is not None and (sample := self._quick(data)) is not None:
            return sample, None, given  # most rows: exact choices, trimmed text, dates as samplectl writes them
        # The model trims text fields but not its fixed choices; like `create`, they are matched
        # trimmed and in any case (the quick check takes exact values only).
        for name, choices in self.choices:
            value = data.get(name)
            if value is not None and value not in choices:  # None: a blank cell, taken out above
                value = value.strip()
                data[name] = value.lower() if value.lower() in choices else value
        try:
            # The model's validator itself: model_validate adds nothing but a Python call.
            return record_of(self._validate(data, context=self.context)), None, given
        except ValidationError as exc:
            return None, [{"line": line, **p} for p in problems_of(exc)], given

    def _fit(self, cells: list[str]) -> list[str] | None:
        """Pad a short row (spreadsheets drop trailing empty cells); refuse a long one unless its extra cells are empty."""
        if len(cells) < self.width:
            return cells + [""] * (self.width - len(cells))
        if not any(c.strip() for c in cells[self.width :]):
            return cells[: self.width]
        return None

    def _width_problem(self, line: int) -> Problem:
        return {
            "line": line,
            "column": None,
            "value": None,
            "message": f"the row has more values than the header has columns ({self.width})",
        }


def record_of(sample: SampleInput) -> dict[str, Any]:
    """A validated sample's fields as a plain dict (what the store writes).

    A pydantic model keeps its field values in ``__dict__``; copying it is four times faster
    than reading the fields one by one, and six times faster than model_dump().
    """
    return dict(sample.__dict__)


class SeenIds:
    """Finds which sample ids occur more than once in a file, in memory that does not grow with it.

    Keeps 64-bit hashes of the ids, split by their low bits into buckets; past a limit the
    buckets go to temporary files. ``repeated()`` then checks one bucket at a time. Two ids may
    share a hash, so a repeated hash only says where to look: a second pass compares the ids.
    """

    BUCKETS = 64
    SPILL_AT = 1 << 21  # hashes in memory (16 MB) before the buckets go to disk

    def __init__(self) -> None:
        self.buckets = [array("q") for _ in range(self.BUCKETS)]
        self.held = 0
        self.files: list[Any] | None = None

    def add(self, sample_id: str) -> None:
        """One id (the import's hot loop inlines this: see ``ImportService._chunks``)."""
        h = hash(sample_id)
        self.buckets[h & (self.BUCKETS - 1)].append(h)
        self.added(1)

    def added(self, count: int) -> None:
        """``count`` more hashes were appended to the buckets."""
        self.held += count
        if self.held >= self.SPILL_AT:
            self._spill()

    def _spill(self) -> None:
        import tempfile

        if self.files is None:
            self.files = [tempfile.TemporaryFile(prefix="samplectl-ids-") for _ in range(self.BUCKETS)]  # noqa: SIM115
        for bucket, fh in zip(self.buckets, self.files, strict=True):
            bucket.tofile(fh)
            del bucket[:]
        self.held = 0

    def repeated(self) -> set[int]:
        """Hashes seen more than once (usually none)."""
        found: set[int] = set()
        for i, bucket in enumerate(self.buckets):
            if self.files is not None:
                fh = self.files[i]
                fh.seek(0)
                on_disk = array("q", fh.read())
                on_disk.extend(bucket)
                bucket = on_disk
            if len(set(bucket)) != len(bucket):
                found.update(h for h, n in Counter(bucket).items() if n > 1)
        return found

    def close(self) -> None:
        for fh in self.files or []:
            fh.close()
        self.files = None


class RepeatedIds:
    """On a second pass: the first line of every id whose hash was seen more than once."""

    def __init__(self, hashes: set[int]) -> None:
        self.hashes = hashes
        self.first: dict[str, int] = {}

    def earlier_line(self, sample_id: str, line: int) -> int | None:
        """The line where ``sample_id`` was first given, if it was given before ``line``."""
        if hash(sample_id) not in self.hashes:
            return None
        first = self.first.setdefault(sample_id, line)
        return None if first == line else first


def repeated_problem(line: int, sample_id: str, first: int) -> Problem:
    return {
        "line": line,
        "column": "sample_id",
        "value": sample_id,
        "message": f"sample_id {sample_id!r} is also on line {first}: ids must be unique in a file",
    }


def reason_of(problems: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(p["message"] for p in problems)
