"""Stored values that start with a prefix, for shell completion: read-only, plain sqlite3, index seeks only.

A TAB must answer in well under 100 ms, so this module imports nothing but sqlite3 and
``stores.values`` (what is offered, for every engine), and never opens the store for writing: a
missing store offers nothing and is not created. Each value is found by seeking the column's index
(``sample_id`` has its unique index; subjects and locations lead their criterion indexes), so the cost does not
grow with the number of samples.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from samplectl.stores.values import LIMIT, check_field, distinct


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


def stored_values(path: Path, field: str, prefix: str, limit: int = LIMIT) -> list[str]:
    """Distinct values of ``field`` starting with ``prefix``, sorted, at most ``limit`` (see ``stores.values``)."""
    check_field(field)
    conn = open_read_only(path)
    if conn is None:
        return []
    try:
        return distinct_values(conn, field, prefix, limit)
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def distinct_values(conn: sqlite3.Connection, field: str, prefix: str, limit: int = LIMIT) -> list[str]:
    """One index seek per value offered, each starting past the previous value (or level)."""
    check_field(field)
    sql = f"SELECT {field} FROM samples WHERE {field} >= ? ORDER BY {field} LIMIT 1"  # field: one of FIELDS

    def seek(start: str) -> list[str]:
        return [row[0] for row in conn.execute(sql, (start,))]

    return distinct(seek, field, prefix, limit)
