"""Shell completion: committed scripts match the app, and values complete through the real protocol.

Commands and options are discovered from the registered app, so commands added later are covered
without touching this file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samplectl.cli.options import RoleOption
from samplectl.domain.vocab import EXPORT_FORMATS, OUTPUT_FORMATS, ROLES, SAMPLE_TYPES, STATUSES
from tests.conftest import ROOT

COMPLETIONS = ROOT / "completions"
SCRIPTS = {"bash": "samplectl.bash", "zsh": "samplectl.zsh", "fish": "samplectl.fish", "powershell": "samplectl.ps1"}
# Options whose values come from a fixed vocabulary, and what must be offered for them.
VOCABULARY = {"--type": SAMPLE_TYPES, "--status": STATUSES, "--output": OUTPUT_FORMATS, "--role": ROLES}
# Where one command offers fewer values: export streams, so it has no table.
COMMAND_VOCABULARY = {(("export",), "--output"): EXPORT_FORMATS}


def root_command() -> Any:
    import typer

    from samplectl.cli.app import app

    return typer.main.get_command(app)


def walk(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        if command.hidden:
            continue
        yield path + (name,), command
        if hasattr(command, "commands"):
            yield from walk(command, path + (name,))


def vocabulary_options() -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """(command path, option as typed, expected values) for every vocabulary option of every command."""
    cases = []
    for path, command in walk(root_command()):
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag in VOCABULARY:
                    for spelling in (*param.opts, *param.secondary_opts):
                        if spelling.startswith("--") or len(spelling) == 2:
                            cases.append((path, spelling, COMMAND_VOCABULARY.get((path, flag), VOCABULARY[flag])))
    return cases


def complete_bash(*words: str, cli_env: dict[str, str] | None = None) -> list[str]:
    """Ask samplectl (a real process) for candidates as the bash script does: the last word is being typed."""
    env = {**os.environ, **(cli_env or {}), "_SAMPLECTL_COMPLETE": "complete_bash",
           "COMP_WORDS": " ".join(("samplectl",) + words), "COMP_CWORD": str(len(words))}
    done = subprocess.run([sys.executable, "-m", "samplectl"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_committed_scripts_are_what_the_app_generates(tmp_path: Path) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "gen-completions"), str(tmp_path)], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHON": sys.executable}, timeout=120)
    for script in SCRIPTS.values():
        assert (tmp_path / script).read_text() == (COMPLETIONS / script).read_text(), (
            f"completions/{script} is stale: run scripts/gen-completions and commit the result"
        )
    assert sorted(p.name for p in COMPLETIONS.iterdir()) == sorted(SCRIPTS.values())


def test_show_completion_prints_the_committed_script(cli) -> None:
    # `samplectl --show-completion SHELL` (shell named explicitly when detection is off) gives the same scripts.
    for shell in ("bash", "zsh", "fish"):
        out = subprocess.run([sys.executable, "-m", "samplectl", "--show-completion", shell], capture_output=True,
                             text=True, timeout=60, check=False,
                             env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == (COMPLETIONS / SCRIPTS[shell]).read_text().strip()


def test_first_word_completes_to_every_registered_command() -> None:
    commands = sorted(path[0] for path, _ in walk(root_command()) if len(path) == 1)
    assert sorted(complete_bash("")) == commands
    assert {"init", "create", "get", "list", "filter", "update", "delete"} <= set(commands)


@pytest.mark.parametrize(("path", "flag", "values"), vocabulary_options(),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) and v and v[0] not in SAMPLE_TYPES
                         else (v if isinstance(v, str) else None))
def test_vocabulary_options_complete_their_values(cli, path: tuple[str, ...], flag: str,
                                                 values: tuple[str, ...]) -> None:
    # In-process with the same environment protocol as the real scripts: fast enough to cover every option.
    env = {"_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(("samplectl", *path, flag, "")),
           "COMP_CWORD": str(len(path) + 2)}
    out = cli(env=env)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == list(values)
    # A prefix narrows the choice.
    env.update(COMP_WORDS=" ".join(("samplectl", *path, flag, values[-1][:2])))
    assert cli(env=env).stdout.split() == [v for v in values if v.startswith(values[-1][:2])]


def test_the_vocabulary_options_of_todays_commands_are_all_covered() -> None:
    covered = {(" ".join(path), flag) for path, flag, _ in vocabulary_options()}
    for command in ("create", "update", "filter"):
        assert {(command, "--type"), (command, "--status")} <= covered
    for command in ("create", "get", "list", "filter", "update"):
        assert {(command, "--output"), (command, "-o")} <= covered


def test_role_values_complete(cli) -> None:
    # users add/set-role use options.RoleOption; check the callback through a throwaway command too,
    # so roles are covered even on a branch without the users commands.
    import typer
    from typer.testing import CliRunner

    demo = typer.Typer()

    @demo.command()
    def add(role: RoleOption) -> None:  # pragma: no cover - only completed, never run
        pass

    @demo.callback()
    def main() -> None:  # pragma: no cover
        pass

    env = {"_DEMO_COMPLETE": "complete_bash", "COMP_WORDS": "demo add --role ", "COMP_CWORD": "3"}
    result = CliRunner().invoke(demo, [], prog_name="demo", env=env)
    assert result.stdout.split() == list(ROLES)


def _bash_completion(line_words: list[str]) -> list[str]:
    """Call the function that completions/samplectl.bash registers, as readline would, in a real bash."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "samplectl").exists():
        pytest.skip("the samplectl console script is not installed next to this Python")
    words = " ".join(f"'{w}'" for w in line_words)
    script = f"""
        source {COMPLETIONS / 'samplectl.bash'}
        spec=$(complete -p samplectl) || exit 3
        func=$(sed -E 's/.* -F ([^ ]+) .*/\\1/' <<<"$spec")
        COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
        COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
        "$func" samplectl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.slow
def test_real_bash_completes_commands_and_statuses() -> None:
    assert {"init", "create", "get", "list", "filter", "update", "delete"} <= set(_bash_completion(["samplectl", ""]))
    assert _bash_completion(["samplectl", "filter", "--status", ""]) == list(STATUSES)
    assert _bash_completion(["samplectl", "list", "-o", "js"]) == ["json", "jsonl"]


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("tmux"), reason="tmux is not installed")
def test_tab_tab_in_an_interactive_bash(tmp_path: Path) -> None:
    """The acceptance test as a person does it: source the script, type, press TAB twice."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "samplectl").exists():
        pytest.skip("the samplectl console script is not installed next to this Python")
    session = f"samplectl-{os.getpid()}"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMUX": ""}
    tmux = ["tmux", "-L", session]
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                    "bash --norc --noprofile"], env=env, check=True, timeout=30)
    try:
        def screen_after(*keys: str, expect: str) -> str:
            subprocess.run([*tmux, "send-keys", "-t", session, *keys], check=True, timeout=30)
            deadline = time.monotonic() + 15
            while True:
                shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                                       text=True, check=True, timeout=30).stdout
                if expect in shown or time.monotonic() > deadline:
                    return shown
                time.sleep(0.2)

        # The quotes keep the typed line from matching before the output does.
        screen_after(f"source {COMPLETIONS / 'samplectl.bash'}; echo SOURCED''OK", "Enter", expect="SOURCEDOK")
        screen = screen_after("samplectl ", "Tab", "Tab", expect="filter")
        for command in ("init", "create", "get", "list", "filter", "update", "delete"):
            assert command in screen
        subprocess.run([*tmux, "send-keys", "-t", session, "C-u", "clear", "Enter"], check=True, timeout=30)
        screen = screen_after("samplectl filter --status ", "Tab", "Tab", expect="processing")
        for status in STATUSES:
            assert status in screen
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, timeout=30)
