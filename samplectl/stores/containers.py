"""The containers repository: what the storage service asks of an engine (storage geometry).

Each engine implements it beside its sample store (``stores.sqlite.containers``,
``stores.mongo.containers``). Where samples are placed is read from the samples' ``position``, which
the sample store keeps unique (one sample per position, enforced by the engine's unique index).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from samplectl.domain.storage import SampleMove


class ContainerRepository(Protocol):
    """What the storage service needs from an engine. Containers are dicts with ``path``, ``kind``,
    ``parent``, ``name``, ``rows``/``cols`` (a box), ``capacity`` (a bag), ``created_at``, ``created_by``."""

    def get(self, path: str) -> dict[str, Any] | None: ...

    def within(self, path: str | None) -> list[dict[str, Any]]:
        """The container at ``path`` and every one below it (every container when None)."""
        ...

    def placed(self, path: str | None) -> Iterable[tuple[str, str]]:
        """(position, sample_id) of every sample placed in a container within ``path`` (or anywhere)."""
        ...

    def placed_samples(self, path: str) -> list[dict[str, Any]]:
        """The whole records of the samples placed within ``path``."""
        ...

    def occupant(self, position: str) -> str | None: ...

    def add(self, container: dict[str, Any], entry: dict[str, Any]) -> None:
        """Store a new container with its audit record; Conflict (7) if the path is taken."""
        ...

    def move(self, renames: list[tuple[str, str]], samples: list[SampleMove], entry: dict[str, Any]) -> None:
        """Rename containers (old path, new path) and rewrite every sample in them, with one audit record
        per sample and ``entry`` for the container: all or nothing. Conflict (7) if a sample changed
        meanwhile or a new path is taken."""
        ...

    def remove(self, path: str, entry: dict[str, Any]) -> None:
        """Delete an empty container with its audit record; Conflict (7) when something is in it."""
        ...
