"""Storage containers in the ``containers`` collection; placements read from the samples' ``position``.

A standalone MongoDB has no multi-document transactions, so a move rewrites the samples through the
change writer first (each with its audit record, the writer's commit point) and renames the containers
last: a move cut short leaves every sample either moved or not, and running it again finishes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from samplectl.domain.errors import Conflict
from samplectl.domain.storage import SampleMove, prefix_range
from samplectl.stores.changes import APPLIED, Change
from samplectl.stores.mongo.audit import MongoAuditLog
from samplectl.stores.mongo.engine import decode_date, encode_date, is_duplicate_key
from samplectl.stores.mongo.samples import MongoSampleStore


class MongoContainers:
    def __init__(self, samples: MongoSampleStore, audit: MongoAuditLog) -> None:
        self.samples, self.audit = samples, audit
        self.guard = samples.guard
        self._ready = False

    @property
    def containers(self) -> Any:
        return self.samples.db["containers"]

    def ensure_indexes(self) -> list[str]:
        self.guard(lambda: self.containers.create_index([("path", 1)], unique=True, name="container_path_unique"))
        self.guard(lambda: self.containers.create_index([("parent", 1)], name="containers_by_parent"))
        self.samples.ensure_ready()  # the unique position index
        self._ready = True
        return ["container_path_unique", "containers_by_parent"]

    def _decode(self, doc: dict[str, Any]) -> dict[str, Any]:
        container = {k: v for k, v in doc.items() if k != "_id"}
        container["created_at"] = decode_date(container["created_at"])
        return container

    # -- reads ----------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any] | None:
        doc = self.guard(lambda: self.containers.find_one({"path": {"$eq": path}}))
        return None if doc is None else self._decode(doc)

    def within(self, path: str | None) -> list[dict[str, Any]]:
        if path is None:
            query: dict[str, Any] = {}
        else:
            low, high = prefix_range(path + "/")
            query = {"$or": [{"path": {"$eq": path}}, {"path": {"$gte": low, "$lt": high}}]}
        return [self._decode(d) for d in self.guard(lambda: list(self.containers.find(query)))]

    @staticmethod
    def _query(path: str | None) -> dict[str, Any]:
        if path is None:
            return {"position": {"$type": "string"}}
        (own_low, own_high), (low, high) = prefix_range(path + ":"), prefix_range(path + "/")
        return {"$or": [{"position": {"$gte": own_low, "$lt": own_high}},
                        {"position": {"$gte": low, "$lt": high}}]}

    def placed(self, path: str | None) -> Iterator[tuple[str, str]]:
        query = self._query(path)
        docs = self.guard(lambda: list(self.samples.samples.find(query, {"position": 1, "sample_id": 1, "_id": 0})))
        yield from ((d["position"], d["sample_id"]) for d in docs)

    def placed_samples(self, path: str) -> list[dict[str, Any]]:
        query = self._query(path)
        return [self.samples.decode(d) for d in self.guard(lambda: list(self.samples.samples.find(query)))]

    def occupant(self, position: str) -> str | None:
        return self.samples.occupants([position]).get(position)

    # -- changes --------------------------------------------------------------------------
    def _prepared(self) -> None:
        if not self._ready:
            self.ensure_indexes()
        self.audit.ready()

    def add(self, container: dict[str, Any], entry: dict[str, Any]) -> None:
        self._prepared()
        doc = dict(container, created_at=encode_date(container["created_at"]))
        try:
            self.guard(lambda: self.containers.insert_one(doc))
        except Exception as exc:
            if is_duplicate_key(exc):
                raise Conflict(f"{container['path']} already exists",
                               hint="`samplectl storage list` shows the containers") from None
            raise
        try:
            self.audit.append(entry)
        except BaseException:
            self.guard(lambda: self.containers.delete_one({"path": {"$eq": container["path"]}}))
            raise

    def move(self, renames: list[tuple[str, str]], samples: list[SampleMove], entry: dict[str, Any]) -> None:
        self._prepared()
        changes = [Change(before=m.before, after=m.after, entry=m.entry) for m in samples]
        self.samples.change_writer(self.audit).apply(changes)
        refused = [c for c in changes if c.outcome != APPLIED]
        if refused:
            raise Conflict(f"{refused[0].message}; {len(changes) - len(refused)} of {len(changes)} samples were "
                           "moved and the containers were not", hint="run the move again to finish it")
        for old, new in renames:
            parent = new.rpartition("/")[0] or None
            self.guard(lambda o=old, n=new, p=parent: self.containers.update_one(
                {"path": {"$eq": o}}, {"$set": {"path": n, "parent": p}}))
        self.audit.append(entry)

    def remove(self, path: str, entry: dict[str, Any]) -> None:
        self._prepared()
        inside = [c["path"] for c in self.within(path) if c["path"] != path]
        occupant = next(iter(self.placed(path)), None)
        if inside or occupant:
            what = f"container {inside[0]}" if inside else f"sample {occupant[1]} at {occupant[0]}"  # type: ignore[index]
            raise Conflict(f"{path} is not empty: it holds {what}", hint="move or remove what is inside first")
        self.guard(lambda: self.containers.delete_one({"path": {"$eq": path}}))
        self.audit.append(entry)
