"""What a TAB offers, from the store itself, on every backend (mongomock, embedded, wire, real MongoDB).

The engines only seek their indexes; stores.values decides what is offered, so every backend must
give exactly the same answer, also where one seek reads a batch full of the same value.
"""

from __future__ import annotations

from typing import Any

import pytest

from samplectl.stores.samples import SampleStore
from tests.integration.test_sample_store import record


@pytest.fixture
def store(sample_db: Any) -> SampleStore:
    store = sample_db.samples
    store.ensure_indexes()
    return store


def test_values_are_distinct_sorted_limited_and_exact_prefixes(store: SampleStore) -> None:
    # 450 samples of one subject (more than a MongoDB batch holds) between two others: each offered once.
    rows = [record(f"A-{i:04d}", subject_id="P-2", storage_location=f"FRZ-1/R1/B{i % 7}/A{i % 9}") for i in range(450)]
    rows += [record("B-1", subject_id="P-1", storage_location="FRZ-1/R2/B1"),
             record("B-2", subject_id="P-3", storage_location="FRZ-2"),
             record("S.*[x", subject_id="P (1)", storage_location="shelf (A)*/box 1"),
             record("S-9", subject_id="P+", storage_location="FRZ-1/")]
    assert store.insert_many(rows) == len(rows)

    assert store.values("subject_id", "P", 200) == ["P (1)", "P+", "P-1", "P-2", "P-3"]
    assert store.values("subject_id", "P-", 2) == ["P-1", "P-2"]
    assert store.values("subject_id", "P (", 200) == ["P (1)"]
    assert store.values("sample_id", "A-044", 200) == [f"A-044{i}" for i in range(10)]
    assert store.values("sample_id", "A-", 3) == ["A-0000", "A-0001", "A-0002"]
    assert store.values("sample_id", "S.", 200) == ["S.*[x"]  # "." and "*" are themselves
    assert store.values("sample_id", "S", 200) == ["S-9", "S.*[x"]
    assert store.values("sample_id", "S.*[", 200) == ["S.*[x"]  # not a pattern (it would not compile)
    assert store.values("sample_id", "a-", 200) == []  # case-sensitive
    assert store.values("storage_location", "", 200) == ["FRZ-1/", "FRZ-2", "shelf (A)*/"]
    assert store.values("storage_location", "FRZ-1/", 200) == ["FRZ-1/", "FRZ-1/R1/", "FRZ-1/R2/"]
    assert store.values("storage_location", "FRZ-1/R1/", 200) == [f"FRZ-1/R1/B{i}/" for i in range(7)]
    assert store.values("storage_location", "FRZ-1/R1/B3/", 200) == [f"FRZ-1/R1/B3/A{i}" for i in range(9)]


def test_only_the_completable_fields(store: SampleStore) -> None:
    with pytest.raises(ValueError, match="cannot complete 'status'"):
        store.values("status", "", 200)
