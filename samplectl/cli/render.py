"""Printing records from a command, in the format the user or the terminal chose."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from samplectl.cli.context import AppContext


def print_records(
    app_ctx: AppContext, records: Iterable[Mapping[str, Any]], output: str | None, *, single: bool = False
) -> int:
    from samplectl.output.records import write_records

    fmt = app_ctx.choose_output(output)
    return write_records(records, fmt, app_ctx.io.stdout, color=app_ctx.color("stdout"), single=single)


def check_output(app_ctx: AppContext, output: str | None) -> None:
    """Refuse an unknown -o before any work is done (an unknown choice is invalid input, 6)."""
    from samplectl.domain.errors import ValidationFailed
    from samplectl.domain.vocab import OUTPUT_FORMATS

    if output is not None and output not in OUTPUT_FORMATS:
        raise ValidationFailed(
            f"-o/--output {output!r} is not a format", hint=f"use one of: {', '.join(OUTPUT_FORMATS)}"
        )
    app_ctx.choose_output(output)
