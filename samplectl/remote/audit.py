"""The audit trail through the server: `history`, `audit` and `audit verify`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from samplectl.domain.audit import ChainProblem, ChainReport
from samplectl.remote.records import wire_time
from samplectl.remote.samples import RemoteSampleService

if TYPE_CHECKING:
    from samplectl.domain.audit_query import AuditQuery


@dataclass
class RemoteVerifyReport:
    """``GET /audit/verify`` read back into what `audit verify` prints (as services.audit.VerifyReport)."""

    chain: ChainReport
    unfinished: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.raw


def verify_report(body: dict[str, Any]) -> RemoteVerifyReport:
    head = body.get("head") or {}
    problem = body.get("problem")
    chain = ChainReport(
        checked=int(body.get("records") or 0), head_seq=int(head.get("seq") or 0), head_hash=str(head.get("hash")),
        problem=None if not problem else ChainProblem(
            seq=problem.get("seq"), record_id=problem.get("id"), problem=problem.get("problem"),
            at=problem.get("at"), action=problem.get("action"), sample_id=problem.get("sample_id")),
    )
    unfinished: list[dict[str, Any]] = [{}] * int(body.get("unfinished_changes") or 0)
    return RemoteVerifyReport(chain, unfinished, body)


def array_element(line: str) -> dict[str, Any] | None:
    """One element of a JSON array written one element per line (as samplectl writes arrays)."""
    text = line.strip().rstrip(",")
    if not text.startswith("{"):
        return None  # the brackets around the elements
    element = json.loads(text)
    return element if isinstance(element, dict) else None


@dataclass
class RemoteAuditService:
    samples: RemoteSampleService

    @property
    def identity(self) -> Any:
        return self.samples.identity

    def history(self, sample_id: str) -> list[dict[str, Any]]:
        self.identity.require("viewer", "reading the history of samples")
        return self.samples.history(sample_id)

    def query(self, wanted: AuditQuery) -> Iterator[dict[str, Any]]:
        """``GET /audit``: the server streams a JSON array, one entry per line, read here line by line."""
        self.identity.require("admin", "reading the audit trail")
        params: list[tuple[str, str]] = [(name, value) for name, values in wanted.matches() for value in values]
        span = wanted.span
        # Instants, not dates: the dates were read in this machine's time zone.
        if span.since is not None:
            params.append(("since", wire_time(span.since)))
        until = span.until if span.before is None else span.before - timedelta(microseconds=1)
        if until is not None:
            params.append(("until", wire_time(until)))
        params.append(("limit", str(wanted.limit)) if wanted.limit is not None else ("all", "true"))
        with self.samples.client.lines("GET", "/audit", params=params) as lines:
            for line in lines:
                entry = array_element(line)
                if entry is not None:
                    yield entry  # times stay the text the server sent, as the local trail keeps them

    def verify(self) -> RemoteVerifyReport:
        """``GET /audit/verify``: a broken chain is a 422 carrying the report beside the error."""
        self.identity.require("admin", "verifying the audit trail")
        response = self.samples.client.request("GET", "/audit/verify", raise_errors=False)
        body = response.json()
        return verify_report(body.get("summary") or {} if response.is_error else body)
