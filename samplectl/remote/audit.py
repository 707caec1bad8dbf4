"""The audit trail through the server: `history`, `audit` and `audit verify`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from samplectl.domain.audit import ChainProblem, ChainReport
from samplectl.remote.records import wire_time
from samplectl.remote.samples import RemoteSampleService

if TYPE_CHECKING:
    from samplectl.services.audit import TimeRange


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


@dataclass
class RemoteAuditService:
    samples: RemoteSampleService

    @property
    def identity(self) -> Any:
        return self.samples.identity

    def history(self, sample_id: str) -> list[dict[str, Any]]:
        self.identity.require("viewer", "reading the history of samples")
        return self.samples.history(sample_id)

    def query(
        self,
        *,
        users: Sequence[str] = (),
        actions: Sequence[str] = (),
        sample_ids: Sequence[str] = (),
        span: TimeRange | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        import json

        from samplectl.remote.records import parse_time

        self.identity.require("admin", "reading the audit trail")
        params: list[tuple[str, str]] = [("user", u) for u in users]
        params += [("action", a) for a in actions] + [("sample_id", s) for s in sample_ids]
        if span is not None:
            params += [(name, wire_time(value)) for name, value in
                       (("since", span.since), ("before", span.before), ("until", span.until)) if value is not None]
        if limit is not None:
            params.append(("limit", str(limit)))
        params.append(("format", "jsonl"))
        client = self.samples.client
        with client.stream("GET", "/audit", params=params) as response:
            for line in client.lines(response):
                if line:
                    entry = json.loads(line)
                    entry["at"] = parse_time(entry.get("at"))
                    yield entry

    def verify(self) -> RemoteVerifyReport:
        self.identity.require("admin", "verifying the audit trail")
        return verify_report(self.samples.client.json("GET", "/audit/verify"))
