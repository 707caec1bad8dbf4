"""One contract for the sample store, run on every backend (mongomock, embedded, wire, real MongoDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.errors import Conflict
from samplectl.stores.samples import SampleStore

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def record(sample_id: str, *, minutes: int = 0, **overrides: Any) -> dict[str, Any]:
    base = {
        "sample_id": sample_id, "sample_type": "blood", "subject_id": "SUBJ-1",
        "collection_date": T0 + timedelta(minutes=minutes), "status": "collected",
        "storage_location": "FRZ-1/R1", "created_at": T0, "created_by": "tech",
        "updated_at": T0, "updated_by": "tech", "version": 1, "position": None,
    }
    base.update(overrides)
    return base


@pytest.fixture
def store(sample_db: Any) -> SampleStore:
    store = sample_db.samples
    store.ensure_indexes()
    return store


def ids(records: Any) -> list[str]:
    return [r["sample_id"] for r in records]


def test_insert_then_get_round_trips_every_field(store: SampleStore) -> None:
    rec = record("S-1", created_at=datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC))
    store.insert(rec)
    got = store.get("S-1")
    assert got == rec
    assert got["collection_date"].tzinfo is not None


def test_get_unknown_is_none(store: SampleStore) -> None:
    assert store.get("nope") is None


def test_duplicate_id_is_a_conflict_and_keeps_the_first(store: SampleStore) -> None:
    store.insert(record("S-1", subject_id="A"))
    with pytest.raises(Conflict):
        store.insert(record("S-1", subject_id="B"))
    assert store.get("S-1")["subject_id"] == "A"


def test_ensure_indexes_twice_is_safe(store: SampleStore) -> None:
    assert store.ensure_indexes() == store.ensure_indexes()


def test_default_sort_is_newest_first_then_id(store: SampleStore) -> None:
    for sid, minutes in [("b", 1), ("a", 1), ("c", 5), ("d", 0)]:
        store.insert(record(sid, minutes=minutes))
    assert ids(store.find(Criteria(), Sort(), None)) == ["c", "a", "b", "d"]
    assert ids(store.find(Criteria(), Sort("collection_date", False), None)) == ["d", "a", "b", "c"]
    assert ids(store.find(Criteria(), Sort("sample_id", True), None)) == ["d", "c", "b", "a"]


def test_keyset_paging_returns_every_record_once_across_pages(store: SampleStore, monkeypatch) -> None:
    import samplectl.stores.mongo.samples as module

    monkeypatch.setattr(module, "PAGE_SIZE", 7)
    # Ties on the sort field across page boundaries are the hard case for keyset paging.
    for i in range(40):
        store.insert(record(f"S-{i:03d}", minutes=i // 3))
    got = ids(store.find(Criteria(), Sort(), None))
    assert len(got) == 40 and len(set(got)) == 40
    expected = sorted((f"S-{i:03d}" for i in range(40)), key=lambda s: (-(int(s[2:]) // 3), s))
    assert got == expected
    assert ids(store.find(Criteria(), Sort(), 10)) == expected[:10]
    by_location = ids(store.find(Criteria(), Sort("storage_location", False), None))
    assert by_location == sorted(by_location)


def test_criteria_or_within_and_across(store: SampleStore) -> None:
    store.insert(record("1", sample_type="blood", status="collected"))
    store.insert(record("2", sample_type="saliva", status="collected"))
    store.insert(record("3", sample_type="tissue", status="collected"))
    store.insert(record("4", sample_type="blood", status="archived"))
    found = ids(store.find(Criteria(sample_types=("blood", "saliva"), statuses=("collected",)), Sort("sample_id", False), None))
    assert found == ["1", "2"]
    assert store.count(Criteria(sample_types=("blood",))) == 2


def test_location_prefix_is_literal_and_case_sensitive(store: SampleStore) -> None:
    store.insert(record("1", storage_location="FRZ-1/R1"))
    store.insert(record("2", storage_location="frz-1/R1"))
    store.insert(record("3", storage_location="FRZ.1/R1"))
    store.insert(record("4", storage_location="XFRZ-1"))
    assert ids(store.find(Criteria(location_prefixes=("FRZ-1",)), Sort("sample_id", False), None)) == ["1"]
    # A regex metacharacter in the prefix is a plain character.
    assert ids(store.find(Criteria(location_prefixes=("FRZ.",)), Sort("sample_id", False), None)) == ["3"]
    assert ids(store.find(Criteria(location_prefixes=(".*",)), Sort(), None)) == []


def test_collection_date_bounds_are_inclusive(store: SampleStore) -> None:
    for minutes in range(5):
        store.insert(record(f"m{minutes}", minutes=minutes))
    crit = Criteria(collected_from=T0 + timedelta(minutes=1), collected_to=T0 + timedelta(minutes=3))
    assert sorted(ids(store.find(crit, Sort(), None))) == ["m1", "m2", "m3"]
    crit = Criteria(collected_before=T0 + timedelta(minutes=2))
    assert sorted(ids(store.find(crit, Sort(), None))) == ["m0", "m1"]


def test_subject_matches_exactly(store: SampleStore) -> None:
    store.insert(record("1", subject_id="SUBJ-1"))
    store.insert(record("2", subject_id="SUBJ-10"))
    assert ids(store.find(Criteria(subject_ids=("SUBJ-1",)), Sort(), None)) == ["1"]


def test_replace_if_version_refuses_a_stale_version(store: SampleStore) -> None:
    store.insert(record("S-1"))
    assert store.replace_if_version("S-1", 1, record("S-1", status="processing", version=2))
    assert not store.replace_if_version("S-1", 1, record("S-1", status="archived", version=2))
    got = store.get("S-1")
    assert got["status"] == "processing" and got["version"] == 2


def test_delete_if_version(store: SampleStore) -> None:
    store.insert(record("S-1"))
    assert not store.delete_if_version("S-1", 5)
    assert store.get("S-1") is not None
    assert store.delete_if_version("S-1", 1)
    assert store.get("S-1") is None


def test_ensure_ready_creates_the_unique_index_on_a_fresh_store(sample_db: Any) -> None:
    store = sample_db.samples
    store.ensure_ready()
    store.insert(record("S-1"))
    with pytest.raises(Conflict):
        store.insert(record("S-1"))


@pytest.mark.parametrize("sort", [Sort(), Sort("collection_date", False), Sort("storage_location", False),
                                  Sort("status", True), Sort("sample_id", True)])
def test_paging_with_criteria_matches_an_unpaged_reference(store: SampleStore, monkeypatch, sort: Sort) -> None:
    import samplectl.stores.mongo.samples as module

    monkeypatch.setattr(module, "PAGE_SIZE", 4)  # the MongoDB engine pages (the embedded one streams)
    for i in range(30):
        store.insert(record(f"S-{i:02d}", minutes=i % 6, status=("collected", "processing")[i % 2],
                            storage_location=f"FRZ-{i % 3}/R{i % 4}"))
    crit = Criteria(statuses=("collected",), location_prefixes=("FRZ-0", "FRZ-1/R1"),
                    collected_from=T0 + timedelta(minutes=1))
    everything = list(store.find(Criteria(), Sort("sample_id", False), None))
    matching = [r for r in everything if r["status"] == "collected"
                and r["storage_location"].startswith(("FRZ-0", "FRZ-1/R1"))
                and r["collection_date"] >= T0 + timedelta(minutes=1)]
    # Ties on the sort field go by ascending sample_id in either direction (sorted() is stable with reverse).
    by_id = sorted(matching, key=lambda r: r["sample_id"])
    expected = sorted(by_id, key=lambda r: r[sort.field], reverse=sort.descending)
    assert ids(store.find(crit, sort, None)) == ids(expected)
    assert store.count(crit) == len(expected)
