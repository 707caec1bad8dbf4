"""How the embedded default (plain SQLite tables) performs through samplectl's own store code.

Prints: one-by-one creates/s through the service (with audit records), get latency and first-page
latency of `list` and of a filter at N stored samples.

Usage: python benchmarks/embedded_store.py [N]     (default 100000; uses a temporary SAMPLECTL_HOME)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def main(n: int) -> None:
    os.environ["SAMPLECTL_HOME"] = tempfile.mkdtemp(prefix="samplectl-bench-")
    from samplectl.config import load_settings
    from samplectl.domain.criteria import Criteria, Sort
    from samplectl.domain.identity import Identity
    from samplectl.services.samples import SampleService
    from samplectl.stores.engines import open_sample_database

    database = open_sample_database(load_settings())
    store = database.samples
    store.ensure_indexes()
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    batch = []
    started = time.perf_counter()
    for i in range(n):
        when = t0 + timedelta(minutes=i)
        batch.append({"sample_id": str(uuid.uuid4()), "sample_type": ("blood", "saliva", "tissue")[i % 3],
                      "subject_id": f"SUBJ-{i % 500:04d}", "collection_date": when, "status": "collected",
                      "storage_location": f"FRZ-{i % 7}/R{i % 20}/B{i % 50}", "created_at": when,
                      "created_by": "bench", "updated_at": when, "updated_by": "bench", "version": 1})
        if len(batch) == 5000:
            store.insert_many(batch)
            batch = []
    store.insert_many(batch)
    print(f"bulk insert_many: {n / (time.perf_counter() - started):,.0f} samples/s ({n:,} samples)")

    service = SampleService(store, database.audit, Identity("bench", "technician"), ZoneInfo("UTC"))
    started = time.perf_counter()
    created = [service.create({"sample_type": "blood", "subject_id": "S", "collection_date": "2025-01-01",
                               "storage_location": "L"})["sample_id"] for _ in range(500)]
    print(f"service.create one by one (with audit): {500 / (time.perf_counter() - started):,.0f} samples/s")

    def median_ms(call, repeat: int = 50) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    print(f"get by id: {median_ms(lambda: store.get(created[7])):.2f} ms median")
    print(f"list first page (50): {median_ms(lambda: list(store.find(Criteria(), Sort(), 50)), 20):.2f} ms median")
    crit = Criteria(subject_ids=("SUBJ-0042",))
    print(f"filter --subject, first page: {median_ms(lambda: list(store.find(crit, Sort(), 50)), 20):.2f} ms median")
    started = time.perf_counter()
    count = sum(1 for _ in store.find(Criteria(), Sort(), None))
    print(f"list --all streaming: {count / (time.perf_counter() - started):,.0f} samples/s")
    database.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
