"""Logging in to and out of the server, and the admins' user management, over HTTP (who is logged in:
``remote.session``).

The password goes to the server (``POST /token``) and only the token comes back; the signing
secret and the users database stay on the server, which checks the token on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from samplectl.domain.accounts import Account
from samplectl.domain.errors import AuthError, SamplectlError
from samplectl.domain.identity import Identity, Login, TokenTimes
from samplectl.remote.client import ApiClient
from samplectl.remote.records import ACCOUNT_TIMES, parse_time, with_times
from samplectl.remote.session import ServerTokenTimes, session_of


def account_of(body: dict[str, Any]) -> Account:
    values = with_times(body, ACCOUNT_TIMES)
    return Account(username=values["username"], role=values["role"], active=bool(values.get("active", True)),
                   created_at=values["created_at"], password_changed_at=values["password_changed_at"],
                   failed_logins=int(values.get("failed_logins") or 0), locked_until=values.get("locked_until"))


def user_path(name: str) -> str:
    return f"/users/{quote(name.strip(), safe='')}"


@dataclass
class RemoteAccountService:
    client: ApiClient
    actor: Identity | None = None
    # Builds a client that presents a given token (login checks the new one; logout revokes one).
    client_for: Any = None

    # -- logging in and out -----------------------------------------------------------------
    def login(self, name: str, password: str) -> Login:
        answer = self.client.json_object("POST", "/token", data={"username": name, "password": password},
                                         keys=("access_token",))
        token = str(answer["access_token"])
        session = session_of(self.client_for(token), "")
        return Login(token, ServerTokenTimes(session.identity.username, parse_time(answer.get("expires_at"))),
                           session.identity)

    def revoke(self, token: str) -> TokenTimes | None:
        """``POST /logout`` with the token: the server ends it for good. None when it was not valid anyway."""
        client = self.client_for(token)
        try:
            session = session_of(client, "")
            client.request("POST", "/logout")
        except AuthError:
            return None
        return session.claims

    # -- user management (admins) -----------------------------------------------------------
    def _actor(self) -> Identity:
        if self.actor is None:
            raise AuthError("not logged in", hint="run samplectl login")
        return self.actor

    def may_manage_users(self) -> None:
        self._actor().require("admin", "managing users")

    def is_self(self, name: str | None) -> bool:
        return name is None or (self.actor is not None and name.strip().lower() == self.actor.username.lower())

    def accounts(self) -> list[Account]:
        self.may_manage_users()
        return [account_of(body) for body in self.client.json("GET", "/users")]

    def add(self, name: str, role: str, password: str) -> Account:
        self.may_manage_users()
        return account_of(self.client.json("POST", "/users", json={"username": name, "role": role,
                                                                   "password": password}))

    def _patch(self, name: str, **changes: Any) -> Account:
        return account_of(self.client.json("PATCH", user_path(name), json=changes))

    def set_active(self, name: str, active: bool) -> Account:
        self.may_manage_users()
        return self._patch(name, active=active)

    def set_role(self, name: str, role: str) -> Account:
        self.may_manage_users()
        return self._patch(name, role=role)

    def unlock(self, name: str) -> Account:
        self.may_manage_users()
        return self._patch(name, unlock=True)

    def set_password(self, name: str | None, new_password: str, current_password: str | None = None) -> Account:
        actor = self._actor()
        target = actor.username if name is None else name
        body: dict[str, Any] = {"new_password": new_password}
        if current_password is not None:
            body["current_password"] = current_password
        answer = self.client.json("POST", f"{user_path(target)}/password", json=body)
        if not isinstance(answer, dict):
            raise SamplectlError("the server did not return the account", hint="see the server's log")
        return account_of(answer)
