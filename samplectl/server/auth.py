"""POST /token (and /login), GET /me, POST /logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from samplectl.domain.dates import iso_z
from samplectl.domain.errors import AuthError
from samplectl.server import metrics
from samplectl.server.deps import Client, CurrentSession, State, bearer_token
from samplectl.server.schemas import ERRORS, Me, TokenOut

router = APIRouter(tags=["login"])


def _login(request: Request, server: State, client: Client, username: str, password: str) -> TokenOut:
    address = client["address"] or "unknown"
    throttle = request.app.state.throttle
    throttle.check(address)
    try:
        result = server.account_service(None, client).login(username, password)
    except AuthError:
        throttle.failed(address)
        metrics.LOGINS_FAILED.inc()
        raise
    request.state.user = result.identity.username
    return TokenOut(access_token=result.token, token_type="bearer", expires_at=iso_z(result.claims.expires_at))


Username = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=1000)]


@router.post("/token", response_model=TokenOut, responses=ERRORS, summary="Log in: a bearer token")
def token(request: Request, server: State, client: Client, username: Username, password: Password) -> TokenOut:
    """Check a username and password (form fields, as OAuth2's password flow sends them) and issue a token."""
    return _login(request, server, client, username, password)


@router.post("/login", response_model=TokenOut, responses=ERRORS, summary="Log in (same as POST /token)")
def login(request: Request, server: State, client: Client, username: Username, password: Password) -> TokenOut:
    return _login(request, server, client, username, password)


@router.get("/me", response_model=Me, responses=ERRORS, summary="Who the token belongs to")
def me(request: Request, current: CurrentSession) -> Me:
    # The users database is named by the server that fronts it: where it is stays on the server.
    return Me(username=current.identity.username, role=current.identity.role,
              expires_at=iso_z(current.claims.expires_at), token_stored_in=current.stored_in,
              users_database=str(request.base_url))


@router.post("/logout", status_code=204, responses=ERRORS, summary="Revoke the presented token")
def logout(request: Request, current: CurrentSession, server: State, client: Client) -> Response:
    server.account_service(current.identity, client).revoke(bearer_token(request))
    return Response(status_code=204)
