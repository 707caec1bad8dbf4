"""The samples routes: criteria and keyset paging, count, CRUD with ETag/If-Match, history, update-where."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from samplectl.domain.criteria import Criteria, Sort, build_criteria
from samplectl.domain.errors import UsageError, ValidationFailed
from samplectl.domain.vocab import ENTRY_FIELDS
from samplectl.output.formats import public
from samplectl.server.deps import Client, CurrentIdentity, State
from samplectl.server.errors import PreconditionFailed
from samplectl.server.paging import cursor_after, page
from samplectl.server.schemas import (
    ERRORS,
    Count,
    HistoryEntry,
    Sample,
    SampleChange,
    SampleIn,
    UpdateWhere,
    UpdateWhereOut,
)
from samplectl.server.state import ServerState
from samplectl.server.streams import streamed

if TYPE_CHECKING:
    from samplectl.services.bulk import BulkChange

router = APIRouter(tags=["samples"])

MAX_PAGE = 1000  # a page is built in memory; more comes through `after` (or GET /exports)
Values = Annotated[list[str] | None, Query()]


def criteria_from(
    server: State,
    sample_type: list[str] | None,
    status: list[str] | None,
    subject_id: list[str] | None,
    location_prefix: list[str] | None,
    collected_from: str | None,
    collected_to: str | None,
) -> Criteria:
    return build_criteria(sample_types=sample_type, statuses=status, subject_ids=subject_id,
                          location_prefixes=location_prefix, collected_from=collected_from,
                          collected_to=collected_to, tz=server.settings.tzinfo())


async def criteria_query(
    server: State,
    sample_type: Values = None,
    status: Values = None,
    subject_id: Values = None,
    location_prefix: Values = None,
    collected_from: str | None = None,
    collected_to: str | None = None,
) -> Criteria:
    """The criteria of `filter` as query parameters (samples, count, exports): repeated = OR, different = AND."""
    return criteria_from(server, sample_type, status, subject_id, location_prefix, collected_from, collected_to)


CriteriaQuery = Annotated[Criteria, Depends(criteria_query)]


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


def _one(record: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(public(record), status_code=status, headers={"ETag": etag(record), **(headers or {})})


def if_match_version(header: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3", or 3) is the version the client read; `*` or none checks nothing."""
    if header is None or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/").strip('"').strip()
    if not text.isdigit():
        raise UsageError(f"If-Match {header[:100]!r} is not a version this server gave out",
                         hint='send the ETag of GET /samples/{id}, e.g. If-Match: "3"')
    return int(text)


@router.get("/samples", response_model=list[Sample], responses=ERRORS, summary="Samples matching criteria")
def list_samples(
    request: Request,
    server: State,
    who: CurrentIdentity,
    client: Client,
    criteria: CriteriaQuery,
    sort: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> Response:
    """`samplectl filter`: repeat a parameter for OR, different parameters AND. Newest collection first
    unless `sort` (FIELD or -FIELD). The next page, if any, is in `Link: <...>; rel="next"`."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit {limit} must be between 1 and {MAX_PAGE}", hint="page on with `after`",
                               details=[{"column": "limit", "value": limit, "message": "out of range"}])
    order = Sort.parse(sort)
    service = server.sample_service(who, client)
    who.require("viewer", "reading samples")
    records = list(page(service, criteria, order, limit, after))
    headers = {}
    if len(records) == limit:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        query.append(("after", cursor_after(records[-1], order)))
        headers["Link"] = f'<{request.url.replace(query=urlencode(query))}>; rel="next"'
    return JSONResponse([public(r) for r in records], headers=headers)


@router.get("/samples/count", response_model=Count, responses=ERRORS, summary="How many samples match")
def count_samples(
    server: State,
    who: CurrentIdentity,
    client: Client,
    criteria: CriteriaQuery,
) -> Count:
    """`samplectl filter --count`."""
    who.require("viewer", "reading samples")
    return Count(count=server.sample_service(who, client).count(criteria))


# Ids are opaque text and may hold "/" (2025/03/14-B): the routes take the rest of the path as the id
# (clients send it %2F-escaped, which the server decodes before routing). The history route comes first,
# so `/samples/ID/history` is ID's history: the one id it hides is one ending in "/history".
@router.get("/samples/{sample_id:path}/history", response_model=list[HistoryEntry], responses=ERRORS,
            response_model_exclude_unset=True, summary="The audit trail of one sample")
def sample_history(sample_id: str, server: State, who: CurrentIdentity) -> list[dict[str, Any]]:
    """`samplectl history ID`: oldest first; also for a deleted sample; 404 for an id that never existed.
    An entry an admin forced past the lifecycle also says `"forced": true` (the history table marks it)."""
    entries = server.audit_service(who).history(sample_id)
    return [{**{name: entry[name] for name in ENTRY_FIELDS}, **({"forced": True} if entry.get("forced") else {})}
            for entry in entries]


@router.get("/samples/{sample_id:path}", response_model=Sample, responses=ERRORS, summary="One sample")
def get_sample(sample_id: str, server: State, who: CurrentIdentity, client: Client) -> Response:
    """`samplectl get ID`; the ETag is the sample's version."""
    who.require("viewer", "reading samples")
    return _one(server.sample_service(who, client).get(sample_id))


@router.post("/samples", status_code=201, response_model=Sample, responses=ERRORS, summary="Register a sample")
def create_sample(body: SampleIn, request: Request, server: State, who: CurrentIdentity, client: Client) -> Response:
    """`samplectl create`: 201 with the record and its Location."""
    fields = body.model_dump(exclude={"reason"}, exclude_none=True)
    record = server.sample_service(who, client).create(fields, reason=body.reason)
    # Ids are opaque text: "/", "?" or a space in one is escaped, never a path separator (url_for refuses "/").
    location = f"{request.base_url}samples/{quote(record['sample_id'], safe='')}"
    return _one(record, 201, {"Location": location})


def _update(sample_id: str, body: SampleChange, server: State, who: CurrentIdentity, client: Client,
            if_match: str | None) -> Response:
    version = if_match_version(if_match)
    changes = body.model_dump(exclude={"reason", "force"}, exclude_none=True)
    if not changes:
        raise UsageError("nothing to change",
                         hint="give at least one of sample_id, sample_type, subject_id, collection_date, status, "
                         "storage_location")
    service = server.sample_service(who, client)
    service.identity.require("technician", "updating samples")
    if version is not None:
        current = service.get(sample_id)
        if current["version"] != version:
            raise PreconditionFailed(
                f"sample {current['sample_id']!r} is at version {current['version']}, not {version}",
                hint="read it again (GET /samples/{id}) and decide on the current values",
            )
    record, _ = service.update(sample_id, changes, reason=body.reason, force=body.force, if_version=version)
    return _one(record)


IfMatch = Annotated[str | None, Header(alias="If-Match")]


@router.patch("/samples/{sample_id:path}", response_model=Sample, responses={**ERRORS, 412: ERRORS[409]},
              summary="Change a sample")
def patch_sample(sample_id: str, body: SampleChange, server: State, who: CurrentIdentity, client: Client,
                 if_match: IfMatch = None) -> Response:
    """`samplectl update ID`: the lifecycle applies; `force` (admin) needs a `reason`.
    With `If-Match: "<version>"` a sample changed since it was read is refused with 412."""
    return _update(sample_id, body, server, who, client, if_match)


@router.put("/samples/{sample_id:path}", response_model=Sample, responses={**ERRORS, 412: ERRORS[409]},
            summary="Change a sample (the seed's partial update, same as PATCH)")
def put_sample(sample_id: str, body: SampleChange, server: State, who: CurrentIdentity, client: Client,
               if_match: IfMatch = None) -> Response:
    return _update(sample_id, body, server, who, client, if_match)


@router.delete("/samples/{sample_id:path}", status_code=204, responses={**ERRORS, 412: ERRORS[409]},
               summary="Delete a sample (admin)")
def delete_sample(sample_id: str, server: State, who: CurrentIdentity, client: Client,
                  reason: str | None = None, if_match: IfMatch = None) -> Response:
    """`samplectl delete ID --yes --reason ...`."""
    version = if_match_version(if_match)
    service = server.sample_service(who, client)
    who.require("admin", "deleting samples")
    if version is not None and service.get(sample_id)["version"] != version:
        raise PreconditionFailed(f"sample {sample_id.strip()!r} changed since version {version}",
                                 hint="read it again (GET /samples/{id}) before deleting it")
    service.delete(sample_id, reason=reason)
    return Response(status_code=204)


def _where(body: UpdateWhere, server: ServerState) -> BulkChange:
    """An update-where's selection, new values, reason and force (refused with 400 when either is missing)."""
    from samplectl.services.bulk import BulkChange, new_values

    values = new_values(body.set_status, body.set_location, body.set_location_prefix, body.location_prefix)
    criteria = criteria_from(server, body.sample_type, body.status, body.subject_id, body.location_prefix,
                             body.collected_from, body.collected_to)
    return BulkChange(criteria, values, body.reason, body.force)


@router.post("/samples/update-where", response_model=UpdateWhereOut, responses=ERRORS,
             summary="Change every sample the criteria select")
def update_where(body: UpdateWhere, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    """`samplectl update --where ... --yes`: applies what it can; when any selected sample was refused
    the answer is 409 with the summary's refusals in the error's details. `set_location_prefix` replaces
    the one `location_prefix` given, keeping the rest of each location."""
    from samplectl.domain.errors import Conflict

    outcome = server.sample_service(who, client).update_where(_where(body, server))
    if outcome.refused:
        raise Conflict(f"{len(outcome.refused)} of {outcome.matched} selected samples were refused; "
                       f"{outcome.changed} changed",
                       hint="a status change outside the lifecycle needs an admin's force with a reason; "
                       "a sample changed meanwhile can be retried",
                       details=outcome.refused)
    return JSONResponse(outcome.as_dict())


PLAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"description": "One change per line (JSON Lines), in sample-id order: "
                         '{"sample_id", "field", "before", "after", "refused"}',
          "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
}


@router.post("/samples/update-where/plan", responses=PLAN_RESPONSES, response_class=StreamingResponse,
             summary="What an update-where would change (nothing is written)")
async def plan_update_where(body: UpdateWhere, server: State, who: CurrentIdentity, client: Client,
                            limit: Annotated[int | None, Query(ge=1)] = None) -> StreamingResponse:
    """`samplectl update --where ... --dry-run` (and the first changes its question shows): one line per
    field a sample would change, with `refused` saying why a sample would be refused (else null);
    streamed, the first `limit` only when given."""
    from samplectl.output.formats import dumps
    from samplectl.services.bulk import check_before_reading

    change = _where(body, server)

    def write(out: IO[str]) -> None:
        service = server.sample_service(who, client)
        check_before_reading(service, change)
        for row in service.plan_where(change, limit):
            out.write(dumps(row) + "\n")

    return await streamed(write, "application/x-ndjson", release=server.release_thread)
