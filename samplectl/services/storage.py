"""Storage geometry as use cases: containers, where samples are placed, what is free, moving a box.

The service depends on a small ``ContainerRepository``; each engine implements it next to its sample
store. Occupancy is never checked here: two samples in one position are refused by the store's unique
index on ``position`` (see ``PositionTaken``), so two technicians placing at the same moment cannot
both win. What the service checks is shape: paths, kinds, grids, and that a slot is inside its grid.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from samplectl import __version__
from samplectl.domain.dates import utc_now
from samplectl.domain.errors import Conflict, NotFound, UsageError, ValidationFailed
from samplectl.domain.identity import Identity
from samplectl.domain.storage import (
    HOLDS_SAMPLES,
    Holder,
    SampleMove,
    check_capacity,
    check_kind,
    check_need,
    check_parent,
    first_run,
    is_within,
    name_of,
    parent_of,
    parse_grid,
    parse_path,
    ranges,
    rebase,
    split_position,
)
from samplectl.stores.containers import ContainerRepository


@dataclass(frozen=True)
class Placement:
    position: str  # BOX:SLOT, what the store keeps unique
    location: str  # the sample's storage_location


def natural_key(path: str) -> list[Any]:
    """FRZ-1/R2/B10 after FRZ-1/R2/B9: numbers inside names compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def holder_of(position: str) -> str:
    return position.rpartition(":")[0]


class Placer:
    """Turns ``--position`` values and ``--fill`` boxes into positions, for one command's lifetime.

    Containers are looked up once per path. A bare path (no slot) takes the first free place at the
    time of reading: the store still has the last word if someone else takes it first.
    """

    def __init__(self, repository: ContainerRepository) -> None:
        self.repository = repository
        self._holders: dict[str, Holder] = {}

    def holder(self, path: str) -> Holder:
        found = self._holders.get(path)
        if found is None:
            container = self.repository.get(path)
            if container is None:
                raise NotFound(f"no box or bag {path!r}", hint="`samplectl storage list` shows the containers")
            found = self._holders[path] = Holder.of(container)
        return found

    def resolve(self, text: str) -> Placement:
        """A position as typed (BOX:SLOT, or a box or bag alone for its next free place)."""
        path, slot = split_position(text)
        holder = self.holder(path)
        if slot is None:
            free = self.free_places(holder, 1)
            if not free:
                raise Conflict(f"{holder.kind} {path} is full", hint="`samplectl storage free` shows where there is room")
            index = free[0]
        else:
            index = holder.slot_index(slot)
        return Placement(holder.position(index), holder.location(index))

    def free_places(self, holder: Holder, limit: int | None = None) -> list[int]:
        occupied = [position.rpartition(":")[2] for position, _ in self.repository.placed(holder.path)
                    if holder_of(position) == holder.path]
        free = holder.free_indexes(occupied)
        return free if limit is None else free[:limit]

    def fill(self, boxes: Sequence[str], count: int) -> list[Placement]:
        """The next ``count`` free places, row by row, spilling from each box to the next."""
        placements: list[Placement] = []
        for text in boxes:
            holder = self.holder(parse_path(text, what="--fill box"))
            for index in self.free_places(holder, count - len(placements)):
                placements.append(Placement(holder.position(index), holder.location(index)))
            if len(placements) == count:
                return placements
        room = len(placements)
        raise Conflict(
            f"--fill {' '.join(boxes)} has room for {room} samples; {count} need a place",
            hint="add more boxes after --fill (the samples spill into them in order)",
        )


def place_fields(placer: Placer, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``fields`` with a given ``position`` resolved, and ``storage_location`` kept in step with it.

    A position sets storage_location to its path (a different location given with it is refused); a
    free-text location given to a placed sample takes it out of its position.
    """
    out = dict(fields)
    text = out.get("position")
    location = out.get("storage_location")
    if text is None:
        if location is not None and current is not None and current.get("position"):
            out["position"] = None
        return out
    if isinstance(text, str) and not text.strip():
        raise ValidationFailed("--position is empty", hint="give BOX:SLOT, e.g. FRZ-1/R2/B3:A5")
    placement = placer.resolve(str(text))
    if location is not None and str(location).strip() != placement.location:
        raise ValidationFailed(
            f"storage_location {str(location).strip()!r} does not match position {placement.position} "
            f"({placement.location})",
            hint="give only the position: samplectl sets storage_location from it",
        )
    out["position"] = placement.position
    out["storage_location"] = placement.location
    return out


@dataclass
class StorageService:
    repository: ContainerRepository
    identity: Identity
    clock: Callable[[], datetime] = utc_now
    # Added to every audit record (the server's names the client, as its sample records do).
    audit_fields: Mapping[str, Any] = field(default_factory=dict)
    placer: Placer = field(init=False)

    def __post_init__(self) -> None:
        self.placer = Placer(self.repository)

    def _now(self) -> datetime:
        now = self.clock()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def _entry(self, action: str, path: str, changes: dict[str, Any], reason: str | None, now: datetime,
               sample_id: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"_id": uuid.uuid4().hex, "at": now, "user": self.identity.username, "action": action,
                "sample_id": sample_id, "changes": changes, "reason": reason, "container": path,
                "samplectl_version": __version__, **self.audit_fields, **extra}

    def get(self, path: str) -> dict[str, Any]:
        found = self.repository.get(path)
        if found is None:
            raise NotFound(f"no container {path!r}", hint="`samplectl storage list` shows the containers")
        return found

    # -- changes ----------------------------------------------------------------------------
    def add(self, kind: str, path: str, *, grid: str | None = None, capacity: int | None = None,
            reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "adding storage containers")
        kind = check_kind(kind)
        path = parse_path(path)
        if grid is not None and kind != "box":
            raise UsageError(f"--grid is for boxes, not a {kind}", hint="a bag takes --capacity N")
        if capacity is not None and kind != "bag":
            raise UsageError(f"--capacity is for bags, not a {kind}", hint="a box takes --grid ROWSxCOLS")
        if kind == "box" and grid is None:
            raise UsageError("a box needs --grid ROWSxCOLS", hint="for example --grid 9x9")
        if kind == "bag" and capacity is None:
            raise UsageError("a bag needs --capacity N", hint="for example --capacity 50")
        parent_path = parent_of(path)
        parent = None if parent_path is None else self.repository.get(parent_path)
        if parent_path is not None and parent is None:
            raise NotFound(f"no container {parent_path!r} to put {path} in", hint="add the parent first")
        check_parent(kind, path, parent)
        now = self._now()
        container: dict[str, Any] = {"path": path, "kind": kind, "parent": parent_path, "name": name_of(path)}
        if kind == "box":
            shape = parse_grid(grid or "")
            container.update(rows=shape.rows, cols=shape.cols)
        if kind == "bag":
            container["capacity"] = check_capacity(int(capacity or 0))
        container.update(created_at=now, created_by=self.identity.username)
        layout: dict[str, Any] = {k: {"before": None, "after": container[k]}
                                  for k in ("kind", "rows", "cols", "capacity") if k in container}
        self.repository.add(container, self._entry("storage-add", path, layout, reason, now))
        return container

    def move(self, path: str, to: str, *, reason: str | None = None) -> dict[str, Any]:
        """Move a container (a box, bag or rack) into another, with every sample in it, in one step."""
        self.identity.require("technician", "moving storage containers")
        path, to = parse_path(path), parse_path(to, what="--to")
        moving = self.get(path)
        target = self.get(to)
        if is_within(to, path):
            raise ValidationFailed(f"cannot move {path} into itself ({to})")
        check_parent(moving["kind"], path, target)
        new_path = f"{to}/{moving['name']}"
        if new_path == path:
            raise ValidationFailed(f"{path} is already in {to}")
        if self.repository.get(new_path) is not None:
            raise Conflict(f"{to} already holds a container named {moving['name']}", hint="move or rename that one first")
        renames = [(c["path"], rebase(c["path"], path, new_path)) for c in self.repository.within(path)]
        now = self._now()
        moves = []
        for before in self.repository.placed_samples(path):
            if before.get("pending"):
                raise Conflict(f"sample {before['sample_id']!r} is being changed right now", hint="try again in a moment")
            position = rebase(before["position"], path, new_path)
            location = rebase(before["storage_location"], path, new_path)
            after = {k: v for k, v in before.items() if k != "pending"}
            after.update(position=position, storage_location=location, updated_at=now,
                         updated_by=self.identity.username, version=before["version"] + 1)
            changes = {"storage_location": {"before": before["storage_location"], "after": location},
                       "position": {"before": before["position"], "after": position}}
            entry = self._entry("move", path, changes, reason, now, sample_id=before["sample_id"],
                                version=after["version"], to=new_path)
            moves.append(SampleMove(before, after, entry))
        entry = self._entry("storage-move", path, {"path": {"before": path, "after": new_path}}, reason, now,
                            samples=len(moves))
        self.repository.move(renames, moves, entry)
        return {"path": path, "to": new_path, "kind": moving["kind"], "containers": len(renames),
                "samples": len(moves)}

    def remove(self, path: str, *, reason: str | None = None) -> dict[str, Any]:
        self.identity.require("technician", "removing storage containers")
        path = parse_path(path)
        container = self.get(path)
        self.refuse_unless_empty(path)
        now = self._now()
        layout = {"kind": {"before": container["kind"], "after": None}}
        self.repository.remove(path, self._entry("storage-remove", path, layout, reason, now))
        return {"path": path, "kind": container["kind"]}

    def refuse_unless_empty(self, path: str) -> None:
        """Conflict (7) naming what is still inside (the store checks again as it deletes)."""
        inside = [c["path"] for c in self.repository.within(path) if c["path"] != path]
        samples = next(iter(self.repository.placed(path)), None)
        if inside or samples:
            what = f"container {inside[0]}" if inside else f"sample {samples[1]} at {samples[0]}"  # type: ignore[index]
            raise Conflict(f"{path} is not empty: it holds {what}",
                           hint="move or remove what is inside first (`samplectl storage show` lists it)")

    # -- reads ------------------------------------------------------------------------------
    def tree(self, path: str | None = None) -> list[dict[str, Any]]:
        """Containers within ``path`` (all when None) in path order, each with used and total."""
        self.identity.require("viewer", "reading storage")
        root = None if path is None else parse_path(path)
        if root is not None:
            self.get(root)
        containers = sorted(self.repository.within(root), key=lambda c: natural_key(c["path"]))
        used: dict[str, int] = {}
        for position, _ in self.repository.placed(root):
            used[holder_of(position)] = used.get(holder_of(position), 0) + 1
        totals: dict[str, list[int]] = {c["path"]: [0, 0] for c in containers}
        for container in containers:
            if container["kind"] not in HOLDS_SAMPLES:
                continue
            size = Holder.of(container).size
            here = used.get(container["path"], 0)
            walk: str | None = container["path"]
            while walk is not None and walk in totals:
                totals[walk][0] += here
                totals[walk][1] += size
                walk = parent_of(walk)
        return [_listed(c, *totals[c["path"]]) for c in containers]

    def show(self, path: str) -> dict[str, Any]:
        """A box or bag with each place and the sample in it (None when free)."""
        self.identity.require("viewer", "reading storage")
        holder = Holder.of(self.get(parse_path(path)))
        by_slot = {position.rpartition(":")[2]: sample_id for position, sample_id in self.repository.placed(holder.path)
                   if holder_of(position) == holder.path}
        places = [{"position": holder.slot_name(i), "sample_id": by_slot.get(holder.slot_name(i))}
                  for i in range(holder.size)]
        shown: dict[str, Any] = {"path": holder.path, "kind": holder.kind}
        if holder.grid is not None:
            shown.update(grid=str(holder.grid), rows=holder.grid.rows, cols=holder.grid.cols)
        shown.update(used=sum(1 for p in places if p["sample_id"]), total=holder.size, positions=places)
        return shown

    def free(self, under: str | None = None, *, need: int | None = None, together: bool = False) -> list[dict[str, Any]]:
        """Boxes and bags with room: every free place, or with ``need`` those with that many free
        (``together``: that many next to each other in fill order, and which ones)."""
        self.identity.require("viewer", "reading storage")
        check_need(need, together)
        root = None if under is None else parse_path(under, what="--under")
        if root is not None:
            self.get(root)
        occupied: dict[str, list[str]] = {}
        for position, _ in self.repository.placed(root):
            box, _, slot = position.rpartition(":")
            occupied.setdefault(box, []).append(slot)
        found = []
        holders = [c for c in self.repository.within(root) if c["kind"] in HOLDS_SAMPLES]
        for container in sorted(holders, key=lambda c: natural_key(c["path"])):
            holder = Holder.of(container)
            free = holder.free_indexes(occupied.get(holder.path, ()))
            if not free or (need is not None and len(free) < need):
                continue  # a full box has no room to offer
            chosen: list[int] | None = free
            if together:
                chosen = first_run(free, need or 0) if holder.grid is not None else free[:need]
                if chosen is None:
                    continue
            chosen = chosen or []
            found.append({"path": holder.path, "kind": holder.kind, "free": len(free), "total": holder.size,
                          "positions": [holder.slot_name(i) for i in chosen], "ranges": ranges(holder, chosen)})
        return found

    def placements(self, boxes: Sequence[str], count: int) -> Iterator[Placement]:
        """``import --fill``: where ``count`` samples go, in order (Conflict when they do not fit)."""
        yield from self.placer.fill(boxes, count)


def _listed(container: Mapping[str, Any], used: int, total: int) -> dict[str, Any]:
    out = {"path": container["path"], "kind": container["kind"], "used": used, "total": total}
    if container["kind"] == "box":
        out["grid"] = f"{container['rows']}x{container['cols']}"
    if container["kind"] == "bag":
        out["capacity"] = container["capacity"]
    return out
