"""Bulk change of a selection: `update --where` (move a rack, mark a batch processed).

Each selected sample is its own change: version-checked against what was read, following the
lifecycle, with its own audit record. Refused samples do not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.errors import Conflict, UsageError, ValidationFailed
from samplectl.domain.sample import validate_sample
from samplectl.domain.text import check_reason
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


@dataclass(frozen=True)
class NewValues:
    """What `update --where` sets: whole values, and/or a storage-location prefix replaced by another.

    `--location FRZ-1/R3/ --set-location-prefix FRZ-2/R1/` moves FRZ-1/R3/B1 to FRZ-2/R1/B1: the
    rest of each location (box, position) is kept, which setting the whole value would lose.
    """

    values: Mapping[str, str] = field(default_factory=dict)
    prefix: tuple[str, str] | None = None  # (old, new)

    def __bool__(self) -> bool:
        return bool(self.values) or self.prefix is not None

    def for_sample(self, current: Mapping[str, Any]) -> dict[str, str]:
        out = dict(self.values)
        if self.prefix is not None:
            old, new = self.prefix
            location = current["storage_location"]
            if location.startswith(old):
                out["storage_location"] = new + location[len(old):]
        return out

    def described(self) -> dict[str, str]:
        """For the summary's "set": the values, and the prefix as `OLD* -> NEW*`."""
        out = dict(self.values)
        if self.prefix is not None:
            out["storage_location"] = f"{self.prefix[0]}* -> {self.prefix[1]}*"
        return out


@dataclass(frozen=True)
class BulkChange:
    """One `update --where`: which samples, what to set on them, why, and whether an admin forces the
    lifecycle. Planned (`--dry-run`, the preview) and applied from the same value, locally or by the server."""

    criteria: Criteria
    values: NewValues
    reason: str | None = None
    force: bool = False


def new_values(set_status: str | None, set_location: str | None, set_location_prefix: str | None,
               locations: list[str] | None) -> NewValues:
    """What `update --where` sets, from its flags (the HTTP API's fields of the same names).

    ``locations`` are the selection's location prefixes: ``--set-location-prefix`` replaces the one given.
    """
    values = {k: v for k, v in (("status", set_status), ("storage_location", set_location)) if v is not None}
    prefix = None
    if set_location_prefix is not None:
        if set_location is not None:
            raise UsageError("give --set-location or --set-location-prefix, not both",
                             hint="--set-location sets the whole value; --set-location-prefix replaces the prefix")
        if not locations or len(locations) != 1:
            raise UsageError("--set-location-prefix needs exactly one --location PREFIX (the prefix it replaces)",
                             hint="`--location FRZ-1/R3/ --set-location-prefix FRZ-2/R1/`")
        if not set_location_prefix.strip():
            raise ValidationFailed("--set-location-prefix is empty", hint="give the new prefix, e.g. FRZ-2/R1/")
        prefix = (locations[0], set_location_prefix)
    new = NewValues(values, prefix)
    if not new:
        raise UsageError("--where needs --set-status, --set-location or --set-location-prefix",
                         hint="say what to change")
    return new


def require_criterion(criteria: Criteria) -> None:
    """Every sample at once is almost always a slip; a criterion makes the selection deliberate (exit 2)."""
    if criteria.is_empty:
        raise UsageError("--where needs at least one criterion",
                         hint="select with --type, --status, --subject, --location, --collected-from/-to")


def check_before_reading(service: SampleService, change: BulkChange) -> None:
    """What a bulk change is checked for before any sample is read, planned or changed: the role, a
    criterion, an admin's force with its reason, and the new values themselves (each its own exit code)."""
    service.identity.require("technician", "updating samples")
    require_criterion(change.criteria)  # a plan of every sample is refused as the change itself is
    service.check_force(change.force, change.reason)
    check_new_values(service, change.values)


def check_new_values(service: SampleService, values: Mapping[str, str] | NewValues) -> None:
    """Validate the new values once, before any sample is read (exit 6 with the field's message)."""
    new = values if isinstance(values, NewValues) else NewValues(values)
    probe = {"sample_type": "blood", "subject_id": "probe", "collection_date": service.now(),
             "status": "collected", "storage_location": "probe"}
    probe.update(new.values)
    if new.prefix is not None:
        probe["storage_location"] = new.prefix[1]  # its text rules; the length is checked per sample
    validate_sample(probe, tz=service.tz, now=service.now())


def plan_where(service: SampleService, change: BulkChange) -> Iterator[dict[str, Any]]:
    """What `update --where` would do, one row per field a sample would change (nothing is written).

    Each row is {"sample_id", "field", "before", "after", "refused"}: `refused` says why a sample
    would be refused (the lifecycle, a value too long), else None. Streams, in sample-id order.
    """
    now = service.now()
    for current in service.find(change.criteria, Sort("sample_id", descending=False), None):
        new = change.values.for_sample(current)
        refused = None
        try:
            planned = service.plan_update(current, new, reason=change.reason, force=change.force, now=now)
            changes = planned.entry["changes"] if planned is not None else {}
        except (Conflict, ValidationFailed) as exc:
            refused = exc.message
            changes = {name: {"before": current.get(name), "after": value} for name, value in new.items()
                       if current.get(name) != value}
        for name, change_of in changes.items():
            yield {"sample_id": current["sample_id"], "field": name, "before": change_of["before"],
                   "after": change_of["after"], "refused": refused}


def update_where(service: SampleService, bulk: BulkChange, progress: Callable[[int], None] | None = None
                 ) -> BulkOutcome:
    """Set ``values`` (status and/or storage_location, or a location prefix) on every sample matching ``criteria``."""
    service.identity.require("technician", "updating samples")
    new_values = bulk.values
    if not new_values:
        raise UsageError("nothing to change", hint="give --set-status and/or --set-location")
    reason, force = check_reason(bulk.reason), bulk.force
    require_criterion(bulk.criteria)
    service.check_force(force, reason)
    check_new_values(service, new_values)
    service.changes.settle_stale()
    started = time.monotonic()
    outcome = BulkOutcome(set=new_values.described())
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
    for current in service.find(bulk.criteria, Sort("sample_id", descending=False), None):
        outcome.matched += 1
        try:
            change = service.plan_update(current, new_values.for_sample(current), reason=reason, force=force, now=now)
        except (Conflict, ValidationFailed) as exc:  # the lifecycle, being changed right now, a prefix too long
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
