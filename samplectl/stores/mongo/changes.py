"""MongoDB: a sample change and its audit record without multi-document transactions.

A change stands only if its audit record exists. No multi-document transaction is assumed (a
standalone server has none), so every change goes through three steps, the audit record being
the commit point:

  1. *prepare*: mark each sample document the change touches with ``pending`` =
     ``{_id: <audit record id>, at, role, after}``, conditional on the version read and on no other
     change being pending. Role ``update`` keeps the visible fields and carries the new state in
     ``after``; role ``delete`` keeps the document; role ``insert`` is a new document (a create, or
     the new id of a rename), which is visible from here on.
  2. *commit*: append the audit record (its ``_id`` is the marker's ``_id``).
  3. *finish*: per role, replace the document with ``after`` / delete it / drop the marker.

  If step 2 fails, the writer checks whether the record got in anyway and finishes or undoes each
  marker accordingly (undo: drop the marker / delete the inserted document). If the process dies,
  markers stay behind; the next write command settles every marker older than ``LEASE``: finish when
  the audit record exists, undo when it does not. Every step is conditional on the marker's id, so
  settling twice, or by two processes at once, is harmless.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from samplectl.domain.dates import utc_now
from samplectl.domain.errors import DatabaseUnavailable
from samplectl.stores.changes import APPLIED, BUSY, DUPLICATE, FAILED, STALE, Change
from samplectl.stores.mongo.audit import MongoAuditLog
from samplectl.stores.mongo.engine import encode_date, is_duplicate_key
from samplectl.stores.mongo.samples import MongoSampleStore

# A marker older than this belongs to a samplectl that died (every database call times out long
# before), so it may be settled by another process.
LEASE = timedelta(minutes=5)


class IntentWriter:
    """MongoDB: prepare markers, append the audit record, finish (see the module docstring)."""

    def __init__(self, store: MongoSampleStore, audit: MongoAuditLog, clock: Callable[[], datetime] | None = None) -> None:
        self.store, self.audit = store, audit
        self.clock = clock or (lambda: utc_now())  # looked up per call, so tests can move time on
        self.samples = store.samples

    # -- the three steps ------------------------------------------------------------------
    def apply(self, changes: list[Change]) -> None:
        started = self.clock()
        prepared: list[Change] = []
        try:
            for change in changes:
                if self._prepare(change, started):
                    prepared.append(change)
        except Exception:
            # Nothing is recorded yet: take the markers back now rather than leave them for the lease.
            with contextlib.suppress(Exception):
                for change in prepared:
                    self._settle_change(change, committed=False)
            raise
        if not prepared:
            return
        try:
            if self.clock() - started > LEASE / 2:
                # Too slow: another process may already consider our markers abandoned.
                raise DatabaseUnavailable("the database is too slow to record this change safely",
                                          hint="nothing was changed; try again")
            self.audit.append_many([c.entry for c in prepared])
        except Exception as exc:
            # The append failed, or its answer was lost: what got recorded stands, the rest is undone.
            try:
                recorded = self.audit.existing_ids(c.entry["_id"] for c in prepared)
            except Exception:  # noqa: BLE001 - markers stay; the next write command settles them
                raise exc from None
            for change in prepared:
                committed = change.entry["_id"] in recorded
                self._settle_change(change, committed=committed)
                change.outcome = APPLIED if committed else FAILED
            if len(recorded) < len(prepared):
                raise
            return
        for change in prepared:
            self._settle_change(change, committed=True)
            change.outcome = APPLIED

    def _marker(self, change: Change, role: str, now: datetime, after: Any = None) -> dict[str, Any]:
        marker = {"_id": change.entry["_id"], "at": encode_date(now), "role": role,
                  "user": change.entry.get("user"), "action": change.entry.get("action")}
        if after is not None:
            marker["after"] = after
        return marker

    def _prepare(self, change: Change, now: datetime) -> bool:
        before, after = change.before, change.after
        if before is None:
            assert after is not None
            if not self._insert_marked(after, self._marker(change, "insert", now)):
                change.refuse(DUPLICATE)
                return False
            return True
        claimed = None
        if after is None or change.renames:
            marker = self._marker(change, "delete", now)
        else:
            marker = self._marker(change, "update", now, after=self.store.encode(after))
            claimed = _claimed_position(change)
            if claimed is not None:
                # A new position is claimed at once, on the unique index: the second of two
                # technicians placing into it fails here, before anything is recorded.
                marker["position_before"] = before.get("position")
        outcome = self._mark(before, marker, claim=claimed)
        if outcome != APPLIED:
            change.refuse(outcome)
            return False
        if change.renames:
            assert after is not None
            inserting, record = self._marker(change, "insert", now), after
            kept = _kept_position(change)
            if kept is not None:
                # The old document holds the position until it is deleted: the new one takes it as
                # the change finishes (see _settle).
                inserting["position"] = kept
                record = {k: v for k, v in after.items() if k != "position"}
            try:
                inserted = self._insert_marked(record, inserting)
            except BaseException:
                self._settle(before["sample_id"], marker, committed=False)
                raise
            if not inserted:
                self._settle(before["sample_id"], marker, committed=False)
                change.refuse(DUPLICATE)
                return False
        return True

    def _mark(self, before: Mapping[str, Any], marker: dict[str, Any], claim: str | None = None) -> str:
        query = {"sample_id": {"$eq": before["sample_id"]}, "version": before["version"], "pending": None}
        update: dict[str, Any] = {"pending": marker}
        if claim is not None:
            update["position"] = claim
        try:
            result = self.store.guard(lambda: self.samples.update_one(query, {"$set": update}))
        except Exception as exc:
            taken = self.store.clash({"sample_id": before["sample_id"], "position": claim}, exc)
            if taken is not None:
                raise taken from None
            raise
        if result.matched_count:
            return APPLIED
        current = self.store.guard(lambda: self.samples.find_one({"sample_id": {"$eq": before["sample_id"]}}))
        return BUSY if current is not None and current.get("pending") else STALE

    def _insert_marked(self, record: Mapping[str, Any], marker: dict[str, Any]) -> bool:
        doc = self.store.encode(record)
        doc["pending"] = marker
        try:
            self.store.guard(lambda: self.samples.insert_one(doc))
        except Exception as exc:
            taken = self.store.clash(record, exc)
            if taken is not None:
                raise taken from None
            if is_duplicate_key(exc):
                return False
            raise
        return True

    def _settle_change(self, change: Change, *, committed: bool) -> None:
        op = {"_id": change.entry["_id"]}
        if change.before is None:
            self._settle(change.sample_id, dict(op, role="insert"), committed=committed)
            return
        if change.after is None or change.renames:
            self._settle(change.before["sample_id"], dict(op, role="delete"), committed=committed)
            if change.renames:
                inserted = dict(op, role="insert")
                if (kept := _kept_position(change)) is not None:
                    inserted["position"] = kept
                self._settle(change.sample_id, inserted, committed=committed)
            return
        marker = dict(op, role="update", after=self.store.encode(change.after))
        if _claimed_position(change) is not None:
            marker["position_before"] = change.before.get("position")
        self._settle(change.sample_id, marker, committed=committed)

    def _settle(self, sample_id: str, marker: Mapping[str, Any], *, committed: bool) -> None:
        """Finish (``committed``) or undo one marked document; a no-op once it is settled."""
        query = {"sample_id": {"$eq": sample_id}, "pending._id": marker["_id"]}
        role = marker["role"]
        unmark = {"$unset": {"pending": ""}}
        if role == "insert":
            if "position" in marker:  # a renamed sample takes its position once the old id is gone
                unmark = {**unmark, "$set": {"position": marker["position"]}}
            call = (lambda: self.samples.update_one(query, unmark)) if committed else (
                lambda: self.samples.delete_one(query))
        elif role == "delete":
            call = (lambda: self.samples.delete_one(query)) if committed else (
                lambda: self.samples.update_one(query, unmark))
        else:
            if "position_before" in marker:  # give back the position the change had claimed
                unmark = {**unmark, "$set": {"position": marker["position_before"]}}
            call = (lambda: self.samples.replace_one(query, marker["after"])) if committed else (
                lambda: self.samples.update_one(query, unmark))
        self.store.guard(call)

    # -- recovery -------------------------------------------------------------------------
    def unfinished(self) -> list[dict[str, Any]]:
        """Sample documents carrying a marker: changes in progress, or left by a process that died."""
        docs = self.store.guard(lambda: list(self.samples.find({"pending._id": {"$exists": True}})))
        return [{"sample_id": d.get("sample_id"), **(d.get("pending") or {})} for d in docs]

    def settle_stale(self) -> int:
        """Finish or undo every change whose process died (marker older than LEASE)."""
        cutoff = encode_date(self.clock() - LEASE)
        # An import's markers are its own to settle (its rollback), whatever their age.
        docs = self.store.guard(lambda: list(self.samples.find({"pending.at": {"$lt": cutoff},
                                                                "pending.role": {"$ne": "import"}})))
        if not docs:
            return 0
        recorded = self.audit.existing_ids({d["pending"]["_id"] for d in docs})
        for doc in docs:
            marker = doc["pending"]
            self._settle(doc["sample_id"], marker, committed=marker["_id"] in recorded)
        return len(docs)


def _claimed_position(change: Change) -> str | None:
    """The position an update moves a sample into, if it moves it into one."""
    before, after = change.before or {}, change.after or {}
    position = after.get("position")
    return position if position and position != before.get("position") else None


def _kept_position(change: Change) -> str | None:
    """The position a renamed sample keeps (its old document holds it until the rename finishes)."""
    before, after = change.before or {}, change.after or {}
    position = after.get("position")
    return position if position and position == before.get("position") else None
