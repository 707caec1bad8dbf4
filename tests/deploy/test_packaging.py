"""Packaging hygiene that needs no build: what `pipx install .` relies on (a full install is checked by hand)."""

from __future__ import annotations

import importlib
import tomllib

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_console_script_points_at_the_fast_entry() -> None:
    target = PYPROJECT["project"]["scripts"]["samplectl"]
    module, _, function = target.partition(":")
    assert target == "samplectl.cli.entry:main"
    assert callable(getattr(importlib.import_module(module), function))


def test_package_is_typed_and_ships_the_marker() -> None:
    assert (ROOT / "samplectl" / "py.typed").exists()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["samplectl"]


def test_the_readme_the_metadata_names_exists() -> None:
    assert (ROOT / PYPROJECT["project"]["readme"]).is_file()


def test_samplectl_itself_imports_no_httpx_which_only_the_tests_install() -> None:
    """remote.client speaks HTTP with the standard library (issue 13: start-up); httpx is a test dependency."""
    runtime = " ".join(PYPROJECT["project"]["dependencies"])
    assert "httpx" not in runtime
    importing = [str(path.relative_to(ROOT)) for path in (ROOT / "samplectl").rglob("*.py")
                 if any(line.split()[:2] in (["import", "httpx"], ["from", "httpx"]) for line in
                        (text.strip() for text in path.read_text().splitlines()))]
    assert importing == []
