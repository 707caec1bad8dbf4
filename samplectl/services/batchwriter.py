"""Writing the checked rows of one import batch, a chunk at a time (see ``services.importing``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from samplectl import __version__
from samplectl.domain.dates import to_millisecond
from samplectl.domain.errors import Conflict
from samplectl.domain.sample import transition_allowed
from samplectl.services.samples import diff
from samplectl.stores.audit import AuditLog
from samplectl.stores.batches import BatchStore
from samplectl.stores.samples import SampleStore

if TYPE_CHECKING:
    from samplectl.services.importing import ImportOptions, ImportReport
    from samplectl.services.storage import Placement

HEARTBEAT_SECONDS = 10.0
Valid = tuple[int, list[str], dict[str, Any]]  # line, cells, the sample's fields (rowcheck.RowChecker.check)


class BatchWriter:
    """Writes the checked rows of one batch, a chunk at a time."""

    def __init__(self, store: SampleStore, audit: AuditLog, batches: BatchStore, user: str,
                 clock: Callable[[], datetime], options: ImportOptions, batch_id: str, now: datetime,
                 report: ImportReport) -> None:
        self.store, self.audit, self.batches = store, audit, batches
        self.options = options
        self.batch_id = batch_id
        self.now = now
        self.user = user
        self.report = report
        self.refused = 0
        self.clock = clock
        self.beat = time.monotonic()
        # Ids already stored matter under skip and update; under fail, pass 1 found none (unless
        # --partial rejected them), and a sample created meanwhile makes the insert fail as a conflict.
        self.look_up = options.on_conflict != "fail" or options.partial
        self.placements: Iterator[Placement] | None = None  # import --fill: where each new sample goes
        # New samples with their audit records in one go, where the engine has a quicker way.
        shared = {key: value for key, value in self._entry("", {}).items() if key not in ("sample_id", "changes")}
        record = {"created_at": now, "created_by": user, "updated_at": now, "updated_by": user, "version": 1,
                  "import_batch": batch_id}
        self.creator = store.import_creator(audit, shared, record, lambda sample: diff(None, sample))

    def write(self, valid: list[Valid]) -> None:
        samples = [sample for _line, _cells, sample in valid]
        existing = self.store.existing([s["sample_id"] for s in samples]) if self.look_up else {}
        if not existing and self.creator is not None and self.placements is None:
            self.report.created += self.creator.create(samples)  # every one new: the usual import
            self._heartbeat()
            return
        creates: list[dict[str, Any]] = []
        updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
        entries: list[Mapping[str, Any]] = []
        stamp = {"updated_at": self.now, "updated_by": self.user}
        # Without transactions, a sample is written before its audit record: until that record is in,
        # it carries the batch's marker, so nobody edits it meanwhile and a rollback removes it quietly.
        marker = None if self.store.atomic else {"_id": self.batch_id, "role": "import", "at": self.now,
                                                  "user": self.user, "action": "import"}
        for new in samples:
            current = existing.get(new["sample_id"])
            if current is None:
                if self.placements is not None:
                    placement = next(self.placements)
                    new = {**new, "position": placement.position, "storage_location": placement.location}
                record = {**new, "created_at": self.now, "created_by": self.user, **stamp, "version": 1,
                          "import_batch": self.batch_id}
                if marker is not None:
                    record["pending"] = marker
                creates.append(record)
                entries.append(self._entry(new["sample_id"], diff(None, new)))
            elif self.options.on_conflict == "skip":
                self.report.skipped += 1
            elif self.options.on_conflict == "fail" or not transition_allowed(current["status"], new["status"]):
                self.refused += 1
            elif not (changes := diff(current, new)):
                self.report.skipped += 1
            else:
                record = {**current, **new, **stamp, "version": current["version"] + 1}
                updates.append((current, record))
                entries.append(self._entry(new["sample_id"], changes))
        if updates and not self.store.atomic:
            self.batches.keep_before(self.batch_id, [current for current, _ in updates])
        self.report.created += self.store.insert_many(creates)
        for current, record in updates:
            if not self.store.replace_if_version(current["sample_id"], current["version"], record):
                raise Conflict(
                    f"sample {current['sample_id']!r} was changed by someone else during the import",
                    hint="nothing of this import was kept; run it again",
                )
        self.report.updated += len(updates)
        self.audit.append_many(entries)
        if marker is not None and creates:
            self.store.finish_pending(self.batch_id)
        self._heartbeat()

    def _entry(self, sample_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return {"at": self.now, "user": self.user, "action": "import", "sample_id": sample_id, "changes": changes,
                "reason": self.options.reason, "samplectl_version": __version__, "import_batch": self.batch_id}

    def _heartbeat(self) -> None:
        # A running batch shows it is alive, so that another host's import does not roll it back.
        if self.store.atomic or time.monotonic() - self.beat < HEARTBEAT_SECONDS:
            return
        self.beat = time.monotonic()
        self.batches.update(self.batch_id, heartbeat_at=to_millisecond(self.clock()))
