"""The MongoDB engine: pymongo against MongoDB or any wire-compatible server, and mongomock.

Samples, audit records and import batches are documents in three collections; every quirk of
the driver stays in this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samplectl.stores.engines import SampleDatabase


def mongo_database(db: Any, where: str, client: Any = None) -> SampleDatabase:
    """The repositories over a pymongo-shaped database (a MongoClient's, or mongomock's)."""
    from samplectl.stores.engines import SampleDatabase
    from samplectl.stores.mongo.audit import MongoAuditLog
    from samplectl.stores.mongo.batches import MongoBatchStore
    from samplectl.stores.mongo.containers import MongoContainers
    from samplectl.stores.mongo.samples import MongoSampleStore

    samples = MongoSampleStore(db, where)
    audit = MongoAuditLog(samples)
    closers = [client.close] if client is not None else []
    return SampleDatabase(samples=samples, audit=audit, batches=MongoBatchStore(samples),
                          kind="mongodb", where=where, closers=closers, containers=MongoContainers(samples, audit))


def open_mongodb(uri: str, db_name: str, timeout_ms: int) -> SampleDatabase:
    from samplectl.stores.mongo.engine import connect

    client, db, where = connect(uri, db_name, timeout_ms)
    return mongo_database(db, where, client)
