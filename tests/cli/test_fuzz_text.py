"""Random text at every text field and flag (issue 9 acceptance): never a crash, what is stored is what is shown.

Hypothesis throws random unicode (controls, bidi and zero-width characters, separators, surrogates
excluded only where a command line cannot carry them) and Rich-markup-like fragments at `create`,
`update`, `filter` and CSV cells, and checks: no exit 1, no traceback, the table renders, and a value
that was accepted is exactly what `get -o json` returns. The number of examples is bounded so CI
stays fast; `HYPOTHESIS_PROFILE=deep` runs many more.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CliRun, Outcome

settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("deep", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MARKUP = ["[/]", "[bold]", "[link=https://evil.example]SUBJ-1[/link]", "[red]x", "\x1b[2J", "\x1b]0;t\x1b\\",
          "\x9b31m", "\u202e", "\u200b", "\u2028", "\ufeff", "\x00", "\t", "\n", "\r", " ", "=", "+", "@", "-",
          "%", "'", '"', ",", ";", "\\", "2025-03-14", "9999-12-31", "0001-01-01", "now"]
# Command lines cannot carry NUL (the OS refuses it); bytes that are not UTF-8 arrive as lone surrogates
# (U+DC80-U+DCFF), tested in test_text_rule.py. CSV files carry anything.
ARGV_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
FRAGMENTS = st.lists(st.one_of(st.sampled_from(MARKUP), ARGV_TEXT), min_size=1, max_size=4).map("".join)
VALUE = st.one_of(ARGV_TEXT, FRAGMENTS, st.text(max_size=0), st.text("x", min_size=60, max_size=140))
CELL = st.one_of(ANY_TEXT, FRAGMENTS)

BASE = {"--type": "blood", "--subject": "SUBJ-1", "--collected": "2025-03-14", "--location": "FRZ-1/R1"}
FIELD_OF = {"--id": "sample_id", "--type": "sample_type", "--subject": "subject_id", "--collected": "collection_date",
            "--status": "status", "--location": "storage_location"}


def sane(out: Outcome) -> None:
    """What no input may ever cause."""
    assert out.exit_code != 1, out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    assert out.exit_code in (0, 2, 5, 6, 7), (out.exit_code, out.stderr)


def renders(cli: CliRun) -> None:
    for width in ("200", "40"):
        table = cli("list", "--all", tty="stdout", env={"COLUMNS": width})
        assert table.exit_code == 0, table.stderr
        assert "\x1b]" not in table.stdout and "\u202e" not in table.stdout


def stored_as_given(cli: CliRun, sample_id: str, given_values: dict[str, str]) -> None:
    got = cli("get", sample_id, "-o", "json")
    assert got.exit_code == 0, got.stderr
    record = got.json()
    for flag, value in given_values.items():
        field = FIELD_OF.get(flag)
        if field in ("sample_id", "subject_id", "storage_location"):
            assert record[field] == value.strip(), (flag, value, record[field])


@given(flag=st.sampled_from(["--id", "--type", "--subject", "--collected", "--status", "--location", "--reason"]),
       value=VALUE)
def test_create_with_random_text(cli: CliRun, flag: str, value: str) -> None:
    args = dict(BASE, **{"--id": f"F-{uuid.uuid4().hex[:12]}"})
    args[flag] = value
    out = cli("create", *[x for pair in args.items() for x in pair], "-o", "json")
    sane(out)
    if out.exit_code == 0:
        made = out.json()
        stored_as_given(cli, made["sample_id"], args)
        if flag == "--reason":
            history = cli("history", made["sample_id"], "-o", "json").json()
            assert history[0]["reason"] == value.strip()
    renders(cli)


@given(flag=st.sampled_from(["--id", "--type", "--subject", "--collected", "--status", "--location", "--reason"]),
       value=VALUE)
def test_update_with_random_text(cli: CliRun, flag: str, value: str) -> None:
    sample_id = f"U-{uuid.uuid4().hex[:12]}"
    assert cli("create", *[x for pair in BASE.items() for x in pair], "--id", sample_id).exit_code == 0
    args = ["update", sample_id, flag, value, "-o", "json"]
    if flag == "--reason":
        args[2:4] = ["--location", "FRZ-2", "--reason", value]
    out = cli(*args)
    sane(out)
    if out.exit_code == 0:
        record = out.json()
        stored_as_given(cli, record["sample_id"], {flag: value})
    renders(cli)


@given(flags=st.lists(st.tuples(st.sampled_from(["--type", "--status", "--subject", "--location", "--collected-from",
                                                 "--collected-to", "--sort"]), VALUE), min_size=1, max_size=3))
def test_filter_with_random_text(cli: CliRun, flags: list[tuple[str, str]]) -> None:
    args = [x for pair in flags for x in pair]
    for output in (["-o", "json"], ["--count"]):
        sane(cli("filter", *args, *output))
    table = cli("filter", *args, tty="stdout", env={"COLUMNS": "120"})
    sane(table)


@given(cells=st.fixed_dictionaries({"subject_id": CELL, "storage_location": CELL, "sample_type": CELL,
                                    "status": CELL, "collection_date": CELL}))
def test_csv_cells_with_random_text(cli: CliRun, tmp_path_factory: pytest.TempPathFactory, cells: dict[str, str]) -> None:
    sample_id = f"C-{uuid.uuid4().hex[:12]}"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sample_id", *cells])
    writer.writerow([sample_id, *cells.values()])
    path = Path(tmp_path_factory.mktemp("fuzz")) / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
    for extra in ([], ["--partial"]):
        out = cli("import", str(path), "--allow-repeat", "--on-conflict", "skip", *extra, "-o", "json")
        sane(out)
        table = cli("import", str(path), "--dry-run", "--allow-repeat", "--on-conflict", "skip", tty="stdout,stderr",
                    env={"COLUMNS": "100"})
        sane(table)
    got = cli("get", sample_id, "-o", "json")
    if got.exit_code == 0:  # accepted: stored exactly as the cell said, trimmed
        record = got.json()
        assert record["subject_id"] == cells["subject_id"].strip()
        assert record["storage_location"] == cells["storage_location"].strip()
        json.dumps(record)  # what was stored is printable JSON
    renders(cli)
