"""What every command needs, built lazily: settings, streams, identity, stores and services.

Commands ask this object for what they use, so heavy drivers are imported only by the commands
that touch a database, and tests swap streams and settings in one place.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from samplectl.domain.errors import UsageError

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.domain.identity import Identity
    from samplectl.services.accounts import AccountService
    from samplectl.services.samples import SampleService
    from samplectl.services.sessions import Session
    from samplectl.services.storage import StorageService
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.batches import BatchStore
    from samplectl.stores.containers import ContainerRepository
    from samplectl.stores.engines import SampleDatabase
    from samplectl.stores.samples import SampleStore
    from samplectl.stores.tokens import TokenCache
    from samplectl.stores.userdb import UsersDatabase
    from samplectl.stores.users import UserStore


def _forced_tty() -> set[str]:
    # Like gh's GH_FORCE_TTY: lets tests and pagers ask for terminal behaviour on a pipe.
    return {s.strip() for s in os.environ.get("SAMPLECTL_FORCE_TTY", "").split(",") if s.strip()}


@dataclass
class IOStreams:
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)

    def _isatty(self, name: str, stream: IO[str]) -> bool:
        if name in _forced_tty():
            return True
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_is_tty(self) -> bool:
        return self._isatty("stdin", self.stdin)

    @property
    def stdout_is_tty(self) -> bool:
        return self._isatty("stdout", self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return self._isatty("stderr", self.stderr)


@dataclass
class AppContext:
    debug: bool = False
    verbose: int = 0
    quiet: bool = False
    no_color: bool = False
    io: IOStreams = field(default_factory=IOStreams)
    output: str | None = None  # the format the running command prints in, once chosen
    _settings: Settings | None = None
    _session: Session | None = None
    _database: SampleDatabase | None = None
    _user_store: UserStore | None = None

    # -- presentation ---------------------------------------------------------------------
    def color(self, stream: str = "stdout") -> bool:
        if self.no_color or os.environ.get("NO_COLOR"):
            return False
        return self.io.stdout_is_tty if stream == "stdout" else self.io.stderr_is_tty

    def choose_output(self, requested: str | None) -> str:
        """-o wins; otherwise a table for a terminal and JSON for a pipe."""
        fmt = requested or ("table" if self.io.stdout_is_tty else "json")
        self.output = fmt
        return fmt

    @property
    def wants_json_errors(self) -> bool:
        return self.output in ("json", "jsonl") or not self.io.stdout_is_tty

    def say(self, message: str) -> None:
        """A message for the person at the terminal (stderr), unless --quiet."""
        if not self.quiet:
            self.io.stderr.write(message + "\n")

    def warn(self, message: str) -> None:
        self.io.stderr.write(("\x1b[33mwarning:\x1b[0m " if self.color("stderr") else "warning: ") + message + "\n")

    def require_terminal_or(self, flag: str, action: str) -> None:
        if not self.io.stdin_is_tty:
            raise UsageError(f"{action} needs {flag} when stdin is not a terminal", hint=f"add {flag}")

    # -- configuration and identity -------------------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from samplectl.config import load_settings

            self._settings = load_settings()
        return self._settings

    def identity(self) -> Identity:
        """Who runs this command. The one place identity is resolved: see session()."""
        return self.session().identity

    def session(self) -> Session:
        """The login token checked now: signature, expiry, algorithm, revocation, account (else exit 3)."""
        if self._session is None:
            from samplectl.services.sessions import check_session, not_logged_in
            from samplectl.stores.user_lookup import IdentityLookup

            cache = self.token_cache()
            cached = cache.load()
            if cached is None:
                raise not_logged_in(None if cache.no_keyring else cache.problem)
            with IdentityLookup(self.users_database, self.settings.server_timeout_ms) as lookup:
                self._session = check_session(cached, lookup, self.settings.jwt_secret)
        return self._session

    @property
    def users_database(self) -> UsersDatabase:
        from samplectl.stores.userdb import locate_users_database

        return locate_users_database(self.settings)

    def token_cache(self) -> TokenCache:
        from samplectl.stores.tokens import TokenCache

        return TokenCache(self.users_database.key, self.settings.home, env_token=self.settings.token)

    # -- stores and services --------------------------------------------------------------
    @property
    def database(self) -> SampleDatabase:
        if self._database is None:
            from samplectl.stores.engines import open_sample_database

            self._database = open_sample_database(self.settings)
        return self._database

    def prepare_sample_database(self) -> SampleDatabase:
        """The sample store opened by `init`: made, or migrated from an older layout (see its notices)."""
        from samplectl.stores.engines import open_sample_database

        if self._database is not None:
            self._database.close()
        self._database = open_sample_database(self.settings, migrate=True)
        return self._database

    def sample_store(self) -> SampleStore:
        return self.database.samples

    def audit_log(self, store: SampleStore | None = None) -> AuditLog:
        return self.database.audit

    def batch_store(self) -> BatchStore:
        return self.database.batches

    def sample_service(self) -> SampleService:
        from samplectl.services.samples import SampleService
        from samplectl.services.storage import Placer

        store = self.sample_store()
        return SampleService(store=store, audit=self.audit_log(store), identity=self.identity(),
                             tz=self.settings.tzinfo(), placer=Placer(self.container_repository()))

    def container_repository(self) -> ContainerRepository:
        containers = self.database.containers
        assert containers is not None, "every engine opens its containers repository"
        return containers

    def storage_service(self) -> StorageService:
        from samplectl.services.storage import StorageService

        return StorageService(self.container_repository(), identity=self.identity())

    def user_store(self) -> UserStore:
        if self._user_store is None:
            from samplectl.stores.users import open_user_store

            self._user_store = open_user_store(self.users_database, self.settings.server_timeout_ms)
        return self._user_store

    def account_service(self, *, logged_in: bool = True) -> AccountService:
        """Accounts as the logged-in user (user management), or as nobody yet (init, login)."""
        from samplectl.services.accounts import AccountService

        actor = self.identity() if logged_in else None
        return AccountService(store=self.user_store(), settings=self.settings, audit=self.audit_log,
                              actor=actor)

    def close(self) -> None:
        if self._user_store is not None:
            self._user_store.close()
            self._user_store = None
        if self._database is not None:
            self._database.close()
            self._database = None
