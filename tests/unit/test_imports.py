"""Modules use each other's public names only; typer's internals only within a pinned, tested range."""

from __future__ import annotations

import ast
import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "samplectl"


def private_imports(path: Path) -> list[str]:
    """`from x import _name` and `module._name` where x/module is another samplectl module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    modules: set[str] = set()  # local names bound to samplectl modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("samplectl")):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("samplectl"):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = [f"{path.relative_to(ROOT)}: {name}" for path in sorted(PACKAGE.rglob("*.py"))
                 for name in private_imports(path)]
    assert offenders == []


def test_the_check_catches_both_spellings(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from samplectl.cli.samples import _criteria\nfrom samplectl.cli import options as opt\n"
                      "x = opt._complete\nfrom samplectl.cli import render\n")
    assert private_imports(module) == ["from samplectl.cli.samples import _criteria", "opt._complete"]


# typer vendors click as the private `typer._click`; cli/app.py maps its exceptions to exit codes.
# Until typer exposes them, samplectl pins the typer versions this was tested with.
def _typer_range() -> tuple[str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"typer>=([0-9.]+),<([0-9.]+)"', text)
    assert match, "pyproject.toml must pin typer to a range (typer>=X,<Y): cli/app.py uses typer._click"
    return match.group(1), match.group(2)


def _key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_typer_is_pinned_to_the_tested_range_and_its_internals_are_there() -> None:
    low, high = _typer_range()
    assert _key(low) <= _key(version("typer")) < _key(high)
    from typer._click import exceptions

    for name in ("NoArgsIsHelpError", "BadParameter", "UsageError", "ClickException", "MissingParameter"):
        assert issubclass(getattr(exceptions, name), Exception), name
