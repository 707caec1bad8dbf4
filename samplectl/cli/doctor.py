"""`samplectl doctor`: check the setup and say what to fix."""

from __future__ import annotations

import shutil

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output


def doctor(ctx: typer.Context, output: opt.Output = None) -> int:
    """Check the setup step by step and say what to fix.

    Stores reachable, schema current, keyring, file permissions, clock, log file; in remote mode the
    server (reachable and ready) instead of the stores it holds. Exits 0 when nothing failed (warnings
    included), 8 when a database or the server cannot be reached, 6 for any other failed check.

    Example: samplectl doctor
    """
    from samplectl.services.doctor import FAIL, run_checks

    app_ctx = ctx.ensure_object(AppContext)
    check_output(app_ctx, output)
    fmt = app_ctx.choose_output(output)
    checks = []
    out = app_ctx.io.stdout
    width = max(shutil.get_terminal_size((80, 24)).columns, 40)
    for check in run_checks():
        checks.append(check)
        if fmt == "table":  # line by line as each check finishes: a slow server shows where it waits
            mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[check.status]
            out.write(_wrapped(check.detail, f"{mark}  {check.check:<17} ", width))
            if check.fix and check.status != "ok":
                out.write(_wrapped(check.fix, f"{INDENT}fix: ", width))
            out.flush()
    if fmt != "table":
        from samplectl.output.records import write_records

        write_records([c.as_dict() for c in checks], fmt, out, fields=("check", "status", "detail", "fix"))
    failed = [c for c in checks if c.status == FAIL]
    if not failed:
        return 0
    return 8 if any(c.unreachable for c in failed) else 6


INDENT = " " * 24  # under the detail, past the mark and the check's name


def _wrapped(text: str, first: str, width: int) -> str:
    """``text`` after ``first``, folded at words to the terminal's width, each further line under the detail
    (the terminal would cut it anywhere, mid-word, and back at the first column)."""
    import textwrap

    lines = textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=INDENT,
                          break_on_hyphens=False) or [first.rstrip()]
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
