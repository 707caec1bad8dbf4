"""The audit trail on every backend: appending, chaining under races, reading, and tamper evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from samplectl.domain.audit import check_chain
from samplectl.domain.audit_query import AuditQuery, TimeRange
from samplectl.stores.audit import AuditLog
from tests.support import rawstore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def audit(sample_db: Any) -> AuditLog:
    sample_db.samples.ensure_indexes()
    log = sample_db.audit
    log.ensure_indexes()
    return log


def entry(n: int, **extra: Any) -> dict[str, Any]:
    base = {"at": T0 + timedelta(minutes=n), "user": "tech", "action": "update", "sample_id": f"S-{n % 4}",
            "changes": {"status": {"before": "collected", "after": "processing"}}, "reason": None}
    base.update(extra)
    return base


def seqs(log: AuditLog) -> list[int]:
    return [r["seq"] for r in log.walk()]


def test_records_are_numbered_chained_and_read_back_as_written(audit: AuditLog) -> None:
    audit.append(entry(1, reason="aliquoted"))
    audit.append_many([entry(n) for n in range(2, 6)])
    records = list(audit.walk())
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert check_chain(records).ok
    first = records[0]
    assert first["at"] == T0 + timedelta(minutes=1) and first["at"].tzinfo is not None
    assert (first["user"], first["action"], first["reason"]) == ("tech", "update", "aliquoted")
    assert first["changes"] == {"status": {"before": "collected", "after": "processing"}}
    assert first["samplectl_version"]


def test_login_and_user_records_have_no_sample_and_join_the_chain(audit: AuditLog) -> None:
    audit.append({"user": "alice", "action": "login"})  # `at` defaults to now
    audit.append({"user": "mallory", "action": "login_failed", "sample_id": None, "reason": "wrong password"})
    audit.append({"user": "admin", "action": "user_add", "details": {"username": "bob", "role": "viewer"},
                  "at": datetime(2025, 5, 1, 12, 0, 0, 999999, tzinfo=UTC)})
    records = list(audit.walk())
    assert [r["action"] for r in records] == ["login", "login_failed", "user_add"]
    assert all(r["sample_id"] is None for r in records)
    assert records[2]["details"] == {"username": "bob", "role": "viewer"}
    assert records[2]["at"] == datetime(2025, 5, 1, 12, 0, 0, 999000, tzinfo=UTC)
    assert abs(records[0]["at"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert check_chain(records).ok


def test_an_entry_needs_a_user_and_an_action(audit: AuditLog) -> None:
    from samplectl.domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        audit.append({"action": "login"})
    assert audit.count() == 0


@pytest.mark.slow
def test_append_many_writes_thousands_in_one_call(audit: AuditLog) -> None:
    ids = audit.append_many([entry(n, action="import", sample_id=f"S-{n}") for n in range(3000)])
    assert len(set(ids)) == 3000
    assert audit.count() == 3000
    assert check_chain(audit.walk()).ok
    assert [r["sample_id"] for r in audit.for_sample("S-2999")] == ["S-2999"]


def test_a_writer_that_loses_the_race_for_a_seq_links_again(audit: AuditLog, sample_db: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process appends between our reading the head and our insert (MongoDB backends)."""
    if sample_db.kind == "embedded":
        pytest.skip("the embedded store reads the head under SQLite's write lock: no race to lose")
    audit.append_many([entry(n) for n in range(3)])
    from samplectl.stores.mongo.audit import MongoAuditLog

    rival = MongoAuditLog(audit.store)  # type: ignore[attr-defined]
    real_head = MongoAuditLog.head
    slipped: list[int] = []

    def head_then_rival(self: MongoAuditLog) -> tuple[int, str]:
        found = real_head(self)
        if self is audit and len(slipped) < 2:
            slipped.append(1)
            rival.append(entry(99, user="rival"))
        return found

    monkeypatch.setattr(MongoAuditLog, "head", head_then_rival)
    audit.append_many([entry(n, user="us") for n in range(10, 15)])
    records = list(audit.walk())
    assert [r["seq"] for r in records] == list(range(1, 11))
    assert [r["user"] for r in records].count("us") == 5 and [r["user"] for r in records].count("rival") == 2
    assert check_chain(records).ok


def test_seq_is_unique_in_the_store(audit: AuditLog, sample_db: Any) -> None:
    audit.append(entry(1))
    with pytest.raises(Exception) as caught:
        rawstore.insert_raw_audit_copy(sample_db, 1)
    assert "UNIQUE" in str(caught.value) or "duplicate" in str(caught.value).lower()


def test_for_sample_is_oldest_first_and_follows_a_rename(audit: AuditLog) -> None:
    audit.append(entry(1, sample_id="OLD", action="create"))
    audit.append(entry(2, sample_id="OTHER"))
    audit.append(entry(3, sample_id="NEW", action="update", renamed_from="OLD",
                       changes={"sample_id": {"before": "OLD", "after": "NEW"}}))
    audit.append(entry(4, sample_id="NEW", action="delete"))
    assert [r["seq"] for r in audit.for_sample("NEW")] == [1, 3, 4]
    assert [r["seq"] for r in audit.for_sample("OLD")] == [1, 3]
    assert list(audit.for_sample("NEVER")) == []
    assert audit.ever_named("OLD") and not audit.ever_named("NEVER")


def test_query_by_user_action_sample_and_time(audit: AuditLog) -> None:
    audit.append_many([entry(n, user="alice" if n % 2 else "bob", action="create" if n < 3 else "update")
                       for n in range(1, 9)])
    def seqs(**wanted: Any) -> list[int]:
        return [r["seq"] for r in audit.query(AuditQuery.of(**wanted))]

    assert seqs(users=["alice"]) == [1, 3, 5, 7]
    assert seqs(users=[" alice "], actions=["update"]) == [3, 5, 7]
    assert seqs(sample_ids=["S-1", "S-2"]) == [1, 2, 5, 6]
    since, until = T0 + timedelta(minutes=3), T0 + timedelta(minutes=5)
    assert seqs(span=TimeRange(since=since, until=until)) == [3, 4, 5]
    assert seqs(span=TimeRange(before=until)) == [1, 2, 3, 4]
    assert seqs(limit=3) == [6, 7, 8]
    assert seqs(users=["alice"], limit=2) == [5, 7]


# -- tamper evidence: records changed directly in the database ----------------------------------

def tampered(audit: AuditLog) -> Any:
    return check_chain(audit.walk()).problem


@pytest.fixture
def five(audit: AuditLog) -> AuditLog:
    audit.append_many([entry(n) for n in range(1, 6)])
    assert check_chain(audit.walk()).ok
    return audit


def test_an_edited_record_is_detected(five: AuditLog, sample_db: Any) -> None:
    rawstore.set_audit(sample_db, 3, changes__status__after="archived")
    problem = tampered(five)
    assert problem.seq == 3 and "changed" in problem.problem


def test_an_edited_time_is_detected(five: AuditLog, sample_db: Any) -> None:
    rawstore.set_audit(sample_db, 2, at=T0 + timedelta(days=1))
    assert tampered(five).seq == 2


def test_a_deleted_record_is_detected(five: AuditLog, sample_db: Any) -> None:
    rawstore.delete_audit(sample_db, 2)
    problem = tampered(five)
    assert problem.seq == 3 and "missing" in problem.problem


def test_reordered_records_are_detected(five: AuditLog, sample_db: Any) -> None:
    rawstore.renumber_audit(sample_db, 2, 1000)
    rawstore.renumber_audit(sample_db, 4, 2)
    rawstore.renumber_audit(sample_db, 1000, 4)
    problem = tampered(five)
    assert problem.seq == 2


def test_a_record_edited_and_rehashed_is_detected_at_the_next(five: AuditLog, sample_db: Any) -> None:
    from samplectl.domain.audit import record_hash

    rawstore.set_audit(sample_db, 3, user="mallory")
    edited = rawstore.raw_audit(sample_db, 3)
    rawstore.set_audit(sample_db, 3, hash=record_hash(edited))
    problem = tampered(five)
    assert problem.seq == 4 and "prev_hash" in problem.problem


def test_the_first_append_on_a_store_nobody_initialised_creates_the_unique_seq_index(sample_db: Any) -> None:
    if rawstore.embedded(sample_db):
        pytest.skip("the embedded store's seq is the table's key: there is no index to forget")
    log = sample_db.audit
    log.append(entry(1))
    mongo = sample_db.samples.db
    unique = [spec for spec in mongo["audit"].index_information().values() if spec.get("unique")]
    keys = [list(spec["key"]) if isinstance(spec["key"], dict) else [k for k, _ in spec["key"]] for spec in unique]
    assert ["seq"] in keys
    assert log.append(entry(2)) and [r["seq"] for r in log.walk()] == [1, 2]
