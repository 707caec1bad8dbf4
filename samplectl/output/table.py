"""Tables that fit the terminal: one line per record, whatever the width.

Values are cut with `…` rather than folded onto more lines; when even the narrowest useful widths
do not fit, the least important columns are left out (each column says how important it is), and
no column is ever squeezed to nothing. `-o wide` shows every column at full width. Times are shown
in the configured zone as `YYYY-MM-DD HH:MM`. Stored text is always shown literally: never read as
Rich markup, and control characters are shown as escapes instead of reaching the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import IO, Any

GAP = 2  # spaces between columns
COMFORTABLE = 16  # a long value is cut to this before a less important column is left out


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    min_width: int = 6  # narrower than this, the column is dropped instead
    priority: int = 50  # lower is more important: dropped last on a narrow terminal
    wide_only: bool = False  # shown with -o wide only
    time: bool = False  # a UTC time, shown in the configured zone
    whole: bool = False  # never cut (ids are copied from the terminal): shown whole or left out
    justify: str = "left"
    value: Callable[[Mapping[str, Any]], Any] | None = None  # computed instead of record[key]


def literal(text: str) -> str:
    """Text as it may reach a terminal: anything unprintable shown as an escape, never acted on."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}"
                   for ch in text)


def local_time(value: Any, tz: tzinfo | None) -> str:
    """A stored UTC time as people read it in a table: `YYYY-MM-DD HH:MM` in the configured zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    if value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%Y-%m-%d %H:%M")


def cell(column: Column, record: Mapping[str, Any], tz: tzinfo | None) -> str:
    value = column.value(record) if column.value is not None else record.get(column.key)
    if column.time:
        return local_time(value, tz)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return literal(str(value))


def fit(columns: Sequence[Column], natural: Sequence[int], width: int,
        filled: Sequence[bool] | None = None) -> list[tuple[int, int]]:
    """Which columns to show and how wide: [(index, width)] in table order, within ``width``.

    Columns are taken most important first, each at a comfortable width (its values, or up to
    COMFORTABLE characters of them); one that does not fit is left out, or takes what is left
    when that is at least its minimum. Room left at the end goes back to the cut columns, most
    important first. A time or an id is never cut: it is shown whole or not at all. A column with no
    values at all (``filled``) is the least useful of all.
    """
    order = sorted(range(len(columns)), key=lambda i: (filled is not None and not filled[i], columns[i].priority))
    floor = {i: min(natural[i], max(columns[i].min_width, 1)) for i in order}
    widths: dict[int, int] = {}
    left = width
    for i in order:
        gap = GAP if widths else 0
        keep_whole = columns[i].time or columns[i].whole
        comfortable = natural[i] if keep_whole else min(natural[i], max(floor[i], COMFORTABLE))
        if comfortable + gap <= left:
            widths[i] = comfortable
        elif floor[i] + gap <= left and not keep_whole:
            widths[i] = left - gap
        elif not widths:
            widths[i] = max(left, 1)  # the most important column always shows, cut to the screen
        else:
            continue
        left -= widths[i] + gap
    for i in order:
        if i in widths and left > 0 and widths[i] < natural[i]:
            grow = min(left, natural[i] - widths[i])
            widths[i] += grow
            left -= grow
    return sorted(widths.items())


def write_table(
    records: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    out: IO[str],
    *,
    width: int,
    wide: bool,
    color: bool,
    tz: tzinfo | None,
    empty: str,
) -> int:
    """Print records as a table of one line each; returns how many were printed."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    shown = [c for c in columns if wide or not c.wide_only]
    rows = [[cell(c, record, tz) for c in shown] for record in records]
    console = Console(file=out, no_color=not color, highlight=False, soft_wrap=False, markup=False,
                      emoji=False, width=width, force_terminal=color or None)
    if not rows:
        console.print(Text(empty, style="dim"))
        return 0
    from rich.cells import cell_len

    natural = [max([cell_len(row[i]) for row in rows] + [cell_len(c.header)]) for i, c in enumerate(shown)]
    if wide:
        layout = list(enumerate(natural))
        console.width = sum(natural) + GAP * (len(natural) - 1)
    else:
        layout = fit(shown, natural, width, [any(row[i] for row in rows) for i in range(len(shown))])
    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, GAP, 0, 0), header_style="bold")
    for i, w in layout:
        table.add_column(Text(shown[i].header), width=w, min_width=w, max_width=w, no_wrap=True,
                         overflow="ellipsis", justify=shown[i].justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(Text(row[i]) for i, _ in layout))
    console.print(table)
    return len(rows)


def write_pairs(pairs: Sequence[tuple[str, Any]], out: IO[str], *, color: bool, title: str | None = None) -> None:
    """One result as labelled lines (`key: value`): import summaries, verify reports, whoami.

    Plain text even on a colour terminal: these lines are read by people and grepped by scripts alike.
    """
    if title:
        out.write(literal(title) + "\n")
    for key, value in pairs:
        out.write(f"{literal(key)}: {literal(_plain(value))}\n")


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return str(value)
