"""The embedded store's audit rows: every record comes back exactly as it was hashed, whichever way
it was encoded (the quick path for sample changes, the general one, the compact forms of changes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from samplectl.domain.audit import canonical, digest
from samplectl.domain.jsontext import exact
from samplectl.domain.vocab import INPUT_FIELDS
from samplectl.stores.audit import Stamp, link, record_content
from samplectl.stores.sqlite.audit import COMPACT_FIELDS, decode_changes, decode_row, encode_changes, encode_row, row_of

HASH = "ab" * 32
PREV = "cd" * 32
AT_MS = 1_700_000_000_123


def content(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "_id": "0123456789abcdef0123456789abcdef", "at": "2023-11-14T22:13:20.123Z", "user": "ana",
        "action": "import", "sample_id": "S-1", "reason": None, "samplectl_version": "0.1.0",
        "import_batch": "20250101-000000-abcdef", "seq": 7, "prev_hash": PREV,
        "changes": {"sample_id": {"before": None, "after": "S-1"}, "sample_type": {"before": None, "after": "blood"}},
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not ...}


def created(*fields: str, sample_id: str = "S-1") -> dict[str, Any]:
    return {f: {"before": None, "after": sample_id if f == "sample_id" else f"{f}-value"} for f in fields}


CASES = [
    content(),
    content(import_batch=...),  # an update or a create: no batch
    content(reason="moved", action="update",
            changes={"status": {"before": "collected", "after": "processing"}}),
    content(changes=created(*INPUT_FIELDS)),
    content(changes=created(*COMPACT_FIELDS)),  # position not given: the compact form
    content(changes=created("sample_id", "subject_id")),
    content(changes=created(*COMPACT_FIELDS, sample_id="S-2")),  # the record names another sample
    content(changes={"status": {"before": "archived", "after": None}}),
    content(changes={}),
    content(changes=[1, 2]),
    content(import_batch=None),  # None where NULL would mean "no such key"
    content(import_batch=3),
    content(reason=5.5),
    content(_id="not-hex"),
    content(seq="7"),
    content(prev_hash="short"),
    content(client={"address": "127.0.0.1"}),  # a key without a column
    content(changes={"x": {"before": None, "after": 1.5}}),
]


@pytest.mark.parametrize("record", CASES, ids=range(len(CASES)))
def test_the_quick_row_is_the_general_row_and_reads_back_as_hashed(record: dict[str, Any]) -> None:
    row = row_of(dict(record), HASH, AT_MS)
    assert row == encode_row(dict(record, hash=HASH), AT_MS)
    back = decode_row(row)
    assert back.pop("at").isoformat(timespec="milliseconds") == "2023-11-14T22:13:20.123+00:00"
    assert back == {k: v for k, v in dict(record, hash=HASH).items() if k != "at"}


def test_an_import_record_keeps_its_values_by_position() -> None:
    """The compact forms for exactly the fields they were made for: the values as text after a 4
    when they are all text without the separator, else [3, [after, ...]]; others as a dict."""
    values = [f"{f}-value" for f in COMPACT_FIELDS[1:]]
    assert encode_changes(created(*COMPACT_FIELDS), "S-1") == "4\x1f" + "\x1f".join(values)
    with_unit = dict(created(*COMPACT_FIELDS), status={"before": None, "after": "a\x1fb"})
    assert json.loads(encode_changes(with_unit, "S-1")) == [3, [*values[:3], "a\x1fb", values[4]]]
    with_number = dict(created(*COMPACT_FIELDS), subject_id={"before": None, "after": 7})
    assert json.loads(encode_changes(with_number, "S-1"))[0] == 3
    assert json.loads(encode_changes(created(*COMPACT_FIELDS, "position"), "S-1"))[0] == 0


@pytest.mark.parametrize("values", [["", "", "", "", ""], ["a", "é", "'=x", "\"q\",", "[3,1]"], ["1", "2", "3", "4", "5"]])
def test_text_values_come_back_exactly(values: list[str]) -> None:
    changes = {f: {"before": None, "after": v} for f, v in zip(COMPACT_FIELDS, ["S-1", *values], strict=True)}
    stored = encode_changes(changes, "S-1")
    assert stored.startswith("4\x1f") and decode_changes(stored, "S-1") == changes


def test_an_altered_text_form_is_shown_as_stored() -> None:
    assert decode_changes("4\x1fa\x1fb", "S-1") == "4\x1fa\x1fb"


ENTRIES = [
    {"user": "ana", "action": "import", "sample_id": "S-1", "changes": created(*INPUT_FIELDS), "import_batch": "b"},
    {"user": "ana", "action": "update", "changes": {"x": {"before": 1.5, "after": 2}}},  # a float: json's text
    {"user": "ana", "action": "update", "changes": {"x": {"before": [1], "after": None}}},
    {"user": "ana", "action": "update", "changes": {1: {"before": None, "after": "a"}}},  # a key that is no text
    {"user": "ana", "action": "login", "client": {"address": "127.0.0.1", "agent": "x"}},
    {"user": "ana", "action": "login", "weight": 2.5},
    {"user": "ana", "action": "login", "when": datetime(2025, 1, 1, tzinfo=UTC)},
    {"user": "ana", "action": "update", "changes": [1, 2]},
]


@pytest.mark.parametrize("entry", ENTRIES, ids=range(len(ENTRIES)))
def test_content_said_to_be_plain_is_what_orjson_may_encode(entry: dict[str, Any]) -> None:
    """record_content's shortcut never calls content plain that jsontext.exact would not: its hash
    would then differ from the json module's, and `audit verify` would fail on a sound record."""
    content, plain = record_content(entry, Stamp(lambda at: at))
    linked = link([content], (0, "0" * 64), [plain])
    assert linked[0][2] == exact(content)
    assert linked[0][1] == digest(canonical(content).encode())


def test_an_import_record_is_known_plain_without_a_second_look() -> None:
    assert record_content(ENTRIES[0], Stamp(lambda at: at))[1] is True


def test_appended_records_keep_a_short_link_and_read_back_whole(tmp_path: Any) -> None:
    """prev_hash of an appended record is kept as 4 bytes (the first record's, the genesis, whole)
    and read back as the whole hash of the record before it; a link that no longer fits reads back short."""
    from samplectl.domain.audit import check_chain
    from samplectl.stores.sqlite import open_sqlite

    database = open_sqlite(tmp_path / "samples.db")
    try:
        database.audit.append_many([{"user": "ana", "action": "login"} for _ in range(3)])
        conn = database.samples.db.conn  # type: ignore[attr-defined]
        assert [len(r[0]) for r in conn.execute("SELECT prev_hash FROM audit ORDER BY seq")] == [32, 4, 4]
        records = list(database.audit.walk())
        assert [r["prev_hash"] for r in records] == ["0" * 64, records[0]["hash"], records[1]["hash"]]
        assert check_chain(records).ok
        conn.execute("UPDATE audit SET hash = zeroblob(32) WHERE seq = 2")
        assert [r["prev_hash"] for r in database.audit.walk()][2] == records[1]["hash"][:8]
    finally:
        database.close()
