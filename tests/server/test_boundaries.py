"""The two front ends stay apart: the server never imports cli/, the CLI loads the server only to serve."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.cli.test_startup import modules_after
from tests.conftest import ROOT

SERVER = ROOT / "samplectl" / "server"
WEB = {"fastapi", "starlette", "uvicorn", "prometheus_client", "multipart", "python_multipart", "anyio"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_server_never_imports_the_command_line() -> None:
    for path in SERVER.rglob("*.py"):
        cli = [name for name in imported_modules(path) if name == "samplectl.cli" or name.startswith("samplectl.cli.")]
        assert not cli, f"{path.relative_to(ROOT)} imports {cli}"
        assert not {"typer", "rich"} & {name.split(".")[0] for name in imported_modules(path)}


def test_only_the_serve_command_imports_the_server() -> None:
    for path in (ROOT / "samplectl").rglob("*.py"):
        if SERVER in path.parents or path.name == "serve.py":
            continue
        server = [name for name in imported_modules(path) if name.startswith("samplectl.server")]
        assert not server, f"{path.relative_to(ROOT)} imports {server}"


def test_the_command_line_starts_without_the_web_stack() -> None:
    loaded = modules_after("import samplectl.cli.app")
    assert not loaded & WEB, sorted(loaded & WEB)
    loaded = modules_after("import sys\nsys.argv = ['samplectl', 'serve', '--help']\n"
                           "from samplectl.cli.entry import main\ntry:\n    main()\nexcept SystemExit:\n    pass")
    assert not loaded & WEB, sorted(loaded & WEB)
