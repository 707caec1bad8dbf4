"""Every text value is one line of visible text (issue 9 items 4 and 14; the contract's "Flags and shapes").

Sample fields, --reason, user names and CSV cells follow the one rule of samplectl.domain.text; a value
echoed in an error is cut short, and long lists of columns are named by their first few and a count.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.csvfiles import HEADER, envelope, row, write
from tests.conftest import CliRun
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1"]

# One of each kind the contract names, inside an otherwise ordinary value.
HOSTILE = {
    "escape": "ok\x1b[2J\x1b[31mFAKE",
    "osc title": "ok\x1b]0;title\x1b\\",
    "C1 CSI": "ok\x9b31m",
    "next line": "a\x85b",
    "bidi override": "S-\u202e1",
    "bidi isolate": "S-\u20661",
    "zero-width space": "S-1\u200b",
    "zero-width joiner": "S\u200d-1",
    "word joiner": "S-\u20601",
    "BOM inside": "S-\ufeff1",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
    "DEL": "a\x7fb",
}


def _ids(cli: CliRun) -> list[str]:
    return [r["sample_id"] for r in cli("list", "--all", "-o", "json").json()]


@pytest.mark.parametrize("flag", ["--id", "--subject", "--location"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_sample_fields_refuse_controls_bidi_and_invisible_characters(cli: CliRun, flag: str, kind: str) -> None:
    args = dict(zip(BLOOD[::2], BLOOD[1::2], strict=True))
    args[flag] = HOSTILE[kind]
    out = cli("create", *[x for pair in args.items() for x in pair])
    assert out.exit_code == 6, out.stderr
    first = out.stderr.splitlines()[0]
    assert first.startswith("error: ") and ("U+" in first or "one word" in first)
    assert "\x1b" not in out.stderr and "\u202e" not in out.stderr  # the message shows escapes, not the bytes
    assert _ids(cli) == []


def test_an_id_and_the_same_id_with_a_zero_width_space_cannot_both_exist(cli: CliRun) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    twin = cli("create", *BLOOD, "--id", "S-1\u200b")
    assert twin.exit_code == 6
    assert _ids(cli) == ["S-1"]


def test_update_refuses_the_same_characters(cli: CliRun) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    out = cli("update", "S-1", "--location", "FRZ\u202e-2")
    assert out.exit_code == 6
    assert cli("get", "S-1").json()["storage_location"] == "FRZ-1"


@pytest.mark.parametrize("command", ["create", "update", "delete"])
@pytest.mark.parametrize("kind", ["escape", "osc title", "C1 CSI", "bidi override", "line separator"])
def test_reason_is_validated_like_any_text(cli: CliRun, command: str, kind: str) -> None:
    if command != "create":
        assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    args = {"create": ["create", *BLOOD, "--id", "S-2"], "update": ["update", "S-1", "--status", "processing"],
            "delete": ["delete", "S-1", "--yes"]}[command]
    out = cli(*args, "--reason", HOSTILE[kind])
    assert out.exit_code == 6, out.stderr
    assert out.stderr.startswith("error: --reason ")
    # Nothing happened: no sample, no change, no audit record carrying the text.
    assert _ids(cli) == ([] if command == "create" else ["S-1"])
    if command == "update":
        assert cli("get", "S-1").json()["status"] == "collected"


def test_reason_is_at_most_500_characters_and_trimmed(cli: CliRun) -> None:
    assert cli("create", *BLOOD, "--id", "S-1", "--reason", "r" * 501).exit_code == 6
    assert cli("create", *BLOOD, "--id", "S-1", "--reason", "  " + "r" * 500 + "  ").exit_code == 0
    history = cli("history", "S-1", "-o", "json").json()
    assert history[0]["reason"] == "r" * 500


def test_update_where_and_import_and_undo_check_the_reason(cli: CliRun, tmp_path) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    where = cli("update", "--where", "--location", "FRZ-1", "--set-location", "FRZ-2", "--yes", "--reason", "a\x1bb")
    assert where.exit_code == 6
    assert cli("get", "S-1").json()["storage_location"] == "FRZ-1"
    data = write(tmp_path / "in.csv", [HEADER, row(1)])
    imported = cli("import", str(data), "--reason", "x" * 501)
    assert imported.exit_code == 6 and "S-0001" not in _ids(cli)
    batch = json.loads(cli("import", str(data), "-o", "json").stdout)["batch_id"]
    undo = cli("import", "undo", batch, "--yes", "--reason", "\u202eevil")
    assert undo.exit_code == 6 and "S-0001" in _ids(cli)


@pytest.mark.parametrize("kind", ["escape", "bidi override", "zero-width space", "line separator"])
def test_csv_cells_follow_the_rule(cli: CliRun, tmp_path, kind: str) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1, storage_location=HOSTILE[kind]), row(2)])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6
    problem = envelope(out)["details"][0]
    assert problem["line"] == 2 and problem["column"] == "storage_location"
    assert _ids(cli) == []


def test_user_names_follow_the_rule(cli: CliRun) -> None:
    out = cli("init", "--admin", "bob\u200b", "--password-stdin", input="password-123\n")
    assert out.exit_code == 6
    assert "U+200B" in out.stderr


# -- item 14: error output is not amplified ----------------------------------------------------------
def test_a_huge_value_is_echoed_cut_short(cli: CliRun) -> None:
    out = cli("create", *BLOOD, "--location", "x" * 120_000)
    assert out.exit_code == 6
    assert len(out.stderr) < 2_000, len(out.stderr)
    assert "120000 characters" in out.stderr


def test_a_huge_reason_is_echoed_cut_short(cli: CliRun) -> None:
    out = cli("create", *BLOOD, "--reason", "y" * 120_000)
    assert out.exit_code == 6
    assert len(out.stderr) < 2_000, len(out.stderr)


def test_a_huge_csv_cell_is_echoed_cut_short(cli: CliRun, tmp_path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1, subject_id="z" * 120_000)])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6
    assert len(out.stderr) < 3_000, len(out.stderr)


def test_a_header_of_many_unknown_columns_names_a_few_and_a_count(cli: CliRun, tmp_path) -> None:
    header = HEADER + "," + ",".join(f"extra{i}" for i in range(100_000))
    data = write(tmp_path / "in.csv", [header, row(1)])
    out = cli("import", str(data), "-o", "json")
    assert out.exit_code == 6
    first = out.stderr.splitlines()[0]
    assert "'extra0'" in first and "100000" in first and "'extra99999'" not in first
    assert len(out.stderr) < 5_000, len(out.stderr)


@pytest.mark.parametrize("args", [
    ["get", "S-\udcff"],
    ["history", "S-\udcff"],
    ["update", "S-\udcff", "--status", "processing"],
    ["delete", "S-\udcff", "--yes"],
    ["filter", "--location", "FRZ-\udcff"],
    ["filter", "--subject", "SUBJ-\udcff", "-o", "json"],
])
def test_bytes_that_are_not_utf8_in_a_lookup_are_invalid_input(cli: CliRun, args: list[str]) -> None:
    """`get $'S-\\xff'`: Python reads the byte as a lone surrogate, which no database or URL can carry.
    Stored values are refused by the text rule; ids and criteria that are only looked up get the same exit 6."""
    assert cli("create", "--id", "S-1", *BLOOD).exit_code == 0
    out = cli(*args)
    assert out.exit_code == 6, out.stderr
    assert "error: a value given is not valid text: it holds bytes that are not UTF-8 (U+DCFF)" in out.stderr
    assert "unexpected" not in out.stderr and out.stdout == ""
    assert cli("get", "S-1").exit_code == 0  # nothing else was touched
