"""The parts of an import that need no database: reading the file, the header, ids, repeated ids."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from samplectl.domain.errors import ValidationFailed
from samplectl.services import csvsource
from samplectl.services.csvsource import CsvSource
from samplectl.services.rowcheck import IdMaker, RepeatedIds, SeenIds, column_key, map_header


def test_column_names_ignore_case_spaces_hyphens_and_a_bom() -> None:
    assert column_key("\ufeff Sample ID ") == "sample_id"
    assert column_key("Storage-Location") == "storage_location"
    assert column_key("COLLECTION_DATE") == "collection_date"


def test_header_mapping_keeps_column_positions_and_marks_ignored_ones() -> None:
    columns = map_header(["Notes", "sample_type", "subject_id", "collection_date", "storage_location"],
                         ignore_unknown=True)
    assert columns.fields == (None, "sample_type", "subject_id", "collection_date", "storage_location")
    assert columns.ignored == ("Notes",) and columns.index_of("sample_id") is None


def test_generated_ids_are_uuid4_and_stable_per_line_within_one_import() -> None:
    import uuid

    make = IdMaker()
    first = make(7)
    assert first == make(7) != make(8)
    assert uuid.UUID(first).version == 4
    assert IdMaker()(7) != first  # a new import draws a new key


def test_repeated_ids_are_found_in_memory_and_after_spilling(monkeypatch) -> None:
    for spill_at in (1 << 21, 5):
        monkeypatch.setattr(SeenIds, "SPILL_AT", spill_at)
        seen = SeenIds()
        for i in range(50):
            seen.add(f"S-{i}")
        seen.add("S-3")
        repeated = seen.repeated()
        seen.close()
        assert repeated == {hash("S-3")}
        again = RepeatedIds(repeated)
        assert again.earlier_line("S-3", 5) is None and again.earlier_line("S-3", 60) == 5
        assert again.earlier_line("S-4", 6) is None


def read_all(source: CsvSource) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    with source.read() as csv_pass:
        header = csv_pass.read_header()
        rows = list(csv_pass.rows())
        csv_pass.finish()
    return header, rows


def test_a_file_is_hashed_while_read_and_must_not_change_between_passes(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n1,2\n")
    source = CsvSource(str(path))
    assert read_all(source) == (["a", "b"], [(2, ["1", "2"])])
    assert source.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    path.write_bytes(b"a,b\n1,3\n")
    with pytest.raises(ValidationFailed, match="changed while it was being imported"):
        read_all(source)


def test_standard_input_is_spooled_for_the_second_pass() -> None:
    stdin = io.BytesIO(b"a,b\r\n1,2\r\n\r\n")
    source = CsvSource("-", stdin=stdin)
    first = read_all(source)
    assert read_all(source) == first == (["a", "b"], [(2, ["1", "2"])])
    source.close()


def test_a_decoding_error_names_its_line_even_chunks_away(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(csvsource, "READ_CHUNK", 64)
    lines = [b"a,b"] + [b"%d,x" % i for i in range(200)]
    lines[150] = b"150,caf\xe9"
    path = tmp_path / "in.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ValidationFailed, match=r"line 151 is not valid UTF-8 text \(byte 0xE9\)"):
        read_all(CsvSource(str(path)))


def test_what_the_csv_parser_refuses_is_reported_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n1,2\n3," + b"x" * 200_000 + b"\n")  # past the csv module's field limit
    with pytest.raises(ValidationFailed, match="line 3: the CSV cannot be read"):
        read_all(CsvSource(str(path)))


def test_a_directory_is_not_a_csv_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="is a directory"):
        CsvSource(str(tmp_path))
