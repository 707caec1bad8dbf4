"""Help: every registered command (commands added later included) has a one-line summary, an example in
its help, and a row in docs/reference.md; the reference also covers the global options, settings and exit codes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from samplectl.config import ENV_KEYS, FILE_KEYS
from samplectl.domain.errors import ExitCode
from tests.conftest import ROOT

REFERENCE_FILE = ROOT / "docs" / "reference.md"
REFERENCE = REFERENCE_FILE.read_text()


def section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    level = heading.split(" ")[0]
    # The section ends at the next heading of the same level or above.
    end = re.search(rf"\n#{{1,{len(level)}}} ", text[start + len(heading) + 2:])
    return text[start: start + len(heading) + 2 + end.start()] if end else text[start:]


def root_command() -> Any:
    import typer

    from samplectl.cli.app import app

    return typer.main.get_command(app)


def walk(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for name, command in group.commands.items():
        if not command.hidden:
            found.append((path + (name,), command))
            if hasattr(command, "commands"):
                found.extend(walk(command, path + (name,)))
    return found


COMMANDS = walk(root_command())
PATHS = [" ".join(path) for path, _ in COMMANDS]


def reference_rows() -> dict[str, str]:
    """Command path -> row, for the rows of the reference's command table (`samplectl users add NAME`...)."""
    rows = {}
    for line in section(REFERENCE, "## Commands").splitlines():
        match = re.match(r"\|\s*`samplectl ([^`]*)`\s*\|", line)
        if match:
            words = []
            for word in match.group(1).split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            rows[" ".join(words)] = line
    return rows


def test_todays_commands_are_registered() -> None:
    assert {"init", "create", "get", "list", "filter", "update", "delete"} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS)
def test_command_has_a_one_line_summary_shown_whole_in_its_groups_help(cli, path: str) -> None:
    command = dict(zip(PATHS, (c for _, c in COMMANDS), strict=True))[path]
    summary = (command.help or "").strip().split("\n")[0].strip()
    assert summary, f"`samplectl {path}` has no docstring/help"
    assert summary.endswith("."), f"summary of {path} should be one sentence: {summary!r}"
    # 60 characters fit the 80-column command list beside command names of up to 12 characters.
    assert len(summary) <= 60, f"summary of {path} is too long for the command list: {summary!r}"
    # What a technician sees in `samplectl --help` (or the group's help) is that sentence, not cut short.
    *parent, name = path.split()
    listing = cli(*parent, "--help").stdout
    row = next(line for line in listing.splitlines() if line.strip().startswith(name + " "))
    assert row.split(None, 1)[1].strip() == summary


@pytest.mark.parametrize("path", ["", *PATHS])
def test_command_help_shows_an_example(cli, path: str) -> None:
    out = cli(*path.split(), "--help")
    assert out.exit_code == 0
    text = " ".join(out.stdout.split())  # help is rewrapped to the terminal's width
    match = re.search(r"Examples?:(.*)", text)
    assert match, f"`samplectl {path} --help` has no Example:"
    assert f"samplectl {path}".strip() in match.group(1)


@pytest.mark.parametrize("path", PATHS)
def test_command_has_a_row_in_the_reference(path: str) -> None:
    assert path in reference_rows(), f"docs/reference.md, ## Commands: add a row for `samplectl {path}`"


def test_reference_rows_name_only_commands_that_exist() -> None:
    stale = sorted(set(reference_rows()) - set(PATHS))
    assert not stale, f"docs/reference.md rows for commands that do not exist: {stale}"


def test_reference_lists_every_global_option() -> None:
    options = section(REFERENCE, "## Global options")
    for param in root_command().params:
        for flag in param.opts:
            assert f"`{flag}" in options, f"global option {flag} missing from docs/reference.md"


def test_reference_lists_every_setting_with_its_environment_variable_and_config_key() -> None:
    settings = section(REFERENCE, "## Settings")
    for key in ENV_KEYS:
        assert f"`SAMPLECTL_{key.upper()}`" in settings, key
    for key in FILE_KEYS:
        assert f"| `{key}` |" in settings, key
    assert "`SAMPLECTL_CONFIG`" in settings
    assert "defaults < config file < environment < command-line flags" in settings


def test_reference_lists_every_exit_code() -> None:
    codes = section(REFERENCE, "## Exit codes")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| \S", codes, re.M), f"exit code {int(code)} ({code.name}) missing"
