"""Fixtures for the command tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def store() -> Iterator[Any]:
    """The embedded store the in-process commands write to (read it after they ran)."""
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded

    database = open_embedded(load_settings())
    yield database.samples
    database.close()


@pytest.fixture
def embedded_db() -> Iterator[Any]:
    """The embedded store's repositories (samples, audit, batches), as the commands open them."""
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded

    database = open_embedded(load_settings())
    yield database
    database.close()
