"""Who this command runs as in remote mode: the token, checked by the server (``GET /me``).

Every remote command asks this first, so it is kept apart from `login`, `logout` and user
management (``remote.accounts``), which only those commands import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from samplectl.domain.identity import Identity, Session
from samplectl.remote.client import ApiClient
from samplectl.remote.records import parse_time


@dataclass(frozen=True)
class ServerTokenTimes:
    """What the server says of a token (it alone can read the claims): a domain.identity.TokenTimes."""

    sub: str
    expires_at: datetime


def session_of(client: ApiClient, stored_in: str) -> Session:
    """``GET /me``: the token checked by the server now (else 401, exit 3)."""
    me = client.json_object("GET", "/me", keys=("username", "role"))
    identity = Identity(str(me["username"]), str(me["role"]))
    return Session(identity, ServerTokenTimes(identity.username, parse_time(me.get("expires_at"))), stored_in)
