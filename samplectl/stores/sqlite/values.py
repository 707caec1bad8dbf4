"""Stored values that start with a prefix, for shell completion: read-only, plain sqlite3, index seeks only.

A TAB must answer in well under 100 ms, so this module imports nothing but sqlite3 and never opens
the store for writing: a missing store offers nothing and is not created. Each value is found by
seeking the column's index (``sample_id`` is UNIQUE; subjects and locations lead their criterion
indexes), so the cost does not grow with the number of samples.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Columns that may be completed, each the first column of an index (see schema.SAMPLE_INDEXES).
FIELDS = ("sample_id", "subject_id", "storage_location")
SEPARATOR = "/"  # storage locations are paths (FRZ-1/R2/B3): offered one level at a time


def prefix_end(prefix: str) -> str | None:
    """The smallest text above every text that starts with ``prefix`` (None: no bound).

    SQLite's BINARY collation compares UTF-8 bytes, which orders text as code points do, so the
    prefix's last code point, incremented, bounds the range.
    """
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:  # surrogates cannot be encoded: skip to the next real code point
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def open_read_only(path: Path) -> sqlite3.Connection | None:
    """The store opened read-only, or None when there is none (nothing is created)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.05)
        conn.execute("SELECT 1 FROM samples LIMIT 0")
    except sqlite3.Error:
        return None  # not a store yet, damaged, or locked for long: completion offers nothing
    return conn


def stored_values(path: Path, field: str, prefix: str, limit: int = 200) -> list[str]:
    """Distinct values of ``field`` starting with ``prefix``, sorted, at most ``limit``.

    Locations are offered level by level: with ``FRZ-1/`` typed, ``FRZ-1/R1/`` and ``FRZ-1/R2/``
    rather than every box and position under them.
    """
    if field not in FIELDS:
        raise ValueError(f"cannot complete {field!r}")
    conn = open_read_only(path)
    if conn is None:
        return []
    try:
        return _distinct(conn, field, prefix, limit, levels=field == "storage_location")
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def _distinct(conn: sqlite3.Connection, field: str, prefix: str, limit: int, *, levels: bool) -> list[str]:
    """One index seek per value offered, each starting past the previous value (or level).

    A subject with thousands of samples costs one seek, not a read of each of its index entries.
    """
    found: list[str] = []
    start: str | None = prefix
    end = prefix_end(prefix)
    sql = f"SELECT {field} FROM samples WHERE {field} >= ? ORDER BY {field} LIMIT 1"  # field: one of FIELDS
    while start is not None and len(found) < limit:
        row = conn.execute(sql, (start,)).fetchone()
        if row is None or (end is not None and row[0] >= end):
            break
        value: str = row[0]
        cut = value.find(SEPARATOR, len(prefix)) if levels else -1
        if cut >= 0:
            value = value[:cut + 1]
            start = prefix_end(value)  # past every location under this level
        else:
            start = value + "\0"  # the next distinct value (text never holds NUL)
        found.append(value)
    return found
