"""Samples through the server: the methods of ``services.samples.SampleService`` the commands use.

Every rule (validation, lifecycle, roles, versions, the audit record) is applied by the server,
with the same service as a local run; this class only carries the request and the answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.dates import utc_now
from samplectl.domain.errors import Conflict, UsageError
from samplectl.domain.identity import Identity
from samplectl.domain.vocab import INPUT_FIELDS
from samplectl.remote.client import ApiClient
from samplectl.remote.records import wire_time, with_times

if TYPE_CHECKING:
    from samplectl.services.bulk import BulkChange

STALE_HINT = "read it again with `samplectl get` and decide on the current values"
PAGE = 1000  # samples per request when reading many: few round trips, modest answers
Params = list[tuple[str, str]]


def sample_path(sample_id: str) -> str:
    # Ids are opaque text: a "/" or "?" in one must stay part of the id.
    return f"/samples/{quote(sample_id.strip(), safe='')}"


def criteria_params(criteria: Criteria) -> Params:
    """Criteria as the server's query parameters (a repeated parameter ORs, as a repeated flag)."""
    params: Params = [("sample_type", v) for v in criteria.sample_types]
    params += [("status", v) for v in criteria.statuses]
    params += [("subject_id", v) for v in criteria.subject_ids]
    params += [("location_prefix", v) for v in criteria.location_prefixes]
    if criteria.collected_from is not None:
        params.append(("collected_from", wire_time(criteria.collected_from)))
    # Dates were read here, in this machine's time zone: the server gets instants, never a bare
    # date it would read in its own zone. A whole day ends just before the next one begins.
    end = criteria.collected_to
    if criteria.collected_before is not None:
        end = criteria.collected_before - timedelta(microseconds=1)
    if end is not None:
        params.append(("collected_to", wire_time(end)))
    return params


def sort_param(sort: Sort) -> str:
    return ("-" if sort.descending else "") + sort.field


def checked_fields(fields: Mapping[str, Any], tz: tzinfo, now: datetime) -> dict[str, Any]:
    """The sample's fields validated here first, for the very errors a local run gives (exit 6).

    The server validates again (it is the trust boundary); checking here too means a date is
    read in this machine's time zone, as typed, and a bad value is echoed as typed. The fields
    sent are those given, the date as the instant it was read as.
    """
    from samplectl.domain.sample import refuse_blank_id, validate_sample  # pydantic: only for writes

    refuse_blank_id(fields)
    checked = validate_sample(checkable(fields), tz=tz, now=now).model_dump()
    body = dict(fields)
    if body.get("collection_date") is not None:
        body["collection_date"] = wire_time(checked["collection_date"])
    return body


def checkable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as this machine can check them: a position is resolved by the server, which knows
    the boxes (and sets storage_location from it), so it is checked there, before the other fields,
    as a local run resolves it first."""
    out = dict(fields)
    if out.pop("position", None) is not None and out.get("storage_location") is None:
        out["storage_location"] = "placed"  # any valid location: the server's replaces it
    return out


# The server's words for a partly refused update-where: "2 of 5 selected samples were refused; 3 changed".
REFUSED_COUNTS = re.compile(r"(?P<refused>\d+) of (?P<matched>\d+) selected samples were refused; (?P<changed>\d+) changed")


@dataclass
class RemoteBulkOutcome:
    """What the server's update-where did, as services.bulk.BulkOutcome reads."""

    body: dict[str, Any]

    @property
    def matched(self) -> int:
        return int(self.body.get("matched") or 0)

    @property
    def changed(self) -> int:
        return int(self.body.get("changed") or 0)

    @property
    def unchanged(self) -> int:
        return int(self.body.get("unchanged") or 0)

    @property
    def refused(self) -> list[dict[str, str]]:
        return list(self.body.get("refused_samples") or [])

    def as_dict(self) -> dict[str, Any]:
        return {"set": self.body.get("set"), "matched": self.matched, "changed": self.changed,
                "unchanged": self.unchanged, "refused": len(self.refused), "refused_samples": self.refused,
                "seconds": self.body.get("seconds", 0.0)}


@dataclass
class RemoteSampleService:
    client: ApiClient
    identity: Identity
    zone: Callable[[], tzinfo]  # the lab's time zone, resolved only by the writes that read dates

    @cached_property
    def tz(self) -> tzinfo:
        # Not at the start: resolving it imports zoneinfo and reads the zone file (~3 ms), which a
        # read (`get`, `list` in JSON) never uses.
        return self.zone()

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any]:
        return with_times(self.client.json("GET", sample_path(sample_id)))

    def get_all(self, sample_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every sample named, each once; NotFound (5) naming every missing id, as the local service says it."""
        from samplectl.domain.errors import NotFound, samples_not_found

        wanted = list(dict.fromkeys(s.strip() for s in sample_ids))
        found: dict[str, dict[str, Any] | None] = {}
        for sample_id in wanted:
            try:
                found[sample_id] = self.get(sample_id)
            except NotFound:
                found[sample_id] = None
        missing = [sample_id for sample_id, record in found.items() if record is None]
        if missing:
            raise samples_not_found(missing, several=len(wanted) > 1)
        return [record for record in found.values() if record is not None]

    def delete_all(self, sample_ids: Iterable[str], reason: str | None = None) -> Iterator[dict[str, Any]]:
        self.identity.require("admin", "deleting samples")
        for record in self.get_all(sample_ids):
            yield self.delete(record["sample_id"], reason=reason)

    def find(self, criteria: Criteria, sort: Sort, limit: int | None) -> Iterator[dict[str, Any]]:
        """Matching samples in order, page after page (the server's ``Link: rel="next"``)."""
        params: Params = [*criteria_params(criteria), ("sort", sort_param(sort))]
        wanted = limit
        url: str | None = "/samples"
        first = True
        while url is not None and (wanted is None or wanted > 0):
            page = PAGE if wanted is None else min(wanted, PAGE)
            if first:
                response = self.client.request("GET", url, params=[*params, ("limit", str(page))])
                first = False
            else:
                response = self.client.request("GET", url)
            records = response.json()
            for record in records[:wanted]:
                yield with_times(record)
            if wanted is not None:
                wanted -= len(records)
            url = response.next_link

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every matching sample, streamed as JSON Lines: the client holds one line at a time."""
        import json

        params: Params = [*criteria_params(criteria), ("format", "jsonl")]
        with self.client.lines("GET", "/exports", params=params) as lines:
            for line in lines:
                if line:
                    yield with_times(json.loads(line))

    def export_cells(self, criteria: Criteria, sort: Sort | None, fields: Sequence[str]) -> Iterator[Sequence[Any]]:
        from samplectl.domain.csvcells import sample_cells

        return map(sample_cells(fields), self.stream(criteria) if sort is None else self.find(criteria, sort, None))

    def count(self, criteria: Criteria) -> int:
        return int(self.client.json_object("GET", "/samples/count", params=criteria_params(criteria),
                                           keys=("count",))["count"])

    def history(self, sample_id: str) -> list[dict[str, Any]]:
        # Audit times stay the text the server sent, as the local audit trail keeps them.
        return list(self.client.json("GET", f"{sample_path(sample_id)}/history"))

    # -- writes -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return utc_now()

    def check_force(self, force: bool, reason: str | None) -> None:
        if force:
            if not reason:
                raise UsageError("--force needs --reason", hint="say why the lifecycle is overridden")
            self.identity.require("admin", "overriding the lifecycle with --force")

    def create(self, fields: Mapping[str, Any], reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "creating samples")
        body = checked_fields({k: v for k, v in fields.items() if v is not None}, self.tz, self.now())
        if reason is not None:
            body["reason"] = reason
        return with_times(self.client.json("POST", "/samples", json=body))

    def update(
        self,
        sample_id: str,
        changes: Mapping[str, Any],
        *,
        reason: str | None = None,
        force: bool = False,
        if_version: int | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply ``changes``; returns the resulting record and the field changes made.

        Without --if-version the change is still conditional on the version read first, as a
        local update is: a concurrent change is refused (7), never overwritten.
        """
        self.identity.require("technician", "updating samples")
        self.check_force(force, reason)
        before = self.get(sample_id)
        version = if_version if if_version is not None else before["version"]
        if version != before["version"]:  # said here as a local run says it; the server checks again
            raise Conflict(f"sample {before['sample_id']!r} is at version {before['version']}, not {version}",
                           hint=STALE_HINT)
        from samplectl.domain.sample import refuse_blank_id, validate_sample  # pydantic: only for writes

        given = {k: v for k, v in changes.items() if v is not None}
        refuse_blank_id(given)
        merged = {name: before[name] for name in INPUT_FIELDS}
        checked = validate_sample(checkable({**merged, **given}), tz=self.tz, now=self.now()).model_dump()
        body = dict(given)
        if "collection_date" in body:
            body["collection_date"] = wire_time(checked["collection_date"])
        if reason is not None:
            body["reason"] = reason
        if force:
            body["force"] = True
        try:
            answer = self.client.json("PATCH", sample_path(sample_id), json=body, headers={"If-Match": f'"{version}"'})
        except Conflict as exc:
            if getattr(exc, "status", None) == 412:  # the server's hint names its route; people run commands
                exc.hint = STALE_HINT
            raise
        after = with_times(answer)
        if after.get("version") == before.get("version"):
            return after, {}
        changed = {name: {"before": before.get(name), "after": after.get(name)}
                   for name in INPUT_FIELDS if before.get(name) != after.get(name)}
        return after, changed

    def _where_body(self, change: BulkChange) -> dict[str, Any]:
        """An update-where's selection and new values as the server's routes take them."""
        body: dict[str, Any] = {}
        values = change.values
        for name, value in criteria_params(change.criteria):
            if name in ("collected_from", "collected_to"):
                body[name] = value
            else:
                body.setdefault(name, []).append(value)
        body.update(set_status=values.values.get("status"), set_location=values.values.get("storage_location"),
                    set_location_prefix=values.prefix[1] if values.prefix else None, force=change.force)
        if values.prefix is not None:  # the prefix replaced is the selection's, as typed
            body["location_prefix"] = [values.prefix[0]]
        if change.reason is not None:
            body["reason"] = change.reason
        return body

    def plan_where(self, change: BulkChange, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """``POST /samples/update-where/plan``: what update --where would change, streamed (nothing is written)."""
        import json

        body = self._where_body(change)
        params = {"limit": str(limit)} if limit is not None else None
        with self.client.lines("POST", "/samples/update-where/plan", json=body, params=params) as lines:
            for line in lines:
                if line:
                    yield json.loads(line)

    def update_where(self, change: BulkChange, progress: Callable[[int], None] | None = None) -> RemoteBulkOutcome:
        """``POST /samples/update-where``: the server changes the selection, each sample audited.

        When some samples were refused the server answers 409 with them in the details; the
        counts are then read from its message, so the command reports them as a local run does.
        """
        self.identity.require("technician", "updating samples")
        self.check_force(change.force, change.reason)
        new = change.values
        body = self._where_body(change)
        started = time.monotonic()
        try:
            answer = self.client.json("POST", "/samples/update-where", json=body, long=True)
        except Conflict as exc:
            if getattr(exc, "status", None) != 409 or not exc.details:
                raise
            counts = REFUSED_COUNTS.search(exc.message)
            refused = [dict(item) for item in exc.details]
            matched = int(counts.group("matched")) if counts else len(refused)
            changed = int(counts.group("changed")) if counts else 0
            answer = {"set": new.described(), "matched": matched, "changed": changed,
                      "unchanged": matched - changed - len(refused), "refused_samples": refused,
                      "seconds": round(time.monotonic() - started, 3)}
        outcome = RemoteBulkOutcome(answer)
        if progress is not None and outcome.matched:
            progress(outcome.matched)
        return outcome

    def delete(self, sample_id: str, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("admin", "deleting samples")
        params = {"reason": reason} if reason is not None else None
        self.client.request("DELETE", sample_path(sample_id), params=params)
        return {"sample_id": sample_id.strip()}
