"""Storage geometry through the server: the methods of ``services.storage.StorageService`` the commands use.

The server applies every rule (paths, grids, occupancy, roles, the audit records); this class carries
the request and the answer. Roles and paths are checked here first as well, in the order the local
service checks them, so a refusal reads the same whichever side finds it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from samplectl.domain.identity import Identity
from samplectl.domain.storage import parse_path
from samplectl.remote.client import ApiClient
from samplectl.remote.records import with_times

READ = ("viewer", "reading storage")


def _query(**values: Any) -> dict[str, str]:
    return {name: ("true" if value is True else str(value)) for name, value in values.items()
            if value is not None and value is not False}


@dataclass
class RemoteStorageService:
    client: ApiClient
    identity: Identity

    # -- reads ------------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any]:
        return with_times(self.client.json("GET", f"/storage/containers/{parse_path(path)}"), ("created_at",))

    def tree(self, path: str | None = None) -> list[dict[str, Any]]:
        self.identity.require(*READ)
        under = None if path is None else parse_path(path)
        return list(self.client.json("GET", "/storage/containers", params=_query(under=under)))

    def show(self, path: str) -> dict[str, Any]:
        self.identity.require(*READ)
        return dict(self.client.json("GET", f"/storage/boxes/{parse_path(path)}"))

    def free(self, under: str | None = None, *, need: int | None = None, together: bool = False) -> list[dict[str, Any]]:
        from samplectl.domain.storage import check_need

        self.identity.require(*READ)
        check_need(need, together)
        root = None if under is None else parse_path(under, what="--under")
        return list(self.client.json("GET", "/storage/free", params=_query(under=root, need=need, together=together)))

    def refuse_unless_empty(self, path: str) -> None:
        """Conflict (7) naming what is still inside: the server's dry run of the removal."""
        self.client.json("DELETE", f"/storage/containers/{parse_path(path)}", params=_query(dry_run=True))

    # -- changes ----------------------------------------------------------------------------
    def add(self, kind: str, path: str, *, grid: str | None = None, capacity: int | None = None,
            reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "adding storage containers")
        body = {"kind": kind, "path": path, "grid": grid, "capacity": capacity, "reason": reason}
        answer = self.client.json("POST", "/storage/containers", json={k: v for k, v in body.items() if v is not None})
        return with_times(answer, ("created_at",))

    def move(self, path: str, to: str, *, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "moving storage containers")
        body = {"path": parse_path(path), "to": parse_path(to, what="--to"), "reason": reason}
        return dict(self.client.json("POST", "/storage/moves", json={k: v for k, v in body.items() if v is not None},
                                     long=True))

    def remove(self, path: str, *, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "removing storage containers")
        return dict(self.client.json("DELETE", f"/storage/containers/{parse_path(path)}", params=_query(reason=reason)))
