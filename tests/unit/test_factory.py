"""The service factory: the one place services are built from settings and whoever is acting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from samplectl.domain.identity import Identity

PACKAGE = Path(__file__).resolve().parents[2] / "samplectl"


def test_services_are_built_from_settings_and_the_identity_source_alone() -> None:
    from samplectl.config import load_settings
    from samplectl.services.factory import ServiceFactory

    asked: list[int] = []

    def source() -> Identity:
        asked.append(1)
        return Identity("ada", "technician")

    factory = ServiceFactory(load_settings(), identity_source=source)
    try:
        samples = factory.sample_service()
        assert samples.identity == Identity("ada", "technician")
        assert factory.audit_service().identity.username == "ada"
        assert factory.import_service().identity.role == "technician"
        assert factory.batch_undo().identity.username == "ada"
        assert factory.account_service().actor == Identity("ada", "technician")
        assert asked == [1]  # resolved once per factory (one command, one request)
    finally:
        factory.close()


def test_a_factory_without_identity_serves_only_what_needs_nobody() -> None:
    from samplectl.config import load_settings
    from samplectl.domain.errors import AuthError
    from samplectl.services.factory import ServiceFactory

    factory = ServiceFactory(load_settings())
    try:
        assert factory.account_service(logged_in=False).actor is None
        with pytest.raises(AuthError):
            factory.sample_service()
    finally:
        factory.close()


def test_nothing_outside_cli_builds_on_the_command_line() -> None:
    # The server and remote mode use the factory too: it must not reach into cli/.
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] in ("cli", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [module or ""]
            if any(name.startswith("samplectl.cli") for name in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_only_the_factory_builds_services_in_the_command_line() -> None:
    # Two commands used to build their services themselves: every cli module asks the factory.
    constructors = {"SampleService", "AuditService", "ImportService", "BatchUndo", "AccountService", "SampleStore",
                    "AuditLog", "BatchStore"}
    offenders = []
    for path in (PACKAGE / "cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in constructors:
                offenders.append(f"{path.name}: {node.func.id}(...)")
    assert offenders == []
