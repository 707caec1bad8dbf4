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
