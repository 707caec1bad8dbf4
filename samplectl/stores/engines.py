"""Opening the sample database: the embedded SQLite file by default, MongoDB when configured.

Each engine is a package of its own (``stores.sqlite``, ``stores.mongo``) and is imported only
when it is opened. What the rest of samplectl gets is a ``SampleDatabase``: the three repositories
(samples, audit, batches) and how to close them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from samplectl.config import Settings
from samplectl.stores.audit import AuditLog
from samplectl.stores.batches import BatchStore
from samplectl.stores.containers import ContainerRepository
from samplectl.stores.samples import SampleStore

log = logging.getLogger(__name__)


@dataclass
class SampleDatabase:
    """An open sample database: its repositories and how to close it."""

    samples: SampleStore
    audit: AuditLog
    batches: BatchStore
    kind: str  # "embedded" or "mongodb"
    where: str  # a path, or a masked URI
    notices: list[str] = field(default_factory=list)  # what opening did that a person should know
    store_id: str | None = None  # the store's own id (see stores.identity)
    closers: list[Callable[[], Any]] = field(default_factory=list)
    containers: ContainerRepository | None = None  # storage geometry: freezers, racks, boxes, bags
    remembered_head: tuple[int, str] | None = None  # the audit head the users database remembers (stores.identity)

    def close(self) -> None:
        for close in self.closers:
            # Closing must never mask the real outcome of a command.
            with contextlib.suppress(Exception):
                close()
        self.closers = []


def open_sample_database(settings: Settings, *, migrate: bool = False) -> SampleDatabase:
    """The configured sample store. ``migrate``: bring an older embedded layout up to date (init)."""
    if settings.embedded:
        from samplectl.stores.identity import check, remember_head

        database = open_embedded(settings, migrate=migrate)
        if not migrate:  # init remembers or checks the id itself
            try:
                check(database, settings)
            except BaseException:
                database.close()
                raise
        # First among the closers: the store must still be open to read its head.
        database.closers.insert(0, lambda: remember_head(database, settings))
        return database
    from samplectl.stores.mongo import open_mongodb

    database = open_mongodb(settings.mongodb_uri or "", settings.mongodb_db, settings.server_timeout_ms)
    database.closers.append(lambda: mark_if_written(database, settings))
    return database


def mark_if_written(database: SampleDatabase, settings: Settings) -> None:
    """A command that changed a MongoDB store tells the completion cache, once its writes are done.

    A TAB reads ids, subjects and locations from the cache (``stores.mongo.completion_cache``): one
    read before this write would offer deleted values and miss new ones until it is refreshed.
    """
    if getattr(database.audit, "appended", False):
        from samplectl.stores.mongo.completion_cache import CacheFiles

        CacheFiles.of(settings).mark_written()


def open_embedded(settings: Settings, *, migrate: bool = False) -> SampleDatabase:
    from samplectl.stores.sqlite import open_sqlite

    log.info("opening the embedded sample store at %s", settings.samples_path)
    return open_sqlite(settings.samples_path, migrate=migrate)
