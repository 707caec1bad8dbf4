"""samplectl export: stream samples matching criteria as CSV or JSON Lines, to stdout or a file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import IO, Annotated, Any, TypeVar

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.domain.vocab import EXPORT_FORMATS

T = TypeVar("T")


@opt.criteria_flags
def export(
    ctx: typer.Context,
    criteria: opt.CriteriaFlags,
    sort: Annotated[
        str | None,
        typer.Option("--sort", metavar="FIELD",
                     help="Sort by FIELD ascending or -FIELD descending. Default: the store's own order (fastest)."),
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", "-f", metavar="PATH", help="Write to PATH (replaced whole) instead of stdout.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FORMAT", help="csv (default: the import's columns), jsonl (every field) or json.",
            autocompletion=lambda incomplete: [f for f in EXPORT_FORMATS if f.startswith(incomplete)],
        ),
    ] = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Stream samples as CSV or JSON Lines, to stdout or a file.

    The CSV has exactly the columns `import` reads, so an export imports elsewhere unchanged.
    Criteria are those of `filter`: repeat a flag for OR, combine flags for AND; every matching
    sample is written (no --limit), in the order the store keeps them unless --sort is given.

    Example: samplectl export --status collected -o csv --file collected.csv
    """
    from samplectl.cli.render import check_output
    from samplectl.cli.samples import criteria_from_flags
    from samplectl.domain.criteria import Sort
    from samplectl.domain.vocab import INPUT_FIELDS
    from samplectl.output.formats import View, parse_fields, render, write_csv_rows
    from samplectl.output.kinds import SAMPLES

    app_ctx = ctx.ensure_object(AppContext)
    fmt = check_output(app_ctx, output or "csv", EXPORT_FORMATS)
    # The CSV has exactly the import's columns unless --fields says otherwise; JSON every field.
    view = View(fmt=fmt, fields=parse_fields(fields_) or (list(INPUT_FIELDS) if fmt == "csv" else None))
    fields = SAMPLES.select(view.fields)
    selection = criteria_from_flags(app_ctx, **criteria)
    order = Sort.parse(sort) if sort else None
    service = app_ctx.services.sample_service()
    service.identity.require("viewer", "exporting samples")
    rows: Any  # CSV cells (sequences) or records (mappings), as the format wants
    if fmt == "csv":
        # Cells straight from the store (the embedded one makes them in SQL): no record per sample.
        rows = service.export_cells(selection, order, fields)
    else:
        # Without --sort, samples come in the order the store keeps them: read straight through, that
        # is several times faster than walking an index on a large store.
        rows = service.find(selection, order, None) if order else service.stream(selection)
    # A bar on a terminal's stderr, unless the samples themselves are scrolling past on that terminal.
    if not app_ctx.quiet and app_ctx.io.stderr_is_tty and (file or not app_ctx.io.stdout_is_tty):
        rows = _with_progress(app_ctx, rows, service.count(selection))

    def write(out: IO[str]) -> int:
        return write_csv_rows(fields, rows, out) if fmt == "csv" else render(SAMPLES, rows, out, view)

    if file is None:
        write(app_ctx.io.stdout)
        return
    count = _write_file(file, write)
    app_ctx.say(f"exported {count} samples to {file}")


def _write_file(path: str, write: Any) -> int:
    """The export appears whole or not at all (see private_files.write_whole); a device or FIFO is written into."""
    from samplectl.domain.errors import ValidationFailed
    from samplectl.private_files import write_whole

    try:
        return write_whole(path, lambda out: int(write(out)))
    except IsADirectoryError:
        raise ValidationFailed(f"--file {path} is a directory",
                               hint=f"name a file, e.g. --file {os.path.join(path, 'samples.csv')}") from None
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}",
                               hint="choose a writable place with free space") from None


def _with_progress(app_ctx: AppContext, records: Iterable[T], total: int) -> Iterator[T]:
    from samplectl.output.progress import RowsProgress

    progress = RowsProgress(app_ctx.io.stderr, color=app_ctx.color("stderr"))
    progress.phase("exporting", total or None)
    done = 0
    try:
        for done, record in enumerate(records, 1):
            yield record
            if not done % 2000:
                progress.update(2000, done)
        progress.update(done % 2000, done)
    finally:
        progress.done()


def register(app: typer.Typer) -> None:
    app.command("export")(export)
