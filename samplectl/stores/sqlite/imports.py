"""An import's new samples and their audit records, written together the quick way.

An import of a million rows into the embedded store creates a million samples, each with one
hash-chained audit record. Made one dict at a time (the sample record, the audit entry, its
content, its changes) they cost several times what SQLite spends storing them. Here each new
sample becomes its ``samples`` row and its ``audit`` row directly:

* the audit record is the very record ``append_many`` makes of the entry ``services.batchwriter``
  gives (action ``import``, changes from nothing to the sample's fields): the same content, hashed
  from the same canonical bytes, filled into a template cut from the canonical form of one such
  record (``domain.audit.CanonicalTemplate``), and stored as the same row (``row_of``);
* a sample of another shape (a position, a field without a text value) goes the general way,
  record by record, in the same chain.

Fields an audit log adds to every record (``with_fields``: the server names the client) are the
same in each record, so they are part of the template and of the row's ``extra``. Before the first
sample, a probe record is made both ways and compared: should they ever differ, every sample goes
the general way. ``tests/integration/test_import_records.py`` compares the two ways on generated samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from hashlib import sha256
from operator import itemgetter
from typing import Any

from samplectl.domain.audit import GENESIS, CanonicalTemplate, canonical_bytes
from samplectl.domain.dates import iso_z
from samplectl.domain.jsontext import exact
from samplectl.stores.audit import Stamp, record_content
from samplectl.stores.sqlite.audit import (
    AUDIT_INSERT,
    COLUMNS,
    COMPACT_FIELDS,
    SqliteAuditLog,
    encode_changes,
    row_of,
)
from samplectl.stores.sqlite.samples import SAMPLE_NAMES, SqliteSampleStore, encode, encode_date

if SAMPLE_NAMES[: len(COMPACT_FIELDS)] != COMPACT_FIELDS:  # a samples row starts with the six fields, in order
    raise RuntimeError("stores.sqlite.imports expects the samples table to start with " + ", ".join(COMPACT_FIELDS))
_FIELDS = frozenset(COMPACT_FIELDS)
_WITH_POSITION = _FIELDS | {"position"}  # a sample read from a file without positions may say position None
_VALUES = itemgetter(*COMPACT_FIELDS)
_UNIT = "\x1f"  # see sqlite.audit: a tag-4 creation record's values, separated
_TAG4 = "4" + _UNIT
# Markers of the varying values in the template record (see CanonicalTemplate), in the order of its
# canonical text (sorted keys): _id, then changes.collection_date ... changes.subject_id, prev_hash, sample_id, seq.
_SLOTS: dict[str, type] = {"\x02id": str, **{f"\x02{name}": str for name in sorted(COMPACT_FIELDS)},
                           "\x02prev": str, "\x02sample": str, "\x02seq": int}
_PROBE = {"sample_id": "S-probe-1", "sample_type": "blood", "subject_id": "P-1",
          "collection_date": datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), "status": "collected",
          "storage_location": "FRZ-1/R1/B1"}


class SqliteImportCreator:
    """Writes new samples with their audit records (inside the import's transaction).

    ``entry``: what the batch's audit entries share (at, user, action, reason, samplectl_version,
    import_batch); ``record``: what its samples' records add to the sample's fields (created_at, ...);
    ``changes``: a new sample's changes, as the general way records them (``services.samples.diff``).
    """

    def __init__(self, store: SqliteSampleStore, audit: SqliteAuditLog, entry: Mapping[str, Any],
                 record: Mapping[str, Any], changes: Callable[[Mapping[str, Any]], dict[str, Any]]) -> None:
        self.store, self.audit, self.db = store, audit, store.db
        self.entry = {**entry, **audit.fields}
        self.record = dict(record)
        self.changes = changes
        self.stamp = Stamp(audit.encode_at)
        self.at = self.stamp.text(self.entry.get("at"))
        self.at_ms = self.stamp.stored[self.at]
        self.user, self.action = self.entry["user"], self.entry["action"]
        self.reason, self.version = self.entry.get("reason"), self.entry.get("samplectl_version")
        self.batch = self.entry.get("import_batch")
        # A samples row: the sample's six fields, then what the record adds (encoded once).
        self.tail = encode({**_PROBE, **self.record})[len(COMPACT_FIELDS):]
        self.extra: str | None = None
        self.template = self._template()

    # -- the template, checked against the general way ------------------------------------
    def _template(self) -> CanonicalTemplate | None:
        markers = {name[1:]: name for name in _SLOTS}
        content, _ = record_content({**self.entry, "_id": markers["id"], "sample_id": markers["sample"],
                                     "changes": {name: {"before": None, "after": markers[name]}
                                                 for name in COMPACT_FIELDS}}, self.stamp)
        content["seq"], content["prev_hash"] = markers["seq"], markers["prev"]
        try:
            template = CanonicalTemplate(content, _SLOTS)
        except ValueError:  # a shared value holds a marker: never in practice, and then the general way
            return None
        self.template = template
        general = self._general(_PROBE, 41, "ab" * 32, "0" * 32)  # the probe's date: UTC, whole seconds
        self.extra = general[0][COLUMNS.index("extra")]  # fields of the log's own (with_fields): the same in each
        quick = self._quick(_PROBE, 41, "ab" * 32, "0" * 32)
        return template if quick is not None and quick[0] == general[0] and quick[2] == general[2] else None

    # -- writing ----------------------------------------------------------------------------
    def create(self, samples: Sequence[Mapping[str, Any]]) -> int:
        """Insert ``samples`` (new, checked) and append their audit records; how many were written."""
        if not samples:
            return 0
        rows: list[tuple[Any, ...]] = []
        records: list[tuple[Any, ...]] = []
        new_id, quick, general = self.stamp.new_id, self._quick, self._general
        with self.db.transaction():
            seq, prev = self.audit.head()
            for sample in samples:
                seq += 1
                record_id = new_id()
                made = quick(sample, seq, prev, record_id) or general(sample, seq, prev, record_id)
                records.append(made[0])
                rows.append(made[1])
                prev = made[2]
            self.store.insert_new(rows, samples)
            self.db.executemany(AUDIT_INSERT, records)
        return len(rows)

    def _quick(self, sample: Mapping[str, Any], seq: int, prev: str,
               record_id: str) -> tuple[tuple[Any, ...], tuple[Any, ...], str] | None:
        """The audit row, samples row and hash of a sample of the usual shape (None: another shape)."""
        template = self.template
        keys = sample.keys()
        if template is None or keys != _FIELDS and (keys != _WITH_POSITION or sample["position"] is not None):
            return None
        sample_id, sample_type, subject_id, collected, status, location = _VALUES(sample)
        if not (type(sample_id) is str and type(sample_type) is str and type(subject_id) is str
                and type(collected) is datetime and type(status) is str and type(location) is str):
            return None
        if collected.tzinfo is UTC and not collected.microsecond:
            when = collected.isoformat()[:-6] + "Z"  # iso_z's own way, without its call (the usual date)
        elif collected.tzinfo is not None:
            when = iso_z(collected, seconds_only=True)
        else:
            return None
        hashed = sha256(template((record_id, when, sample_id, sample_type, status, location, subject_id, prev,
                                  sample_id, seq))).digest()
        joined = f"{sample_type}\x1f{subject_id}\x1f{when}\x1f{status}\x1f{location}"
        # Tag 4 (see sqlite.audit) unless a value, the id included, holds the separator itself.
        changes = (_TAG4 + joined if joined.count(_UNIT) == 4 and _UNIT not in sample_id
                   else encode_changes(self.changes(sample), sample_id))
        record = (seq, bytes.fromhex(record_id), self.at_ms, self.user, self.action, sample_id, None, self.reason,
                  self.version, self.batch, changes, self.extra, bytes.fromhex(prev if prev == GENESIS else prev[:8]),
                  hashed)
        row = (sample_id, sample_type, subject_id, encode_date(collected), status, location, *self.tail)
        return record, row, hashed.hex()

    def _general(self, sample: Mapping[str, Any], seq: int, prev: str,
                 record_id: str) -> tuple[tuple[Any, ...], tuple[Any, ...], str]:
        """The rows as ``insert_many`` and ``append_many`` make them (see ``stores.audit.link``), and the hash."""
        content, plain = record_content({**self.entry, "_id": record_id, "sample_id": sample["sample_id"],
                                         "changes": self.changes(sample)}, self.stamp)
        content["seq"], content["prev_hash"] = seq, prev
        plain = plain or exact(content)
        hashed = sha256(canonical_bytes(content, checked=plain)).hexdigest()
        return row_of(content, hashed, self.at_ms, plain, linked=True), encode({**sample, **self.record}), hashed
