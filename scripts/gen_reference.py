"""Write docs/reference-commands.md from the app itself: every command's help, exactly as samplectl prints it.

The commands are discovered from the registered Typer app (hidden ones left out), so commands added later
appear without touching this script. Help is rendered at a fixed width in a clean environment, so the file
does not depend on who generates it. tests/cli/test_reference_commands.py fails when the committed file is
stale.

Usage: bash scripts/gen-reference [OUTPUT]     (default: docs/reference-commands.md)
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "reference-commands.md"
WIDTH = 80  # the terminal width help is rendered for (click wraps at 80 at most)

HEADER = """\
# Command reference

<!-- Generated from the app by `bash scripts/gen-reference`: do not edit by hand. -->

Every command's `--help`, as samplectl prints it, generated from the app by `bash scripts/gen-reference`
(a test fails when this file is stale). Who may run each command, the settings, exit codes and the rules
behind the options are in [reference.md](reference.md).
"""


def walk(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        if command.hidden:
            continue
        yield path + (name,), command
        if hasattr(command, "commands"):
            yield from walk(command, path + (name,))


def anchor(path: tuple[str, ...]) -> str:
    """GitHub's anchor for the heading `samplectl PATH`."""
    return "-".join(("samplectl", *path))


def render() -> str:
    """The whole markdown file."""
    import typer
    from typer.testing import CliRunner

    from samplectl.cli.app import app

    root = typer.main.get_command(app)
    commands = [((), root), *walk(root)]
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as home:
        # Help must not depend on the person generating it: no config, no settings, no colours.
        env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("SAMPLECTL_")}
        env.update({"COLUMNS": str(WIDTH), "NO_COLOR": "1", "HOME": home, "XDG_CONFIG_HOME": f"{home}/config",
                    "XDG_DATA_HOME": f"{home}/data", "SAMPLECTL_HOME": f"{home}/samplectl",
                    "SAMPLECTL_FORCE_TTY": ""})
        helps = {}
        for path, _ in commands:
            result = runner.invoke(app, [*path, "--help"], env=env, catch_exceptions=False)
            if result.exit_code != 0:
                raise SystemExit(f"samplectl {' '.join(path)} --help exited {result.exit_code}: {result.stderr}")
            helps[path] = "\n".join(line.rstrip() for line in result.stdout.strip("\n").splitlines())

    lines = [HEADER, "| command | summary |", "|---|---|"]
    for path, command in commands:
        summary = (command.help or "").strip().split("\n")[0].strip().replace("|", "\\|")
        name = " ".join(("samplectl", *path))
        lines.append(f"| [`{name}`](#{anchor(path)}) | {summary} |")
    for path, _ in commands:
        lines += ["", f"## {' '.join(('samplectl', *path))}", "", "```text", helps[path], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render())
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv))
