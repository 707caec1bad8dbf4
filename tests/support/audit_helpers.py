"""Helpers for tests of the audit trail: reach the sample database behind the CLI's back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def raw_database() -> Iterator[Any]:
    """The SampleDatabase the CLI would open right now (embedded default, or the wire server).

    In remote mode (tests.remote_support) that is the server's.
    """
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_sample_database
    from tests.remote_support import server_home

    home = server_home()
    database = open_sample_database(load_settings(dict(os.environ), **({} if home is None else {"home": str(home)})))
    try:
        yield database
    finally:
        database.close()


def audit_records() -> list[dict[str, Any]]:
    with raw_database() as database:
        return list(database.audit.walk())


def append_audit(*entries: dict[str, Any]) -> None:
    """Append records as another part of samplectl would (login, user administration)."""
    with raw_database() as database:
        database.audit.append_many(list(entries))


def seed_samples(count: int, **fields: Any) -> None:
    """Create samples the fast way (one transaction / one audit append), as an import would."""
    from datetime import UTC, datetime

    from samplectl.domain.identity import Identity
    from samplectl.services.samples import SampleService, diff
    from samplectl.stores.changes import Change

    with raw_database() as database:
        store = database.samples
        store.ensure_indexes()
        audit = database.audit
        service = SampleService(store=store, audit=audit, identity=Identity("seeder", "admin"), tz=UTC)
        now = service.now()
        changes = []
        for n in range(count):
            record = {"sample_id": f"S-{n:05d}", "sample_type": "blood", "subject_id": "SUBJ-1",
                      "collection_date": datetime(2025, 1, 1, tzinfo=UTC), "status": "collected",
                      "storage_location": "FRZ-1/R1/B1", "created_at": now, "created_by": "seeder",
                      "updated_at": now, "updated_by": "seeder", "version": 1}
            record.update(fields)
            record["sample_id"] = f"{record['sample_id']}"
            entry = service.entry("create", record["sample_id"], diff(None, record), now, None, version=1)
            changes.append(Change(before=None, after=record, entry=entry))
        for start in range(0, len(changes), 500):
            service.changes.apply(changes[start:start + 500])
