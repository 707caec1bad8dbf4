"""The audit trail repository: append-only, hash-chained records beside the samples.

What a record is and how the chain is checked live in ``domain.audit``; how records are numbered,
linked and stored safely with several writers at once is each engine's business (``stores.sqlite``,
``stores.mongo``). The helpers here turn entries into record content the same way for both.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any, Protocol, Self

from samplectl import __version__
from samplectl.domain.audit import canonical_bytes, plain, plain_changes, time_text, to_millisecond
from samplectl.domain.dates import utc_now
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.jsontext import exact

if TYPE_CHECKING:
    from samplectl.domain.audit_query import AuditQuery

CHAIN_KEYS = ("seq", "prev_hash", "hash")
_SCALARS = (str, int, float, bool, type(None))
_LEAVES = frozenset((str, int, bool, type(None)))  # what orjson writes exactly as json does (see jsontext)
_BEFORE_AFTER = frozenset(("before", "after"))


class AuditLog(Protocol):
    """Append and read audit records. ``append``/``append_many`` take entries shaped like

    ``{"at": datetime (default now), "user": str, "action": str, "sample_id": str | None,
    "changes": {FIELD: {"before": ..., "after": ...}}, "reason": str | None, ...extra}``;
    the chain fields, a record id (``_id``) and ``samplectl_version`` are added by the store.
    Records come back as dicts with ``at`` an aware UTC datetime and every key that was hashed.
    """

    def ensure_indexes(self) -> list[str]: ...
    def ready(self) -> None: ...
    def bulk_load(self, incoming: int) -> AbstractContextManager[None]: ...
    def append(self, entry: Mapping[str, Any]) -> str: ...
    def append_many(self, entries: Sequence[Mapping[str, Any]]) -> list[str]: ...
    def existing_ids(self, ids: Iterable[str]) -> set[str]: ...

    def for_sample(self, sample_id: str) -> Iterator[dict[str, Any]]:
        """One sample's records, oldest first, following renames back to its earlier ids."""
        ...

    def query(self, wanted: AuditQuery) -> Iterator[dict[str, Any]]:
        """Records matching every given criterion, oldest first; with ``limit``, the newest ``limit``."""
        ...

    def walk(self) -> Iterator[dict[str, Any]]:
        """Every record in seq order (what ``audit verify`` checks)."""
        ...

    def count(self) -> int: ...
    def head(self) -> tuple[int, str]: ...

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq`` (None: no such record)."""
        ...

    def ever_named(self, sample_id: str) -> bool:
        """Whether any record names this sample id (as its sample or as a rename's old id)."""
        ...

    def with_fields(self, **fields: Any) -> AuditLog:
        """The same trail, adding ``fields`` to every record appended through it (hashed with the rest):
        the server names the client of each change this way."""
        ...


class Stamp:
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


def record_content(entry: Mapping[str, Any], stamp: Stamp) -> tuple[dict[str, Any], bool]:
    """An entry as JSON data, with defaults filled in and the chain fields left for linking; and
    whether it is plain data orjson may encode (``jsontext.exact``), found on the way (an import
    makes a million of these; False: not known)."""
    user, action = entry.get("user"), entry.get("action")
    if not isinstance(user, str) or not user or not isinstance(action, str) or not action:
        raise ValidationFailed("an audit record needs a user and an action")
    content = dict(entry)
    for key in CHAIN_KEYS:
        content.pop(key, None)
    content["at"] = stamp.text(content.get("at"))
    changes = content.get("changes")
    # Values are kept as JSON data so that every backend reads back exactly what was hashed.
    plain_data = True
    if not changes:
        content["changes"] = {}
    elif not _leaf_changes(changes):
        content["changes"] = plain_changes(changes)
        plain_data = False  # link checks it in full
    for key, value in content.items():
        if type(value) in _LEAVES and type(key) is str or key == "changes":
            continue
        plain_data = False
        if type(value) not in _SCALARS:
            content[key] = plain(value)
    content.setdefault("sample_id", None)
    content.setdefault("reason", None)
    content.setdefault("samplectl_version", __version__)
    content["_id"] = str(content.get("_id") or stamp.new_id())
    return content, plain_data


def _leaf_changes(changes: Any) -> bool:
    """Changes of the usual shape, {FIELD: {"before": v, "after": v}}, whose values are all of
    ``_LEAVES``: JSON data as they are (no copy), and text orjson writes exactly."""
    if type(changes) is not dict:
        return False
    for key, change in changes.items():
        if type(key) is not str or type(change) is not dict:
            return False
        if change.keys() == _BEFORE_AFTER:  # the usual: two lookups, no inner loop
            if type(change["before"]) not in _LEAVES or type(change["after"]) not in _LEAVES:
                return False
            continue
        for name, value in change.items():
            if type(name) is not str or type(value) not in _LEAVES:
                return False
    return True


def link(contents: list[dict[str, Any]], head: tuple[int, str],
         checked: list[bool] | None = None) -> list[tuple[dict[str, Any], str, bool]]:
    """Number and hash ``contents`` after ``head``: (content, hash, whether it is plain JSON data
    that orjson may encode, see ``jsontext``) each. ``checked``: what ``record_content`` found
    (False: not known, checked here)."""
    seq, prev = head
    linked = []
    for content, known in zip(contents, checked or [False] * len(contents), strict=True):
        seq += 1
        content["seq"] = seq
        content["prev_hash"] = prev
        plain_data = known or exact(content)
        prev = sha256(canonical_bytes(content, checked=plain_data)).hexdigest()  # domain.audit.digest
        linked.append((content, prev, plain_data))
    return linked


class ChainedLog:
    """What every engine's audit log shares: the fields added to each record (``with_fields``) and
    turning entries into record content, and following a sample's history back through its renames.
    An engine supplies how it keeps a time (``encode_at``), how it links and stores the contents
    (``write_linked``) and how it finds the records that name an id (``records_naming``)."""

    fields: dict[str, Any]

    def encode_at(self, value: datetime) -> Any:
        """An audit time (UTC, milliseconds) as this engine keeps it."""
        raise NotImplementedError

    def write_linked(self, contents: list[dict[str, Any]], stamp: Stamp, checked: list[bool]) -> None:
        """Link ``contents`` after the chain's head and store them, safely against other writers
        (``checked``: for ``link``)."""
        raise NotImplementedError

    def records_naming(self, sample_id: str, before_seq: int | None) -> list[dict[str, Any]]:
        """The records about ``sample_id`` (before ``before_seq`` when given) and those renaming from it."""
        raise NotImplementedError

    def append(self, entry: Mapping[str, Any]) -> str:
        return self.append_many([entry])[0]

    def for_sample(self, sample_id: str) -> Iterator[dict[str, Any]]:
        """A sample's records in seq order, with those it had under earlier ids (`update --id`):
        each rename is followed back to the records of the old id made before it."""
        found: dict[int, dict[str, Any]] = {}
        todo: list[tuple[str, int | None]] = [(sample_id, None)]
        seen: set[tuple[str, int | None]] = set()
        while todo:
            wanted, before_seq = todo.pop()
            if (wanted, before_seq) in seen:
                continue
            seen.add((wanted, before_seq))
            for record in self.records_naming(wanted, before_seq):
                found[record["seq"]] = record
                old = record.get("renamed_from")
                if old and record.get("sample_id") == wanted:
                    todo.append((old, record["seq"]))
        for seq in sorted(found):
            yield found[seq]

    def with_fields(self, **fields: Any) -> Self:
        other = copy.copy(self)
        other.fields = {**self.fields, **fields}
        return other

    def append_many(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        if self.fields:
            entries = [{**entry, **self.fields} for entry in entries]
        stamp = Stamp(self.encode_at)
        made = [record_content(entry, stamp) for entry in entries]
        contents = [content for content, _ in made]
        if contents:
            self.write_linked(contents, stamp, [plain for _, plain in made])
        return [content["_id"] for content in contents]
