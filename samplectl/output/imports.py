"""The rows an import rejects, on stderr: a table on a terminal, one plain line each otherwise.

(The import's closing summary is a report, written by ``output.formats`` like every other output.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from samplectl.output.table import literal

TABLE_LIMIT = 50  # problems a terminal table shows; --errors FILE and -o json carry more


def write_problems(problems: Sequence[Mapping[str, Any]], total: int, err: IO[str], *, table: bool, color: bool) -> None:
    """Rows that cannot be imported: a table on a terminal, one plain line each otherwise."""
    if not problems:
        return
    if not table:
        for p in problems:
            where = f"line {p['line']}" if p.get("line") is not None else "file"
            err.write(f"{where}: {literal(str(p['message']))}\n")
        if total > len(problems):
            err.write(f"... and {total - len(problems)} more problems\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    shown = problems[:TABLE_LIMIT]
    grid = Table(title="Rows that cannot be imported", title_justify="left", header_style="bold")
    grid.add_column("line", justify="right")
    grid.add_column("column")
    grid.add_column("value", overflow="fold", max_width=30)
    grid.add_column("problem", overflow="fold")
    for p in shown:
        value = p.get("value")
        # Cells are Text, never markup: a cell reading `[/]` is shown as typed.
        grid.add_row(Text(str(p.get("line") or "")), Text(literal(str(p.get("column") or ""))),
                     Text("" if value is None else literal(repr(value))), Text(literal(str(p["message"]))))
    console = Console(file=err, force_terminal=True, no_color=not color, highlight=False, soft_wrap=False,
                      markup=False, emoji=False)
    console.print(grid)
    if total > len(shown):
        console.print(Text(f"... and {total - len(shown)} more; --errors FILE writes every rejected row with its reason"))
