"""The storage routes: containers, a box's places, free room, moving and removing (`samplectl storage`).

A container's path is part of the URL (``/storage/containers/FRZ-1/R2/B3``): names are letters,
digits, ``.``, ``_`` and ``-`` only, so a path needs no escaping. Each kind of answer has a prefix of
its own (``containers``, ``boxes``), because any name, ``free`` or ``grid`` too, may end a path.
Every rule is ``services.storage``'s, as for the command line; the answers are what the commands
print with ``-o json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from samplectl.domain.dates import iso_z
from samplectl.domain.storage import parse_path
from samplectl.server.deps import Client, CurrentIdentity, State
from samplectl.server.schemas import (
    ERRORS,
    Container,
    ContainerIn,
    ContainerListed,
    Holder,
    Moved,
    MoveIn,
    Removed,
    Room,
)

router = APIRouter(tags=["storage"])

CONTAINER_FIELDS = ("path", "kind", "parent", "name", "rows", "cols", "capacity", "created_at", "created_by")


def container_json(container: dict[str, Any]) -> dict[str, Any]:
    """A container as stored, its time as UTC text with Z (as the command line prints it)."""
    out = {name: container[name] for name in CONTAINER_FIELDS if name in container}
    if out.get("created_at") is not None:
        out["created_at"] = iso_z(out["created_at"])
    return out


@router.get("/storage/containers", response_model=list[ContainerListed], responses=ERRORS,
            summary="Containers with used/total places")
def list_containers(server: State, who: CurrentIdentity, client: Client, under: str | None = None) -> JSONResponse:
    """`samplectl storage list [PATH]` (and `tree`): every container within `under` (all without it),
    in path order, each with the places used and in total below it."""
    return JSONResponse(server.storage_service(who, client).tree(under))


@router.post("/storage/containers", status_code=201, response_model=Container, responses=ERRORS,
             summary="Add a freezer, rack, box or bag")
def add_container(body: ContainerIn, request: Request, server: State, who: CurrentIdentity,
                  client: Client) -> JSONResponse:
    """`samplectl storage add KIND PATH`: 201 with the container and its Location; 409 when the path is taken."""
    container = server.storage_service(who, client).add(body.kind, body.path, grid=body.grid,
                                                        capacity=body.capacity, reason=body.reason)
    location = str(request.url_for("get_container", path=container["path"]))
    return JSONResponse(container_json(container), status_code=201, headers={"Location": location})


@router.get("/storage/containers/{path:path}", response_model=Container, responses=ERRORS, summary="One container")
def get_container(path: str, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    service = server.storage_service(who, client)
    who.require("viewer", "reading storage")
    return JSONResponse(container_json(service.get(parse_path(path))))


@router.delete("/storage/containers/{path:path}", response_model=Removed, responses=ERRORS,
               summary="Remove an empty container")
def remove_container(path: str, server: State, who: CurrentIdentity, client: Client,
                     reason: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """`samplectl storage remove PATH --yes`: 409 naming what is still inside. With `dry_run` nothing is
    removed: the same answer says whether it would be (what the command checks before it asks)."""
    service = server.storage_service(who, client)
    if not dry_run:
        return service.remove(path, reason=reason)
    who.require("technician", "removing storage containers")
    container = service.get(parse_path(path))
    service.refuse_unless_empty(container["path"])
    return {"path": container["path"], "kind": container["kind"]}


@router.get("/storage/boxes/{path:path}", response_model=Holder, responses=ERRORS,
            summary="A box's (or bag's) places and the samples in them")
def show_box(path: str, server: State, who: CurrentIdentity, client: Client) -> JSONResponse:
    """`samplectl storage show BOX -o json`: each place in fill order, with its sample or null."""
    # As the service gives it: a free place's sample_id is null, a bag has no grid.
    return JSONResponse(server.storage_service(who, client).show(path))


@router.get("/storage/free", response_model=list[Room], responses=ERRORS, summary="Boxes and bags with room")
def free_room(server: State, who: CurrentIdentity, client: Client, under: str | None = None,
              need: int | None = None, together: bool = False) -> list[dict[str, Any]]:
    """`samplectl storage free`: every free place, or with `need` the boxes and bags with that many free
    (`together`: that many next to each other in fill order)."""
    return server.storage_service(who, client).free(under, need=need, together=together)


@router.post("/storage/moves", response_model=Moved, responses=ERRORS,
             summary="Move a box, bag or rack with every sample in it")
def move_container(body: MoveIn, server: State, who: CurrentIdentity, client: Client) -> dict[str, Any]:
    """`samplectl storage move PATH --to PARENT --yes`: in one step, one audit record per sample moved."""
    return server.storage_service(who, client).move(body.path, body.to, reason=body.reason)
