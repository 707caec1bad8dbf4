"""A sample's CSV cells made by SQLite: the SQL twin of ``domain.csvcells.sample_cells``.

An export writes millions of rows. Made here, each row leaves the cursor as a tuple of finished cells
that csv.writer writes in C, with no record, datetime or Python call per cell in between (several
times faster than decoding records). The same rules, in SQL:

- text is written as it is, unless it starts with a character a spreadsheet would take for a formula
  (or an apostrophe): only those cells go through ``csvcells.neutralise``, registered as a function;
- dates (integer microseconds since the epoch, UTC) as ISO 8601 with Z: the collection date to the
  second, the others with their microseconds when they have any (as ``datetime.isoformat``);
- NULL as an empty cell, numbers as they are.

tests/unit/test_sqlite_cells.py checks that both ways give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from samplectl.domain.csvcells import FORMULA_START, SECONDS_ONLY
from samplectl.stores.sqlite.schema import SAMPLE_COLUMNS

NEUTRALISE = "samplectl_neutralise"  # the SQL name of csvcells.neutralise on the store's connection
_COLUMNS = {c.name: c for c in SAMPLE_COLUMNS}
# The code points a cell may need the mark for: the formula starts, and the mark itself.
_MARKABLE = ", ".join(str(ord(c)) for c in FORMULA_START + "'")
# SQLite's % keeps the dividend's sign: the microseconds within the second, from 0 up, also before 1970.
_MICROS = "(({c} % 1000000 + 1000000) % 1000000)"


def cell_sql(name: str) -> str:
    """The SQL expression of the CSV cell of sample field ``name``."""
    column = _COLUMNS.get(name)
    if column is None:
        return "''"  # a field the store does not keep: an empty cell, as a record without it
    if column.date:
        micros = _MICROS.format(c=name)
        seconds = f"strftime('%Y-%m-%dT%H:%M:%S', ({name} - {micros}) / 1000000, 'unixepoch')"
        if name in SECONDS_ONLY:
            return f"{seconds} || 'Z'"
        return f"{seconds} || CASE WHEN {micros} THEN printf('.%06dZ', {micros}) ELSE 'Z' END"
    if column.sql.startswith("TEXT"):
        # unicode() of NULL or '' is NULL: IN is not true, and ifnull makes NULL the empty cell.
        return f"CASE WHEN unicode({name}) IN ({_MARKABLE}) THEN {NEUTRALISE}({name}) ELSE ifnull({name}, '') END"
    return name if "NOT NULL" in column.sql else f"ifnull({name}, '')"


def cell_select(fields: Sequence[str]) -> str:
    return "SELECT " + ", ".join(cell_sql(name) for name in fields) + " FROM samples"
