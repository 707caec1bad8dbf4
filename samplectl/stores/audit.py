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
from typing import Any, Protocol, Self

from samplectl import __version__
from samplectl.domain.audit import canonical_bytes, digest, plain, plain_changes, time_text, to_millisecond
from samplectl.domain.dates import utc_now
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.jsontext import exact

CHAIN_KEYS = ("seq", "prev_hash", "hash")
_SCALARS = (str, int, float, bool, type(None))
_LEAVES = frozenset((str, int, bool, type(None)))  # what orjson writes exactly as json does (see jsontext)


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

    def query(self, *, users: Sequence[str] = (), actions: Sequence[str] = (), sample_ids: Sequence[str] = (),
              since: datetime | None = None, before: datetime | None = None, until: datetime | None = None,
              limit: int | None = None) -> Iterator[dict[str, Any]]:
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


def record_content(entry: Mapping[str, Any], stamp: Stamp) -> dict[str, Any]:
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


def _exact(content: dict[str, Any]) -> bool:
    """``jsontext.exact(content)``, unrolled for a record's usual shape (scalars, and changes of
    {FIELD: {"before": scalar, "after": scalar}}): an import links a million of these."""
    for key, value in content.items():
        if type(value) in _LEAVES:
            continue
        if key != "changes" or type(value) is not dict:
            return exact(content)
        for change in value.values():
            if type(change) is not dict:
                return exact(content)
            for item in change.values():
                if type(item) not in _LEAVES:
                    return exact(content)
    return True


def link(contents: list[dict[str, Any]], head: tuple[int, str]) -> list[tuple[dict[str, Any], str, bool]]:
    """Number and hash ``contents`` after ``head``: (content, hash, whether it is plain JSON data
    that orjson may encode, see ``jsontext``) each."""
    seq, prev = head
    linked = []
    for content in contents:
        seq += 1
        content["seq"] = seq
        content["prev_hash"] = prev
        plain_data = _exact(content)
        prev = digest(canonical_bytes(content, checked=plain_data))
        linked.append((content, prev, plain_data))
    return linked


class ChainedLog:
    """What every engine's audit log shares: the fields added to each record (``with_fields``) and
    turning entries into record content. An engine supplies how it keeps a time (``encode_at``) and
    how it links and stores the contents (``write_linked``)."""

    fields: dict[str, Any]

    def encode_at(self, value: datetime) -> Any:
        """An audit time (UTC, milliseconds) as this engine keeps it."""
        raise NotImplementedError

    def write_linked(self, contents: list[dict[str, Any]], stamp: Stamp) -> None:
        """Link ``contents`` after the chain's head and store them, safely against other writers."""
        raise NotImplementedError

    def append(self, entry: Mapping[str, Any]) -> str:
        return self.append_many([entry])[0]

    def with_fields(self, **fields: Any) -> Self:
        other = copy.copy(self)
        other.fields = {**self.fields, **fields}
        return other

    def append_many(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        if self.fields:
            entries = [{**entry, **self.fields} for entry in entries]
        stamp = Stamp(self.encode_at)
        contents = [record_content(entry, stamp) for entry in entries]
        if contents:
            self.write_linked(contents, stamp)
        return [content["_id"] for content in contents]
