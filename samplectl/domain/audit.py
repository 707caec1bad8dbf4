"""The audit trail's rules: what an entry shows, how records are chained, how a chain is checked.

Every audit record carries ``seq`` (1, 2, 3, ... with no gaps), ``prev_hash`` (the ``hash`` of record
``seq - 1``; 64 zeros for the first) and ``hash``: the SHA-256 of the record's canonical form, which is
every field except ``hash`` as JSON with sorted keys, no spaces, UTF-8, and ``at`` written as
``YYYY-MM-DDTHH:MM:SS.mmmZ``. Editing a record changes its hash; deleting or reordering records breaks
the seq run or the prev_hash link; re-hashing an edited record breaks the link of the next one.
Nothing here touches a database, so an auditor can re-check a chain with this module alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from samplectl.domain.dates import to_millisecond
from samplectl.domain.jsontext import compact
from samplectl.domain.vocab import RECORD_FIELDS

GENESIS = "0" * 64
# Fields the chain adds; `audit -o json` shows seq, history never shows any of them.
CHAIN_FIELDS = ("_id", "seq", "prev_hash", "hash")
SAMPLE_ACTIONS = ("create", "update", "delete", "import", "undo")


def time_text(value: datetime) -> str:
    """The canonical text of an audit time: UTC, milliseconds, Z (fixed width, so it sorts)."""
    value = to_millisecond(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return time_text(value)
    raise TypeError(f"audit values must be JSON data, not {type(value).__name__}")


def canonical(content: Mapping[str, Any]) -> str:
    """The canonical JSON of a record's content (``at`` already as text, ``hash`` left out)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def canonical_bytes(content: Mapping[str, Any], *, checked: bool | None = None) -> bytes:
    """``canonical(content)`` as UTF-8, what is hashed; through orjson when it writes the same bytes
    (``checked``: see ``jsontext.compact``)."""
    fast = compact(content, sort_keys=True, checked=checked)
    return fast if fast is not None else canonical(content).encode("utf-8")


class CanonicalTemplate:
    """``canonical_bytes`` of records that differ only in a few values, by filling in a template.

    An import hashes a million records that share every key and most values; encoding each as a
    whole was most of the audit trail's cost. ``content`` is one such record with a marker string
    (unique, plain text) in place of each varying value; ``slots`` names each marker and whether
    its values are text or integers. The bytes made are the canonical form itself (the template
    is cut from ``canonical``), so the chain's format does not change: tests compare the two.
    """

    _ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON escapes in text (ensure_ascii=False)

    def __init__(self, content: Mapping[str, Any], slots: Mapping[str, type]) -> None:
        text = canonical(content).replace("%", "%%")
        quoted = [json.dumps(marker) for marker in slots]
        if any(text.count(q) != 1 for q in quoted):
            raise ValueError("each marker must occur exactly once in the record")
        order = sorted(range(len(quoted)), key=lambda i: text.index(quoted[i]))  # the slots in the text's order
        for q, kind in zip(quoted, slots.values(), strict=True):
            text = text.replace(q, '"%s"' if kind is str else "%d")
        self.text_slots = tuple(i for i, kind in enumerate(slots.values()) if kind is str)
        if len(self.text_slots) < 2:  # itemgetter of one index gives a value, not a tuple
            raise ValueError("a template needs at least two text slots")
        self.in_order = itemgetter(*order)
        self.ordered = order == sorted(order)  # slots named in the text's order: no reordering per record
        self.texts = itemgetter(*self.text_slots)
        self.format = text

    def __call__(self, values: Sequence[Any]) -> bytes:
        """The canonical bytes with ``values`` in the slots (in the order ``slots`` named them)."""
        if self._ESCAPED.search("".join(self.texts(values))):  # rare: a quote, a backslash, a control character
            values = list(values)
            for i in self.text_slots:
                values[i] = json.dumps(values[i], ensure_ascii=False)[1:-1]
        return (self.format % (tuple(values) if self.ordered else self.in_order(values))).encode("utf-8")


def digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """A value as the audit trail keeps it: JSON data, dates as canonical text."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return time_text(value)
    return value


def plain_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` as JSON data; the usual {FIELD: {"before": scalar, "after": scalar}} is checked
    without copying, since imports pass thousands of these per call."""
    if type(changes) is dict:
        for key, change in changes.items():
            if type(key) is not str or type(change) is not dict:
                return plain(changes)
            for k, v in change.items():
                if type(k) is not str or type(v) not in _SCALARS:
                    return plain(changes)
        return changes
    return plain(changes)


def record_hash(record: Mapping[str, Any]) -> str:
    """The hash a stored record should carry (``at`` as an aware datetime or canonical text)."""
    content = {k: v for k, v in record.items() if k != "hash"}
    if isinstance(content.get("at"), datetime):
        content["at"] = time_text(content["at"])
    return digest(canonical_bytes(content))


@dataclass(frozen=True)
class ChainProblem:
    """The first record (or gap) where the chain does not hold."""

    seq: int
    record_id: str | None
    problem: str
    at: str | None = None
    action: str | None = None
    sample_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "id": self.record_id, "at": self.at, "action": self.action,
                "sample_id": self.sample_id, "problem": self.problem}


@dataclass
class ChainReport:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problem: ChainProblem | None = None
    seen_at_head: str | None = None  # the hash found at the remembered head's seq (see check_chain)

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_chain(records: Iterable[Mapping[str, Any]], head: tuple[int, str] | None = None) -> ChainReport:
    """Walk records in ``seq`` order and stop at the first that does not match.

    ``records`` must come sorted by seq (as the store returns them); a record out of place shows
    as a seq that does not follow its predecessor. ``head``: a (seq, hash) the trail is known to
    have reached (see ``stores.identity``); a trail that ends before it, or holds another record
    there, was cut short, which the links alone cannot show.
    """
    report = _walk_chain(records, head)
    if report.ok and head is not None:
        seq, hashed = head
        if report.head_seq < seq:
            report.problem = ChainProblem(
                report.head_seq + 1, None,
                f"records {report.head_seq + 1}..{seq} are missing from the end of the trail "
                f"(it had reached seq {seq}, hash {hashed[:12]}..., as the users database remembers)")
        elif report.seen_at_head != hashed:
            report.problem = ChainProblem(
                seq, None, f"record {seq} is not the one the trail had there (hash {hashed[:12]}..., as the users "
                "database remembers): the end of the trail was cut off and written again")
    return report


def _walk_chain(records: Iterable[Mapping[str, Any]], head: tuple[int, str] | None) -> ChainReport:
    report = ChainReport()
    watch = None if head is None else head[0]
    expected_seq, prev_hash = 1, GENESIS
    for record in records:
        seq = record.get("seq")

        def where(record: Mapping[str, Any] = record) -> dict[str, Any]:
            at = record.get("at")
            return {
                "record_id": None if record.get("_id") is None else str(record.get("_id")),
                "at": time_text(at) if isinstance(at, datetime) else at,
                "action": record.get("action"),
                "sample_id": record.get("sample_id"),
            }

        if not isinstance(seq, int) or isinstance(seq, bool):
            report.problem = ChainProblem(expected_seq, problem=f"record has no valid seq ({seq!r})", **where())
            return report
        if seq != expected_seq:
            problem = (
                f"records {expected_seq}..{seq - 1} are missing before this one"
                if seq > expected_seq
                else f"seq {seq} is out of order (expected {expected_seq})"
            )
            report.problem = ChainProblem(seq, problem=problem, **where())
            return report
        if record.get("prev_hash") != prev_hash:
            report.problem = ChainProblem(
                seq, problem="prev_hash does not match the hash of the record before it "
                "(a record before it was changed, removed or re-hashed)", **where()
            )
            return report
        actual = record_hash(record)
        if record.get("hash") != actual:
            report.problem = ChainProblem(
                seq, problem="content does not match its hash (the record was changed)", **where()
            )
            return report
        report.checked += 1
        report.head_seq, report.head_hash = seq, actual
        if seq == watch:
            report.seen_at_head = actual
        expected_seq, prev_hash = seq + 1, actual
    return report


def history_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as `history` shows it: exactly the contract's fields, times as UTC text."""
    at = record.get("at")
    return {
        "at": time_text(at) if isinstance(at, datetime) else at,
        "user": record.get("user"),
        "action": record.get("action"),
        "sample_id": record.get("sample_id"),
        "changes": ordered_changes(record.get("changes") or {}),
        "reason": record.get("reason"),
    }


def ordered_changes(changes: Any) -> Any:
    """Changes in the sample's field order (stores may hand keys back sorted), before then after.

    Anything else (only an altered record holds anything else) is shown as it was stored."""
    if not isinstance(changes, Mapping):
        return changes
    rank = {name: i for i, name in enumerate(RECORD_FIELDS)}
    out: dict[str, Any] = {}
    for name in sorted(changes, key=lambda n: (rank.get(n, len(rank)), n)):
        change = changes[name]
        if isinstance(change, Mapping) and set(change) == {"before", "after"}:
            change = {"before": change["before"], "after": change["after"]}
        out[name] = change
    return out


def audit_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as `audit` shows it: the history entry, then seq and what else was recorded."""
    entry = history_entry(record)
    entry["seq"] = record.get("seq")
    for key, value in record.items():
        if key not in entry and key not in CHAIN_FIELDS:
            entry[key] = value
    return entry
