"""Fixtures for the command tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def store() -> Iterator[Any]:
    """The embedded store the in-process commands write to (read it after they ran).

    In remote mode (tests.remote_support) that is the server's store.
    """
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded
    from tests.remote_support import server_home

    home = server_home()
    database = open_embedded(load_settings() if home is None else load_settings(home=str(home)))
    yield database.samples
    database.close()


@pytest.fixture
def embedded_db() -> Iterator[Any]:
    """The embedded store's repositories (samples, audit, batches), as the commands open them.

    In remote mode (tests.remote_support) that is the server's store.
    """
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded
    from tests.remote_support import server_home

    home = server_home()
    database = open_embedded(load_settings() if home is None else load_settings(home=str(home)))
    yield database
    database.close()
