"""Printing from a command: the format the user or the terminal chose, through a pager when long."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from samplectl.cli.context import AppContext
from samplectl.domain.vocab import OUTPUT_FORMATS

DEFAULT_PAGER = "less -FRX"


def check_output(app_ctx: AppContext, output: str | None, allowed: Sequence[str] = OUTPUT_FORMATS) -> str:
    """Read -o before any work is done (an unknown format is invalid input, 6); returns the format."""
    return app_ctx.choose_output(output, allowed)


def print_kind(
    app_ctx: AppContext,
    kind: Any,  # output.formats.Kind
    records: Iterable[Mapping[str, Any]],
    output: str | None,
    *,
    fields: str | None = None,
    single: bool = False,
    title: str | None = None,
) -> int:
    """Print ``records`` of ``kind`` in the chosen format; long tables on a terminal go through a pager."""
    from samplectl.output.formats import View, parse_fields, render

    fmt = app_ctx.choose_output(output)
    size = shutil.get_terminal_size((80, 24))
    view = View(fmt=fmt, color=app_ctx.color("stdout"), width=max(size.columns, 20), tz=app_ctx.settings.tzinfo()
                if fmt in ("table", "wide") else None, fields=parse_fields(fields), single=single, title=title)
    pager = _pager(app_ctx) if fmt in ("table", "wide") else None
    if pager is None:
        return render(kind, records, app_ctx.io.stdout, view)
    buffer = io.StringIO()
    count = render(kind, records, buffer, view)
    text = buffer.getvalue()
    if text.count("\n") < size.lines:
        app_ctx.io.stdout.write(text)
    else:
        _page(app_ctx, pager, text)
    return count


def print_records(
    app_ctx: AppContext, records: Iterable[Mapping[str, Any]], output: str | None, *, fields: str | None = None,
    single: bool = False,
) -> int:
    from samplectl.output.kinds import SAMPLES

    return print_kind(app_ctx, SAMPLES, records, output, fields=fields, single=single)


def print_report(app_ctx: AppContext, report: Mapping[str, Any], output: str | None = None, *,
                 title: str | None = None, rows: Sequence[tuple[str, Any]] | None = None) -> None:
    """One result object (an import summary, a verify report): JSON for scripts, labelled lines for people.

    ``rows`` is what the labelled lines show, when a person reads it better than the JSON's keys.
    """
    from samplectl.output.formats import report_kind

    fmt = app_ctx.choose_output(output)
    if fmt in ("table", "wide"):
        report = dict(rows) if rows is not None else {k: v for k, v in report.items() if not isinstance(v, dict)}
    print_kind(app_ctx, report_kind(report), [report], output, single=True, title=title)


def _pager(app_ctx: AppContext) -> str | None:
    """The pager command for a table on a terminal: SAMPLECTL_PAGER, else PAGER, else less -FRX."""
    if app_ctx.no_pager or not app_ctx.io.stdout_is_tty:
        return None
    for name in ("SAMPLECTL_PAGER", "PAGER"):
        value = os.environ.get(name)
        if value is not None:
            value = value.strip()
            return None if value in ("", "cat") else value
    return DEFAULT_PAGER if shutil.which("less") else None


def _page(app_ctx: AppContext, command: str, text: str) -> None:
    import subprocess

    app_ctx.io.stdout.flush()
    try:
        # Through the shell, as git and man run $PAGER: it may carry options (`less -S`).
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, text=True)  # noqa: S602
    except OSError:
        app_ctx.io.stdout.write(text)
        return
    assert proc.stdin is not None
    try:
        proc.stdin.write(text)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the person quit the pager early: that is fine
    if proc.wait() == 127:  # the shell could not find the pager: print instead of losing the table
        app_ctx.io.stdout.write(text)
