"""The embedded engine and the MongoDB engine (on mongomock) answer every query the same way:
generated samples, criteria, sorts, limits and pages give the same records in the same order."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplectl.domain.criteria import Criteria, Sort
from samplectl.domain.vocab import SAMPLE_TYPES, SORTABLE_FIELDS, STATUSES

T0 = datetime(2025, 3, 14, tzinfo=UTC)
# Ids that look like dates, numbers, JSON, or differ only in case or by a non-ASCII letter.
IDS = st.sampled_from(["2025-03-14", "2025-03-14T00:00:00Z", "2025-03-14T00:00:00+00:00", "2025-03-14-001",
                       "2025/03/14-B", "01/15/2023-7", "1e3", "1000", "true", "null", '{"a":1}', "S-1", "s-1",
                       "S-10", "S-2", "Ä-1", "ß", "z"])
LOCATIONS = st.sampled_from(["FRZ-1/R1/B1", "FRZ-1/R1/B2", "FRZ-1/R2", "FRZ-10/R1", "frz-1/R1", "FRZ-1",
                             "Frost/Ä", "Frost/Ö", "A%B", "A_B", "A.B", "(x)"])
PREFIXES = st.sampled_from(["FRZ-1", "FRZ-1/", "FRZ-1/R1/", "frz", "Frost/", "Frost/Ä", "A%", "A_", "A.", "(", "Z"])
WHEN = st.integers(min_value=-3, max_value=3).map(lambda d: T0 + timedelta(hours=12 * d))


@st.composite
def samples(draw: Any) -> list[dict[str, Any]]:
    ids = draw(st.lists(IDS, unique=True, max_size=12))
    made = []
    for i, sample_id in enumerate(ids):
        created = T0 + timedelta(milliseconds=draw(st.integers(0, 3)) * 250)
        made.append({
            "sample_id": sample_id, "sample_type": draw(st.sampled_from(SAMPLE_TYPES)),
            "subject_id": draw(st.sampled_from(["SUBJ-1", "SUBJ-2", "subj-1"])), "collection_date": draw(WHEN),
            "status": draw(st.sampled_from(STATUSES)), "storage_location": draw(LOCATIONS),
            "created_at": created, "created_by": draw(st.sampled_from(["ann", "bob"])), "updated_at": created,
            "updated_by": "ann", "version": 1 + i % 3, "position": None,
        })
    return made


@st.composite
def criteria(draw: Any) -> Criteria:
    lists = st.lists
    start = draw(st.none() | WHEN)
    return Criteria(
        sample_types=tuple(draw(lists(st.sampled_from(SAMPLE_TYPES), max_size=2, unique=True))),
        statuses=tuple(draw(lists(st.sampled_from(STATUSES), max_size=2, unique=True))),
        subject_ids=tuple(draw(lists(st.sampled_from(["SUBJ-1", "subj-1", "NOPE"]), max_size=2, unique=True))),
        location_prefixes=tuple(draw(lists(PREFIXES, max_size=2, unique=True))),
        collected_from=start,
        collected_before=draw(st.none() | WHEN),
        collected_to=draw(st.none() | WHEN),
    )


def engines() -> tuple[Any, Any, Any]:
    import mongomock

    from samplectl.stores.mongo import mongo_database
    from samplectl.stores.sqlite import open_sqlite

    directory = tempfile.TemporaryDirectory()
    embedded = open_sqlite(Path(directory.name) / "samples.db")
    mongo = mongo_database(mongomock.MongoClient()["samplectl"], "mongomock")
    return embedded, mongo, directory


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=samples(), crit=criteria(), field=st.sampled_from(SORTABLE_FIELDS), descending=st.booleans(),
       limit=st.none() | st.integers(min_value=0, max_value=6), page=st.integers(min_value=0, max_value=12))
def test_both_engines_return_the_same_records_in_the_same_order(
    stored: list[dict[str, Any]], crit: Criteria, field: str, descending: bool, limit: int | None, page: int
) -> None:
    embedded, mongo, directory = engines()
    try:
        for database in (embedded, mongo):
            database.samples.ensure_indexes()
            database.samples.insert_many(stored)
        sort = Sort(field, descending)
        ours = list(embedded.samples.find(crit, sort, limit))
        theirs = list(mongo.samples.find(crit, sort, limit))
        assert ours == theirs
        assert embedded.samples.count(crit) == mongo.samples.count(crit) == len(list(embedded.samples.find(crit, sort)))
        by_id = lambda r: r["sample_id"]  # noqa: E731
        assert sorted(embedded.samples.stream(crit), key=by_id) == sorted(mongo.samples.stream(crit), key=by_id)
        # The next page after any sample of the whole result.
        everything = list(embedded.samples.find(crit, sort))
        if everything:
            after = everything[page % len(everything)]["sample_id"]
            ours = list(embedded.samples.find(crit, sort, limit, after=after))
            assert ours == list(mongo.samples.find(crit, sort, limit, after=after))
            position = [r["sample_id"] for r in everything].index(after)
            assert ours == everything[position + 1:][:limit]
        # Exact ids: each stored id finds exactly its own sample on both engines.
        for record in stored:
            assert embedded.samples.get(record["sample_id"]) == mongo.samples.get(record["sample_id"]) == record
    finally:
        embedded.close()
        mongo.close()
        directory.cleanup()
