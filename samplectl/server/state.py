"""What a server process holds for its whole life, and the services it builds for each request.

The sample database is opened once per worker thread (an embedded SQLite connection belongs to one
thread; a MongoClient is shared, it pools connections itself); the token look-up connection likewise.
Services are built per request by the one service factory (``services.factory``), as the command
line's AppContext builds them per command; the server only says where the connections come from and
that its audit records name the client.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from samplectl.config import Settings
from samplectl.domain.identity import Identity
from samplectl.services.accounts import AccountService
from samplectl.services.audit import AuditService
from samplectl.services.batchundo import BatchUndo
from samplectl.services.factory import IdentitySource, ServiceFactory, nobody
from samplectl.services.importing import ImportService
from samplectl.services.samples import SampleService
from samplectl.services.storage import StorageService
from samplectl.stores.audit import AuditLog
from samplectl.stores.engines import SampleDatabase, open_sample_database
from samplectl.stores.samples import SampleStore
from samplectl.stores.user_lookup import IdentityLookup
from samplectl.stores.userdb import UsersDatabase, locate_users_database
from samplectl.stores.users import UserStore, open_user_store


@dataclass
class ServerState:
    settings: Settings
    _local: threading.local = field(default_factory=threading.local)
    _shared: SampleDatabase | None = None
    _user_store: UserStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _opened: list[Any] = field(default_factory=list)

    # -- connections ------------------------------------------------------------------------
    @property
    def users_database(self) -> UsersDatabase:
        return locate_users_database(self.settings)

    def database(self) -> SampleDatabase:
        if not self.settings.embedded:
            with self._lock:
                if self._shared is None:
                    self._shared = open_sample_database(self.settings)
                    self._opened.append(self._shared)
                return self._shared
        database = getattr(self._local, "database", None)
        if database is None:
            database = self._local.database = open_sample_database(self.settings)
            with self._lock:
                self._opened.append(database)
        return database

    def lookup(self) -> IdentityLookup:
        """This thread's read-only connection for checking tokens (opened on first use)."""
        lookup = getattr(self._local, "lookup", None)
        if lookup is None:
            lookup = IdentityLookup(self.users_database, self.settings.server_timeout_ms).__enter__()
            self._local.lookup = lookup
            with self._lock:
                self._opened.append(lookup)
        return lookup

    def forget_lookup(self) -> None:
        """After a failed look-up: the next request reconnects (the database may be back)."""
        lookup = getattr(self._local, "lookup", None)
        self._local.lookup = None
        if lookup is not None:
            lookup.__exit__(None, None, None)

    def release_thread(self) -> None:
        """Close what this thread opened: for threads that end (an export's), not the worker pool's."""
        database = getattr(self._local, "database", None)
        self._local.database = None
        if database is not None:
            with self._lock:
                if database in self._opened:
                    self._opened.remove(database)
            database.close()

    def user_store(self) -> UserStore:
        with self._lock:
            if self._user_store is None:
                self._user_store = open_user_store(self.users_database, self.settings.server_timeout_ms)
            return self._user_store

    def close(self) -> None:
        with self._lock:
            for opened in self._opened:
                if isinstance(opened, IdentityLookup):
                    opened.__exit__(None, None, None)
                else:
                    opened.close()
            self._opened.clear()
            if self._user_store is not None:
                self._user_store.close()
                self._user_store = None

    # -- services ---------------------------------------------------------------------------
    def factory(self, identity: Identity | None, client: Mapping[str, Any] | None) -> RequestFactory:
        """The one service factory, for one request: as ``identity``, on this process's connections."""
        return RequestFactory(self.settings, identity_source=_acting(identity), server=self, client=client)

    def sample_store(self) -> SampleStore:
        return self.database().samples

    def sample_service(self, identity: Identity, client: Mapping[str, Any] | None) -> SampleService:
        return self.factory(identity, client).sample_service()

    def audit_service(self, identity: Identity) -> AuditService:
        return self.factory(identity, None).audit_service()

    def import_service(self, identity: Identity, client: Mapping[str, Any] | None) -> ImportService:
        return self.factory(identity, client).import_service()

    def batch_undo(self, identity: Identity, client: Mapping[str, Any] | None) -> BatchUndo:
        return self.factory(identity, client).batch_undo()

    def storage_service(self, identity: Identity, client: Mapping[str, Any] | None) -> StorageService:
        return self.factory(identity, client).storage_service()

    def account_service(self, actor: Identity | None, client: Mapping[str, Any] | None) -> AccountService:
        return self.factory(actor, client).account_service(logged_in=actor is not None)


def _acting(identity: Identity | None) -> IdentitySource:
    if identity is None:
        return nobody
    return lambda: identity


class RequestFactory(ServiceFactory):
    """The service factory as the server uses it: connections from the process (not opened per
    request, not closed with it), and an audit trail that names the request's client."""

    def __init__(self, settings: Settings, *, identity_source: IdentitySource, server: ServerState,
                 client: Mapping[str, Any] | None) -> None:
        super().__init__(settings, identity_source=identity_source)
        self.server = server
        self.client = client

    @property
    def database(self) -> SampleDatabase:
        return self.server.database()

    def user_store(self) -> UserStore:
        return self.server.user_store()

    def audit_fields(self) -> dict[str, Any]:
        """Every record written through the server also names the client (hashed with the rest)."""
        return {"client": dict(self.client)} if self.client else {}

    def audit_log(self, store: SampleStore | None = None) -> AuditLog:
        audit = self.database.audit
        fields = self.audit_fields()
        return audit.with_fields(**fields) if fields else audit

    def close(self) -> None:
        pass  # the connections belong to the server process
