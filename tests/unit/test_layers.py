"""The layering rule: only cli/ (and output/ for rich) may import typer or rich."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "samplectl"
UI_LIBRARIES = {"typer", "rich", "click"}
ALLOWED = {"cli": {"typer", "rich", "click"}, "output": {"rich"}}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_cli_and_output_import_ui_libraries() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0]
        allowed = ALLOWED.get(layer, set())
        bad = (imported_roots(path) & UI_LIBRARIES) - allowed
        if bad:
            offenders.append(f"{path.relative_to(PACKAGE)} imports {sorted(bad)}")
    assert offenders == []


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import typer\nfrom rich.table import Table\n")
    assert imported_roots(module) >= {"typer", "rich"}
