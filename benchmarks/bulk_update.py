"""How long `update --where` takes to move N samples, each with its own audit record, and what the
audit trail costs: append_many records/s and `audit verify` records/s.

Runs the real command as its own process (`python -m samplectl`), on the embedded default in a
temporary SAMPLECTL_HOME, or on MongoDB when SAMPLECTL_MONGODB_URI is set (a fresh database).

Usage: python benchmarks/bulk_update.py [N]      (default 1000)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime


def seed(n: int) -> None:
    """N samples created through the service's change writer, 500 per transaction / audit append."""
    from samplectl.config import load_settings
    from samplectl.domain.identity import Identity
    from samplectl.services.samples import SampleService, diff
    from samplectl.stores.changes import Change
    from samplectl.stores.engines import open_sample_database

    database = open_sample_database(load_settings())
    store = database.samples
    store.ensure_indexes()
    audit = database.audit
    audit.ensure_indexes()
    service = SampleService(store=store, audit=audit, identity=Identity("bench", "admin"), tz=UTC)
    now = service.now()
    changes = []
    for i in range(n):
        record = {"sample_id": f"B-{i:07d}", "sample_type": "blood", "subject_id": f"SUBJ-{i % 500:04d}",
                  "collection_date": datetime(2025, 1, 1, tzinfo=UTC), "status": "collected",
                  "storage_location": f"FRZ-1/R3/B{i % 50}", "created_at": now, "created_by": "bench",
                  "updated_at": now, "updated_by": "bench", "version": 1}
        entry = service.entry("create", record["sample_id"], diff(None, record), now, None, version=1)
        changes.append(Change(before=None, after=record, entry=entry))
    for start in range(0, n, 500):
        service.changes.apply(changes[start:start + 500])

    started = time.perf_counter()
    entries = [{"user": "bench", "action": "import", "sample_id": f"X-{i}", "at": now,
                "changes": diff(None, changes[i % n].after)} for i in range(20_000)]
    audit.append_many(entries)
    print(f"audit append_many: {20_000 / (time.perf_counter() - started):,.0f} records/s (20,000 in one call)")
    database.close()


def samplectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "samplectl", *args], capture_output=True, text=True, check=False,
                          env=dict(os.environ))


def main(n: int) -> None:
    if os.environ.get("SAMPLECTL_MONGODB_URI"):
        os.environ["SAMPLECTL_MONGODB_DB"] = "bench_" + uuid.uuid4().hex[:8]
        where = "MongoDB " + os.environ["SAMPLECTL_MONGODB_DB"]
    else:
        os.environ["SAMPLECTL_HOME"] = tempfile.mkdtemp(prefix="samplectl-bench-")
        where = "embedded default"
    seed(n)
    started = time.perf_counter()
    moved = samplectl("update", "--where", "--location", "FRZ-1/R3/", "--set-location", "FRZ-4/R1",
                      "--reason", "rack moved", "--yes", "-o", "json")
    wall = time.perf_counter() - started
    assert moved.returncode == 0, moved.stderr
    summary = json.loads(moved.stdout)
    print(f"update --where moved {summary['changed']:,} samples on the {where}: {wall:.2f} s for the whole "
          f"process, {summary['seconds']:.2f} s in the command ({summary['changed'] / summary['seconds']:,.0f} samples/s)")
    started = time.perf_counter()
    verified = samplectl("audit", "verify", "-o", "json")
    wall = time.perf_counter() - started
    report = json.loads(verified.stdout)
    print(f"audit verify: {report['records']:,} records in {wall:.2f} s ({report['records'] / wall:,.0f} records/s), "
          f"ok={report['ok']}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
