"""The audit trail as rows of the ``audit`` table: one column per usual key, the rest as JSON.

Appending happens under SQLite's write lock (BEGIN IMMEDIATE): the head is read and the records
are linked and inserted in one transaction, so writers from several processes never fork the
chain. A row keeps exactly what was hashed, so `audit verify` recomputes the same hashes:

* ``_id`` of 32 hex digits is kept as its 16 bytes, ``hash``/``prev_hash`` as their 32 bytes;
* a ``prev_hash`` that links the record to the one before it (the records samplectl appends) is kept
  as its first 4 bytes, and read back as the whole ``hash`` of record ``seq - 1`` when that hash
  starts with them (``PREV_HASH``); otherwise the 4 bytes are read back as they are, and the link is
  reported broken as it would have been (a record before it was changed, removed or re-hashed);
* ``changes`` is JSON, written compactly when it has the usual shape: ``[3, [after, ...]]`` for a
  create or an import that sets exactly ``COMPACT_FIELDS`` in their order, the first being the
  record's own ``sample_id`` (left out), or, when those values are all text without ``\x1f`` (the
  usual), the same values after a ``4`` as text separated by ``\x1f`` (no quotes: never JSON, which
  cannot start so); ``[0, {FIELD: after}]`` when every ``before`` is null,
  ``[1, {FIELD: before}]`` when every ``after`` is (a delete), the plain object otherwise, and
  ``[2, value]`` for anything that is not an object;
* a key that has no column, or a value a column would not keep exactly, goes to ``extra`` (JSON),
  which also lists under ``"$absent"`` the usual keys a record does not have.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from samplectl.domain.audit import GENESIS, to_millisecond
from samplectl.domain.jsontext import compact
from samplectl.stores.audit import ChainedLog, Stamp, link
from samplectl.stores.sqlite.connection import Database
from samplectl.stores.sqlite.samples import CHUNK, SqliteSampleStore, bulk_indexes
from samplectl.stores.sqlite.schema import AUDIT_INDEXES

if TYPE_CHECKING:
    from samplectl.domain.audit_query import AuditQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The fields of a creation record kept as a bare list (tag 3): fixed here, not taken from the field
# registry, so that records written before a field was added read back the same afterwards (a
# creation with more fields is kept as a dict).
COMPACT_FIELDS = ("sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location")
COLUMNS = ("seq", "record_id", "at", "user", "action", "sample_id", "renamed_from", "reason", "samplectl_version",
           "import_batch", "changes", "extra", "prev_hash", "hash")
# A linked prev_hash (4 bytes) read back whole: the hash of the record before it, if it starts so.
PREV_HASH = ("CASE WHEN length(prev_hash) = 4 THEN coalesce((SELECT p.hash FROM audit AS p WHERE p.seq = audit.seq - 1 "
             "AND substr(p.hash, 1, 4) = audit.prev_hash), prev_hash) ELSE prev_hash END")
AUDIT_SELECT = "SELECT " + ", ".join(PREV_HASH if c == "prev_hash" else c for c in COLUMNS) + " FROM audit"
AUDIT_INSERT = f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
# Keys every record samplectl writes has (NULL in their column means None) ...
_ALWAYS = ("user", "action", "sample_id", "reason", "samplectl_version")
# ... and keys only some have (NULL means the record has no such key).
_SOMETIMES = ("renamed_from", "import_batch")
_KEYED = frozenset(("_id", "at", "seq", "changes", "prev_hash", "hash", *_ALWAYS, *_SOMETIMES))
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_BEFORE_AFTER = frozenset(("before", "after"))
_UNIT = "\x1f"  # separates the values of a tag-4 creation record
_TAG4 = "4" + _UNIT
# The keys of a record as samplectl writes one for a sample change (with and without a batch):
# ``row_of`` encodes those without the general case's bookkeeping.
_USUAL = frozenset(("_id", "at", "seq", "changes", "prev_hash", *_ALWAYS))
_USUAL_BATCH = _USUAL | {"import_batch"}


def _json(value: Any, plain: bool | None = None) -> str:
    fast = compact(value, checked=plain)
    return fast.decode("utf-8") if fast is not None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode_changes(changes: Any, sample_id: Any = None, plain: bool | None = None) -> str:
    """``changes`` as stored (see the module's docstring); ``plain``: known to be plain data (None: checked)."""
    if type(changes) is not dict:
        return _json([2, changes], plain)
    if tuple(changes) == COMPACT_FIELDS and type(sample_id) is str:  # an import's creation: one pass
        values: list[Any] = []
        text = True
        for change in changes.values():
            if type(change) is not dict or change.keys() != _BEFORE_AFTER or change["before"] is not None:
                break
            value = change["after"]
            values.append(value)
            text = text and type(value) is str and _UNIT not in value
        else:
            if values[0] == sample_id:
                return _TAG4 + _UNIT.join(values[1:]) if text else _json([3, values[1:]], plain)
    for change in changes.values():
        if type(change) is not dict or change.keys() != _BEFORE_AFTER:
            return _json(changes, plain)
    if not changes:
        return _json(changes, plain)
    if all(change["before"] is None for change in changes.values()):
        afters = [change["after"] for change in changes.values()]
        return _json([0, dict(zip(changes, afters, strict=True))], plain)
    if all(change["after"] is None for change in changes.values()):
        return _json([1, {name: change["before"] for name, change in changes.items()}], plain)
    return _json(changes, plain)


def decode_changes(text: str, sample_id: Any = None) -> Any:
    if text.startswith(_TAG4):
        values = text[2:].split(_UNIT)
        if len(values) != len(COMPACT_FIELDS) - 1:
            return text  # not an encoding samplectl writes: an altered record, shown as stored
        pairs = zip(COMPACT_FIELDS, [sample_id, *values])  # noqa: B905 - counted just above
        return {name: {"before": None, "after": v} for name, v in pairs}
    value = json.loads(text)
    if type(value) is not list or len(value) != 2:
        return value
    tag, body = value
    if tag in (0, 1) and not isinstance(body, dict) or tag == 3 and not isinstance(body, list):
        return value  # not an encoding samplectl writes: an altered record, shown as stored
    if tag == 3:
        afters = dict(zip(COMPACT_FIELDS, [sample_id, *body], strict=True))
        return {name: {"before": None, "after": v} for name, v in afters.items()}
    if tag == 0:
        return {name: {"before": None, "after": v} for name, v in body.items()}
    if tag == 1:
        return {name: {"before": v, "after": None} for name, v in body.items()}
    return body


def encode_row(record: Mapping[str, Any], at_ms: int | None, linked: bool = False) -> tuple[Any, ...]:
    """A record (every hashed key, plus ``hash``) as a row; ``at_ms``: its time, when it has a usual one.
    ``linked``: its prev_hash is the hash of record ``seq - 1`` (as appending links them), kept short."""
    extra: dict[str, Any] = {k: v for k, v in record.items() if k not in _KEYED}
    absent = [k for k in _ALWAYS if k not in record]
    columns: dict[str, Any] = {}
    for key in (*_ALWAYS, *_SOMETIMES):
        value = record.get(key)
        # NULL in a _SOMETIMES column means "no such key", so a None there is kept in extra.
        if key in record and type(value) is not str and (value is not None or key in _SOMETIMES):
            extra[key], value = value, None
        columns[key] = value
    seq = record.get("seq")
    if type(seq) is not int:
        extra["seq"], seq = seq, None
    record_id = record.get("_id")
    if "_id" not in record:
        absent.append("_id")
    elif type(record_id) is str and _HEX32.match(record_id):
        record_id = bytes.fromhex(record_id)
    elif type(record_id) is not str:
        extra["_id"], record_id = record_id, None
    if at_ms is None:
        if "at" in record:
            extra["at"] = record["at"]
        else:
            absent.append("at")
    hashes: list[bytes | None] = []
    for key in ("prev_hash", "hash"):
        value = record.get(key)
        if type(value) is str and _HEX64.match(value):
            hashes.append(bytes.fromhex(value[:8] if linked and key == "prev_hash" and value != GENESIS else value))
        else:
            hashes.append(None)
            if key in record:
                extra[key] = value
            else:
                absent.append(key)
    changes = None
    if "changes" in record:
        changes = encode_changes(record["changes"], columns["sample_id"])
    else:
        absent.append("changes")
    if absent:
        extra["$absent"] = absent
    return (seq, record_id, at_ms, columns["user"], columns["action"], columns["sample_id"], columns["renamed_from"],
            columns["reason"], columns["samplectl_version"], columns["import_batch"], changes,
            _json(extra) if extra else None, hashes[0], hashes[1])


def decode_time(at_ms: Any) -> Any:
    """A record's time; a stored value that is no time at all is handed on as it is, so that
    `audit verify` reports the record as altered (its hash no longer matches) instead of crashing."""
    if at_ms is None:
        return None
    try:
        return EPOCH + timedelta(milliseconds=at_ms)
    except (OverflowError, TypeError, ValueError):
        return at_ms


def row_of(content: dict[str, Any], hashed: str, at_ms: int, plain: bool = False,
           linked: bool = False) -> tuple[Any, ...]:
    """``encode_row(dict(content, hash=hashed), at_ms, linked)``, quicker for the records samplectl
    writes for sample changes (a million per large import): the same row, or the general case's.
    ``plain``: the content is known to be plain data (see ``stores.audit.link``)."""
    if content.keys() == _USUAL_BATCH:
        batch = content["import_batch"]
    elif content.keys() == _USUAL:
        batch = None
    else:
        return encode_row(dict(content, hash=hashed), at_ms, linked)
    record_id, seq, prev = content["_id"], content["seq"], content["prev_hash"]
    user, action, sample_id = content["user"], content["action"], content["sample_id"]
    reason, version = content["reason"], content["samplectl_version"]
    if (type(record_id) is str and _HEX32.match(record_id) and type(seq) is int and type(prev) is str
            and _HEX64.match(prev) and _HEX64.match(hashed) and type(user) is str and type(action) is str
            and type(sample_id) is str and (reason is None or type(reason) is str) and type(version) is str
            and (type(batch) is str or "import_batch" not in content)):
        return (seq, bytes.fromhex(record_id), at_ms, user, action, sample_id, None, reason, version, batch,
                encode_changes(content["changes"], sample_id, plain), None,
                bytes.fromhex(prev[:8] if linked and prev != GENESIS else prev), bytes.fromhex(hashed))
    return encode_row(dict(content, hash=hashed), at_ms, linked)


def decode_row(row: tuple[Any, ...]) -> dict[str, Any]:
    (seq, record_id, at_ms, user, action, sample_id, renamed_from, reason, version, batch, changes, extra,
     prev_hash, hashed) = row
    record: dict[str, Any] = {
        "_id": record_id.hex() if isinstance(record_id, bytes) else record_id,
        "at": decode_time(at_ms),
        "user": user, "action": action, "sample_id": sample_id,
        "changes": None if changes is None else decode_changes(changes, sample_id),
        "reason": reason, "samplectl_version": version, "seq": seq,
        "prev_hash": None if prev_hash is None else prev_hash.hex(),
        "hash": None if hashed is None else hashed.hex(),
    }
    if renamed_from is not None:
        record["renamed_from"] = renamed_from
    if batch is not None:
        record["import_batch"] = batch
    if extra is not None:
        more = json.loads(extra)
        for key in more.pop("$absent", ()):
            record.pop(key, None)
        record.update(more)
    return record


def encode_at(value: datetime) -> int:
    delta = to_millisecond(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class SqliteAuditLog(ChainedLog):
    def __init__(self, store: SqliteSampleStore) -> None:
        self.store = store
        self.db: Database = store.db
        self.fields: dict[str, Any] = {}

    def ensure_indexes(self) -> list[str]:
        return list(AUDIT_INDEXES)

    def ready(self) -> None:
        return None

    @contextlib.contextmanager
    def bulk_load(self, incoming: int) -> Iterator[None]:
        """Around an import appending ``incoming`` records: the lookup indexes are built once after."""
        with bulk_indexes(self.db, "audit", AUDIT_INDEXES, incoming):
            yield

    # -- appending (``ChainedLog.append_many`` makes the contents) ---------------------------
    def encode_at(self, value: datetime) -> int:
        return encode_at(value)

    def write_linked(self, contents: list[dict[str, Any]], stamp: Stamp, checked: list[bool]) -> None:
        stored = stamp.stored
        with self.db.transaction():
            # Linked to the head just read, under the write lock: each prev_hash is the hash of seq - 1.
            rows = [row_of(content, hashed, stored[content["at"]], plain, linked=True)
                    for content, hashed, plain in link(contents, self.head(), checked)]
            self.db.executemany(AUDIT_INSERT, rows)

    def head(self) -> tuple[int, str]:
        row = self.db.one(AUDIT_SELECT + " ORDER BY seq DESC LIMIT 1")
        if row is None:
            return 0, GENESIS
        record = decode_row(row)
        return int(record["seq"]), str(record["hash"])

    def hash_at(self, seq: int) -> str | None:
        row = self.db.one("SELECT hash FROM audit WHERE seq = ?", (seq,))
        if row is None:
            return None
        return row[0].hex() if isinstance(row[0], bytes) else None if row[0] is None else str(row[0])

    # -- reading --------------------------------------------------------------------------
    def _records(self, sql: str, params: Any = ()) -> Iterator[dict[str, Any]]:
        for row in self.db.rows(sql, params):
            yield decode_row(row)

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start:start + CHUNK]
            keys = [bytes.fromhex(i) if _HEX32.match(i) else i for i in part]
            sql = f"SELECT record_id FROM audit WHERE record_id IN ({', '.join('?' * len(keys))})"
            found.update(r[0].hex() if isinstance(r[0], bytes) else r[0] for r in self.db.rows(sql, keys))
        return found

    def records_naming(self, sample_id: str, before_seq: int | None) -> list[dict[str, Any]]:
        bound = "" if before_seq is None else " AND seq < ?"
        params = [sample_id] if before_seq is None else [sample_id, before_seq]
        return [*self._records(f"{AUDIT_SELECT} WHERE sample_id = ?{bound}", params),
                *self._records(f"{AUDIT_SELECT} WHERE renamed_from = ?", [sample_id])]

    def query(self, wanted: AuditQuery) -> Iterator[dict[str, Any]]:
        parts: list[str] = []
        params: list[Any] = []
        for name, values in wanted.matches():
            parts.append(f"{name} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        span = wanted.span
        for op, when in ((">=", span.since), ("<", span.before), ("<=", span.until)):
            if when is not None:
                parts.append(f"at {op} ?")
                params.append(encode_at(when))
        clause = " AND ".join(parts) or "1"
        if wanted.limit is not None:
            newest = list(self._records(f"{AUDIT_SELECT} WHERE {clause} ORDER BY seq DESC LIMIT ?", [*params, wanted.limit]))
            yield from reversed(newest)
            return
        yield from self._records(f"{AUDIT_SELECT} WHERE {clause} ORDER BY seq", params)

    def walk(self) -> Iterator[dict[str, Any]]:
        return self._records(f"{AUDIT_SELECT} ORDER BY seq")

    def count(self) -> int:
        row = self.db.one("SELECT count(*) FROM audit")
        return int(row[0]) if row else 0

    def ever_named(self, sample_id: str) -> bool:
        row = self.db.one("SELECT EXISTS (SELECT 1 FROM audit WHERE sample_id = ?) "
                          "OR EXISTS (SELECT 1 FROM audit WHERE renamed_from = ?)", (sample_id, sample_id))
        return bool(row and row[0])
