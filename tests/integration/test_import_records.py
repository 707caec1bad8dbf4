"""The embedded store's quick way of writing an import's new samples (stores.sqlite.imports) stores
exactly what the general way stores (insert_many, then append_many of the entries services.batchwriter
makes): the same samples rows and the same audit rows, hashes included, so the chain's format does
not change and `audit verify` checks old and new records alike."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplectl import __version__
from samplectl.domain.audit import CanonicalTemplate, canonical_bytes, check_chain
from samplectl.services.samples import diff
from samplectl.stores.sqlite import open_sqlite

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
FIXED = uuid.UUID("0123456789abcdef0123456789abcdef")
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)  # any text JSON can hold


def entry(batch: str, reason: str | None) -> dict[str, Any]:
    return {"at": NOW, "user": "tina", "action": "import", "reason": reason, "samplectl_version": __version__,
            "import_batch": batch}


def added(batch: str) -> dict[str, Any]:
    return {"created_at": NOW, "created_by": "tina", "updated_at": NOW, "updated_by": "tina", "version": 1,
            "import_batch": batch}


def dump(path: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT * FROM samples ORDER BY rowid").fetchall(),
                conn.execute("SELECT * FROM audit ORDER BY seq").fetchall())


def write_both_ways(tmp_path: Path, samples: list[dict[str, Any]], reason: str | None = None,
                    fields: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """The same samples into two new stores, the general way and the quick way."""
    general, quick = tmp_path / "general.db", tmp_path / "quick.db"
    for path in (general, quick):
        path.unlink(missing_ok=True)
        db = open_sqlite(path)
        audit = db.audit.with_fields(**fields) if fields else db.audit
        db.audit.append({"at": NOW, "user": "admin", "action": "user_add"})  # a chain that does not start here
        with db.samples.transaction():
            if path == general:
                db.samples.insert_many([{**s, **added("B-1")} for s in samples])
                audit.append_many([{**entry("B-1", reason), "sample_id": s["sample_id"], "changes": diff(None, s)}
                                   for s in samples])
            else:
                creator = db.samples.import_creator(audit, entry("B-1", reason), added("B-1"),
                                                    lambda s: diff(None, s))
                assert creator is not None and creator.template is not None  # type: ignore[attr-defined] # the quick way
                assert creator.create(samples) == len(samples)
        assert check_chain(db.audit.walk()).ok
        db.close()
    return general, quick


@pytest.fixture(autouse=True)
def fixed_record_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record ids are a random prefix and a counter: the same prefix both ways, to compare the rows."""
    import samplectl.stores.audit as audit_module

    monkeypatch.setattr(audit_module.uuid, "uuid4", lambda: FIXED)


def sample(n: int, **values: Any) -> dict[str, Any]:
    base = {"sample_id": f"S-{n:04d}", "sample_type": "blood", "subject_id": f"P-{n % 7}",
            "collection_date": datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n), "status": "collected",
            "storage_location": f"FRZ-1/R{n % 3}/B{n}"}
    return {**base, **values}


def test_usual_samples_are_stored_as_the_general_way_stores_them(tmp_path: Path) -> None:
    general, quick = write_both_ways(tmp_path, [sample(n) for n in range(50)])
    assert dump(general) == dump(quick)
    rows = dump(quick)[1]
    assert len(rows) == 51 and all(row[10].startswith("4\x1f") for row in rows[1:])  # the compact form


def test_unusual_samples_and_reasons_take_the_general_way_in_the_same_chain(tmp_path: Path) -> None:
    samples = [sample(1), sample(2, position="FRZ-1/R1/B1:A1"), sample(3, position=None),
               sample(4, storage_location='a "quoted" \\ place'), sample(5, subject_id="P\x1f5"),
               sample(6, collection_date=datetime(2025, 6, 1, 8, tzinfo=UTC) + timedelta(microseconds=7)),
               sample(7, sample_id="100%"),
               sample(8, collection_date=datetime(2025, 6, 1, 8, tzinfo=timezone(timedelta(hours=2)))), sample(9)]
    general, quick = write_both_ways(tmp_path, samples, reason="moved from the old LIMS")
    assert dump(general) == dump(quick)


def test_an_audit_log_with_fields_of_its_own_gets_them_on_every_record(tmp_path: Path) -> None:
    """The server adds the client to every record (with_fields): those records are told apart too."""
    general, quick = write_both_ways(tmp_path, [sample(n) for n in range(3)], fields={"client": "lab-pc-7"})
    assert dump(general) == dump(quick)
    assert all(json.loads(row[11])["client"] == "lab-pc-7" for row in dump(quick)[1][1:])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({"sample_id": text, "sample_type": text, "subject_id": text,
                                       "status": text, "storage_location": text,
                                       "collection_date": st.datetimes(timezones=st.just(UTC))}),
                min_size=1, max_size=6, unique_by=lambda s: s["sample_id"]),
       st.none() | text)
def test_any_text_is_stored_and_hashed_alike(tmp_path: Path, samples: list[dict[str, Any]], reason: str | None) -> None:
    general, quick = write_both_ways(tmp_path, samples, reason=reason)
    assert dump(general) == dump(quick)


@settings(max_examples=200, deadline=None)
@given(st.lists(text, min_size=3, max_size=3), st.integers(min_value=0, max_value=2**62), text)
def test_a_filled_template_is_the_canonical_form(values: list[str], number: int, constant: str) -> None:
    slots = {"\x02a": str, "\x02n": int, "\x02b": str, "\x02c": str}
    template = CanonicalTemplate({"k": constant, "x": {"z": "\x02a", "a": "\x02b"}, "n": "\x02n", "c": "\x02c",
                                  "d": None, "e": [1, "%s"]}, slots)
    filled = {"k": constant, "x": {"z": values[0], "a": values[1]}, "n": number, "c": values[2], "d": None,
              "e": [1, "%s"]}
    assert template([values[0], number, values[1], values[2]]) == canonical_bytes(filled)


def test_a_template_whose_marker_is_missing_or_repeated_is_refused() -> None:
    with pytest.raises(ValueError):
        CanonicalTemplate({"a": "\x02a", "b": "\x02a"}, {"\x02a": str, "\x02b": str})
