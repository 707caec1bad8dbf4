"""The README and docs/ show commands that exist: every `samplectl ...` in their bash blocks names a real
command and only options that command (or the app) has, and the README's two first commands stay what a
newcomer needs: one installs and runs samplectl on the embedded default, one is what CI runs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def bash_blocks(path: Path) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", path.read_text(), re.S)


def samplectl_calls(block: str) -> list[list[str]]:
    """The argument lists of each `samplectl ...` in a bash block (pipes, &&, $(...) and comments split)."""
    calls = []
    for line in block.replace("\\\n", " ").splitlines():
        line = re.split(r"\s#\s|\s{2,}#", line)[0]
        for piece in re.split(r"\|\||&&|\||;|\$\(|\)", line):
            piece = piece.strip()
            if piece.startswith("samplectl "):
                calls.append(shlex.split(piece)[1:])
    return calls


def root_command() -> Any:
    import typer

    from samplectl.cli.app import app

    return typer.main.get_command(app)


def resolve(args: list[str]) -> tuple[str, set[str]]:
    """The command path the arguments name, and every option it accepts (its groups' and the app's too)."""
    command: Any = root_command()
    path, options = [], {"--help", "-h"}
    for arg in args:
        options |= {opt for param in command.params for opt in param.opts if opt.startswith("-")}
        if (arg.startswith("-") and arg != "-") or not hasattr(command, "commands"):
            continue
        if arg in command.commands:
            command = command.commands[arg]
            path.append(arg)
        else:  # `import FILE`: the group's hidden default command takes the argument
            hidden = [c for c in command.commands.values() if c.hidden]
            if hidden:
                command = hidden[0]
            else:
                break
    options |= {opt for param in command.params for opt in param.opts if opt.startswith("-")}
    return " ".join(path), options


CALLS = [(path.relative_to(ROOT).as_posix(), call) for path in DOCS for block in bash_blocks(path)
         for call in samplectl_calls(block)]


def test_the_docs_show_commands() -> None:
    assert len(CALLS) > 40
    assert {"README.md", "docs/reference.md", "docs/deployment.md"} <= {where for where, _ in CALLS}


@pytest.mark.parametrize(("where", "args"), CALLS, ids=[f"{w}:{' '.join(a)[:40]}" for w, a in CALLS])
def test_documented_command_and_options_exist(where: str, args: list[str]) -> None:
    path, options = resolve(args)
    assert path, f"{where}: `samplectl {' '.join(args)}` names no command"
    for arg in args:
        if arg.startswith("-") and arg != "-":
            flag = arg.split("=", 1)[0]
            if re.fullmatch(r"-([a-z])\1+", flag):  # -vv, -vvv
                flag = flag[:2]
            assert flag in options, f"{where}: `samplectl {path}` has no option {flag}"


def test_readme_starts_with_the_install_and_try_command_then_the_test_command() -> None:
    install, tests = bash_blocks(ROOT / "README.md")[:2]
    # One line a newcomer pastes: a venv, the package, then samplectl on its embedded default.
    assert len(install.strip().splitlines()) == 1
    assert "python3 -m venv .venv" in install and "pip install ." in install
    assert "SAMPLECTL_MONGODB_URI" not in install and "SAMPLECTL_DATABASE_URL" not in install
    steps = [call[0] for call in samplectl_calls(install)]
    assert steps == ["init", "login", "create", "list"]
    # CI runs exactly the README's test command.
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == tests.strip()
