"""The service factory of remote mode: the same services as ``services.factory``, over HTTP.

Handed out by the service factory when ``server`` is set, so the commands do not change.
It opens no database and reads no signing secret: the token is all it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from samplectl.remote.address import ServerAddress, server_address
from samplectl.remote.client import ApiClient

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.domain.identity import Identity, Session
    from samplectl.remote.accounts import RemoteAccountService
    from samplectl.remote.audit import RemoteAuditService
    from samplectl.remote.imports import RemoteBatchUndo, RemoteImportService
    from samplectl.remote.samples import RemoteSampleService
    from samplectl.remote.storage import RemoteStorageService
    from samplectl.services.importing import Progress
    from samplectl.stores.tokens import CachedToken


@dataclass(frozen=True)
class ServerUsers:
    """Where logins are checked in remote mode: the server (keyring entry and `whoami` name it)."""

    address: ServerAddress
    kind: str = "server"  # not a database on this machine: nothing here to set up with `init`
    path: None = None

    @property
    def key(self) -> str:
        return self.address.url

    @property
    def shown(self) -> str:
        return self.address.url


@dataclass
class RemoteServices:
    settings: Settings
    identity_source: Callable[[], Identity]
    token_source: Callable[[], CachedToken | None] = lambda: None
    _identity: Identity | None = None
    _clients: dict[str | None, ApiClient] | None = None
    _token: CachedToken | None = None

    @property
    def address(self) -> ServerAddress:
        return server_address(self.settings.server or "")

    @property
    def users_database(self) -> ServerUsers:
        return ServerUsers(self.address)

    def client(self, token: CachedToken | None = None, *, anonymous: bool = False) -> ApiClient:
        """A connection presenting ``token`` (by default the one this command runs with)."""
        if token is None and not anonymous:
            token = self._token = self._token or self.token_source()
        key = None if token is None else token.token
        self._clients = self._clients or {}
        if key not in self._clients:
            if not self._clients:  # -v says where the command goes, as a local run names the store it opens
                import logging

                logging.getLogger(__name__).info("through the samplectl server at %s", self.address.url)
            self._clients[key] = ApiClient(
                self.address, token=key, token_from_env=token is not None and token.source == "environment",
                timeout_ms=self.settings.server_timeout_ms, ca_bundle=self.settings.ca_bundle,
            )
        return self._clients[key]

    # -- who --------------------------------------------------------------------------------
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = self.identity_source()
        return self._identity

    def check_token(self, cached: CachedToken) -> Session:
        """The server checks the token (``GET /me``); this command then runs with it."""
        from samplectl.remote.session import session_of

        cached.refuse_if_empty()
        self._token = cached
        return session_of(self.client(cached), cached.where)

    # -- services ---------------------------------------------------------------------------
    def sample_service(self) -> RemoteSampleService:
        from samplectl.remote.samples import RemoteSampleService

        return RemoteSampleService(self.client(), self.identity(), self.settings.tzinfo)

    def storage_service(self) -> RemoteStorageService:
        from samplectl.remote.storage import RemoteStorageService

        return RemoteStorageService(self.client(), self.identity())

    def audit_service(self) -> RemoteAuditService:
        from samplectl.remote.audit import RemoteAuditService

        return RemoteAuditService(self.sample_service())

    def import_service(self, *, progress: Progress | None = None,
                       notify: Callable[[str], None] | None = None) -> RemoteImportService:
        from samplectl.remote.imports import RemoteImportService

        return RemoteImportService(self.client(), self.identity(), self.settings.tzinfo(), progress=progress,
                                   notify=notify)

    def batch_undo(self) -> RemoteBatchUndo:
        from samplectl.remote.imports import RemoteBatchUndo

        return RemoteBatchUndo(self.client(), self.identity())

    def account_service(self, *, logged_in: bool = True) -> RemoteAccountService:
        from samplectl.remote.accounts import RemoteAccountService
        from samplectl.stores.tokens import CachedToken

        def client_for(token: str) -> ApiClient:
            return self.client(CachedToken(token, "login", "login"))

        if not logged_in:
            return RemoteAccountService(self.client(anonymous=True), client_for=client_for)
        return RemoteAccountService(self.client(), actor=self.identity(), client_for=client_for)

    def close(self) -> None:
        for client in (self._clients or {}).values():
            client.close()
        self._clients = None
