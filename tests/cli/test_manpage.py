"""The man page (docs/samplectl.1) is what scripts/gen-manpage makes from the app today."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from types import ModuleType

import pytest

from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "samplectl.1"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_manpage", ROOT / "scripts" / "gen_manpage.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_man_page_is_what_the_app_generates() -> None:
    assert generator().render() == COMMITTED.read_text(), (
        "docs/samplectl.1 is stale: run `bash scripts/gen-manpage` and commit the result"
    )


def test_the_man_page_has_every_command_and_its_options() -> None:
    text = COMMITTED.read_text()
    for section in ('.SS "samplectl import"', '.SS "samplectl import undo"', '.SS "samplectl update"',
                    '.SS "samplectl config set"', '.SS "samplectl doctor"'):
        assert section in text
    assert "\\fB\\-\\-set\\-location\\-prefix NEW\\fR" in text
    assert "\\-\\-quiet" in text.split(".SH COMMANDS")[0]  # the global options, once


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_it_without_warnings() -> None:
    done = subprocess.run(["man", "--warnings", "-l", str(COMMITTED)], capture_output=True, text=True,
                          env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"}, check=False, timeout=60)
    assert done.returncode == 0 and "samplectl update --where" in done.stdout
    assert done.stderr == "", done.stderr
