"""Storage containers on stdout: a box drawn as a grid, the container tree, lists of containers and room.

JSON, JSON Lines and CSV carry the service's dicts as they are; the terminal gets Rich drawings. Stored
text (paths, sample ids) is always given to Rich as Text, never as markup.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import IO, Any

from samplectl.output.formats import Kind, View, pick
from samplectl.output.table import Column

OCCUPIED_STYLE = "green"
FREE_MARK = "·"


def _console(out: IO[str], color: bool) -> Any:
    from rich.console import Console

    return Console(file=out, no_color=not color, highlight=False, soft_wrap=False)


def _listing(name: str, fields: tuple[str, ...], columns: tuple[Column, ...], empty: str) -> Kind:
    """A storage listing: JSON carries the service's dicts whole (a place's ranges too), unless --fields
    picks among them."""

    def to_json(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
        return {**pick(row, names), **row} if tuple(names) == fields else pick(row, names)

    return Kind(name=name, fields=fields, columns=columns, empty=empty, to_json=to_json)


def _usage(row: Mapping[str, Any]) -> str:
    return f"{row['used']}/{row['total']}"


def _layout(row: Mapping[str, Any]) -> str:
    return row.get("grid") or (f"capacity {row['capacity']}" if row.get("capacity") else "")


def _tree_writer(kind: Kind, rows: Iterator[Mapping[str, Any]], out: IO[str], view: View) -> int:
    listed = list(rows)
    write_tree(listed, out, color=view.color)
    return len(listed)


CONTAINERS = _listing(
    "containers",
    ("path", "kind", "grid", "capacity", "used", "total"),
    (
        Column("path", "path", min_width=8, priority=0),
        Column("kind", "kind", min_width=4, priority=20),
        Column("grid", "layout", min_width=6, priority=30, value=_layout),
        Column("used", "used/total", min_width=6, priority=10, justify="right", value=_usage),
    ),
    empty="no containers",
)
# The same rows drawn as a tree at a terminal.
TREE = replace(CONTAINERS, columns=(), writers={"table": _tree_writer, "wide": _tree_writer})
FREE = _listing(
    "free places",
    ("path", "kind", "free", "total", "positions"),
    (
        Column("path", "container", min_width=8, priority=0),
        Column("free", "free", min_width=5, priority=5, justify="right", value=lambda r: f"{r['free']}/{r['total']}"),
        Column("positions", "positions", min_width=9, priority=10, value=lambda r: ", ".join(r["ranges"])),
    ),
    empty="no room found",
)
PLACES = Kind(name="positions", fields=("path", "position", "sample_id"), empty="no positions", to_json=pick)


def write_tree(rows: Sequence[Mapping[str, Any]], out: IO[str], *, color: bool) -> None:
    """Containers (in path order) as a tree: each with its kind and used/total."""
    from rich.text import Text
    from rich.tree import Tree

    console = _console(out, color)
    if not rows:
        console.print("no containers", style="dim")
        return
    root = Tree(Text("storage", style="bold"), guide_style="dim")
    nodes: dict[str, Any] = {}
    for row in rows:
        path = str(row["path"])
        parent = path.rpartition("/")[0]
        label = Text(path.rpartition("/")[2] if parent in nodes else path, style="bold")
        label.append(f"  {row['kind']}", style="dim")
        if row.get("grid"):
            label.append(f" {row['grid']}", style="dim")
        label.append(f"  {_usage(row)}")
        nodes[path] = nodes.get(parent, root).add(label)
    console.print(root)


def write_box(box: Mapping[str, Any], out: IO[str], *, color: bool, width: int | None = None) -> None:
    """A box as a grid of its positions (sample ids cut to fit, free ones marked), then a legend.
    A bag, which has no grid, is listed place by place."""
    places = box["positions"]
    title = f"{box['path']}  {box['kind']}" + (f" {box['grid']}" if box.get("grid") else "")
    title += f"  {box['used']}/{box['total']} used"
    if box.get("grid") is None:
        _write_bag(box, title, out, color)
        return
    rows, cols = int(box["rows"]), int(box["cols"])
    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns if _is_terminal(out) else 80
    # Each column gets an equal share of the terminal: the row letters and borders take the rest.
    cell = max(3, min(12, (width - 4) // cols - 3))
    paint = _painter(color)
    out.write("\n".join(_grid(places, rows, cols, cell, title, paint)) + "\n")
    # Short enough for a 60-column terminal: whole ids are in -o json.
    out.write(f"legend: {paint('id', GREEN)} = a sample ({box['used']})  "
              f"{paint(FREE_MARK, DIM)} = free ({box['total'] - box['used']})  -o json: whole ids\n")


GREEN, DIM, BOLD = "32", "2", "1"


def _painter(color: bool) -> Any:
    if not color:
        return lambda text, style: text
    return lambda text, style: f"\x1b[{style}m{text}\x1b[0m"


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _grid(places: Sequence[Mapping[str, Any]], rows: int, cols: int, width: int, title: str,
          paint: Any) -> list[str]:
    """The box as lines of text, drawn here rather than by a Rich Table: laying out a table of
    81 cells costs Rich about 30 ms, most of `storage show`'s 50 ms budget; these lines cost
    well under 1 ms. Sample ids are plain text (no control characters: the domain's text rule), so
    they are printed as they are, never read as markup."""
    cell = width + 2  # a space either side
    rule = ["━" * cell] * cols
    lines = [title.center(4 + cols * (cell + 1)).rstrip(),
             "┏━━┳" + "┳".join(rule) + "┓",
             "┃  ┃" + "┃".join(paint(str(c + 1).center(cell), BOLD) for c in range(cols)) + "┃",
             "┡━━╇" + "╇".join(rule) + "┩"]
    for row in range(rows):
        cells = []
        for place in places[row * cols:(row + 1) * cols]:
            sample_id = place["sample_id"]
            if sample_id is None:
                cells.append(paint(FREE_MARK.center(cell), DIM))
            else:
                shown = sample_id if len(sample_id) <= width else sample_id[:width - 1] + "…"
                cells.append(paint(f" {shown.center(width)} ", GREEN))
        lines.append("│" + paint(places[row * cols]["position"][0].ljust(2), BOLD) + "│" + "│".join(cells) + "│")
    lines.append("└──┴" + "┴".join(["─" * cell] * cols) + "┘")
    return lines


def _write_bag(box: Mapping[str, Any], title: str, out: IO[str], color: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title, style="bold"), header_style="bold")
    table.add_column("place", justify="right")
    table.add_column("sample", no_wrap=True)
    for place in box["positions"]:
        table.add_row(place["position"], Text(place["sample_id"] or FREE_MARK,
                                              style=OCCUPIED_STYLE if place["sample_id"] else "dim"))
    _console(out, color).print(table)
