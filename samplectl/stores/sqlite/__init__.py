"""The embedded engine: the sample store as plain SQLite tables (stdlib sqlite3), one file.

Every quirk of SQLite stays in this package: the table layout (``schema``), opening the file
privately and read-only when it must be (``connection``), the migration from neosqlite
(``migrate``). Services see only the repositories.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from samplectl.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from samplectl.stores.engines import SampleDatabase
    from samplectl.stores.sqlite.connection import Database


def open_sqlite(path: Path, *, migrate: bool = False) -> SampleDatabase:
    """The store at ``path``, made if missing. ``migrate``: convert an older layout (init); without
    it, an older layout is refused with a hint to run init."""
    from samplectl.stores.engines import SampleDatabase
    from samplectl.stores.sqlite.audit import SqliteAuditLog
    from samplectl.stores.sqlite.batches import SqliteBatchStore
    from samplectl.stores.sqlite.connection import Database, connect
    from samplectl.stores.sqlite.containers import SqliteContainers
    from samplectl.stores.sqlite.samples import SqliteSampleStore

    conn, read_only = connect(path)
    db = Database(conn, str(path), read_only)
    try:
        notices = prepare(db, migrate=migrate)
    except BaseException:
        db.close()
        raise
    samples = SqliteSampleStore(db)
    audit = SqliteAuditLog(samples)
    return SampleDatabase(samples=samples, audit=audit, batches=SqliteBatchStore(samples),
                          kind="embedded", where=str(path), notices=notices, store_id=_store_id(db),
                          closers=[db.close], containers=SqliteContainers(samples, audit))


def prepare(db: Database, *, migrate: bool) -> list[str]:
    """Make sure the file holds this release's tables (one PRAGMA read when it does)."""
    from samplectl.stores.sqlite.schema import SCHEMA_VERSION, schema_statements

    version = _user_version(db)
    if version == SCHEMA_VERSION:
        return []
    # Only now: every command opens the store, and the migration's imports cost `get` ~10 ms.
    from samplectl.stores.sqlite.migrate import is_neosqlite
    from samplectl.stores.sqlite.migrate import migrate as convert

    if 0 < version < SCHEMA_VERSION:
        return _upgrade(db, version)
    if version > SCHEMA_VERSION:
        raise DatabaseUnavailable(
            f"the embedded sample store at {db.where} was written by a newer samplectl (schema {version})",
            hint="upgrade samplectl (pip install -U samplectl)",
        )
    tables = {r[0] for r in db.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and tables and is_neosqlite(db):
        if not migrate:
            raise DatabaseUnavailable(
                f"the embedded sample store at {db.where} is in the layout of samplectl 0.1 and needs migrating",
                hint="run `samplectl init` (it keeps every sample, batch and audit record)",
            )
        if db.read_only:
            raise DatabaseUnavailable(f"cannot migrate the embedded sample store at {db.where}: it is read-only here")
        db.execute("PRAGMA journal_mode=WAL")
        return [convert(db).notice(db.where)]
    if version == 0 and not tables - {"sqlite_sequence"}:
        if db.read_only:
            raise DatabaseUnavailable(
                f"the embedded sample store at {db.where} is empty and read-only here",
                hint="run `samplectl init` where the data directory is writable",
            )
        db.execute("PRAGMA journal_mode=WAL")  # not inside a transaction; it stays with the file
        with db.transaction():
            if _user_version(db) == 0:  # another process may have made it meanwhile
                for statement in schema_statements():
                    db.execute(statement)
                db.execute("INSERT INTO meta (key, value) VALUES ('store_id', ?)", (uuid.uuid4().hex,))
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return []
    raise DatabaseUnavailable(
        f"{db.where} is not a samplectl sample store (tables: {', '.join(sorted(tables))[:100]})",
        hint="point SAMPLECTL_HOME at samplectl's data directory",
    )


def _upgrade(db: Database, version: int) -> list[str]:
    """Bring a store of an earlier layout of these tables up to date, step by step, in one transaction."""
    from samplectl.stores.sqlite.schema import MIGRATIONS, SCHEMA_VERSION

    if db.read_only:
        raise DatabaseUnavailable(
            f"the embedded sample store at {db.where} needs an upgrade (schema {version}) and is read-only here",
            hint="run `samplectl init` where the data directory is writable",
        )
    with db.transaction():
        current = _user_version(db)  # another process may have upgraded it meanwhile
        if current < SCHEMA_VERSION:
            # Said before it starts, on stderr and in the log: a step may rebuild a table (schema 3:
            # ~6 s of CPU per million samples), and a command that goes quiet that long gets killed.
            logging.getLogger(__name__).warning(
                "upgrading the embedded sample store at %s from schema %d to %d, once; on a large store this "
                "takes a while (stopping it leaves the store as it was)", db.where, current, SCHEMA_VERSION)
        for step in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return [] if current == SCHEMA_VERSION else [f"upgraded the embedded sample store at {db.where} "
                                                 f"from schema {current} to {SCHEMA_VERSION}"]


def _store_id(db: Database) -> str | None:
    row = db.one("SELECT value FROM meta WHERE key = 'store_id'")
    return None if row is None else str(row[0])


def _user_version(db: Database) -> int:
    row = db.one("PRAGMA user_version")
    return int(row[0]) if row else 0
