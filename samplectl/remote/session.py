"""Who this command runs as in remote mode: the token, checked by the server (``GET /me``).

Every remote command asks this first; `login`, `logout` and user management (``remote.accounts``)
are the only ones that need more of the accounts API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from samplectl.domain.identity import Identity
from samplectl.remote.client import ApiClient
from samplectl.remote.records import parse_time


@dataclass(frozen=True)
class TokenTimes:
    """What the command line shows of a token (the server alone can read its claims)."""

    sub: str
    expires_at: datetime


@dataclass(frozen=True)
class RemoteSession:
    identity: Identity
    claims: TokenTimes
    stored_in: str


def session_of(client: ApiClient, stored_in: str) -> RemoteSession:
    """``GET /me``: the token checked by the server now (else 401, exit 3)."""
    me = client.json("GET", "/me")
    identity = Identity(str(me["username"]), str(me["role"]))
    return RemoteSession(identity, TokenTimes(identity.username, parse_time(me.get("expires_at"))), stored_in)
