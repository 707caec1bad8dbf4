"""Storage containers as rows of the ``containers`` table; placements read from ``samples.position``.

Every change is one SQLite transaction with its audit records: a move that cannot rewrite one of its
samples (changed meanwhile) rolls back whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from samplectl.domain.errors import Conflict
from samplectl.domain.storage import SampleMove, prefix_range
from samplectl.stores.sqlite.audit import SqliteAuditLog
from samplectl.stores.sqlite.samples import SAMPLE_SELECT, SqliteSampleStore, decode, decode_date, encode_date

_COLUMNS = ("path", "kind", "parent", "name", "rows", "cols", "capacity", "created_at", "created_by")
_SELECT_CONTAINERS = f"SELECT {', '.join(_COLUMNS)} FROM containers"


def _decode(row: tuple[Any, ...]) -> dict[str, Any]:
    container = {k: v for k, v in zip(_COLUMNS, row, strict=True) if v is not None or k == "parent"}
    container["created_at"] = decode_date(container["created_at"])
    return container


class SqliteContainers:
    def __init__(self, samples: SqliteSampleStore, audit: SqliteAuditLog) -> None:
        self.samples, self.audit = samples, audit
        self.db = samples.db

    # -- reads ----------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any] | None:
        row = self.db.one(f"{_SELECT_CONTAINERS} WHERE path = ?", (path,))
        return None if row is None else _decode(row)

    def within(self, path: str | None) -> list[dict[str, Any]]:
        if path is None:
            return [_decode(r) for r in self.db.rows(_SELECT_CONTAINERS)]
        low, high = prefix_range(path + "/")
        rows = self.db.rows(f"{_SELECT_CONTAINERS} WHERE path = ? OR (path >= ? AND path < ?)", (path, low, high))
        return [_decode(r) for r in rows]

    @staticmethod
    def _ranges(path: str | None) -> tuple[str, list[Any]]:
        # Positions in the container itself (PATH:SLOT) and in those below it (PATH/...): index ranges.
        if path is None:
            return "position IS NOT NULL", []
        own, below = prefix_range(path + ":"), prefix_range(path + "/")
        return "((position >= ? AND position < ?) OR (position >= ? AND position < ?))", [*own, *below]

    def placed(self, path: str | None) -> Iterator[tuple[str, str]]:
        clause, params = self._ranges(path)
        yield from self.db.rows(f"SELECT position, sample_id FROM samples WHERE {clause}", params)

    def placed_samples(self, path: str) -> list[dict[str, Any]]:
        clause, params = self._ranges(path)
        return [decode(row) for row in self.db.rows(f"{SAMPLE_SELECT} WHERE {clause}", params)]

    def occupant(self, position: str) -> str | None:
        row = self.db.one("SELECT sample_id FROM samples WHERE position = ?", (position,))
        return None if row is None else str(row[0])

    # -- changes --------------------------------------------------------------------------
    def add(self, container: dict[str, Any], entry: dict[str, Any]) -> None:
        import sqlite3

        row = [container.get(k) for k in _COLUMNS]
        row[_COLUMNS.index("created_at")] = encode_date(container["created_at"])
        with self.db.transaction():
            try:
                self.db.execute(f"INSERT INTO containers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                                row)
            except sqlite3.IntegrityError:
                raise Conflict(f"{container['path']} already exists",
                               hint="`samplectl storage list` shows the containers") from None
            self.audit.append(entry)

    def move(self, renames: list[tuple[str, str]], samples: list[SampleMove], entry: dict[str, Any]) -> None:
        with self.db.transaction():
            for old, new in renames:
                self.db.execute("UPDATE containers SET path = ?, parent = ? WHERE path = ?",
                                (new, new.rpartition("/")[0] or None, old))
            for move in samples:
                if not self.samples.replace_if_version(move.before["sample_id"], move.before["version"], move.after):
                    raise Conflict(f"sample {move.before['sample_id']!r} was changed by someone else meanwhile; "
                                   "nothing was moved", hint="run the move again")
            self.audit.append_many([m.entry for m in samples] + [entry])

    def remove(self, path: str, entry: dict[str, Any]) -> None:
        with self.db.transaction():  # the check and the delete under one write lock
            inside = [c["path"] for c in self.within(path) if c["path"] != path]
            occupant = next(iter(self.placed(path)), None)
            if inside or occupant:
                what = f"container {inside[0]}" if inside else f"sample {occupant[1]} at {occupant[0]}"  # type: ignore[index]
                raise Conflict(f"{path} is not empty: it holds {what}", hint="move or remove what is inside first")
            self.db.execute("DELETE FROM containers WHERE path = ?", (path,))
            self.audit.append(entry)
