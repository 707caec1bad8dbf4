"""A sample change and the writer that stores it together with its audit record.

A change stands only if its audit record exists. Each engine has its own way to make sure of that
(``stores.sqlite``: one transaction; ``stores.mongo``: markers, the audit record as commit point);
the services see only ``ChangeWriter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from samplectl.stores.audit import AuditLog
from samplectl.stores.samples import SampleStore

APPLIED, STALE, BUSY, DUPLICATE, FAILED = "applied", "stale", "busy", "duplicate", "failed"


@dataclass
class Change:
    """One sample change: the record as read (None for a create), the record to store (None for a
    delete), and the audit entry that describes it."""

    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    entry: dict[str, Any]
    outcome: str = ""
    message: str = field(default="")

    @property
    def sample_id(self) -> str:
        return str((self.after or self.before or {}).get("sample_id"))

    @property
    def renames(self) -> bool:
        return bool(self.before and self.after and self.before["sample_id"] != self.after["sample_id"])

    def refuse(self, outcome: str) -> None:
        self.outcome = outcome
        before = self.before or {}
        self.message = {
            STALE: f"sample {before.get('sample_id')!r} was changed by someone else meanwhile",
            BUSY: f"sample {before.get('sample_id')!r} is being changed by another samplectl right now",
            DUPLICATE: f"sample {(self.after or {}).get('sample_id')!r} already exists",
        }[outcome]


class ChangeWriter(Protocol):
    def apply(self, changes: list[Change]) -> None:
        """Write each change with its audit record; each ends APPLIED or refused (``outcome``)."""
        ...

    def settle_stale(self) -> int:
        """Finish or undo changes whose process died; how many."""
        ...

    def unfinished(self) -> list[dict[str, Any]]:
        """Changes in progress or left unfinished (what `audit verify` reports)."""
        ...


def writer_for(store: SampleStore, audit: AuditLog) -> ChangeWriter:
    return store.change_writer(audit)
