"""Sample commands: create, get, list, filter, delete (`update` is in cli/changes.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_records
from samplectl.domain.criteria import check_limit
from samplectl.domain.fields import fields


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


@opt.field_flags(fields().entered)
def create(
    ctx: typer.Context,
    values: opt.FieldValues,
    reason: opt.Reason = None,
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Register one sample.

    Missing required values are asked for on a terminal; in a script they must be given as flags.
    With --position BOX:SLOT the storage location is the position's path (FRZ-1/R2/B3/A5).

    Example: samplectl create --type blood --subject SUBJ-0042 --collected 2025-03-14T09:30 --location FRZ-2/R3/B14
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    # A placed sample's storage location is its position's path: --position stands for --location.
    missing = [f for f in fields().where(lambda f: bool(f.entered and f.prompt)) if f.name not in values
               and not (f.name == "storage_location" and "position" in values)]
    if missing:
        if not app_ctx.io.stdin_is_tty:
            from samplectl.domain.errors import UsageError

            flags = ", ".join(f.label for f in missing)
            raise UsageError(f"missing {flags} (stdin is not a terminal, so nothing is asked)",
                             hint=f"give {flags} on the command line")
        from samplectl.cli.prompts import ask, field_check

        for f in missing:
            # Each answer is checked as it is given: a wrong one is asked again, nothing typed is lost.
            values[f.name] = ask(app_ctx, str(f.prompt), field_check(app_ctx, f.name), choices=f.choices,
                                 default=f.prompt_default)
    service = app_ctx.services.sample_service()
    record = service.create(values, reason=reason)
    app_ctx.say(f"created sample {record['sample_id']}")
    print_records(app_ctx, [record], output, fields=fields_, single=True)


def get(
    ctx: typer.Context,
    sample_ids: opt.SampleIds,
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Show one or more samples by id.

    One id prints a JSON object; several print an array.

    Example: samplectl get 3f2c9a1e-... -o json
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    service = app_ctx.services.sample_service()
    service.identity.require("viewer", "reading samples")
    records = [service.get(sample_id) for sample_id in sample_ids]  # the order and repeats asked for
    print_records(app_ctx, records, output, fields=fields_, single=len(sample_ids) == 1)


def criteria_from_flags(app_ctx: AppContext, **flags: Any):  # -> Criteria
    """The criteria flags of filter and export, checked (6 for a bad value)."""
    from samplectl.domain.criteria import build_criteria

    return build_criteria(tz=app_ctx.settings.tzinfo(), **flags)


def _listing(
    app_ctx: AppContext, criteria: Any, sort: str | None, limit: int, all_: bool, output: str | None, count: bool,
    fields: str | None = None,
) -> None:
    from samplectl.domain.criteria import Sort

    check_output(app_ctx, output)
    check_limit(limit)
    order = Sort.parse(sort)
    service = app_ctx.services.sample_service()
    service.identity.require("viewer", "reading samples")
    if count:
        app_ctx.io.stdout.write(f"{service.count(criteria)}\n")
        return
    shown = print_records(app_ctx, service.find(criteria, order, None if all_ else limit), output, fields=fields)
    if not all_ and shown == limit:
        app_ctx.say(f"showing the first {limit}; use --limit N or --all for more")


Limit = Annotated[int, typer.Option("--limit", "-n", help="At most this many samples.")]
All = Annotated[bool, typer.Option("--all", help="Every sample (streams; ignores --limit).")]


def list_samples(
    ctx: typer.Context,
    limit: Limit = 50,
    all_: All = False,
    sort: opt.SortOption = None,
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """List samples, newest collection first.

    Example: samplectl list --limit 20
    """
    app_ctx = _ctx(ctx)
    from samplectl.domain.criteria import Criteria

    _listing(app_ctx, Criteria(), sort, limit, all_, output, count=False, fields=fields_)


@opt.criteria_flags
def filter_samples(
    ctx: typer.Context,
    criteria: opt.CriteriaFlags,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching samples.")] = False,
    limit: Limit = 50,
    all_: All = False,
    sort: opt.SortOption = None,
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Find samples matching criteria.

    Repeat a flag for OR (--status collected --status processing); different flags combine with AND.

    Example: samplectl filter --status collected --type blood --collected-from 2025-01-01
    """
    app_ctx = _ctx(ctx)
    _listing(app_ctx, criteria_from_flags(app_ctx, **criteria), sort, limit, all_, output, count=count, fields=fields_)


def delete(
    ctx: typer.Context,
    sample_ids: opt.SampleIds,
    yes: opt.Yes = False,
    reason: opt.Reason = None,
) -> None:
    """Delete samples (admin).

    Asks first on a terminal; scripts must pass --yes.

    Example: samplectl delete 3f2c9a1e-... --yes --reason "registered twice"
    """
    app_ctx = _ctx(ctx)
    service = app_ctx.services.sample_service()
    service.identity.require("admin", "deleting samples")
    if not yes:
        app_ctx.require_terminal_or("--yes", "delete")
        # Check every id exists before asking, so the question is about real samples.
        records = service.get_all(sample_ids)  # every id checked (5 naming the missing), each once
        # Show what is about to go, so that the answer is about those samples and not just their ids.
        _show_doomed(app_ctx, records[:DELETE_SHOWN])
        if len(records) > DELETE_SHOWN:
            app_ctx.io.stderr.write(f"  ... and {len(records) - DELETE_SHOWN} more\n")
        noun = "this sample" if len(records) == 1 else f"these {len(records)} samples"
        if not typer.confirm(f"Delete {noun}?", default=False, err=True):
            raise typer.Abort()
    # Every id is checked again before the first is deleted: one that does not exist changes nothing.
    for record in service.delete_all(sample_ids, reason=reason):
        app_ctx.say(f"deleted {record['sample_id']}")


DELETE_SHOWN = 10  # samples listed before the delete question


def _show_doomed(app_ctx: AppContext, records: list[dict[str, Any]]) -> None:
    from samplectl.output.records import public

    for record in records:
        row = public(record)
        app_ctx.io.stderr.write(f"  {row['sample_id']}  {row['sample_type']}  subject {row['subject_id']}  "
                                f"collected {row['collection_date']}  {row['status']}  at {row['storage_location']}\n")


def register(app: typer.Typer) -> None:
    app.command("create")(create)
    app.command("get")(get)
    app.command("list")(list_samples)
    app.command("filter")(filter_samples)
    app.command("delete")(delete)
