"""Storage containers (freezers, racks, boxes, bags) in the ``containers`` collection beside the samples,
and where samples are placed, read from the samples' ``position`` field.

The occupancy rule lives in the samples' unique index on ``position`` (``SampleStore.ensure_indexes``):
whoever writes second gets a duplicate-key error, which the sample store turns into ``PositionTaken``.
On the embedded store every change here is one SQLite transaction with its audit records. On MongoDB
(no multi-document transactions assumed) a move rewrites the samples through the change writer first
(each with its audit record) and renames the containers last, so a move cut short is finished by
running it again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from samplectl.domain.errors import Conflict
from samplectl.domain.storage import SampleMove, prefix_range
from samplectl.stores.audit import AuditLog, embedded_transaction
from samplectl.stores.changes import APPLIED, Change, IntentWriter, TransactionalWriter, writer_for
from samplectl.stores.samples import SampleStore

_DATES = ("created_at",)


class DocumentContainers:
    """The ``ContainerRepository`` of ``services.storage`` on the document stores (neosqlite, MongoDB)."""

    def __init__(self, store: SampleStore, audit: AuditLog,
                 writer: TransactionalWriter | IntentWriter | None = None) -> None:
        self.store, self.audit = store, audit
        self._writer = writer
        self.embedded = store.dialect.name == "embedded"
        self._ready = False

    @property
    def containers(self) -> Any:
        # Looked up on first use: neosqlite creates a table when a collection is first named.
        return self.store.db["containers"]

    @property
    def writer(self) -> TransactionalWriter | IntentWriter:
        if self._writer is None:
            self._writer = writer_for(self.store, self.audit)
        return self._writer

    # -- schema ---------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        guard = self.store._guard
        guard(lambda: self.containers.create_index([("path", 1)], unique=True, name="container_path_unique"))
        guard(lambda: self.containers.create_index([("parent", 1)], name="containers_by_parent"))
        self._ready = True
        return ["container_path_unique", "containers_by_parent", *self.store.ensure_position_index()]

    def ready(self) -> None:
        if not self._ready:
            self.ensure_indexes()

    # -- encoding -------------------------------------------------------------------------
    def _encode(self, container: dict[str, Any]) -> dict[str, Any]:
        doc = dict(container)
        for name in _DATES:
            if doc.get(name) is not None:
                doc[name] = self.store.dialect.encode_date(doc[name])
        return doc

    def _decode(self, doc: dict[str, Any]) -> dict[str, Any]:
        from samplectl.domain.dates import as_utc

        container = {k: v for k, v in doc.items() if k != "_id"}
        for name in _DATES:
            if container.get(name) is not None:
                container[name] = as_utc(self.store.dialect.decode_date(container[name]))
        return container

    # -- reads ----------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any] | None:
        doc = self.store._guard(lambda: self.containers.find_one({"path": path}))
        return None if doc is None else self._decode(doc)

    def within(self, path: str | None) -> list[dict[str, Any]]:
        if path is None:
            docs = self.store._guard(lambda: list(self.containers.find({})))
        else:
            low, high = prefix_range(path + "/")
            docs = self.store._guard(lambda: list(self.containers.find({"path": {"$gte": low, "$lt": high}})))
            top = self.store._guard(lambda: self.containers.find_one({"path": path}))
            docs = ([top] if top is not None else []) + docs
        return [self._decode(d) for d in docs]

    def _position_ranges(self, path: str | None) -> list[tuple[str, str]]:
        if path is None:
            return [("", "\U0010ffff")]
        return [prefix_range(path + ":"), prefix_range(path + "/")]

    def placed(self, path: str | None) -> Iterator[tuple[str, str]]:
        for low, high in self._position_ranges(path):
            if self.embedded:
                # Two columns straight from the expression index's range, not 12,000 JSON documents
                # decoded: `storage free` over a whole freezer reads every placed sample.
                rows = self.store._guard(lambda lo=low, hi=high: self.store.db.db.execute(
                    "SELECT json_extract(data, '$.position'), json_extract(data, '$.sample_id') FROM \"samples\" "
                    "WHERE json_extract(data, '$.position') >= ? AND json_extract(data, '$.position') < ?",
                    (lo, hi)).fetchall())
                yield from rows
            else:
                query = {"position": {"$gte": low, "$lt": high}}
                docs = self.store._guard(
                    lambda q=query: list(self.store.samples.find(q, {"position": 1, "sample_id": 1, "_id": 0})))
                yield from ((d["position"], d["sample_id"]) for d in docs)

    def placed_samples(self, path: str) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for low, high in self._position_ranges(path):
            query = {"position": {"$gte": low, "$lt": high}}
            found = self.store._guard(lambda q=query: self.store.dialect.find_sorted(self.store.samples, q, [], None))
            if found is None:
                found = self.store._guard(lambda q=query: list(self.store.samples.find(q)))
            docs.extend(self.store._decode(d) for d in found)
        return docs

    def occupant(self, position: str) -> str | None:
        return self.store.occupant(position)

    # -- changes --------------------------------------------------------------------------
    def add(self, container: dict[str, Any], entry: dict[str, Any]) -> None:
        self.ready()
        self.audit.ready()
        with self._atomic():
            try:
                self.store._guard(lambda: self.containers.insert_one(self._encode(container)))
            except Exception as exc:
                if self.store.dialect.is_duplicate_key(exc) or self.store.dialect.is_duplicate_key(exc.__cause__ or exc):
                    raise Conflict(f"{container['path']} already exists",
                                   hint="`samplectl storage list` shows the containers") from None
                raise
            self.audit.append(entry)

    def move(self, renames: list[tuple[str, str]], samples: list[SampleMove], entry: dict[str, Any]) -> None:
        self.ready()
        self.audit.ready()
        changes = [Change(before=m.before, after=m.after, entry=m.entry) for m in samples]
        with self._atomic():
            if self.embedded:
                # Inside one transaction: a refused sample rolls every other write back.
                for change in changes:
                    assert change.after is not None and change.before is not None
                    if not self.store.replace_if_version(change.before["sample_id"], change.before["version"],
                                                         change.after):
                        raise Conflict(f"sample {change.sample_id!r} was changed by someone else meanwhile; "
                                       "nothing was moved", hint="run the move again")
                self.audit.append_many([c.entry for c in changes])
            else:
                self.writer.apply(changes)
                refused = [c for c in changes if c.outcome != APPLIED]
                if refused:
                    raise Conflict(f"{refused[0].message}; {len(changes) - len(refused)} of {len(changes)} samples "
                                   "were moved", hint="run the move again to move the rest")
            for old, new in renames:
                parent = new.rpartition("/")[0] or None
                self.store._guard(lambda o=old, n=new, p=parent: self.containers.update_one(
                    {"path": o}, {"$set": {"path": n, "parent": p}}))
            self.audit.append(entry)

    def remove(self, path: str, entry: dict[str, Any]) -> None:
        self.ready()
        self.audit.ready()
        with self._atomic():
            inside = [c["path"] for c in self.within(path) if c["path"] != path]
            occupant = next(iter(self.placed(path)), None)
            if inside or occupant:
                what = f"container {inside[0]}" if inside else f"sample {occupant[1]} at {occupant[0]}"  # type: ignore[index]
                raise Conflict(f"{path} is not empty: it holds {what}", hint="move or remove what is inside first")
            self.store._guard(lambda: self.containers.delete_one({"path": path}))
            self.audit.append(entry)

    def _atomic(self) -> contextlib.AbstractContextManager[None]:
        return embedded_transaction(self.store.db) if self.embedded else contextlib.nullcontext()
