"""Create, read, change and delete samples, each change recorded in the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from samplectl import __version__
from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.dates import iso_z, utc_now
from samplectl.domain.errors import Conflict, NotFound, UsageError
from samplectl.domain.identity import Identity
from samplectl.domain.sample import allowed_next, transition_allowed, validate_sample
from samplectl.domain.vocab import INPUT_FIELDS
from samplectl.stores.audit import AuditLog
from samplectl.stores.samples import SampleStore


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Field-by-field changes between two states of a sample's entered fields."""
    changes = {}
    for name in INPUT_FIELDS:
        old = before.get(name) if before else None
        new = after.get(name) if after else None
        if old != new:
            changes[name] = {"before": _plain(old), "after": _plain(new)}
    return changes


def _plain(value: Any) -> Any:
    # Audit values are stored as the JSON output shows them, identically on every backend.
    return iso_z(value, seconds_only=True) if isinstance(value, datetime) else value


def _to_millisecond(value: datetime) -> datetime:
    # MongoDB keeps milliseconds: what `create` prints must be what `get` prints later.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass
class SampleService:
    store: SampleStore
    audit: AuditLog
    identity: Identity
    tz: tzinfo
    clock: Callable[[], datetime] = utc_now

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any]:
        record = self.store.get(sample_id.strip())
        if record is None:
            raise NotFound(f"no sample with id {sample_id.strip()!r}", hint="`samplectl list` shows existing ids")
        return record

    def find(self, criteria: Criteria, sort: Sort, limit: int | None) -> Iterator[dict[str, Any]]:
        return self.store.find(criteria, sort, limit)

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every matching sample, in no particular order (exports)."""
        return self.store.stream(criteria)

    def count(self, criteria: Criteria) -> int:
        return self.store.count(criteria)

    # -- writes -----------------------------------------------------------------------------
    def _record_audit(
        self, action: str, sample_id: str, changes: dict[str, Any], at: datetime, reason: str | None, **extra: Any
    ) -> None:
        self.audit.append(
            {
                "at": at,
                "user": self.identity.username,
                "action": action,
                "sample_id": sample_id,
                "changes": changes,
                "reason": reason,
                "samplectl_version": __version__,
                **extra,
            }
        )

    def create(self, fields: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "creating samples")
        now = _to_millisecond(self.clock())
        sample = validate_sample(fields, tz=self.tz, now=now)
        self.store.ensure_ready()
        record = sample.model_dump()
        record.update(created_at=now, created_by=self.identity.username, updated_at=now,
                      updated_by=self.identity.username, version=1)
        self.store.insert(record)
        self._record_audit("create", record["sample_id"], diff(None, record), now, reason)
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
        if force:
            if not reason:
                raise UsageError("--force needs --reason", hint="say why the lifecycle is overridden")
            self.identity.require("admin", "overriding the lifecycle with --force")
        current = self.get(sample_id)
        if if_version is not None and current["version"] != if_version:
            raise Conflict(
                f"sample {current['sample_id']!r} is at version {current['version']}, not {if_version}",
                hint="read it again with `samplectl get` and decide on the current values",
            )
        now = _to_millisecond(self.clock())
        merged = {name: current[name] for name in INPUT_FIELDS}
        merged["collection_date"] = current["collection_date"]
        merged.update({k: v for k, v in changes.items() if v is not None})
        sample = validate_sample(merged, tz=self.tz, now=now)
        new = sample.model_dump()
        field_changes = diff(current, new)
        if not field_changes:
            return current, {}
        before_status, after_status = current["status"], new["status"]
        if not transition_allowed(before_status, after_status) and not force:
            allowed = allowed_next(before_status)
            raise Conflict(
                f"status cannot change from {before_status} to {after_status}",
                hint=(
                    f"from {before_status} the next status can be: {', '.join(allowed)}"
                    if allowed
                    else f"{before_status} is final"
                )
                + "; an admin may override with --force --reason",
            )
        record = dict(current)
        record.update(new, updated_at=now, updated_by=self.identity.username, version=current["version"] + 1)
        if record["sample_id"] != current["sample_id"]:
            self.store.ensure_ready()  # a renamed sample must not collide with another
        if not self.store.replace_if_version(current["sample_id"], current["version"], record):
            raise Conflict(
                f"sample {current['sample_id']!r} was changed by someone else meanwhile",
                hint="read it again with `samplectl get` and retry",
            )
        extra = {"forced": True} if force and not transition_allowed(before_status, after_status) else {}
        self._record_audit("update", record["sample_id"], field_changes, now, reason, **extra)
        return record, field_changes

    def delete(self, sample_id: str, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("admin", "deleting samples")
        current = self.get(sample_id)
        now = _to_millisecond(self.clock())
        if not self.store.delete_if_version(current["sample_id"], current["version"]):
            raise Conflict(
                f"sample {current['sample_id']!r} was changed by someone else meanwhile",
                hint="check it with `samplectl get` and retry",
            )
        self._record_audit("delete", current["sample_id"], diff(current, None), now, reason)
        return current
