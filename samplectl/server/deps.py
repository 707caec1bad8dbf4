"""What a route needs from its request: the server state, who is calling, and from where."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from samplectl.domain.errors import AuthError, DatabaseUnavailable
from samplectl.domain.identity import Identity, Session
from samplectl.server.state import ServerState
from samplectl.services.sessions import check_session
from samplectl.stores.tokens import CachedToken

LOGIN_HINT = "POST /token with username and password (samplectl login), then send Authorization: Bearer TOKEN"


# Dependencies are coroutines: FastAPI runs a plain function dependency in a worker thread, and
# each such hop costs more than what these do.


async def state(request: Request) -> ServerState:
    return request.app.state.samplectl  # type: ignore[no-any-return]


async def client_of(request: Request) -> dict[str, Any]:
    """The client as the audit trail records it: remote address and user agent."""
    address = request.client.host if request.client else None
    agent = request.headers.get("user-agent")
    return {"address": address, "user_agent": agent[:200] if agent else None}


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthError("not logged in (no Authorization header)", hint=LOGIN_HINT)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header is not a Bearer token", hint=LOGIN_HINT)
    return token.strip()


async def session(request: Request) -> Session:
    """The bearer token checked now, as every command checks its own: signature, expiry,
    revocation, account state, password change; the role is read from the users database.

    On the event loop itself, not in a worker thread: three indexed reads over a connection kept
    open cost less than the hop to a thread and back (it doubled the cost of a GET)."""
    token = bearer_token(request)
    server: ServerState = request.app.state.samplectl
    cached = CachedToken(token=token, source="header", where="the Authorization header")
    try:
        found = check_session(cached, server.lookup(), server.settings.jwt_secret)
    except DatabaseUnavailable:
        server.forget_lookup()
        raise
    request.state.user = found.identity.username
    return found


async def identity(current: Annotated[Session, Depends(session)]) -> Identity:
    return current.identity


CurrentSession = Annotated[Session, Depends(session)]
CurrentIdentity = Annotated[Identity, Depends(identity)]
State = Annotated[ServerState, Depends(state)]
Client = Annotated[dict[str, Any], Depends(client_of)]
