"""A sample writer run as its own process by the concurrency tests: creates N samples, printing each id.

Usage: python -m tests.integration.writer PREFIX N
"""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

from samplectl.config import load_settings
from samplectl.domain.identity import Identity
from samplectl.services.samples import SampleService
from samplectl.stores.engines import open_sample_database


def main(prefix: str, count: int) -> None:
    database = open_sample_database(load_settings())
    service = SampleService(database.samples, database.audit, Identity(prefix, "technician"), ZoneInfo("UTC"))
    for i in range(count):
        sample_id = f"{prefix}-{i:05d}"
        service.create({"sample_id": sample_id, "sample_type": "blood", "subject_id": prefix,
                        "collection_date": "2025-01-01T00:00:00Z", "storage_location": "FRZ-1"})
        # Only ids printed here were acknowledged by the store.
        sys.stdout.write(sample_id + "\n")
        sys.stdout.flush()
    database.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
