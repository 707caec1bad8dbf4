"""Fixtures for the command tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def _open(request: pytest.FixtureRequest) -> Any:
    """The sample database the in-process commands use: the embedded store, the MongoDB engine's
    (the `mode` fixture's wire run) or, in remote mode, the server's embedded store."""
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded, open_sample_database
    from tests.remote_support import server_home

    if "mode" in request.fixturenames:
        request.getfixturevalue("mode")  # first: it points the settings at the engine under test
    home = server_home()
    if home is not None:
        return open_embedded(load_settings(home=str(home)))
    settings = load_settings()
    return open_embedded(settings) if settings.embedded else open_sample_database(settings)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The sample store the in-process commands write to (read it after they ran)."""
    database = _open(request)
    yield database.samples
    database.close()


@pytest.fixture
def embedded_db(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The store's repositories (samples, audit, batches), as the commands open them."""
    database = _open(request)
    yield database
    database.close()
