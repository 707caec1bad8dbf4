"""Storage containers on stdout: a box drawn as a grid, the container tree, lists of containers and room.

JSON, JSON Lines and CSV carry the service's dicts as they are; the terminal gets Rich drawings. Stored
text (paths, sample ids) is always given to Rich as Text, never as markup.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Mapping, Sequence
from typing import IO, Any

from samplectl.output.records import print_table

OCCUPIED_STYLE = "green"
FREE_MARK = "·"


def _console(out: IO[str], color: bool) -> Any:
    from rich.console import Console

    return Console(file=out, no_color=not color, highlight=False, soft_wrap=False)


def _plain(value: Any) -> Any:
    from datetime import datetime

    from samplectl.domain.dates import iso_z

    return iso_z(value) if isinstance(value, datetime) else str(value)


def write_data(data: Any, fmt: str, out: IO[str], *, columns: Sequence[str] = ()) -> bool:
    """Write ``data`` as JSON, JSON Lines or CSV; False when ``fmt`` is a table (the caller draws it)."""
    if fmt == "json":
        out.write(json.dumps(data, ensure_ascii=False, indent=2, default=_plain) + "\n")
        return True
    rows = data if isinstance(data, list) else [data]
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=_plain) + "\n")
        return True
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        names = list(columns) or list(rows[0]) if rows else list(columns)
        writer.writerow(names)
        for row in rows:
            writer.writerow([_cell(row.get(name)) for name in names])
        return True
    return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text (as `export` does).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _usage_text(used: int, total: int) -> str:
    return f"{used}/{total}"


def write_containers(rows: Sequence[Mapping[str, Any]], out: IO[str], *, color: bool, title: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold")
    table.add_column("path", no_wrap=True, overflow="ellipsis")
    table.add_column("kind")
    table.add_column("layout")
    table.add_column("used/total", justify="right")
    for row in rows:
        layout = row.get("grid") or (f"capacity {row['capacity']}" if row.get("capacity") else "")
        table.add_row(Text(str(row["path"])), row["kind"], layout, _usage_text(row["used"], row["total"]))
    print_table(table, out, color=color, empty=None if rows else "no containers")


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
        label.append(f"  {_usage_text(row['used'], row['total'])}")
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
    out.write(f"legend: {paint('id', GREEN)} = the sample there ({box['used']}; -o json: whole ids)   "
              f"{paint(FREE_MARK, DIM)} = free ({box['total'] - box['used']})\n")


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


def write_free(rows: Sequence[Mapping[str, Any]], out: IO[str], *, color: bool, title: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold")
    table.add_column("container", no_wrap=True, overflow="ellipsis")
    table.add_column("free", justify="right")
    table.add_column("positions", overflow="ellipsis", no_wrap=True)
    for row in rows:
        table.add_row(Text(str(row["path"])), f"{row['free']}/{row['total']}", Text(", ".join(row["ranges"])))
    print_table(table, out, color=color, empty=None if rows else "no room found")
