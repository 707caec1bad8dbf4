"""Create, read, change and delete samples, each change recorded in the audit trail.

Every write goes through a ``ChangeWriter`` (``stores.changes``): the sample write is conditional on
the version that was read, and it stands only together with its audit record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from samplectl import __version__
from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.dates import iso_z, to_millisecond, utc_now
from samplectl.domain.errors import Conflict, NotFound, UsageError, samples_not_found
from samplectl.domain.identity import Identity
from samplectl.domain.text import check_reason, shown
from samplectl.domain.vocab import INPUT_FIELDS, RECORD_FIELDS
from samplectl.services.storage import Placer, place_fields
from samplectl.stores.audit import AuditLog
from samplectl.stores.changes import APPLIED, Change, ChangeWriter, writer_for
from samplectl.stores.samples import SampleStore

# domain.sample (the pydantic model) is imported by the methods that validate: `get`, `list` and
# `filter` never need it, and it is ~60 ms of their start-up (docs/benchmarks.md#start-up).
if TYPE_CHECKING:
    from samplectl.services.bulk import BulkChange, BulkOutcome


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Field-by-field changes between two states of a sample's entered fields."""
    if before is None and after is not None:  # a create: every field given (an import makes millions)
        return {name: {"before": None, "after": value if type(value) is str else _plain(value)}
                for name in INPUT_FIELDS if (value := after.get(name)) is not None}
    changes = {}
    for name in INPUT_FIELDS:
        old = before.get(name) if before else None
        new = after.get(name) if after else None
        if old != new:
            changes[name] = {"before": _plain(old), "after": _plain(new)}
    return changes


def last_state(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field of a deleted sample, so that its delete record holds the full last state."""
    return {name: {"before": _plain(record.get(name), name), "after": None} for name in RECORD_FIELDS}


def _plain(value: Any, name: str = "collection_date") -> Any:
    # Audit values are stored as the JSON output shows them, identically on every backend.
    if isinstance(value, datetime):
        return iso_z(value, seconds_only=name == "collection_date")
    return value


# The contract's lifecycle (vocab.NEXT_STATUSES), as people read it.
LIFECYCLE = "collected -> processing -> archived, and collected -> archived"


def refused_transition(before: str, after: str) -> Conflict:
    """A status change outside the lifecycle: exit 7, naming the states allowed from ``before``."""
    from samplectl.domain.sample import allowed_next

    allowed = allowed_next(before)
    named = ", ".join(allowed) if allowed else f"none ({before} is final)"
    return Conflict(
        f"status cannot change from {before} to {after}; allowed from {before}: {named}",
        hint=f"the lifecycle is {LIFECYCLE}; an admin may override with --force --reason",
    )


def _without_marker(record: Mapping[str, Any]) -> dict[str, Any]:
    """The sample as stored, less the ``pending`` marker of a change in flight (see stores.changes)."""
    return {k: v for k, v in record.items() if k != "pending"}


def _busy(record: Mapping[str, Any]) -> Conflict:
    marker = record.get("pending") or {}
    who = f" by {marker['user']}" if marker.get("user") else ""
    return Conflict(
        f"sample {record['sample_id']!r} is being changed{who} right now",
        hint="try again in a moment",
    )


@dataclass
class SampleService:
    store: SampleStore
    audit: AuditLog
    identity: Identity
    tz: tzinfo
    clock: Callable[[], datetime] = utc_now
    writer: ChangeWriter | None = field(default=None)
    # Resolves --position (BOX:SLOT) against the containers: storage geometry, see services.storage.
    placer: Placer | None = None

    def __post_init__(self) -> None:
        if self.writer is None:
            self.writer = writer_for(self.store, self.audit)

    @property
    def changes(self) -> ChangeWriter:
        assert self.writer is not None
        return self.writer

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any]:
        record = self.store.get(sample_id.strip())
        if record is None:
            raise NotFound(f"no sample with id {shown(sample_id.strip())}", hint="`samplectl list` shows existing ids")
        return record

    def get_all(self, sample_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every sample named, each once, in order; NotFound (5) naming every missing id, before anything is done.

        Commands that act on several ids check them all first, so a typo in the last one changes nothing.
        """
        wanted = list(dict.fromkeys(s.strip() for s in sample_ids))
        found = {sample_id: self.store.get(sample_id) for sample_id in wanted}
        missing = [sample_id for sample_id, record in found.items() if record is None]
        if missing:
            raise samples_not_found(missing, several=len(wanted) > 1)
        return [found[sample_id] for sample_id in wanted]  # type: ignore[misc]

    def delete_all(self, sample_ids: Iterable[str], reason: str | None = None) -> Iterator[dict[str, Any]]:
        """Delete every sample named, once each, after checking that all of them exist."""
        self.identity.require("admin", "deleting samples")
        reason = check_reason(reason)
        for record in self.get_all(sample_ids):
            yield self.delete(record["sample_id"], reason=reason)

    def find(self, criteria: Criteria, sort: Sort, limit: int | None) -> Iterator[dict[str, Any]]:
        return self.store.find(criteria, sort, limit)

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every matching sample, in no particular order (exports)."""
        return self.store.stream(criteria)

    def export_cells(self, criteria: Criteria, sort: Sort | None, fields: Sequence[str]) -> Iterator[Sequence[Any]]:
        """Every matching sample as its CSV cells for ``fields`` (domain.csvcells), sorted or in the store's order."""
        return self.store.cells(criteria, sort, fields)

    def count(self, criteria: Criteria) -> int:
        return self.store.count(criteria)

    def values(self, field: str, prefix: str, limit: int) -> list[str]:
        """What a TAB offers for ``field``: distinct stored values starting with ``prefix`` (``stores.values``)."""
        return self.store.values(field, prefix, limit)

    # -- building changes -------------------------------------------------------------------
    def now(self) -> datetime:
        return to_millisecond(self.clock())

    def entry(
        self, action: str, sample_id: str, changes: dict[str, Any], at: datetime, reason: str | None, **extra: Any
    ) -> dict[str, Any]:
        """An audit entry for a sample change; its id is also the change's id in the writer."""
        return {
            "_id": uuid.uuid4().hex,
            "at": at,
            "user": self.identity.username,
            "action": action,
            "sample_id": sample_id,
            "changes": changes,
            "reason": reason,
            "samplectl_version": __version__,
            **extra,
        }

    def plan_update(
        self, current: Mapping[str, Any], changes: Mapping[str, Any], *, reason: str | None, force: bool,
        now: datetime,
    ) -> Change | None:
        """The change that applying ``changes`` to ``current`` makes (None when nothing differs).

        Raises ValidationFailed (6) for bad values and Conflict (7) for a refused status change.
        """
        from samplectl.domain.sample import refuse_blank_id, transition_allowed, validate_sample

        if current.get("pending"):
            raise _busy(current)
        refuse_blank_id(changes)
        # A position resolved may unplace (position None) when a free-text location is given.
        changes = self._placed({k: v for k, v in changes.items() if v is not None}, current)
        # A sample stored before a field existed simply lacks it: that field is "not given".
        merged = {name: current[name] for name in INPUT_FIELDS if current.get(name) is not None}
        merged.update(changes)
        new = validate_sample(merged, tz=self.tz, now=now).model_dump()
        field_changes = diff(current, new)
        if not field_changes:
            return None
        before_status, after_status = current["status"], new["status"]
        forced = not transition_allowed(before_status, after_status)
        if forced and not force:
            raise refused_transition(before_status, after_status)
        record = _without_marker(current)
        record.update(new, updated_at=now, updated_by=self.identity.username, version=current["version"] + 1)
        extra: dict[str, Any] = {"version": record["version"]}
        if forced:
            extra["forced"] = True
        if record["sample_id"] != current["sample_id"]:
            extra["renamed_from"] = current["sample_id"]
        entry = self.entry("update", record["sample_id"], field_changes, now, reason, **extra)
        return Change(before=current, after=record, entry=entry)

    def _placed(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """Fields with a position resolved and storage_location kept in step with it."""
        if fields.get("position") is None and not (current and current.get("position")):
            return fields
        if self.placer is None:
            raise UsageError("positions need the storage containers, which this service was built without")
        return place_fields(self.placer, fields, current)

    def check_force(self, force: bool, reason: str | None) -> None:
        if force:
            if not reason:
                raise UsageError("--force needs --reason", hint="say why the lifecycle is overridden")
            self.identity.require("admin", "overriding the lifecycle with --force")

    def _apply_one(self, change: Change) -> None:
        self.changes.apply([change])
        if change.outcome != APPLIED:
            hint = (
                "choose another --id, or leave it out to generate one"
                if change.outcome == "duplicate"
                else "read it again with `samplectl get` and retry"
            )
            raise Conflict(change.message, hint=hint)

    # -- writes -----------------------------------------------------------------------------
    def create(self, fields: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "creating samples")
        reason = check_reason(reason)
        self.changes.settle_stale()
        from samplectl.domain.sample import refuse_blank_id, validate_sample

        now = self.now()
        refuse_blank_id(fields)
        fields = self._placed(fields)
        sample = validate_sample(fields, tz=self.tz, now=now)
        self.store.ensure_ready()
        record = sample.model_dump()
        record.update(created_at=now, created_by=self.identity.username, updated_at=now,
                      updated_by=self.identity.username, version=1)
        entry = self.entry("create", record["sample_id"], diff(None, record), now, reason, version=1)
        self._apply_one(Change(before=None, after=record, entry=entry))
        return record

    def update(
        self,
        sample_id: str,
        changes: Mapping[str, Any],
        *,
        reason: str | None = None,
        force: bool = False,
        if_version: int | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply ``changes``; returns the resulting record and the field changes made."""
        self.identity.require("technician", "updating samples")
        reason = check_reason(reason)
        self.check_force(force, reason)
        self.changes.settle_stale()
        current = self.get(sample_id)
        if if_version is not None and current["version"] != if_version:
            raise Conflict(
                f"sample {current['sample_id']!r} is at version {current['version']}, not {if_version}",
                hint="read it again with `samplectl get` and decide on the current values",
            )
        change = self.plan_update(current, changes, reason=reason, force=force, now=self.now())
        if change is None:
            return _without_marker(current), {}
        if change.renames:
            self.store.ensure_ready()  # a renamed sample must not collide with another
        self._apply_one(change)
        assert change.after is not None
        return dict(change.after), change.entry["changes"]

    def plan_where(self, change: BulkChange, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """What `update --where` would change, row by row (the first ``limit``); nothing is written (services.bulk)."""
        import itertools

        from samplectl.services.bulk import plan_where

        return itertools.islice(plan_where(self, change), limit)

    def update_where(self, change: BulkChange, progress: Callable[[int], None] | None = None) -> BulkOutcome:
        """Set the new values on every sample the criteria select, each its own audited change (services.bulk)."""
        from samplectl.services.bulk import update_where

        return update_where(self, change, progress)

    def delete(self, sample_id: str, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("admin", "deleting samples")
        reason = check_reason(reason)
        self.changes.settle_stale()
        current = self.get(sample_id)
        if current.get("pending"):
            raise _busy(current)
        current = _without_marker(current)
        entry = self.entry("delete", current["sample_id"], last_state(current), self.now(), reason,
                           version=current["version"])
        self._apply_one(Change(before=current, after=None, entry=entry))
        return current
