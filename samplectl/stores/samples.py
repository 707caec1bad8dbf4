"""The samples repository: what the services ask of a sample store, whatever the engine.

Two engines implement it: ``stores.sqlite`` (the embedded default, plain SQLite tables) and
``stores.mongo`` (pymongo against MongoDB or a wire-compatible server, and mongomock in tests).
Records go in and come out as plain dicts of the sample's fields, dates as aware UTC datetimes.
Ids are opaque text, compared exactly on every engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from samplectl.domain.criteria import Criteria, Sort

if TYPE_CHECKING:
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.changes import ChangeWriter

# The dates of a stored sample (the engines encode them, each in its own way).
DATE_FIELDS = ("collection_date", "created_at", "updated_at")


class ImportCreator(Protocol):
    """Writes an import's new samples together with their audit records, the quick way an engine has."""

    def create(self, samples: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``samples`` (new, checked) and append one audit record each; how many were written."""
        ...


class SampleStore(Protocol):
    """Samples keyed by ``sample_id``."""

    kind: str  # "embedded" or "mongodb": for messages, never for branching outside the engines
    where: str  # where the store is, as shown to people (a path, a masked URI)

    # -- schema -----------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        """Create what every query relies on; safe to run again. Returns the index names."""
        ...

    def ensure_ready(self) -> None:
        """Before a write: what ``ensure_indexes`` makes, if nobody ran `samplectl init` yet."""
        ...

    # -- reads ------------------------------------------------------------------------------
    def get(self, sample_id: str) -> dict[str, Any] | None: ...
    def count(self, criteria: Criteria) -> int: ...

    def values(self, field: str, prefix: str, limit: int) -> list[str]:
        """Distinct stored values of a completable field starting with ``prefix`` (see ``stores.values``)."""
        ...

    def find(self, criteria: Criteria, sort: Sort, limit: int | None = None,
             after: str | None = None) -> Iterator[dict[str, Any]]:
        """Matching samples in ``sort`` order, ties by ``sample_id``; ``after`` continues past that
        sample (keyset paging: a sample id from the previous page)."""
        ...

    def stream(self, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every matching sample in the store's own order: the fastest way to read them all."""
        ...

    def cells(self, criteria: Criteria, sort: Sort | None, fields: Sequence[str]) -> Iterator[Sequence[Any]]:
        """Each matching sample's CSV cells for ``fields`` (``domain.csvcells.sample_cells``: what an
        export writes), in ``sort`` order or, without one, the order of ``stream``."""
        ...

    def existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored samples among ``sample_ids``, by id."""
        ...

    def find_by_batch(self, batch_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every sample an import batch created, in id order."""
        ...

    def occupants(self, positions: list[str]) -> dict[str, str]:
        """Which sample holds each of ``positions`` (BOX:SLOT; those held), by position."""
        ...

    # -- writes -----------------------------------------------------------------------------
    def insert(self, record: Mapping[str, Any]) -> None:
        """Store a new sample; Conflict (7) when the id exists, PositionTaken (7) when its position is held."""
        ...

    def insert_many(self, records: Iterable[Mapping[str, Any]]) -> int: ...

    def replace_if_version(self, sample_id: str, version: int, record: Mapping[str, Any]) -> bool:
        """Write ``record`` only if the stored sample still has ``version``; False if it changed."""
        ...

    def delete_if_version(self, sample_id: str, version: int) -> bool: ...

    def finish_pending(self, marker_id: str) -> None:
        """Drop the ``pending`` marker ``marker_id`` from the samples that carry it (engines without
        transactions mark an import's new samples until their audit records are written)."""
        ...

    def delete_unchanged(self, sample_ids: list[str]) -> int:
        """Delete those of ``sample_ids`` still at version 1 (nobody changed them since)."""
        ...

    # -- bulk work and consistency ----------------------------------------------------------
    def check_integrity(self) -> None:
        """DatabaseUnavailable (8) if the engine finds its own files damaged (what `audit verify` also checks)."""
        ...

    @property
    def atomic(self) -> bool:
        """True when ``transaction()`` makes everything inside it all-or-nothing."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing where the engine has transactions; a plain block where it has not."""
        ...

    def bulk_load(self, incoming: int, *, lookups: bool = True) -> AbstractContextManager[None]:
        """Around a load of ``incoming`` samples (inside ``transaction``): index upkeep may wait.
        ``lookups`` False: the caller finds no sample by id meanwhile, so even the id index may wait
        (into an empty store; a repeated id is then a Conflict at the end of the load)."""
        ...

    def change_writer(self, audit: AuditLog) -> ChangeWriter:
        """How this engine writes a sample change and its audit record together."""
        ...

    def import_creator(self, audit: AuditLog, entry: Mapping[str, Any], record: Mapping[str, Any],
                       changes: Callable[[Mapping[str, Any]], dict[str, Any]]) -> ImportCreator | None:
        """How this engine writes an import's new samples with their audit records at once, if it has
        a way quicker than ``insert_many`` and ``append_many``: ``entry`` is what the batch's audit
        entries share, ``record`` what each new sample's record adds to its fields, ``changes`` a new
        sample's changes. None: the caller writes them the general way."""
        ...
