"""The field registry: a field declared once appears everywhere a sample field does.

The `volume_ml` experiment of issue 11, as a test: a test-only registry with one more field is put
in place before samplectl is imported, and the real commands are run against the embedded store,
whose SQL schema gets the field's column as the one other line such a change touches.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from samplectl.domain.fields import SAMPLE_FIELDS, Field, Table

VOLUME = Field("volume_ml", kind="number", flag="--volume", metavar="ML", help="Volume in millilitres.",
               minimum=0, maximum=1000, table=Table("ml", min_width=4, priority=45))
WITH_VOLUME = SAMPLE_FIELDS.with_field(VOLUME)

# samplectl as it would be with the field added: the embedded store, which keeps one SQL column per
# field, gets its column (what a real change adds to stores/sqlite/schema.py, with a migration);
# the registry gets the field unless the run plays a samplectl from before the field existed.
SCHEMA = """
from samplectl.stores.sqlite import schema
schema.SAMPLE_COLUMNS += (schema.Column("volume_ml", "REAL", optional=True),)
schema.SAMPLE_NAMES = tuple(c.name for c in schema.SAMPLE_COLUMNS)
"""
REGISTRY = """
from samplectl.domain import fields as f
f.use(f.SAMPLE_FIELDS.with_field(f.Field("volume_ml", kind="number", flag="--volume", metavar="ML",
      help="Volume in millilitres.", minimum=0, maximum=1000, table=f.Table("ml", min_width=4, priority=45))))
"""
MAIN = """
import sys
from samplectl.cli.app import main
sys.argv[0] = "samplectl"
main()
"""


def run(*args: str, env: dict[str, str], volume: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    code = SCHEMA + (REGISTRY if volume else "") + MAIN
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, input=input, timeout=120, check=False)


def test_the_registry_derives_the_model_flags_prompts_and_columns() -> None:
    from samplectl.domain.sample import build_model
    from samplectl.output.kinds import sample_kind

    model = build_model(WITH_VOLUME)
    assert "volume_ml" in model.model_fields and not model.model_fields["volume_ml"].is_required()
    assert VOLUME in WITH_VOLUME.entered and "volume_ml" in WITH_VOLUME.names
    assert WITH_VOLUME.where(lambda f: f.flag == "--volume") == (VOLUME,)
    kind = sample_kind(WITH_VOLUME)
    assert "volume_ml" in kind.fields and any(c.key == "volume_ml" for c in kind.columns)
    assert WITH_VOLUME.entered[-1] == VOLUME  # after the fields people enter, before the record's own


@pytest.mark.slow
@pytest.mark.timeout(600)  # some twenty samplectl processes
def test_a_new_field_reaches_every_command(process_env: dict[str, str], tmp_path: Path) -> None:
    env = {**process_env, "COLUMNS": "200"}
    # The schema step such a change ships with (a migration adding the column to existing stores).
    with sqlite3.connect(tmp_path / "data" / "samples.db") as db:
        db.execute("ALTER TABLE samples ADD COLUMN volume_ml REAL")
    # A sample stored before the field existed.
    old = run("create", "--id", "OLD-1", "--type", "blood", "--subject", "S-1", "--collected", "2025-01-02",
              "--location", "FRZ-1/A", "-o", "json", env=env, volume=False)
    assert old.returncode == 0, old.stderr

    helped = run("create", "--help", env=env)
    assert "--volume ML" in helped.stdout and "Volume in millilitres." in helped.stdout

    made = run("create", "--id", "NEW-1", "--type", "saliva", "--subject", "S-2", "--collected", "2025-01-03",
               "--location", "FRZ-1/B", "--volume", "2.5", "-o", "json", env=env)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["volume_ml"] == 2.5

    refused = run("create", "--type", "saliva", "--subject", "S-2", "--collected", "2025-01-03",
                  "--location", "FRZ-1/B", "--volume", "-1", env=env)
    assert refused.returncode == 6
    assert "error: volume_ml '-1'" in refused.stderr and "greater than or equal to 0" in refused.stderr

    # Read back: the old record has no volume, and nothing fails on it.
    listed = json.loads(run("list", "-o", "json", env=env).stdout)
    assert {r["sample_id"]: r["volume_ml"] for r in listed} == {"OLD-1": None, "NEW-1": 2.5}
    wide = run("list", "-o", "wide", env=env).stdout
    assert " ml " in wide.splitlines()[0] + " " and "2.5" in wide
    csv_text = run("list", "-o", "csv", env=env).stdout
    assert csv_text.splitlines()[0].split(",")[len(SAMPLE_FIELDS.entered)] == "volume_ml"
    exported = run("export", "-o", "csv", env=env).stdout
    assert "volume_ml" in exported.splitlines()[0]

    # The update plan of a record stored before the field existed (was a KeyError, exit 1).
    updated = run("update", "OLD-1", "--status", "processing", "-o", "json", env=env)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["volume_ml"] is None

    changed = run("update", "NEW-1", "--volume", "3", "-o", "json", env=env)
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["volume_ml"] == 3

    # The import reads the column (any spelling of its header) and checks its limits.
    good = run("import", "-", "-o", "json", env=env, input="Sample ID,Sample Type,Subject ID,Collection Date,"
               "Storage Location,Volume ML\nIMP-1,blood,S-3,2025-01-04,FRZ-2/A,7\n")
    assert good.returncode == 0, good.stderr
    assert json.loads(run("get", "IMP-1", "-o", "json", env=env).stdout)["volume_ml"] == 7
    bad = run("import", "-", "-o", "json", env=env, input="sample_type,subject_id,collection_date,storage_location,"
              "volume_ml\nblood,S-3,2025-01-04,FRZ-2/A,5000\n")
    assert bad.returncode == 6
    problems = json.loads(bad.stderr.splitlines()[-1])["error"]["details"]
    assert problems[0]["column"] == "volume_ml" and "less than or equal to 1000" in problems[0]["message"]

    # History shows the field's changes like any other's.
    history = json.loads(run("history", "NEW-1", "-o", "json", env=env).stdout)
    assert history[0]["changes"]["volume_ml"] == {"before": None, "after": 2.5}
    assert history[1]["changes"] == {"volume_ml": {"before": 2.5, "after": 3}}


def test_a_new_field_is_in_the_server_api_too() -> None:
    # The server's request and response shapes (and so its OpenAPI description) come from the registry.
    code = REGISTRY + (
        "from samplectl.server.schemas import Sample, SampleIn, SampleChange\n"
        "print(sorted(n for n in ('volume_ml',) if n in Sample.model_fields and n in SampleIn.model_fields"
        " and n in SampleChange.model_fields))\n"
        "print(Sample.model_fields['volume_ml'].annotation)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['volume_ml']", "float | None"]
