"""Reading the audit trail: one sample's history, queries over the whole trail, and verification."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from samplectl.domain.audit import ChainReport, audit_entry, check_chain
from samplectl.domain.audit_query import AuditQuery
from samplectl.domain.errors import NotFound
from samplectl.domain.identity import Identity
from samplectl.stores.audit import AuditLog
from samplectl.stores.changes import ChangeWriter
from samplectl.stores.samples import SampleStore


@dataclass
class VerifyReport:
    chain: ChainReport
    unfinished: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        problem = self.chain.problem
        return {
            "ok": self.chain.ok,
            "records": self.chain.checked,
            "head": {"seq": self.chain.head_seq, "hash": self.chain.head_hash},
            "problem": None if problem is None else problem.as_dict(),
            "unfinished_changes": len(self.unfinished),
        }


@dataclass
class AuditService:
    store: SampleStore
    audit: AuditLog
    identity: Identity
    writer: ChangeWriter
    remembered_head: tuple[int, str] | None = None  # how far the trail had reached (stores.identity)

    def history(self, sample_id: str) -> list[dict[str, Any]]:
        """One sample's trail, oldest first; exit 5 for an id that never existed.

        Entries carry what else was recorded (seq, forced, ...); `history_entry` trims one to the
        contract's shape, which is what scripts get.
        """
        self.identity.require("viewer", "reading the history of samples")
        sample_id = sample_id.strip()
        entries = [audit_entry(r) for r in self.audit.for_sample(sample_id)]
        if not entries and self.store.get(sample_id) is None:
            raise NotFound(
                f"sample {sample_id!r} has never existed (no sample and no audit record has that id)",
                hint="check the id; `samplectl audit --action delete` lists deleted samples",
            )
        return entries

    def query(self, wanted: AuditQuery) -> Iterator[dict[str, Any]]:
        self.identity.require("admin", "reading the audit trail")
        return (audit_entry(r) for r in self.audit.query(wanted))

    def verify(self) -> VerifyReport:
        """Walk the whole chain; also list changes still waiting for their audit record."""
        self.identity.require("admin", "verifying the audit trail")
        self.store.check_integrity()  # a damaged file first: the chain read from it proves nothing
        return VerifyReport(chain=check_chain(self.audit.walk(), self.remembered_head),
                            unfinished=self.writer.unfinished())
