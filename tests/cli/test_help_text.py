"""Issue 14 item 9: help a technician can read and paste from, at 80 columns."""

from __future__ import annotations

import re

import pytest

from tests.cli.test_help_reference import COMMANDS, PATHS
from tests.conftest import CliRun

HELP = {path: command for path, (_, command) in zip(PATHS, COMMANDS, strict=True)}


def help_of(cli: CliRun, path: str) -> str:
    result = cli(*path.split(), "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("path", PATHS)
def test_help_names_what_to_type_not_python_types_or_odd_brackets(cli: CliRun, path: str) -> None:
    text = help_of(cli, path)
    assert not re.search(r"<(str|int|float|bool|list\[[^\]]*\]|[a-z]+)>", text), text
    assert "[[" not in text and "]]" not in text
    assert not re.search(r"\{[A-Z_]+\}", text), text


@pytest.mark.parametrize("path", PATHS)
def test_every_example_is_one_pasteable_line(cli: CliRun, path: str) -> None:
    text = help_of(cli, path)
    lines = [line.strip() for line in text.splitlines()]
    examples = [line for line in lines if line.startswith("samplectl ") and not line.startswith("samplectl [")]
    assert examples or "Example" not in text, f"{path}: no example shown whole"
    for source in re.findall(r"Example[^:\n]*:\s*(samplectl [^\n]+)", HELP[path].help or ""):
        assert source.strip() in lines, f"{path}: example folded: {source!r}"


def test_filter_help_lists_the_types_and_statuses(cli: CliRun) -> None:
    text = " ".join(help_of(cli, "filter").split())
    assert "blood, saliva, tissue" in text and "collected, processing, archived" in text


def test_export_help_does_not_contradict_itself_on_order(cli: CliRun) -> None:
    text = " ".join(help_of(cli, "export").split())
    assert "Default: -collection_date" not in text
    assert "the store's own order" in text


def test_required_and_optional_arguments_read_plainly(cli: CliRun) -> None:
    assert help_of(cli, "import").startswith("Usage: samplectl import [OPTIONS] FILE\n")
    assert help_of(cli, "update").startswith("Usage: samplectl update [OPTIONS] [ID]\n")
    assert help_of(cli, "get").startswith("Usage: samplectl get [OPTIONS] ID...\n")
