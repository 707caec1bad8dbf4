"""CSV files and results for the import and export tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HEADER = "sample_id,sample_type,subject_id,collection_date,status,storage_location"
# What export writes: every column import reads, position (storage geometry) included.
EXPORT_HEADER = HEADER + ",position"
SUMMARY_KEYS = {"batch_id", "read", "created", "updated", "skipped", "rejected", "seconds"}


def row(i: int, **over: Any) -> str:
    values = {"sample_id": f"S-{i:04d}", "sample_type": "blood", "subject_id": f"SUBJ-{i % 7}",
              "collection_date": f"2025-01-{1 + i % 28:02d}T08:30:00Z", "status": "collected",
              "storage_location": f"FRZ-1/R{i % 5}/B{i}"}
    values.update(over)
    return ",".join(values[k] for k in HEADER.split(","))


def write(path: Path, lines: list[str], *, newline: str = "\n", encoding: str = "utf-8") -> Path:
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def stored(store: Any) -> dict[str, dict[str, Any]]:
    from samplectl.domain.criteria import Criteria, Sort

    return {r["sample_id"]: r for r in store.find(Criteria(), Sort("sample_id", False), None)}


def summary(outcome: Any) -> dict[str, Any]:
    data = json.loads(outcome.stdout)
    assert set(data) >= SUMMARY_KEYS
    return data


def envelope(outcome: Any) -> dict[str, Any]:
    return json.loads(outcome.stderr.strip().splitlines()[-1])["error"]
