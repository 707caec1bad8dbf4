"""Who is acting, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from samplectl.domain.errors import AuthError, PermissionDenied

ROLE_RANK = {"viewer": 0, "technician": 1, "admin": 2}
LOGIN_HINT = "run samplectl login"
ENV_HINT = "run samplectl login --print-token for a new SAMPLECTL_TOKEN, or unset it to use your own login"


def not_logged_in(keyring_problem: str | None = None) -> AuthError:
    """No token at all (exit 3); light to import, as remote mode checks this before any request."""
    reason = f" ({keyring_problem})" if keyring_problem else ""
    return AuthError(f"not logged in{reason}", hint=LOGIN_HINT)


@dataclass(frozen=True)
class Identity:
    username: str
    role: str

    def require(self, role: str, action: str) -> None:
        """Refuse (exit 4) unless this identity holds ``role`` or a higher one."""
        if ROLE_RANK.get(self.role, -1) < ROLE_RANK[role]:
            # An admin-only action is done by an admin; a role change is for people whose work needs it.
            hint = ("ask a lab admin to do it" if role == "admin"
                    else f"if your work needs it, a lab admin can give you the {role} role")
            raise PermissionDenied(f"{action} needs the {role} role; {self.username} is {self.role}", hint=hint)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenTimes(Protocol):
    """What the command line shows of a login token: whose it is and when it expires. A local token's
    full claims carry more; in remote mode the server alone reads them and says only this much."""

    @property
    def sub(self) -> str: ...

    @property
    def expires_at(self) -> datetime: ...


@dataclass(frozen=True)
class Session:
    """A command's login: who, the token's times, and where the token came from."""

    identity: Identity
    claims: TokenTimes
    stored_in: str


@dataclass(frozen=True)
class Login:
    """A login just made: the new token, its times, and who it is for (as `login` prints them)."""

    token: str
    claims: TokenTimes
    identity: Identity
