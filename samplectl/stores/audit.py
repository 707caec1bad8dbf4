"""The audit trail: append-only, hash-chained records in the ``audit`` collection beside the samples.

Appending is safe with any number of samplectl processes at once. ``seq`` has a unique index: a
writer reads the head of the chain, links its records after it and inserts them; when another
writer took that seq first, the insert fails on the index and the writer re-reads the head and
links again. On the embedded store the read and the insert also happen under SQLite's write lock
(BEGIN IMMEDIATE), so there the retry never fires. samplectl never updates or deletes a record here.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from samplectl import __version__
from samplectl.domain.audit import (
    GENESIS,
    canonical_bytes,
    digest,
    plain,
    plain_changes,
    time_text,
    to_millisecond,
)
from samplectl.domain.dates import utc_now
from samplectl.domain.errors import Conflict, ValidationFailed
from samplectl.domain.jsontext import compact, exact
from samplectl.stores.samples import SampleStore

# Chain races are rare and short; past this many lost races something else is wrong.
MAX_ATTEMPTS = 200
PAGE_SIZE = 1000
CHAIN_KEYS = ("seq", "prev_hash", "hash")


@contextmanager
def embedded_transaction(conn: Any) -> Iterator[None]:
    """One SQLite write transaction on the embedded store (joins the caller's if one is open).

    BEGIN IMMEDIATE takes the write lock at once, so a read made inside (the chain head, a sample's
    version) cannot be overtaken by another process before the writes that depend on it.
    """
    sqlite = conn.db
    if sqlite.in_transaction:
        yield
        return
    sqlite.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        sqlite.rollback()
        raise
    sqlite.commit()


_SCALARS = (str, int, float, bool, type(None))


class _Stamp:
    """Per-call helpers for append_many: a repeated ``at`` is converted once (to its canonical text
    and to the stored form), and record ids are one random prefix plus a counter (unique, and
    cheaper than a UUID per record)."""

    def __init__(self, encode: Any) -> None:
        self._encode = encode
        self._at: Any = None
        self._text = ""
        self.stored: dict[str, Any] = {}  # canonical text -> the value the store keeps
        self._prefix = uuid.uuid4().hex[:22]
        self._count = 0

    def text(self, at: Any) -> str:
        if not isinstance(at, datetime):
            at = utc_now()
        if at is not self._at:
            self._at, self._text = at, time_text(at)
            if self._text not in self.stored:
                self.stored[self._text] = self._encode(to_millisecond(at))
        return self._text

    def new_id(self) -> str:
        self._count += 1
        return f"{self._prefix}{self._count:010x}"


class AuditLog:
    """Append and read audit records. ``append``/``append_many`` take entries shaped like

    ``{"at": datetime (default now), "user": str, "action": str, "sample_id": str | None,
    "changes": {FIELD: {"before": ..., "after": ...}}, "reason": str | None, ...extra}``;
    the chain fields, a record id (``_id``) and ``samplectl_version`` are added here.
    """

    def __init__(self, store: SampleStore) -> None:
        self.store = store
        self.records = store.db["audit"]
        self.embedded = store.dialect.name == "embedded"
        self._indexed = False

    # -- schema ---------------------------------------------------------------------------
    def ensure_indexes(self) -> list[str]:
        """The audit indexes, and the samples' index on unfinished changes; safe to run again."""
        specs: list[tuple[Any, list[tuple[str, int]], dict[str, Any]]] = [
            # The unique seq is what makes concurrent appends safe: never drop it.
            (self.records, [("seq", 1)], {"unique": True, "name": "seq_unique"}),
            # Single-field indexes: neosqlite only turns a condition into indexed SQL when the field
            # has an index of its own (a compound one is ignored).
            (self.records, [("sample_id", 1)], {"name": "by_sample"}),
            (self.records, [("renamed_from", 1)], {"name": "by_renamed_from"}),
            (self.records, [("at", 1)], {"name": "by_time"}),
            (self.records, [("user", 1)], {"name": "by_user"}),
            (self.records, [("action", 1)], {"name": "by_action"}),
            (self.store.samples, [("pending.at", 1)], {"name": "by_pending_change"}),
        ]
        for collection, keys, options in specs:
            self.store._guard(lambda c=collection, k=keys, o=options: c.create_index(k, **o))
        self._indexed = True
        return [options["name"] for _, _, options in specs]

    def ready(self) -> None:
        """Before appending: make sure the unique index on seq exists (one index listing per process).

        Without it two writers could both append seq N and fork the chain, on a store where nobody
        ran `samplectl init`; creating the indexes here keeps the zero-configuration promise.
        """
        if self._indexed:
            return
        info = self.store._guard(lambda: self.records.index_information())
        for spec in info.values():
            key = spec.get("key")
            fields = list(key) if isinstance(key, dict) else [k for k, _ in key or []]
            if spec.get("unique") and fields == ["seq"]:
                self._indexed = True
                return
        self.ensure_indexes()

    def bulk_load(self, incoming: int) -> AbstractContextManager[None]:
        """Around an import appending ``incoming`` records: lets the engine build the audit
        table's lookup indexes once afterwards instead of row by row (on the embedded store they
        cost as much as the insert itself). The unique seq index always stays: it serves the
        chain-head read of every append, and it is what keeps concurrent appends safe."""
        return self.store.dialect.bulk_load(self.records, incoming, lookups=True)

    # -- encoding -------------------------------------------------------------------------
    def encode_at(self, value: datetime) -> Any:
        """``at`` as stored: the dialect's date (a BSON date; integer microseconds on the embedded
        store, which neosqlite compares exactly and through its indexes). Always whole milliseconds."""
        return self.store.dialect.encode_date(to_millisecond(value))

    def decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        record = dict(doc)
        at = record.get("at")
        if isinstance(at, datetime):
            record["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        elif isinstance(at, int) and not isinstance(at, bool) and self.embedded:
            record["at"] = self.store.dialect.decode_date(at)
        # Anything else is not samplectl's writing: left as found, so verify reports it as changed.
        return record

    # -- appending ------------------------------------------------------------------------
    def append(self, entry: Mapping[str, Any]) -> str:
        """Append one record; returns its id."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Append records in order, in one insert (imports write thousands per call); returns their ids."""
        stamp = _Stamp(self.store.dialect.encode_date)
        contents = [self._content(entry, stamp) for entry in entries]
        if not contents:
            return []
        self.ready()
        if self.embedded:
            with embedded_transaction(self.store.db):
                self._insert_embedded(contents, self._head(), stamp.stored)
        else:
            self._insert_racing(contents, stamp.stored)
        return [content["_id"] for content in contents]

    @staticmethod
    def _content(entry: Mapping[str, Any], stamp: _Stamp) -> dict[str, Any]:
        """An entry as JSON data, with defaults filled in and the chain fields left for linking."""
        user, action = entry.get("user"), entry.get("action")
        if not isinstance(user, str) or not user or not isinstance(action, str) or not action:
            raise ValidationFailed("an audit record needs a user and an action")
        content = {k: v for k, v in entry.items() if k not in CHAIN_KEYS}
        content["at"] = stamp.text(content.get("at"))
        changes = content.get("changes")
        # Values are kept as JSON data so that every backend reads back exactly what was hashed.
        content["changes"] = plain_changes(changes) if changes else {}
        for key, value in content.items():
            if type(value) not in _SCALARS and key != "changes":
                content[key] = plain(value)
        content.setdefault("sample_id", None)
        content.setdefault("reason", None)
        content.setdefault("samplectl_version", __version__)
        content["_id"] = str(content.get("_id") or stamp.new_id())
        return content

    def _head(self) -> tuple[int, str]:
        """The last record's seq and hash (0 and the genesis hash for an empty trail)."""
        if self.embedded:
            # Straight SQL on neosqlite's table, through its unique seq index: its find() with a
            # projection deep-copies the document, which doubled the cost of a single create.
            row = self.store._guard(lambda: self.store.db.db.execute(
                "SELECT json_extract(data, '$.seq'), json_extract(data, '$.hash') FROM \"audit\" "
                "ORDER BY json_extract(data, '$.seq') DESC LIMIT 1").fetchone())
            return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))
        docs = self.store._guard(
            lambda: list(self.records.find({}, {"seq": 1, "hash": 1}).sort([("seq", -1)]).limit(1))
        )
        if not docs:
            return 0, GENESIS
        return int(docs[0]["seq"]), str(docs[0]["hash"])

    @staticmethod
    def _link(contents: list[dict[str, Any]], head: tuple[int, str]) -> list[tuple[dict[str, Any], str, bool]]:
        """Number and hash ``contents`` after ``head``: (content, hash, whether it is plain JSON data
        that orjson may encode, see ``jsontext``) each."""
        seq, prev = head
        linked = []
        for content in contents:
            seq += 1
            content["seq"] = seq
            content["prev_hash"] = prev
            plain_data = exact(content)
            prev = digest(canonical_bytes(content, checked=plain_data))
            linked.append((content, prev, plain_data))
        return linked

    def _insert_embedded(self, contents: list[dict[str, Any]], head: tuple[int, str], stored: dict[str, Any]) -> None:
        # One executemany straight into neosqlite's table (its own layout: the document as JSON text
        # in `data`, its id in `_id`), the rows its insert_many writes, without the per-document
        # Python overhead that would otherwise dominate an import.
        rows = []
        for content, hashed, plain_data in self._link(contents, head):
            at = stored[content["at"]]
            doc = dict(content, hash=hashed, at=at)
            # The same text as json.dumps below, when orjson can say (the hash is a str).
            fast = compact(doc, checked=plain_data and type(at) is int)
            text = fast.decode("utf-8") if fast is not None else json.dumps(
                doc, ensure_ascii=False, separators=(",", ":"))
            rows.append((text, content["_id"]))
        sqlite = self.store.db.db
        self.store._guard(lambda: sqlite.executemany('INSERT INTO "audit"(data, _id) VALUES (?, ?)', rows))

    def _insert_racing(self, contents: list[dict[str, Any]], stored: dict[str, Any]) -> None:
        remaining = contents
        for attempt in range(MAX_ATTEMPTS):
            docs = []
            for content, hashed, _plain in self._link(remaining, self._head()):
                docs.append(dict(content, hash=hashed, at=stored[content["at"]]))
            try:
                self.store._guard(lambda d=docs: self.records.insert_many(d, ordered=True))
                return
            except Exception as exc:
                if not self.store.dialect.is_duplicate_key(exc):
                    raise
            # Another writer took one of our seqs. What got in before the clash stays (it is a valid
            # continuation of the chain); the rest is linked again after the new head.
            landed = self.existing_ids([c["_id"] for c in remaining])
            remaining = [c for c in remaining if c["_id"] not in landed]
            if not remaining:
                return
            time.sleep(random.uniform(0, 0.002) * min(attempt + 1, 10))
        raise Conflict("the audit trail is too busy to append to", hint="try again in a moment")

    # -- reading --------------------------------------------------------------------------
    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), PAGE_SIZE):
            chunk = wanted[start:start + PAGE_SIZE]
            docs = self.store._guard(lambda c=chunk: list(self.records.find({"_id": {"$in": c}}, {"_id": 1})))
            found.update(str(d["_id"]) for d in docs)
        return found

    def for_sample(self, sample_id: str) -> Iterator[dict[str, Any]]:
        """One sample's records, oldest first, following renames back to the sample's earlier ids."""
        found: dict[int, dict[str, Any]] = {}
        todo: list[tuple[str, int | None]] = [(sample_id, None)]
        seen: set[tuple[str, int | None]] = set()
        while todo:
            wanted, before_seq = todo.pop()
            if (wanted, before_seq) in seen:
                continue
            seen.add((wanted, before_seq))
            query: dict[str, Any] = {"sample_id": wanted}
            if before_seq is not None:
                query["seq"] = {"$lt": before_seq}
            for doc in self._find(query) + self._find({"renamed_from": wanted}):
                found[doc["seq"]] = doc
                old = doc.get("renamed_from")
                if old and doc.get("sample_id") == wanted:
                    todo.append((old, doc["seq"]))
        for seq in sorted(found):
            yield self.decode(found[seq])

    def _find(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return self.store._guard(lambda: list(self.records.find(query).sort([("seq", 1)])))

    def query(
        self,
        *,
        users: Sequence[str] = (),
        actions: Sequence[str] = (),
        sample_ids: Sequence[str] = (),
        since: datetime | None = None,
        before: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records matching every given criterion, oldest first; with ``limit``, the newest ``limit``."""
        # Flat on purpose: neosqlite runs $and/$or in Python over every record (see stores.samples).
        base: dict[str, Any] = {}
        for name, values in (("user", users), ("action", actions), ("sample_id", sample_ids)):
            if len(values) == 1:
                base[name] = values[0]
            elif values:
                base[name] = {"$in": list(values)}
        when: dict[str, Any] = {}
        if since is not None:
            when["$gte"] = self.encode_at(since)
        if before is not None:
            when["$lt"] = self.encode_at(before)
        if until is not None:
            when["$lte"] = self.encode_at(until)
        if when:
            base["at"] = when
        if limit is not None:
            docs = self.store._guard(lambda: list(self.records.find(base).sort([("seq", -1)]).limit(limit)))
            for doc in reversed(docs):
                yield self.decode(doc)
            return
        yield from self.walk(base)

    def walk(self, base: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every (matching) record in seq order, a page at a time (keyset paging on seq)."""
        last = 0
        while True:
            query = {**(base or {}), "seq": {"$gt": last}}
            page = self.store._guard(
                lambda q=query: list(self.records.find(q).sort([("seq", 1)]).limit(PAGE_SIZE))
            )
            for doc in page:
                yield self.decode(doc)
            if len(page) < PAGE_SIZE:
                return
            last = page[-1]["seq"]
            if not isinstance(last, int):
                return

    def count(self) -> int:
        return int(self.store._guard(lambda: self.records.count_documents({})))

    def ever_named(self, sample_id: str) -> bool:
        """Whether any record names this sample id (as its sample or as a rename's old id)."""
        return any(
            self.store._guard(lambda q=query: self.records.find_one(q)) is not None
            for query in ({"sample_id": sample_id}, {"renamed_from": sample_id})
        )
