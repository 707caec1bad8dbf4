"""GET /metrics in Prometheus' text format: requests by route and status, latency, rows imported, failed logins.

With several workers, uvicorn's processes share one directory of counters (PROMETHEUS_MULTIPROC_DIR,
set by `samplectl serve`), so any worker answers with the whole server's figures.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REQUESTS = Counter("samplectl_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("samplectl_http_request_duration_seconds", "Time to answer a request", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
ROWS_IMPORTED = Counter("samplectl_rows_imported", "Sample rows written by imports (created or updated)")
LOGINS_FAILED = Counter("samplectl_logins_failed", "Failed logins (wrong credentials, locked, disabled, throttled)")


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
