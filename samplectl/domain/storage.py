"""Storage geometry: freezers hold racks, racks hold boxes, a box is a grid of positions, a bag holds
samples up to a capacity. Pure rules, no database: paths, grids, slot names, free runs.

A container's path is its names joined by "/" (``FRZ-1/R2/B3``); a position is ``BOX:SLOT``
(``FRZ-1/R2/B3:A5``). Box slots are a row letter and a column number (``A1``...``H12``); numbered row
by row, ``A1`` is 0, ``A2`` is 1, and so on. A bag's places are numbered ``1``...``N``: that is what
lets the store enforce a bag's capacity with the same unique position index as a box's grid.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from samplectl.domain.errors import Conflict, UsageError, ValidationFailed

KINDS = ("freezer", "rack", "box", "bag")
# Which kinds each kind may sit in (None: at the top, in no container).
PARENT_KINDS: dict[str, tuple[str | None, ...]] = {
    "freezer": (None,),
    "rack": ("freezer",),
    "box": ("freezer", "rack"),
    "bag": ("freezer", "rack"),
}
HOLDS_SAMPLES = ("box", "bag")
ROW_LETTERS = string.ascii_uppercase
MAX_ROWS = len(ROW_LETTERS)
MAX_COLS = 99
MAX_CAPACITY = 10_000
MAX_PATH = 100  # leaves room for "/H12" within storage_location's 128 characters
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")
_GRID = re.compile(r"\s*(\d{1,3})\s*[xX×]\s*(\d{1,3})\s*\Z")
_SLOT = re.compile(r"([A-Za-z])(\d{1,3})\Z")
NAME_RULE = "letters, digits, '.', '_' and '-' (up to 32, starting with a letter or digit)"


def parse_path(text: str, *, what: str = "path") -> str:
    """A container path as stored: names joined by "/", each checked (exit 6 otherwise)."""
    raw = text.strip()
    if not raw:
        raise ValidationFailed(f"the {what} is empty", hint="a path looks like FRZ-1/R2/B3")
    names = raw.strip("/").split("/")
    for name in names:
        if not _NAME.match(name):
            shown = name if name else "(an empty name between two '/')"
            raise ValidationFailed(
                f"{what} {raw!r}: {shown!r} is not a container name",
                hint=f"names use {NAME_RULE}; a path looks like FRZ-1/R2/B3",
                details=[{"column": what, "value": raw, "message": f"{shown!r} is not a container name"}],
            )
    path = "/".join(names)
    if len(path) > MAX_PATH:
        raise ValidationFailed(f"{what} {path[:100]!r} is longer than {MAX_PATH} characters")
    return path


def parent_of(path: str) -> str | None:
    return path.rpartition("/")[0] or None


def name_of(path: str) -> str:
    return path.rpartition("/")[2]


def is_within(path: str, ancestor: str) -> bool:
    """``path`` is ``ancestor`` or lies below it (FRZ-1/R1 is within FRZ-1, FRZ-10 is not)."""
    return path == ancestor or path.startswith(ancestor + "/")


def rebase(path: str, old: str, new: str) -> str:
    """``path`` (within ``old``) as it reads once ``old`` is renamed ``new``."""
    return new + path[len(old):]


def prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds [low, high) of every text starting with ``prefix``: an index range, not a scan."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def check_kind(kind: str) -> str:
    value = kind.strip().lower()
    if value not in KINDS:
        raise ValidationFailed(f"{kind!r} is not a kind of container; expected one of: {', '.join(KINDS)}")
    return value


def check_parent(kind: str, path: str, parent: Mapping[str, Any] | None) -> None:
    """Refuse a container in a place it cannot go (a rack in a box, a box at the top)."""
    allowed = PARENT_KINDS[kind]
    where = None if parent is None else parent["kind"]
    if where in allowed:
        return
    places = " or ".join("the top" if k is None else f"a {k}" for k in allowed)
    inside = "at the top" if parent is None else f"in {parent['kind']} {parent['path']}"
    raise ValidationFailed(
        f"a {kind} cannot go {inside} ({path}); a {kind} goes in {places}",
        hint="freezers hold racks, boxes and bags; racks hold boxes and bags",
    )


@dataclass(frozen=True)
class Grid:
    rows: int
    cols: int

    @property
    def size(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}"

    def slot_name(self, index: int) -> str:
        row, col = divmod(index, self.cols)
        return f"{ROW_LETTERS[row]}{col + 1}"

    def slot_index(self, slot: str, box: str = "") -> int:
        """A slot name's number in fill order; exit 6 when it is not in this grid (J1 in a 9x9 box)."""
        match = _SLOT.match(slot.strip())
        where = f" of box {box}" if box else ""
        if match is None:
            raise ValidationFailed(
                f"{slot.strip()!r} is not a position{where}: positions are a row letter and a column number",
                hint=f"this box's positions are A1...{self.slot_name(self.size - 1)}",
            )
        row = ROW_LETTERS.index(match.group(1).upper())
        col = int(match.group(2)) - 1
        if row >= self.rows or not 0 <= col < self.cols:
            raise ValidationFailed(
                f"position {slot.strip().upper()} is outside the {self} grid{where}",
                hint=f"this box's positions are A1...{self.slot_name(self.size - 1)}",
                details=[{"column": "position", "value": slot.strip(), "message": f"outside the {self} grid"}],
            )
        return row * self.cols + col


def parse_grid(text: str) -> Grid:
    match = _GRID.match(text)
    if match is None:
        raise ValidationFailed(f"--grid {text!r} is not ROWSxCOLS", hint="for example --grid 9x9 or --grid 8x12")
    rows, cols = int(match.group(1)), int(match.group(2))
    if not (1 <= rows <= MAX_ROWS and 1 <= cols <= MAX_COLS):
        raise ValidationFailed(
            f"--grid {text.strip()}: a box has 1 to {MAX_ROWS} rows (A...Z) and 1 to {MAX_COLS} columns"
        )
    return Grid(rows, cols)


def check_capacity(value: int) -> int:
    if not 1 <= value <= MAX_CAPACITY:
        raise ValidationFailed(f"--capacity {value} must be between 1 and {MAX_CAPACITY}")
    return value


@dataclass(frozen=True)
class Holder:
    """A container that holds samples: a box (a grid) or a bag (numbered places up to its capacity)."""

    path: str
    kind: str
    size: int
    grid: Grid | None = None

    @classmethod
    def of(cls, container: Mapping[str, Any]) -> Holder:
        if container["kind"] == "box":
            grid = Grid(int(container["rows"]), int(container["cols"]))
            return cls(container["path"], "box", grid.size, grid)
        if container["kind"] == "bag":
            return cls(container["path"], "bag", int(container["capacity"]))
        raise ValidationFailed(
            f"{container['path']} is a {container['kind']}: samples go in a box or a bag",
            hint="give a box position (BOX:A1) or a bag",
        )

    def slot_name(self, index: int) -> str:
        return self.grid.slot_name(index) if self.grid is not None else str(index + 1)

    def slot_index(self, slot: str) -> int:
        if self.grid is not None:
            return self.grid.slot_index(slot, self.path)
        text = slot.strip()
        if not text.isdigit() or not 1 <= int(text) <= self.size:
            raise ValidationFailed(
                f"{text!r} is not a place in bag {self.path}: a bag's places are 1...{self.size}",
                hint="leave the place out (--position BAG) to take the next free one",
            )
        return int(text) - 1

    def position(self, index: int) -> str:
        """The position text the store keeps unique: BOX:SLOT (a bag's: BAG:N)."""
        return f"{self.path}:{self.slot_name(index)}"

    def location(self, index: int) -> str:
        """The sample's storage_location at ``index``: the box path and slot; a bag's path alone."""
        return f"{self.path}/{self.slot_name(index)}" if self.grid is not None else self.path

    def free_indexes(self, occupied: Iterable[str]) -> list[int]:
        """Free places in fill order (row by row), given the occupied slot names.

        A name that is not a place of this holder is ignored. Names are looked up in a table made
        once per shape: `storage free` over a freezer looks up every placed sample's slot.
        """
        places = _slot_table(self.grid.rows if self.grid else 0, self.grid.cols if self.grid else self.size)
        taken = {places[slot] for slot in occupied if slot in places}
        return [i for i in range(self.size) if i not in taken]


@dataclass
class SampleMove:
    """One placed sample's part of a container move: the record as read, as it will be, and its audit entry."""

    before: dict[str, Any]
    after: dict[str, Any]
    entry: dict[str, Any]


class PositionTaken(Conflict):
    """Two samples in one position: the store's unique index refused the second (exit 7)."""

    def __init__(self, position: str, occupant: str | None) -> None:
        who = f"sample {occupant}" if occupant else "another sample"
        super().__init__(f"position {position} is taken by {who}",
                         hint="choose a free position (`samplectl storage show BOX` shows them)",
                         details=[{"column": "position", "value": position, "message": f"taken by {who}"}])
        self.position = position
        self.occupant = occupant


@functools.lru_cache(maxsize=64)
def _slot_table(rows: int, cols: int) -> dict[str, int]:
    """Slot name -> index for a grid (rows > 0) or a bag's numbered places (rows 0, ``cols`` places)."""
    if rows == 0:
        return {str(i + 1): i for i in range(cols)}
    grid = Grid(rows, cols)
    return {grid.slot_name(i): i for i in range(grid.size)}


def split_position(text: str) -> tuple[str, str | None]:
    """``BOX:SLOT`` as (box path, slot); a bare path (a bag: next free place) has no slot."""
    raw = text.strip()
    if not raw:
        raise ValidationFailed("the position is empty", hint="a position looks like FRZ-1/R2/B3:A5")
    box, colon, slot = raw.rpartition(":")
    if not colon:
        return parse_path(raw, what="position"), None
    if not slot.strip():
        raise ValidationFailed(f"position {raw!r} names no slot after ':'", hint="a position looks like FRZ-1/R2/B3:A5")
    return parse_path(box, what="position"), slot.strip().upper()


def first_run(free: list[int], need: int) -> list[int] | None:
    """The first ``need`` consecutive free places in fill order, or None.

    "Together" means next to each other in the order `import --fill` places samples: row by row,
    running on from the end of one row to the start of the next.
    """
    if need <= 0 or len(free) < need:
        return None
    start = 0
    for i in range(1, len(free) + 1):
        if i - start >= need:
            return free[start:start + need]
        if i < len(free) and free[i] != free[i - 1] + 1:
            start = i
    return None


def ranges(holder: Holder, indexes: list[int]) -> list[str]:
    """Places as runs in fill order: [0, 1, 2, 5] in a 9x9 box is ["A1-A3", "A6"]."""
    out: list[str] = []
    start = 0
    for i in range(1, len(indexes) + 1):
        if i == len(indexes) or indexes[i] != indexes[i - 1] + 1:
            first, last = indexes[start], indexes[i - 1]
            out.append(holder.slot_name(first) if first == last else f"{holder.slot_name(first)}-{holder.slot_name(last)}")
            start = i
    return out


def check_need(need: int | None, together: bool) -> None:
    if together and need is None:
        raise UsageError("--together needs --need N", hint="for example: storage free --need 24 --together")
    if need is not None and need < 1:
        raise ValidationFailed(f"--need {need} must be at least 1")
