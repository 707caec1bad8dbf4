"""Bulk change of a selection: `update --where` (move a rack, mark a batch processed).

Each selected sample is its own change: version-checked against what was read, following the
lifecycle, with its own audit record. Refused samples do not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.errors import Conflict, UsageError
from samplectl.domain.sample import validate_sample
from samplectl.services.samples import SampleService
from samplectl.stores.changes import APPLIED, Change

# Samples written per transaction (embedded) or per audit append (MongoDB): large enough that a
# thousand samples take a handful of round trips, small enough to hold a write lock only briefly.
CHUNK = 250


@dataclass
class BulkOutcome:
    """What `update --where` did: counts, and every refused sample with the reason."""

    set: dict[str, str]
    matched: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"set": self.set, "matched": self.matched, "changed": self.changed,
                "unchanged": self.unchanged, "refused": len(self.refused),
                "refused_samples": self.refused, "seconds": round(self.seconds, 3)}


def check_new_values(service: SampleService, values: Mapping[str, str]) -> None:
    """Validate the new values once, before any sample is read (exit 6 with the field's message)."""
    probe = {"sample_type": "blood", "subject_id": "probe", "collection_date": service.now(),
             "status": "collected", "storage_location": "probe"}
    probe.update(values)
    validate_sample(probe, tz=service.tz, now=service.now())


def update_where(
    service: SampleService,
    criteria: Criteria,
    values: Mapping[str, str],
    *,
    reason: str | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> BulkOutcome:
    """Set ``values`` (status and/or storage_location) on every sample matching ``criteria``."""
    service.identity.require("technician", "updating samples")
    if not values:
        raise UsageError("nothing to change", hint="give --set-status and/or --set-location")
    if criteria.is_empty:
        # Every sample at once is almost always a slip; a criterion makes the selection deliberate.
        raise UsageError("--where needs at least one criterion",
                         hint="select with --type, --status, --subject, --location, --collected-from/-to")
    service.check_force(force, reason)
    check_new_values(service, values)
    service.changes.settle_stale()
    started = time.monotonic()
    outcome = BulkOutcome(set=dict(values))
    batch: list[Change] = []
    now = service.now()

    def flush() -> None:
        service.changes.apply(batch)
        for change in batch:
            if change.outcome == APPLIED:
                outcome.changed += 1
            else:
                outcome.refused.append({"sample_id": str(change.before and change.before["sample_id"]),
                                        "message": change.message})
        if progress:
            progress(len(batch))
        batch.clear()

    # Sorted by id, which this command never changes, so keyset paging is not disturbed by the writes.
    for current in service.find(criteria, Sort("sample_id", descending=False), None):
        outcome.matched += 1
        try:
            change = service.plan_update(current, values, reason=reason, force=force, now=now)
        except Conflict as exc:  # outside the lifecycle, or being changed right now
            outcome.refused.append({"sample_id": current["sample_id"], "message": exc.message})
            change = None
        else:
            outcome.unchanged += change is None
        if change is None:
            if progress:
                progress(1)
            continue
        batch.append(change)
        if len(batch) >= CHUNK:
            flush()
            now = service.now()
    if batch:
        flush()
    outcome.seconds = time.monotonic() - started
    return outcome
