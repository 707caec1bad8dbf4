"""The embedded store: sample writes and their audit records in one SQLite transaction.

If the append fails, or the process dies, SQLite rolls everything back: nothing to settle later.
"""

from __future__ import annotations

from typing import Any

from samplectl.domain.errors import Conflict
from samplectl.domain.storage import PositionTaken
from samplectl.stores.changes import APPLIED, DUPLICATE, STALE, Change
from samplectl.stores.sqlite.audit import SqliteAuditLog
from samplectl.stores.sqlite.samples import SqliteSampleStore


class TransactionalWriter:
    def __init__(self, store: SqliteSampleStore, audit: SqliteAuditLog) -> None:
        self.store, self.audit = store, audit

    def settle_stale(self) -> int:
        return 0

    def unfinished(self) -> list[dict[str, Any]]:
        return []

    def apply(self, changes: list[Change]) -> None:
        if not changes:
            return
        with self.store.transaction():
            applied = []
            for change in changes:
                # Each change is one statement here (insert, conditional update or delete): a refused
                # one (stale version, taken id) wrote nothing, and the others go ahead.
                outcome = self._write(change)
                if outcome == APPLIED:
                    applied.append(change)
                else:
                    change.refuse(outcome)
            if applied:
                self.audit.append_many([c.entry for c in applied])
        for change in applied:
            change.outcome = APPLIED

    def _write(self, change: Change) -> str:
        try:
            if change.before is None:
                assert change.after is not None
                self.store.insert(change.after)
                return APPLIED
            sample_id, version = change.before["sample_id"], change.before["version"]
            if change.after is None:
                return APPLIED if self.store.delete_if_version(sample_id, version) else STALE
            return APPLIED if self.store.replace_if_version(sample_id, version, change.after) else STALE
        except PositionTaken:
            raise  # the command fails (7, naming the occupant); the transaction rolls back
        except Conflict:
            return DUPLICATE
