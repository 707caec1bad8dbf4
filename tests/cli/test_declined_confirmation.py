"""Declining `delete`'s question ends the run cleanly (exit 130, "aborted"), touching nothing.

typer raises its own Abort (not the vendored click's); the root must map it instead of crashing.
"""

from __future__ import annotations

import pytest

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = pytest.mark.usefixtures("mode")


def test_answering_no_to_delete_aborts_and_keeps_the_sample(cli) -> None:
    created = cli("create", "--type", "blood", "--subject", "S-1", "--collected", "2025-01-02",
                  "--location", "FRZ-1", "-o", "json")
    sample_id = created.json()["sample_id"]
    out = cli("delete", sample_id, input="n\n", tty="stdin")
    assert out.exit_code == 130
    assert out.stderr.rstrip().endswith("aborted")
    assert "Traceback" not in out.stderr
    assert cli("get", sample_id, "-o", "json").exit_code == 0
