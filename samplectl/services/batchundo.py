"""Taking an import batch back: ``import undo`` for a finished batch, rollback for an interrupted one.

Only samples the batch created and nobody changed since (still at version 1) are removed;
the others are kept and listed. An interrupted batch on an engine without transactions may
also have overwritten samples (``--on-conflict update``): those are put back from the journal
when nobody changed them since. Every sample removed or put back gets an ``undo`` audit record.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from samplectl import __version__
from samplectl.domain.dates import to_millisecond, utc_now
from samplectl.domain.errors import Conflict, NotFound
from samplectl.domain.identity import Identity
from samplectl.domain.text import check_reason
from samplectl.services.samples import diff
from samplectl.stores.audit import AuditLog
from samplectl.stores.batches import COMPLETE, ROLLED_BACK, RUNNING, UNDONE, BatchStore
from samplectl.stores.samples import SampleStore

PAGE = 1000
# A running batch on another host that has not shown a sign of life for this long is abandoned.
STALE_AFTER = timedelta(minutes=10)


@dataclass
class UndoResult:
    batch: dict[str, Any]
    removed: int = 0
    restored: int = 0
    kept: list[str] = field(default_factory=list)  # sample ids changed since the import
    already: str | None = None  # the state the batch was already in, when there was nothing to do

    def summary(self) -> dict[str, Any]:
        return {"batch_id": self.batch["batch_id"], "removed": self.removed, "kept": self.kept}


@dataclass
class BatchUndo:
    store: SampleStore
    audit: AuditLog
    batches: BatchStore
    identity: Identity
    clock: Callable[[], datetime] = utc_now

    def batch(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches.get(batch_id.strip())
        if batch is None:
            raise NotFound(
                f"no import batch {batch_id.strip()!r}",
                hint="the batch id is in the summary the import printed (batch_id)",
            )
        return batch

    def undo(self, batch_id: str, reason: str | None = None) -> UndoResult:
        self.identity.require("admin", "undoing an import")
        reason = check_reason(reason)
        batch = self.batch(batch_id)
        if batch["state"] == RUNNING:
            if is_alive(batch):
                raise Conflict(f"import batch {batch['batch_id']} is still running",
                               hint="wait for it to finish, then undo it")
            return self.roll_back(batch["batch_id"], reason)
        if batch["state"] != COMPLETE:
            return UndoResult(batch=batch, already=batch["state"])
        result = UndoResult(batch=batch)
        with self.store.transaction():
            self._remove_created(batch["batch_id"], reason or f"undo of import batch {batch['batch_id']}", result)
            self.batches.update(batch["batch_id"], state=UNDONE, undone_at=self._now(),
                                undone_by=self.identity.username, undo={"removed": result.removed,
                                                                        "kept": len(result.kept)})
        return result

    def roll_back(self, batch_id: str, reason: str | None = None) -> UndoResult:
        """Take back whatever an unfinished batch wrote (on the embedded store: nothing is there)."""
        batch = self.batch(batch_id)
        result = UndoResult(batch=batch)
        why = reason or f"rollback of interrupted import batch {batch_id}"
        with self.store.transaction():
            self._remove_created(batch_id, why, result)
            self._restore_overwritten(batch_id, why, result)
            self.batches.update(batch_id, state=ROLLED_BACK, finished_at=self._now())
        return result

    def recover_interrupted(self) -> Iterator[tuple[dict[str, Any], int]]:
        """Roll back batches whose process died while writing; yields each with what it removed."""
        for batch in self.batches.running():
            if not is_alive(batch):
                result = self.roll_back(batch["batch_id"])
                yield batch, result.removed + result.restored

    # -- the work ---------------------------------------------------------------------------
    def _now(self) -> datetime:
        return to_millisecond(self.clock())

    def _remove_created(self, batch_id: str, reason: str, result: UndoResult) -> None:
        page: list[dict[str, Any]] = []
        unrecorded: list[str] = []
        for record in self.store.find_by_batch(batch_id):
            if (record.get("pending") or {}).get("_id") == batch_id:
                unrecorded.append(record["sample_id"])  # its audit record never got written: no undo record
                continue
            if record["version"] != 1:
                result.kept.append(record["sample_id"])
                continue
            page.append(record)
            if len(page) >= PAGE:
                self._remove(page, batch_id, reason, result)
                page = []
        self._remove(page, batch_id, reason, result)
        for start in range(0, len(unrecorded), PAGE):
            result.removed += self.store.delete_unchanged(unrecorded[start:start + PAGE])

    def _remove(self, records: list[dict[str, Any]], batch_id: str, reason: str, result: UndoResult) -> None:
        if not records:
            return
        ids = [r["sample_id"] for r in records]
        removed = self.store.delete_unchanged(ids)
        if removed != len(ids):  # some were changed between reading and deleting them
            still = self.store.existing(ids)
            result.kept.extend(i for i in ids if i in still)
            records = [r for r in records if r["sample_id"] not in still]
        result.removed += len(records)
        now = self._now()
        self.audit.append_many([self._entry(r["sample_id"], diff(r, None), now, reason, batch_id) for r in records])

    def _restore_overwritten(self, batch_id: str, reason: str, result: UndoResult) -> None:
        now = self._now()
        for before in self.batches.kept_before(batch_id):
            current = self.store.get(before["sample_id"])
            if current is None or current["version"] == before["version"]:
                continue  # deleted since, or the batch died before overwriting it
            if current["version"] != before["version"] + 1:
                result.kept.append(before["sample_id"])  # changed again after the batch wrote it
                continue
            # The old values come back as a new version: versions only ever go up.
            record = {**before, "version": current["version"] + 1, "updated_at": now,
                      "updated_by": self.identity.username}
            if self.store.replace_if_version(before["sample_id"], current["version"], record):
                result.restored += 1
                self.audit.append(self._entry(before["sample_id"], diff(current, record), now, reason, batch_id))

    def _entry(self, sample_id: str, changes: dict[str, Any], at: datetime, reason: str, batch_id: str) -> dict[str, Any]:
        return {"at": at, "user": self.identity.username, "action": "undo", "sample_id": sample_id,
                "changes": changes, "reason": reason, "samplectl_version": __version__, "import_batch": batch_id}


def is_alive(batch: dict[str, Any]) -> bool:
    """Whether the process writing a running batch may still be at it."""
    if batch.get("host") == socket.gethostname() and batch.get("pid"):
        try:
            os.kill(int(batch["pid"]), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return int(batch["pid"]) != os.getpid()
    beat = batch.get("heartbeat_at") or batch.get("started_at")
    return beat is not None and utc_now() - beat < STALE_AFTER
