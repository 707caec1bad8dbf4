"""Lab accounts: setting up the users database, logging in, and the admins' user management.

Every login, failed login and change to an account is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from samplectl import __version__
from samplectl.config import Settings
from samplectl.domain.accounts import Account, check_new_password, check_role, check_username
from samplectl.domain.dates import iso_z, utc_now
from samplectl.domain.errors import AuthError, Conflict, NotFound, ValidationFailed
from samplectl.domain.identity import Identity, Login
from samplectl.services import tokens
from samplectl.services.passwords import check_rounds, hash_password, rounds_of, spend_time, verify_password
from samplectl.services.tokens import Claims
from samplectl.stores.audit import AuditLog
from samplectl.stores.users import INSTANCE_ID, SIGNING_SECRET, UserStore

WRONG_CREDENTIALS = "wrong username or password"
UNKNOWN_USER = "(unknown)"  # the audit's user for a failed login under no known name; no username looks like it


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class AccountService:
    store: UserStore
    settings: Settings
    audit: Callable[[], AuditLog]  # opened only when something is recorded
    actor: Identity | None = None  # who is logged in; None for init and login
    clock: Callable[[], datetime] = utc_now

    # -- audit ------------------------------------------------------------------------------
    def _record(self, action: str, user: str, *, account: str | None = None,
                changes: dict[str, Any] | None = None, reason: str | None = None, at: datetime | None = None) -> None:
        # Times inside changes are kept as JSON prints them, as sample changes are.
        plain = {name: {side: iso_z(value) if isinstance(value, datetime) else value for side, value in change.items()}
                 for name, change in (changes or {}).items()}
        entry: dict[str, Any] = {"at": at or self.clock(), "user": user, "action": action, "sample_id": None,
                                 "changes": plain, "reason": reason, "samplectl_version": __version__}
        if account is not None:
            entry["account"] = account
        self.audit().append(entry)

    def _change(self, action: str, account: str, changes: dict[str, Any], at: datetime) -> None:
        assert self.actor is not None
        self._record(action, self.actor.username, account=account, changes=changes, at=at)

    # -- setting up -------------------------------------------------------------------------
    def set_up(self) -> tuple[str, bool]:
        """Create or migrate the schema; keep an instance id and, unless given, a signing secret.

        Returns the schema revision and whether a signing secret was generated now.
        """
        revision = self.store.migrate()
        self.store.ensure_setting(INSTANCE_ID, tokens.new_instance_id)
        generated = False
        if not self.settings.jwt_secret:
            generated = self.store.ensure_setting(SIGNING_SECRET, tokens.new_secret)
        return revision, generated

    def existing_first_admin(self, name: str) -> Account | None:
        """The account when `init --admin NAME` has nothing to do; None when it should be created.

        Refuses to create a second "first" admin: once an admin exists, admins add users.
        """
        existing = self.store.get(check_username(name))
        if existing is not None:
            if existing.role != "admin":
                raise Conflict(f"user {existing.username!r} already exists with the role {existing.role}",
                               hint=f"an admin can change it: samplectl users set-role {existing.username} admin")
            return existing
        admins = self.store.active_admins()
        if admins:
            raise Conflict(f"this users database already has an admin ({', '.join(sorted(admins))})",
                           hint="an admin adds users: samplectl users add NAME --role admin")
        return None

    def create_first_admin(self, name: str, password: str) -> Account:
        account = self._create(check_username(name), "admin", password)
        self._record("user_add", account.username, account=account.username, at=account.created_at,
                     changes={"role": {"before": None, "after": "admin"}}, reason="first admin, by samplectl init")
        return account

    def _create(self, name: str, role: str, password: str) -> Account:
        check_new_password(password)
        password_hash = hash_password(password, self.settings.bcrypt_rounds)
        return self.store.add(name, password_hash, role, self.clock())

    # -- logging in and out -----------------------------------------------------------------
    def signing_key(self) -> tokens.SigningKey:
        return tokens.signing_key(self.settings.jwt_secret, self.store.settings(), self.store.database.shown)

    def login(self, name: str, password: str) -> Login:
        now = self.clock()
        rounds = check_rounds(self.settings.bcrypt_rounds)
        key = self.signing_key()  # before any password work: an unset-up database says so plainly
        try:
            account = self.store.get(check_username(name))
        except ValidationFailed:
            account = None
        if account is None:
            spend_time(password, rounds)
            # The name typed is not recorded: people sometimes type their password there.
            self._record("login_failed", UNKNOWN_USER, reason="unknown username", at=now)
            raise AuthError(WRONG_CREDENTIALS, hint="check both and try again")
        # The attempt is counted before the password is checked: guesses started together cannot
        # all be checked before the first of them is counted (the lockout would then not hold).
        reserved = self.store.reserve_attempt(account.username, now, self.settings.lockout_attempts,
                                              timedelta(minutes=self.settings.lockout_minutes))
        if reserved is None:
            spend_time(password, rounds)
            self._record("login_failed", account.username, reason="account locked", at=now)
            locked = self.store.get(account.username) or account
            until = _when(locked.locked_until) if locked.locked_until else "later"
            raise AuthError(
                f"account {account.username!r} is locked until {until} after too many failed logins",
                hint=f"wait, or ask a lab admin: samplectl users unlock {account.username}",
            )
        if not verify_password(password, account.password_hash):
            reason = "wrong password"
            if reserved.locked(now):
                assert reserved.locked_until is not None
                reason += f"; locked until {_when(reserved.locked_until)}"
            self._record("login_failed", account.username, reason=reason, at=now)
            raise AuthError(WRONG_CREDENTIALS, hint="check both and try again")
        if not account.active:
            self._record("login_failed", account.username, reason="account disabled", at=now)
            raise AuthError(f"account {account.username!r} is disabled",
                            hint=f"ask a lab admin: samplectl users enable {account.username}")
        fresh: dict[str, Any] = {"failed_logins": 0, "locked_until": None}  # the reserved attempt succeeded
        if rounds_of(account.password_hash) < rounds:
            # Raise the cost of hashes made cheaper than configured (e.g. by an old setting).
            fresh["password_hash"] = hash_password(password, rounds)
        self.store.update(account.username, **fresh)
        token, claims = tokens.issue(account.username, account.role, account.password_changed_at, key, now,
                                     timedelta(hours=self.settings.token_lifetime_hours))
        self._record("login", account.username, at=now)
        return Login(token, claims, Identity(account.username, account.role))

    def _fail(self, account: Account, now: datetime) -> None:
        updated = self.store.record_failure(account.username, now, self.settings.lockout_attempts,
                                            timedelta(minutes=self.settings.lockout_minutes))
        reason = "wrong password"
        if updated is not None and updated.locked(now):
            assert updated.locked_until is not None
            reason += f"; locked until {_when(updated.locked_until)}"
        self._record("login_failed", account.username, reason=reason, at=now)

    def revoke(self, token: str) -> Claims | None:
        """End a login for good (logout). An expired or invalid token needs no revoking: None."""
        try:
            claims = tokens.read(token, self.signing_key())
        except AuthError:
            return None
        self.store.revoke(claims.jti, claims.sub, claims.expires_at, self.clock())
        return claims

    # -- user management (admins) -----------------------------------------------------------
    def _admin(self, action: str) -> Identity:
        if self.actor is None:
            raise AuthError("not logged in", hint="run samplectl login")
        self.actor.require("admin", action)
        return self.actor

    def may_manage_users(self) -> None:
        """Refuse (4) unless an admin runs this: checked before a password is asked for."""
        self._admin("managing users")

    def _target(self, name: str) -> Account:
        account = self.store.get(name.strip())
        if account is None:
            raise NotFound(f"no user named {name.strip()!r}", hint="`samplectl users list` shows the users")
        return account

    def _keep_an_admin(self, account: Account, what: str, **values: Any) -> None:
        """Apply ``values`` to the account unless that would leave no active admin (checked and done in one step)."""
        changed = (self.store.update_keeping_an_admin(account.username, **values)
                   if account.role == "admin" and account.active else self.store.update(account.username, **values))
        if not changed:
            raise Conflict(f"{what} would leave no active admin",
                           hint="make another user admin first: samplectl users set-role NAME admin")

    def accounts(self) -> list[Account]:
        self._admin("listing users")
        return self.store.accounts()

    def add(self, name: str, role: str, password: str) -> Account:
        actor = self._admin("managing users")
        account = self._create(check_username(name), check_role(role), password)
        self._record("user_add", actor.username, account=account.username, at=account.created_at,
                     changes={"role": {"before": None, "after": account.role}})
        return account

    def set_active(self, name: str, active: bool) -> Account:
        self._admin("managing users")
        account = self._target(name)
        if account.active == active:
            return account
        now = self.clock()
        if active:
            self.store.update(account.username, active=True)
        else:
            self._keep_an_admin(account, f"disabling {account.username}", active=False)
            # Every login made so far ends for good: enabling the account later does not revive them.
            self.store.end_sessions(tokens.sessions_key(account.username), account.username, now,
                                    tokens.LONGEST_LIFETIME)
        self._change("user_enable" if active else "user_disable", account.username,
                     {"active": {"before": account.active, "after": active}}, now)
        return self._target(account.username)

    def set_role(self, name: str, role: str) -> Account:
        self._admin("managing users")
        role = check_role(role)
        account = self._target(name)
        if account.role == role:
            return account
        now = self.clock()
        if role != "admin":
            self._keep_an_admin(account, f"making {account.username} {role}", role=role)
        else:
            self.store.update(account.username, role=role)
        self._change("user_set_role", account.username, {"role": {"before": account.role, "after": role}}, now)
        return self._target(account.username)

    def unlock(self, name: str) -> Account:
        self._admin("managing users")
        account = self._target(name)
        now = self.clock()
        self.store.update(account.username, failed_logins=0, locked_until=None)
        self._change("user_unlock", account.username, {
            "failed_logins": {"before": account.failed_logins, "after": 0},
            "locked_until": {"before": account.locked_until, "after": None}}, now)
        return self._target(account.username)

    def is_self(self, name: str | None) -> bool:
        return name is None or (self.actor is not None and name.strip().lower() == self.actor.username.lower())

    def set_password(self, name: str | None, new_password: str, current_password: str | None = None) -> Account:
        """Anyone changes their own password (giving the current one); admins reset anyone's.

        Every login made with the old password stops working at once (see services.sessions).
        """
        if self.actor is None:
            raise AuthError("not logged in", hint="run samplectl login")
        if self.is_self(name):
            account = self._target(self.actor.username)
            if current_password is None or not verify_password(current_password, account.password_hash):
                self._fail(account, self.clock())
                raise AuthError("the current password is wrong", hint="check it and try again")
        else:
            assert name is not None
            self._admin("setting another user's password")
            account = self._target(name)
        check_new_password(new_password)
        now = self.clock()
        # An admin's reset also lifts a lock: the usual reason for a reset is a locked-out colleague.
        self.store.update(account.username, password_hash=hash_password(new_password, self.settings.bcrypt_rounds),
                          password_changed_at=now, failed_logins=0, locked_until=None)
        self._change("user_passwd", account.username,
                     {"password_changed_at": {"before": account.password_changed_at, "after": now}}, now)
        return self._target(account.username)
