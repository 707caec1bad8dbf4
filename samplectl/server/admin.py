"""The admins' routes: GET /audit, GET /audit/verify, and /users (the `users` commands).

There is no open registration: accounts are added by admins (POST /users), as with `samplectl users add`.
"""

from __future__ import annotations

from typing import IO, Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from samplectl.domain.accounts import Account as AccountRecord
from samplectl.domain.errors import UsageError, ValidationFailed
from samplectl.domain.vocab import ACCOUNT_FIELDS
from samplectl.output.formats import public
from samplectl.server.deps import Client, CurrentIdentity, State
from samplectl.server.errors import envelope
from samplectl.server.schemas import ERRORS, Account, AuditEntry, NewUser, PasswordChange, UserChange, VerifyOut
from samplectl.server.streams import streamed

router = APIRouter(tags=["admin"])


@router.get("/audit", response_model=list[AuditEntry], responses=ERRORS, summary="Query the audit trail (admin)")
async def audit(
    server: State,
    who: CurrentIdentity,
    user: Annotated[list[str] | None, Query()] = None,
    action: Annotated[list[str] | None, Query()] = None,
    sample_id: Annotated[list[str] | None, Query()] = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    all: bool = False,
) -> StreamingResponse:
    """`samplectl audit`: different parameters AND, a repeated one ORs; the newest `limit` records
    (oldest first) unless `all`, which streams every matching record."""
    from samplectl.domain.audit_query import AuditQuery, parse_range
    from samplectl.output.formats import View, render
    from samplectl.output.kinds import AUDIT

    who.require("admin", "reading the audit trail")
    if limit < 1:
        raise ValidationFailed(f"limit {limit} must be at least 1", hint="or use all=true",
                               details=[{"column": "limit", "value": limit, "message": "out of range"}])
    span = parse_range(since, until, server.settings.tzinfo())

    def write(out: IO[str]) -> None:
        wanted = AuditQuery.of(users=user, actions=action, sample_ids=sample_id, span=span,
                               limit=None if all else limit)
        entries = server.audit_service(who).query(wanted)
        render(AUDIT, entries, out, View(fmt="json"))

    return await streamed(write, "application/json", release=server.release_thread)


@router.get("/audit/verify", response_model=VerifyOut, responses=ERRORS,
            summary="Check the audit trail has not been tampered with (admin)")
def verify(server: State, who: CurrentIdentity) -> JSONResponse:
    """`samplectl audit verify`: 200 with the chain's head when intact; 422 naming the first record that
    does not match (the report is beside the error, as `summary`)."""
    report = server.audit_service(who).verify()
    summary = report.as_dict()
    problem = report.chain.problem
    if problem is None:
        return JSONResponse(summary)
    body = envelope("invalid", f"audit record seq {problem.seq} (id {problem.record_id}) does not match: "
                    f"{problem.problem}", details=[problem.as_dict()],
                    hint="the audit trail was altered outside samplectl; compare with a backup")
    body["summary"] = summary
    return JSONResponse(body, status_code=422)


def _account(account: AccountRecord, status: int = 200) -> JSONResponse:
    return JSONResponse(public(account.public(), ACCOUNT_FIELDS), status_code=status)


@router.get("/users", response_model=list[Account], responses=ERRORS, summary="Every account (admin)")
def list_users(server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    accounts = server.account_service(who, client).accounts()
    return JSONResponse([public(a.public(), ACCOUNT_FIELDS) for a in accounts])


@router.post("/users", status_code=201, response_model=Account, responses=ERRORS, summary="Add an account (admin)")
def add_user(body: NewUser, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    """`samplectl users add NAME --role ROLE`."""
    service = server.account_service(who, client)
    service.may_manage_users()
    return _account(service.add(body.username, body.role, body.password), 201)


@router.patch("/users/{username}", response_model=Account, responses=ERRORS, summary="Change an account (admin)")
def change_user(username: str, body: UserChange, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    """`samplectl users set-role / disable / enable / unlock / passwd NAME`, any of them at once."""
    service = server.account_service(who, client)
    service.may_manage_users()
    if body.role is None and body.active is None and body.password is None and not body.unlock:
        raise UsageError("nothing to change", hint="give role, active, password or unlock")
    account = None
    if body.role is not None:
        account = service.set_role(username, body.role)
    if body.active is not None:
        account = service.set_active(username, body.active)
    if body.unlock:
        account = service.unlock(username)
    if body.password is not None:
        account = service.set_password(username, body.password)
    assert account is not None
    return _account(account)


@router.post("/users/{username}/password", response_model=Account, responses=ERRORS, summary="Change a password")
def change_password(username: str, body: PasswordChange, server: State, who: CurrentIdentity,
                    client: Client) -> JSONResponse:
    """`samplectl users passwd`: anyone changes their own (giving `current_password`); an admin resets anyone's.
    Every login made with the old password ends at once. The answer is the account (its name as stored)."""
    service = server.account_service(who, client)
    return _account(service.set_password(username, body.new_password, body.current_password))
