"""Import batches: one record per import that wrote samples, and a journal for undoing it.

A batch is ``running`` from just before its first write until it is ``complete``; a batch that
never got there (the process was killed, the server went away) is ``rolled_back`` by the next
import; ``import undo`` makes a complete batch ``undone``. On engines without transactions the
import first copies each sample it is about to overwrite (``--on-conflict update``) into the
journal, so an interrupted batch can be rolled back to exactly what was there before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

RUNNING, COMPLETE, ROLLED_BACK, UNDONE = "running", "complete", "rolled_back", "undone"
# The dates of a batch record (aware UTC datetimes in and out).
BATCH_DATES = ("started_at", "finished_at", "heartbeat_at", "undone_at")


def first_creator(batches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of the complete batches of one file, the first that created samples (else the first).

    A later `--allow-repeat` run that only skipped rows is not the batch to name, nor to undo.
    """
    created = [b for b in batches if (b.get("counts") or {}).get("created")]
    return min(created or batches, key=lambda b: b["started_at"]) if batches else None


class BatchStore(Protocol):
    def ensure_indexes(self) -> list[str]: ...
    def start(self, batch: Mapping[str, Any]) -> None: ...
    def update(self, batch_id: str, **fields: Any) -> None: ...

    def forget(self, batch_id: str) -> None:
        """Remove the record of a batch that wrote nothing (an import that was not one after all)."""
        ...

    def get(self, batch_id: str) -> dict[str, Any] | None: ...

    def completed_with_sha256(self, sha256: str) -> dict[str, Any] | None:
        """The batch to name for a file imported before: see ``first_creator``."""
        ...

    def running(self) -> list[dict[str, Any]]: ...
    def recent(self, limit: int) -> list[dict[str, Any]]: ...

    def keep_before(self, batch_id: str, records: list[dict[str, Any]]) -> None:
        """Copy samples about to be overwritten by this batch (each at its current version)."""
        ...

    def kept_before(self, batch_id: str) -> Iterator[dict[str, Any]]: ...
