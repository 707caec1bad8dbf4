"""CSV cells that a spreadsheet never runs as a formula, and that import back unchanged.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (and TAB or CR, which they
skip before looking) as a formula: `=HYPERLINK(...)` in a location would become a live link on the
auditor's screen. Every CSV samplectl writes prefixes such a text cell with an apostrophe, the
spreadsheets' own "this is text" mark, and the importer takes exactly one apostrophe off again.

To keep the round trip exact, a value that already starts with apostrophes followed by one of those
characters gets one more: `'=x` is written `''=x` and read back as `'=x`. Other values are untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from samplectl.domain.dates import iso_z

FORMULA_START = "=+-@\t\r"
FORMULA_CLASS = f"[{re.escape(FORMULA_START)}]"  # the same characters, as a regular expression class
_NEEDS_MARK = re.compile(f"'*{FORMULA_CLASS}")
_MARKED = re.compile(f"'+{FORMULA_CLASS}")
_MAY_NEED_MARK = frozenset(FORMULA_START + "'")


def neutralise(value: str) -> str:
    """A text cell as samplectl writes it into CSV."""
    # The first character decides most cells without the pattern (an export checks millions).
    return "'" + value if value[:1] in _MAY_NEED_MARK and _NEEDS_MARK.match(value) else value


def restore(cell: str) -> str:
    """A CSV cell as samplectl wrote it, back to the value (what neutralise() did, undone)."""
    return cell[1:] if cell[:1] == "'" and _MARKED.match(cell) else cell


# -- a sample's CSV cells ------------------------------------------------------------------------
# The collection date is written to the second (the contract's form); the record's own dates in full.
SECONDS_ONLY = frozenset({"collection_date"})


def json_default(value: Any) -> Any:
    """What samplectl writes for a value the json module cannot: dates as UTC ISO 8601 with Z, else text."""
    if isinstance(value, datetime):
        return iso_z(value)
    return str(value)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: never a formula, structures as JSON, dates as UTC ISO 8601 with Z."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False, default=json_default))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def sample_cells(fields: Sequence[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A sample's CSV cells for ``fields``, from its record (dates as aware datetimes), in one pass
    with each date formatted once: the samples of one import share their created_at and updated_at.

    The embedded store makes the same cells in SQL (stores.sqlite.cells); a test keeps the two equal.
    """
    named = [(name, name in SECONDS_ONLY) for name in fields]
    dates: dict[tuple[datetime, bool], str] = {}

    def cell(value: Any, seconds_only: bool) -> Any:
        if isinstance(value, datetime):
            key = (value, seconds_only)
            text = dates.get(key)
            if text is None:
                if len(dates) > 4096:
                    dates.clear()
                text = dates[key] = neutralise(iso_z(value, seconds_only=seconds_only))
            return text
        return csv_cell(value)

    def cells(record: Mapping[str, Any]) -> list[Any]:
        get = record.get
        return [neutralise(value) if type(value := get(name)) is str else "" if value is None
                else cell(value, seconds_only) for name, seconds_only in named]

    return cells
