"""The shapes of request and response bodies, as the OpenAPI description publishes them.

Request models only give fields their JSON types: every rule about values (choices, lengths,
dates, the lifecycle) is the domain's, so a bad value gets the same 422 message the command line
gives as exit 6. Response models describe what the routes return, which is exactly what the
command line prints with `-o json`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, create_model

from samplectl.domain.fields import Field, fields


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[Any]
    hint: str | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": what}
    for status, what in (
        (400, "usage: a bad combination of parameters"),
        (401, "not logged in, token invalid or expired, wrong credentials"),
        (403, "the role does not allow this"),
        (404, "not found"),
        (409, "conflict: duplicate id, refused status change, changed meanwhile"),
        (413, "the body is too large"),
        (422, "invalid input"),
        (429, "too many failed logins from this address"),
        (503, "a database cannot be reached"),
    )
}


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_at: str


class Me(BaseModel):
    username: str
    role: str
    expires_at: str
    token_stored_in: str
    users_database: str


def _json_type(f: Field) -> Any:
    return {"integer": int, "number": float}.get(f.kind, str)  # choices and times are text in JSON


def _always_there(f: Field) -> bool:
    # In a record: required fields, generated or defaulted ones, and the record's own.
    return f.required or f.blank != "missing" or f.default is not None or not f.entered


# The sample's shapes come from the field registry (domain.fields), like the command line's flags
# and columns: a field added there is in the API and its OpenAPI description with no change here.
_RECORD: dict[str, Any] = {f.name: (_json_type(f), ...) if _always_there(f) else (_json_type(f) | None, None)
                           for f in fields()}
_ENTERED: dict[str, Any] = {f.name: (_json_type(f) | None, None) for f in fields().entered}

if TYPE_CHECKING:
    class Sample(BaseModel):
        """For the type checker: the model has every field of the registry."""

    class SampleFields(BaseModel):
        """For the type checker: the model has every entered field of the registry, and reason."""

        reason: str | None
else:
    Sample = create_model("Sample", __doc__="A sample as `samplectl get ID -o json` prints it.", **_RECORD)
    SampleFields = create_model(
        "SampleFields",
        __doc__="The fields a person enters, each optional here (the domain says what is required), and why.",
        __config__=ConfigDict(extra="forbid"),
        **_ENTERED,
        reason=(str | None, None),
    )


class SampleIn(SampleFields):
    """`samplectl create`: sample_id is generated when left out, status defaults to collected."""


class SampleChange(SampleFields):
    """`samplectl update ID`: the fields to change (sample_id renames), why, and an admin's force."""

    force: bool = False


class Count(BaseModel):
    count: int


class StoredValues(BaseModel):
    values: list[str]


class HistoryEntry(BaseModel):
    at: str
    user: str
    action: str
    sample_id: str | None
    changes: dict[str, Any]
    reason: str | None
    forced: bool | None = None  # present (true) only on a status change an admin forced past the lifecycle


class UpdateWhere(BaseModel):
    """`samplectl update --where`: criteria select, `set` says what changes."""

    model_config = ConfigDict(extra="forbid")
    sample_type: list[str] | None = None
    status: list[str] | None = None
    subject_id: list[str] | None = None
    location_prefix: list[str] | None = None
    collected_from: str | None = None
    collected_to: str | None = None
    set_status: str | None = None
    set_location: str | None = None
    set_location_prefix: str | None = None  # replaces the one location_prefix given
    reason: str | None = None
    force: bool = False


class UpdateWhereOut(BaseModel):
    set: dict[str, str]
    matched: int
    changed: int
    unchanged: int
    refused: int
    refused_samples: list[dict[str, str]]
    seconds: float


class Problem(BaseModel):
    line: int | None
    column: str | None
    value: Any = None
    message: str


class ImportOut(BaseModel):
    """The import's summary, as `samplectl import -o json` prints it, and the first problems."""

    batch_id: str | None
    read: int
    created: int
    updated: int
    skipped: int
    rejected: int
    seconds: float
    dry_run: bool
    problems: list[Problem]
    problem_count: int


class UndoOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    batch_id: str


class Status(BaseModel):
    status: str


class Account(BaseModel):
    username: str
    role: str
    active: bool
    created_at: str | None
    failed_logins: int
    locked_until: str | None
    password_changed_at: str | None


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    role: str
    password: str


class UserChange(BaseModel):
    """An admin's change to an account: any of role, active, password, unlock."""

    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    active: bool | None = None
    password: str | None = None
    unlock: bool = False


class PasswordChange(BaseModel):
    """Anyone changes their own password (with the current one); an admin resets anyone's."""

    model_config = ConfigDict(extra="forbid")
    new_password: str
    current_password: str | None = None


class AuditEntry(HistoryEntry):
    """A history entry with its place in the chain, and whatever else the record holds (account, ...)."""

    model_config = ConfigDict(extra="allow")
    seq: int | None


class VerifyOut(BaseModel):
    ok: bool
    records: int
    head: dict[str, Any]
    problem: dict[str, Any] | None
    unfinished_changes: int


# -- storage geometry (the `storage` commands) ---------------------------------------------------


class ContainerIn(BaseModel):
    """`samplectl storage add KIND PATH`: a box needs `grid` (ROWSxCOLS), a bag `capacity`."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    path: str
    grid: str | None = None
    capacity: int | None = None
    reason: str | None = None


class Container(BaseModel):
    """A container as stored, as `samplectl storage add -o json` prints it."""

    path: str
    kind: str
    parent: str | None
    name: str
    rows: int | None = None
    cols: int | None = None
    capacity: int | None = None
    created_at: str
    created_by: str


class ContainerListed(BaseModel):
    """A row of `samplectl storage list -o json`: used/total places within the container."""

    path: str
    kind: str
    used: int
    total: int
    grid: str | None = None
    capacity: int | None = None


class Place(BaseModel):
    position: str
    sample_id: str | None


class Holder(BaseModel):
    """`samplectl storage show BOX -o json`: every place of a box or bag and the sample in it."""

    path: str
    kind: str
    grid: str | None = None
    rows: int | None = None
    cols: int | None = None
    used: int
    total: int
    positions: list[Place]


class Room(BaseModel):
    """A row of `samplectl storage free -o json`: a box or bag with room, and which places."""

    path: str
    kind: str
    free: int
    total: int
    positions: list[str]
    ranges: list[str]


class MoveIn(BaseModel):
    """`samplectl storage move PATH --to PARENT`."""

    model_config = ConfigDict(extra="forbid")
    path: str
    to: str
    reason: str | None = None


class Moved(BaseModel):
    path: str
    to: str
    kind: str
    containers: int
    samples: int


class Removed(BaseModel):
    path: str
    kind: str
