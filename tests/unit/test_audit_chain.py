"""The audit chain's rules, with no database: what is hashed, and what check_chain catches."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from samplectl.domain.audit import (
    GENESIS,
    canonical,
    check_chain,
    digest,
    history_entry,
    record_hash,
    time_text,
)

T0 = datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)


def chain(n: int) -> list[dict[str, Any]]:
    """n records linked the way AuditLog links them (``at`` read back as a datetime)."""
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        content = {"_id": f"id{seq}", "at": time_text(T0 + timedelta(seconds=seq)), "user": "tech",
                   "action": "update", "sample_id": f"S-{seq % 3}", "reason": None,
                   "changes": {"status": {"before": "collected", "after": "processing"}},
                   "seq": seq, "prev_hash": prev}
        prev = digest(canonical(content))
        record = dict(content, hash=prev, at=T0.replace(microsecond=123000) + timedelta(seconds=seq))
        records.append(record)
    return records


def test_canonical_form_is_sorted_compact_utf8_json() -> None:
    assert canonical({"b": 1, "a": {"z": None, "y": "Zürich"}}) == '{"a":{"y":"Zürich","z":null},"b":1}'
    assert time_text(T0) == "2025-03-14T09:30:00.123Z"


def test_hash_covers_every_field_but_itself_and_reads_back_dates_the_same() -> None:
    record = chain(1)[0]
    assert record_hash(record) == record["hash"]
    # A store hands `at` back as naive UTC (pymongo) or as text (embedded): same hash.
    assert record_hash(dict(record, at=record["at"].replace(tzinfo=None))) == record["hash"]
    assert record_hash(dict(record, at=time_text(record["at"]))) == record["hash"]
    assert record_hash(dict(record, reason="x")) != record["hash"]


def test_an_intact_chain_reports_its_head() -> None:
    records = chain(5)
    report = check_chain(records)
    assert report.ok and report.checked == 5
    assert (report.head_seq, report.head_hash) == (5, records[-1]["hash"])
    assert check_chain([]).ok and check_chain([]).head_hash == GENESIS


def test_an_edited_record_is_named() -> None:
    records = chain(5)
    records[2]["changes"]["status"]["after"] = "archived"
    problem = check_chain(records).problem
    assert problem is not None and problem.seq == 3 and problem.record_id == "id3"
    assert "changed" in problem.problem


def test_an_edited_and_rehashed_record_breaks_the_next_link() -> None:
    records = chain(5)
    records[2]["user"] = "mallory"
    records[2]["hash"] = record_hash(records[2])
    problem = check_chain(records).problem
    assert problem is not None and problem.seq == 4 and "prev_hash" in problem.problem


def test_a_deleted_record_is_a_gap() -> None:
    records = chain(5)
    del records[1]
    problem = check_chain(records).problem
    assert problem is not None and problem.seq == 3 and "2..2 are missing" in problem.problem


def test_deleting_the_first_record_is_a_gap_too() -> None:
    problem = check_chain(chain(3)[1:]).problem
    assert problem is not None and problem.seq == 2 and "missing" in problem.problem


def test_reordered_records_are_detected_whichever_way() -> None:
    # Swapping positions (the store returns by seq, so this is what a renumbering looks like) ...
    records = chain(5)
    records[1], records[2] = records[2], records[1]
    problem = check_chain(records).problem
    assert problem is not None and problem.seq == 3
    # ... and swapping the seq numbers so that the order still looks right.
    records = chain(5)
    swapped = copy.deepcopy(records)
    swapped[1]["seq"], swapped[2]["seq"] = 3, 2
    swapped[1], swapped[2] = swapped[2], swapped[1]
    problem = check_chain(swapped).problem
    assert problem is not None and problem.seq == 2


def test_a_record_without_a_seq_is_reported() -> None:
    records = chain(3)
    records[1]["seq"] = "2"
    problem = check_chain(records).problem
    assert problem is not None and problem.seq == 2 and "seq" in problem.problem


def test_history_entry_has_exactly_the_contract_shape_in_field_order() -> None:
    record = dict(chain(1)[0], changes={"storage_location": {"after": "B", "before": "A"},
                                        "sample_id": {"before": "X", "after": "Y"}}, forced=True)
    entry = history_entry(record)
    assert list(entry) == ["at", "user", "action", "sample_id", "changes", "reason"]
    assert entry["at"] == "2025-03-14T09:30:01.123Z"
    assert list(entry["changes"]) == ["sample_id", "storage_location"]
    assert list(entry["changes"]["storage_location"]) == ["before", "after"]
