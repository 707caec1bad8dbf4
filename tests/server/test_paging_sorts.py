"""Keyset paging under every sort: following the next links gives exactly the one-page answer.

Ties (many samples share a subject, a status, a missing position) are where a cursor skips or
repeats rows, so the samples here share values on purpose.
"""

from __future__ import annotations

import re

import pytest

from tests.server.conftest import Server, sample

SORTS = ["subject_id", "-subject_id", "status", "-sample_type", "storage_location", "-storage_location",
         "position", "-position", "version", "-version", "created_at", "-updated_at", "sample_id", "-sample_id",
         "collection_date"]


def follow(client, params: dict[str, object]) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    url, query = "/samples", params
    while url:
        answer = client.get(url, params=query)
        assert answer.status_code == 200, answer.text
        seen += [r["sample_id"] for r in answer.json()]
        match = re.match(r'<([^>]+)>; rel="next"', answer.headers.get("link") or "")
        url, query = (match.group(1), None) if match else ("", None)
    return seen


@pytest.mark.slow
def test_every_sort_pages_without_skipping_or_repeating(server: Server) -> None:
    with server.client("tina") as tina:
        for i in range(17):
            made = tina.post("/samples", json=sample(
                f"K-{i:02d}", subject_id=f"SUBJ-{i % 3}", sample_type=("blood", "saliva", "tissue")[i % 3],
                collection_date=f"2025-01-0{1 + i % 4}T08:00:00Z", storage_location=f"FRZ-{i % 2}/R1"))
            assert made.status_code == 201, made.text
        for i in range(0, 17, 4):  # some samples changed: versions and update times differ
            assert tina.patch(f"/samples/K-{i:02d}", json={"status": "processing"}).status_code == 200
        for sort in SORTS:
            whole = [r["sample_id"] for r in tina.get("/samples", params={"sort": sort, "limit": 100}).json()]
            assert sorted(whole) == [f"K-{i:02d}" for i in range(17)], sort
            assert follow(tina, {"sort": sort, "limit": 4}) == whole, sort
