"""docs/reference-commands.md is what scripts/gen-reference makes from the app today: a command added, an
option renamed or a help text changed without regenerating it fails here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "reference-commands.md"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_command_reference_is_what_the_app_generates() -> None:
    assert generator().render() == COMMITTED.read_text(), (
        "docs/reference-commands.md is stale: run `bash scripts/gen-reference` and commit the result"
    )


def test_the_reference_has_every_command_help_and_links_to_it() -> None:
    text = COMMITTED.read_text()
    for heading in ("## samplectl\n", "## samplectl import undo\n", "## samplectl users set-role\n"):
        assert heading in text
    assert "| [`samplectl audit verify`](#samplectl-audit-verify) |" in text
    assert "--on-conflict fail|skip|update" in text  # the help itself, options included


@pytest.mark.slow  # a real process
def test_the_script_writes_the_file_where_it_is_told(tmp_path: Path) -> None:
    out = tmp_path / "commands.md"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gen-reference"), str(out)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHON": sys.executable}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == COMMITTED.read_text()
