"""The one place services are built: from settings and whoever is acting.

Both front ends use it: the command line (``cli.context.AppContext`` delegates here) and the HTTP
server. Remote mode will swap HTTP-backed implementations in here, so no front end builds a store
or a service itself. Heavy drivers are imported only when a service that needs them is asked for,
which keeps `--help` and the commands that touch no database fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.domain.identity import Identity, Session
    from samplectl.services.accounts import AccountService
    from samplectl.services.audit import AuditService
    from samplectl.services.batchundo import BatchUndo
    from samplectl.services.importing import ImportService, Progress
    from samplectl.services.samples import SampleService
    from samplectl.services.storage import Placer, StorageService
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.batches import BatchStore
    from samplectl.stores.containers import ContainerRepository
    from samplectl.stores.engines import SampleDatabase
    from samplectl.stores.samples import SampleStore
    from samplectl.stores.tokens import CachedToken
    from samplectl.stores.userdb import UsersDatabase
    from samplectl.stores.users import UserStore

# Who is acting, asked for only by services that need it (init and login need nobody).
IdentitySource = Callable[[], "Identity"]


def _ignore(message: str) -> None:
    pass


def nobody() -> Identity:
    from samplectl.domain.identity import not_logged_in

    raise not_logged_in()


def open_services(settings: Settings, identity_source: IdentitySource = nobody,
                  token_source: Callable[[], CachedToken | None] | None = None, *, local: bool = False) -> ServiceFactory:
    """The factory a front end uses: this one, or in remote mode (``server`` set) the HTTP-backed one.

    Remote mode hands out ``samplectl.remote``'s services: the same methods, carried out by the
    server, so the commands do not know which they have. ``local`` keeps the databases even so
    (`init` runs where the database credentials are).
    """
    if settings.remote and not local:
        from samplectl.remote.services import RemoteServices

        remote = RemoteServices(settings, identity_source, token_source or (lambda: None))
        return cast("ServiceFactory", remote)  # duck-typed: every method of ServiceFactory a command uses
    return ServiceFactory(settings, identity_source=identity_source)


@dataclass
class ServiceFactory:
    settings: Settings
    identity_source: IdentitySource = nobody
    _identity: Identity | None = None
    _database: SampleDatabase | None = None
    _user_store: UserStore | None = None

    # -- who ------------------------------------------------------------------------------
    def identity(self) -> Identity:
        """Who acts, resolved once per factory (one command, or one HTTP request)."""
        if self._identity is None:
            self._identity = self.identity_source()
        return self._identity

    @property
    def users_database(self) -> UsersDatabase:
        from samplectl.stores.userdb import locate_users_database

        return locate_users_database(self.settings)

    def check_token(self, cached: CachedToken) -> Session:
        """A login token checked now: signature, expiry, revocation, account (else AuthError, exit 3)."""
        from samplectl.services.sessions import check_session
        from samplectl.stores.user_lookup import IdentityLookup

        with IdentityLookup(self.users_database, self.settings.server_timeout_ms) as lookup:
            return check_session(cached, lookup, self.settings.jwt_secret)

    # -- stores ---------------------------------------------------------------------------
    @property
    def database(self) -> SampleDatabase:
        if self._database is None:
            from samplectl.stores.engines import open_sample_database

            self._database = open_sample_database(self.settings)
        return self._database

    def prepare_sample_database(self) -> SampleDatabase:
        """The sample store as `init` opens it: made, or migrated from an older layout (see its notices)."""
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

    def user_store(self) -> UserStore:
        if self._user_store is None:
            from samplectl.stores.users import open_user_store

            self._user_store = open_user_store(self.users_database, self.settings.server_timeout_ms)
        return self._user_store

    def _store_and_identity(self) -> tuple[SampleStore, Identity]:
        """The sample store and who uses it, in the order that reports the right problem first.

        The embedded store is opened only for someone logged in: opening creates its file, and a
        refused command must leave a fresh machine as it was. A server's URI is checked first: a
        broken setting is the problem to fix, whoever is logged in.
        """
        if self.settings.embedded:
            identity = self.identity()
            return self.sample_store(), identity
        store = self.sample_store()
        return store, self.identity()

    # -- services -------------------------------------------------------------------------
    def sample_service(self) -> SampleService:
        from samplectl.services.samples import SampleService

        store, identity = self._store_and_identity()
        return SampleService(store=store, audit=self.audit_log(store), identity=identity,
                             tz=self.settings.tzinfo(), placer=self.placer())

    def containers(self) -> ContainerRepository:
        containers = self.database.containers
        assert containers is not None, "every engine opens its containers repository"
        return containers

    def placer(self) -> Placer:
        """Where --position and import --fill put samples (storage geometry)."""
        from samplectl.services.storage import Placer

        return Placer(self.containers())

    def audit_fields(self) -> dict[str, Any]:
        """What every audit record this factory's services write carries besides its own fields
        (the server adds the client; a local command adds nothing)."""
        return {}

    def storage_service(self) -> StorageService:
        from samplectl.services.storage import StorageService

        return StorageService(self.containers(), identity=self.identity(), audit_fields=self.audit_fields())

    def audit_service(self) -> AuditService:
        from samplectl.services.audit import AuditService
        from samplectl.stores.changes import writer_for

        store, identity = self._store_and_identity()
        audit = self.audit_log(store)
        return AuditService(store=store, audit=audit, identity=identity, writer=writer_for(store, audit),
                            remembered_head=self.database.remembered_head)

    def import_service(self, *, progress: Progress | None = None,
                       notify: Callable[[str], None] | None = None) -> ImportService:
        """Imports; `progress` and `notify` are how the front end shows rows and warnings as they happen."""
        from samplectl.services.importing import ImportService, NoProgress

        store, identity = self._store_and_identity()
        return ImportService(store=store, audit=self.audit_log(store), batches=self.batch_store(),
                             identity=identity, tz=self.settings.tzinfo(),
                             progress=progress or NoProgress(), notify=notify or _ignore, placer=self.placer())

    def batch_undo(self) -> BatchUndo:
        from samplectl.services.batchundo import BatchUndo

        store, identity = self._store_and_identity()
        return BatchUndo(store, self.audit_log(store), self.batch_store(), identity)

    def account_service(self, *, logged_in: bool = True) -> AccountService:
        """Accounts as the acting user (user management), or as nobody yet (init, login)."""
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
