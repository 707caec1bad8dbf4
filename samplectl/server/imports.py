"""POST /imports (the file as the streamed body), DELETE /imports/{batch_id} (undo), GET /exports (streamed)."""

from __future__ import annotations

import dataclasses
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from samplectl.domain.criteria import Sort
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.vocab import EXPORT_FORMATS, INPUT_FIELDS, RECORD_FIELDS
from samplectl.server import metrics
from samplectl.server.deps import Client, CurrentIdentity, State
from samplectl.server.errors import envelope, error_response
from samplectl.server.samples import CriteriaQuery
from samplectl.server.schemas import ERRORS, ImportOut, UndoOut
from samplectl.server.streams import BodyReader, streamed

router = APIRouter(tags=["imports and exports"])

# The body's Content-Type names its format when the `format` parameter does not.
FORMAT_OF_TYPE = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
                  "application/json": "json"}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file itself (not a form), as `samplectl import` reads it: CSV with a header row, "
                       "JSON Lines, or a JSON array of objects (`format`, else the Content-Type).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post("/imports", response_model=ImportOut, responses=ERRORS, openapi_extra=IMPORT_BODY,
             summary="Import a file of samples")
def import_samples(
    request: Request,
    server: State,
    who: CurrentIdentity,
    client: Client,
    dry_run: bool = False,
    partial: bool = False,
    on_conflict: str = "fail",
    allow_repeat: bool = False,
    ignore_unknown: bool = False,
    date_format: str | None = None,
    encoding: str | None = None,
    reason: str | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    file: Annotated[str | None, Query(max_length=255)] = None,
    timezone: Annotated[str | None, Query(max_length=64)] = None,
    fill: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """`samplectl import -`: every row is checked before anything is written; all or nothing unless `partial`.

    The body streams: the server reads it as it arrives and keeps at most a spool of it on disk.
    Rejected rows answer 422 (409 for ids that exist under `on_conflict=fail`, or a file imported
    before) with the problems in the error's `details` and the summary beside the error.
    `file` names the file in the batch (`samplectl import FILE` sends its name); `timezone` (IANA) is
    the zone of dates without an offset, the client's, as a local import would read them. `fill` (repeated)
    places the new samples in those boxes' next free positions, row by row, as `import --fill` does."""
    from samplectl.domain.timezones import resolve_timezone
    from samplectl.services.importing import ImportOptions

    who.require("technician", "importing samples")
    given: dict[str, Any] = {"format": format or FORMAT_OF_TYPE.get(_media_type(request)), "delimiter": delimiter}
    accepted = {f.name for f in dataclasses.fields(ImportOptions)}
    for name, value in given.items():
        if value is not None and name not in accepted and value not in ("csv", ","):
            # Until the import service reads more than CSV (`format`, `delimiter`), say so rather than guess.
            raise ValidationFailed(f"{name} {str(value)[:100]!r} is not supported by this server's import",
                                   hint="send a CSV file with a comma-separated header")
    options = ImportOptions(path="-", dry_run=dry_run, partial=partial, on_conflict=on_conflict.strip().lower(),
                            allow_repeat=allow_repeat, ignore_unknown=ignore_unknown, date_format=date_format,
                            encoding=encoding, reason=reason, name=file.strip() if file and file.strip() else None,
                            fill=tuple(box.strip() for box in fill or () if box.strip()),
                            **{k: v for k, v in given.items() if v is not None and k in accepted})
    service = server.import_service(who, client)
    if timezone is not None:
        service.tz = resolve_timezone(timezone)
    report = service.run(options, stdin=BodyReader(request))  # type: ignore[arg-type]
    metrics.ROWS_IMPORTED.inc(report.created + report.updated)
    summary = {**report.summary(), "problems": report.problems, "problem_count": report.problem_count}
    if report.error is not None:
        response = error_response(report.error)
        body = envelope(report.error.code, report.error.message, hint=report.error.hint, details=report.problems)
        body["summary"] = summary
        return JSONResponse(body, status_code=response.status_code)
    return JSONResponse(summary)


BATCH_FIELDS = ("batch_id", "file", "user", "started_at", "state", "counts", "on_conflict", "partial")


@router.get("/imports/{batch_id}", responses=ERRORS, summary="One import batch (admin)")
def import_batch(batch_id: str, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    """What `samplectl import undo BATCH` asks about before it removes anything: the file, when, by whom,
    what it created."""
    from samplectl.output.records import public

    service = server.batch_undo(who, client)
    service.identity.require("admin", "undoing an import")
    return JSONResponse(public(service.batch(batch_id), BATCH_FIELDS))


@router.delete("/imports/{batch_id}", response_model=UndoOut, responses=ERRORS, summary="Undo an import (admin)")
def undo_import(batch_id: str, server: State, who: CurrentIdentity, client: Client,
                reason: str | None = None) -> JSONResponse:
    """`samplectl import undo BATCH --yes`: removes the samples the batch created that nobody changed since;
    lists those it kept."""
    service = server.batch_undo(who, client)
    service.identity.require("admin", "undoing an import")
    batch = service.batch(batch_id)
    result = service.undo(batch["batch_id"], reason)
    # `already`: the state a batch was in when there was nothing to undo ("undone", "rolled_back").
    return JSONResponse({**result.summary(), **({"already": result.already} if result.already else {})})


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"description": "The samples, streamed",
          "content": {"text/csv": {"schema": {"type": "string"}},
                      "application/x-ndjson": {"schema": {"type": "string"}},
                      "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson", "json": "application/json"}


@router.get("/exports", responses=EXPORT_RESPONSES, response_class=StreamingResponse, summary="Export samples")
async def export_samples(
    server: State,
    who: CurrentIdentity,
    client: Client,
    criteria: CriteriaQuery,
    format: Annotated[str, Query()] = "csv",
    sort: str | None = None,
) -> StreamingResponse:
    """`samplectl export`: CSV with exactly the columns an import reads, or JSON Lines / JSON with every field,
    streamed as it is read."""
    from samplectl.output.formats import View, render, write_csv_rows
    from samplectl.output.kinds import SAMPLES

    fmt = format.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(f"format {format[:100]!r} is not an export format",
                               hint=f"use one of: {', '.join(EXPORT_FORMATS)}",
                               details=[{"column": "format", "value": format[:100], "message": "not allowed"}])
    order = Sort.parse(sort) if sort else None
    who.require("viewer", "exporting samples")
    fields = INPUT_FIELDS if fmt == "csv" else RECORD_FIELDS

    def write(out: IO[str]) -> None:
        service = server.sample_service(who, client)
        if fmt == "csv":  # cells straight from the store, as `samplectl export` writes them
            write_csv_rows(fields, service.export_cells(criteria, order, fields), out)
            return
        records = service.find(criteria, order, None) if order else service.stream(criteria)
        render(SAMPLES, records, out, View(fmt=fmt, fields=fields))

    return await streamed(write, MEDIA_TYPES[fmt], release=server.release_thread)
