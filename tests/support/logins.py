"""Real logins for the in-process command tests.

Commands in tests resolve who runs them exactly as in production: a token in SAMPLECTL_TOKEN, checked
by the service factory against the users database (signature, expiry, revocation, account, role).
Only the `login` command itself is skipped here (its own tests drive it), so that logging in leaves
no entry in the audit trail the tests read.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

TEST_PASSWORD = "test-pass-123"


def set_up_users() -> None:
    """This test's users database made (as `init` without --admin makes it), with nobody in it."""
    from samplectl.config import load_settings
    from samplectl.services.factory import ServiceFactory

    factory = ServiceFactory(load_settings())
    try:
        if not _copy_template(factory.users_database.path):
            factory.account_service(logged_in=False).set_up()
    finally:
        factory.close()


def issue_token(username: str, role: str) -> str:
    """Make sure `username` exists with `role` in this test's users database; a fresh token for them."""
    from samplectl.config import load_settings
    from samplectl.domain.dates import utc_now
    from samplectl.services import tokens
    from samplectl.services.factory import ServiceFactory
    from samplectl.services.passwords import hash_password

    settings = load_settings()
    factory = ServiceFactory(settings)
    try:
        accounts = factory.account_service(logged_in=False)
        if not _copy_template(factory.users_database.path):
            accounts.set_up()
        store = factory.user_store()
        account = store.get(username)
        if account is None:
            account = store.add(username, hash_password(TEST_PASSWORD, settings.bcrypt_rounds), role, utc_now())
        elif account.role != role:
            store.update(username, role=role)
        token, _ = tokens.issue(username, role, account.password_changed_at, accounts.signing_key(), utc_now(),
                                timedelta(hours=1))
        return token
    finally:
        factory.close()


_template: list[Path] = []


def _copy_template(path: Path | None) -> bool:
    """A new SQLite users database as a copy of one set up once per process (migrating costs ~0.2 s)."""
    if path is None or path.exists():
        return False
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="samplectl-users-template-"))
        saved = os.environ.get("SAMPLECTL_HOME")
        os.environ["SAMPLECTL_HOME"] = str(folder)
        try:
            from samplectl.config import load_settings
            from samplectl.services.factory import ServiceFactory

            factory = ServiceFactory(load_settings())
            factory.account_service(logged_in=False).set_up()
            _template.append(factory.users_database.path or folder / "users.db")
            factory.close()
        finally:
            if saved is None:
                os.environ.pop("SAMPLECTL_HOME")
            else:
                os.environ["SAMPLECTL_HOME"] = saved
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Private from the moment it exists, as samplectl's own files are.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
        copy.write(_template[0].read_bytes())
    return True


@dataclass
class TestLogin:
    """Who the in-process commands of one test run as (None: nobody, the test logs in itself)."""

    username: str | None = "tester"
    role: str = "admin"
    _tokens: dict[tuple[str, ...], str] = field(default_factory=dict)

    def act_as(self, username: str, role: str) -> None:
        self.username, self.role = username, role

    def token(self) -> str | None:
        """The token for the current user, issued when first needed (tests that never log in pay nothing)."""
        if self.username is None:
            return None
        # A test may move to another data directory or users database half-way: a token per place.
        key = (self.username, self.role, os.environ.get("SAMPLECTL_HOME", ""), os.environ.get("SAMPLECTL_DATABASE_URL", ""))
        if key not in self._tokens:
            self._tokens[key] = issue_token(self.username, self.role)
        return self._tokens[key]
