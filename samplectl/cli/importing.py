"""samplectl import FILE|-  and  samplectl import undo BATCH."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_report

if TYPE_CHECKING:
    from samplectl.services.importing import Progress


class _ImportContext(typer.Context):
    # `import FILE` runs as the group's hidden default command, named "": no trailing space.
    @property
    def command_path(self) -> str:
        return super().command_path.rstrip()


class _FileCommand(TyperCommand):
    context_class = _ImportContext

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        # `samplectl import --help` is this command's help: list the group's commands (undo) too.
        if ctx.parent is not None and isinstance(ctx.parent.command, TyperGroup):
            ctx.parent.command.format_commands(ctx.parent, formatter)
        super().format_epilog(ctx, formatter)


class ImportGroup(TyperGroup):
    """`import` takes a file, unless its first word is a subcommand (`undo`).

    A file literally named like a subcommand is imported as ./undo.
    """

    DEFAULT = "file"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands or args[0] == self.DEFAULT:
            args = [self.DEFAULT, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return ("" if name == self.DEFAULT else name), command, rest


import_app = typer.Typer(
    cls=ImportGroup,
    name="import",
    help="Import samples from a CSV or JSON file, or undo an import.",
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


def _progress(app_ctx: AppContext) -> Progress:
    from samplectl.services.importing import NoProgress

    if app_ctx.quiet or not app_ctx.io.stderr_is_tty:
        return NoProgress()
    from samplectl.output.progress import RowsProgress

    return RowsProgress(app_ctx.io.stderr, color=app_ctx.color("stderr"))


def _binary_stdin(app_ctx: AppContext) -> Any:
    stdin = app_ctx.io.stdin
    buffer = getattr(stdin, "buffer", None)
    return buffer if buffer is not None else io.BytesIO(stdin.read().encode("utf-8"))


OnConflict = Annotated[
    str,
    typer.Option(
        "--on-conflict",
        metavar="fail|skip|update",
        help="For ids already stored: fail (exit 7, nothing written), skip them, or update them.",
        autocompletion=lambda incomplete: [v for v in ("fail", "skip", "update") if v.startswith(incomplete)],
    ),
]


@import_app.command("file", hidden=True, cls=_FileCommand)
def import_file(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="FILE", help="The CSV file to import; - reads standard input.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Import the valid rows even when others are rejected (still exits 6).")
    ] = False,
    errors: Annotated[
        str | None, typer.Option("--errors", metavar="FILE", help="Write the rejected rows, with a reason, to FILE.")
    ] = None,
    on_conflict: OnConflict = "fail",
    allow_repeat: Annotated[
        bool, typer.Option("--allow-repeat", help="Import a file even though the same file was imported before.")
    ] = False,
    ignore_unknown: Annotated[
        bool, typer.Option("--ignore-unknown", help="Skip columns that are not sample fields instead of refusing.")
    ] = False,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", metavar="FMT", help="collection_date in this strftime format, e.g. %d/%m/%Y."),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", metavar="NAME", help="The file's text encoding (default UTF-8, BOM or not).")
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option("--format", metavar="FORMAT",
                     help="csv, jsonl or json. Default: from the file name, else from its first character.",
                     autocompletion=lambda incomplete: [f for f in ("csv", "jsonl", "json") if f.startswith(incomplete)]),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", metavar="CHAR",
                     help="The CSV's delimiter (';', '|', tab). Default: detected from the header among , ; tab |."),
    ] = None,
    fill: Annotated[
        list[str] | None,
        typer.Option("--fill", metavar="BOX",
                     help="Place the new samples in BOX's next free positions, row by row; repeat --fill "
                          "(or give BOX1,BOX2) for the boxes to spill into. Sets each storage_location."),
    ] = None,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Import samples from a CSV or JSON file, checking every row before anything is written.

    The header names the columns: sample_id (optional: generated), sample_type, subject_id,
    collection_date, status (optional: collected), storage_location; any case and order.
    The record's own columns (created_at, created_by, updated_at, updated_by, version) are
    ignored, so what list, filter and export print imports back. The CSV delimiter (, ; tab |)
    is detected from the header; JSON Lines and a JSON array of objects are read too.
    A position column (BOX:SLOT) places samples and sets their storage_location; --fill BOX places
    them in the next free positions instead.
    By default the file is imported whole or not at all; problems are listed with their line.
    Ends with a summary: batch_id, read, created, updated, skipped, rejected, seconds, dry_run;
    a dry run counts what the import would create, update, skip and reject.

    Undo a batch (admin): samplectl import undo BATCH [--yes]

    Example: samplectl import freezer-2.csv --partial --errors rejected.csv

    Example: samplectl import excel.csv --date-format %d/%m/%Y --dry-run
    """
    from samplectl.output.imports import write_problems
    from samplectl.services.importing import ImportOptions

    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    options = ImportOptions(
        path=path, dry_run=dry_run, partial=partial, on_conflict=on_conflict.strip().lower(),
        allow_repeat=allow_repeat, ignore_unknown=ignore_unknown, date_format=date_format, encoding=encoding,
        errors_path=errors, reason=reason, format=file_format, delimiter=delimiter,
        fill=tuple(box.strip() for value in fill or [] for box in value.split(",") if box.strip()),
    )
    service = app_ctx.services.import_service(progress=_progress(app_ctx), notify=app_ctx.warn)
    try:
        report = service.run(options, stdin=_binary_stdin(app_ctx) if path == "-" else None)
    except KeyboardInterrupt as interrupted:
        # The write is one transaction (embedded) or rolled back as it stops (MongoDB): nothing stays.
        # Through a server, once the whole file has reached it, the server decides (remote.imports).
        kept = getattr(interrupted, "kept", None) or (
            "nothing was written (dry run)" if dry_run else "nothing of this import was kept")
        app_ctx.io.stderr.write(f"\ninterrupted: {kept}\n")
        raise typer.Exit(130) from None
    if report.problems and (app_ctx.io.stderr_is_tty or app_ctx.output_requested not in ("json", "jsonl")):
        write_problems(report.problems, report.problem_count, app_ctx.io.stderr,
                       table=app_ctx.io.stderr_is_tty, color=app_ctx.color("stderr"))
    title = "Dry run (nothing written)" if dry_run else "Import"
    app_ctx.pending_error = report.error
    print_report(app_ctx, report.summary(), output, title=title)
    if report.error is not None:
        raise report.error


@import_app.command("undo")
def undo(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(metavar="BATCH", help="The batch_id an import printed.")],
    yes: opt.Yes = False,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Remove the samples an import batch created (admin).

    Only samples nobody has changed since the import are removed; those changed after it are
    kept and listed, and samples the batch updated stay as they are.
    Asks first on a terminal; scripts must pass --yes.

    Example: samplectl import undo 20250314-093000-a1b2c3 --yes --reason "wrong freezer file"
    """

    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    service = app_ctx.services.batch_undo()
    service.identity.require("admin", "undoing an import")
    batch = service.batch(batch_id)
    if not yes:
        app_ctx.require_terminal_or("--yes", "import undo")
        created = (batch.get("counts") or {}).get("created", "the")
        question = (
            f"Remove the {created} samples import batch {batch['batch_id']} created "
            f"(from {batch.get('file')}, {batch['started_at']:%Y-%m-%d %H:%M}, by {batch.get('user')})? "
            "Samples changed since are kept."
        )
        if not typer.confirm(question, default=False, err=True):
            raise typer.Abort()
    result = service.undo(batch["batch_id"], reason)
    if result.already:
        app_ctx.say(f"import batch {batch['batch_id']} is {result.already.replace('_', ' ')}: nothing to undo")
    else:
        kept = f"; kept {len(result.kept)} changed since the import" if result.kept else ""
        app_ctx.say(f"removed {result.removed} samples created by import batch {batch['batch_id']}{kept}")
    print_report(app_ctx, result.summary(), output, title=f"Undo of import batch {batch['batch_id']}")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
