"""Import and undo results: the closing summary on stdout, the rejected rows' problems on stderr."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from samplectl.output.records import print_table

TABLE_LIMIT = 50  # problems a terminal table shows; --errors FILE and -o json carry more


def write_summary(summary: Mapping[str, Any], fmt: str, out: IO[str], *, color: bool, title: str) -> None:
    """One result object: JSON (one document, or one line for jsonl), a CSV row, or a table for people."""
    if fmt == "json":
        out.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(summary))
        writer.writerow([";".join(map(str, v)) if isinstance(v, list) else _cell(v) for v in summary.values()])
    else:
        from rich.table import Table

        table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for key, value in summary.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else _cell(value)
            table.add_row(key.replace("_", " "), shown or "-")
        print_table(table, out, color=color)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def write_problems(problems: Sequence[Mapping[str, Any]], total: int, err: IO[str], *, table: bool, color: bool) -> None:
    """Rows that cannot be imported: a table on a terminal, one plain line each otherwise."""
    if not problems:
        return
    if not table:
        for p in problems:
            where = f"line {p['line']}" if p.get("line") is not None else "file"
            err.write(f"{where}: {p['message']}\n")
        if total > len(problems):
            err.write(f"... and {total - len(problems)} more problems\n")
        return
    from rich.console import Console
    from rich.table import Table

    shown = problems[:TABLE_LIMIT]
    grid = Table(title="Rows that cannot be imported", title_justify="left", header_style="bold")
    grid.add_column("line", justify="right")
    grid.add_column("column")
    grid.add_column("value", overflow="fold", max_width=30)
    grid.add_column("problem", overflow="fold")
    for p in shown:
        value = p.get("value")
        grid.add_row(str(p.get("line") or ""), p.get("column") or "", "" if value is None else repr(value), p["message"])
    console = Console(file=err, force_terminal=True, no_color=not color, highlight=False, soft_wrap=False)
    console.print(grid)
    if total > len(shown):
        console.print(f"... and {total - len(shown)} more; --errors FILE writes every rejected row with its reason")
