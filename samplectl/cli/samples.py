"""Sample commands: create, get, list, filter, delete (`update` is in cli/changes.py)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samplectl.cli import options as opt
from samplectl.cli.completion import stored_completion
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_records
from samplectl.domain.criteria import check_limit
from samplectl.domain.vocab import SAMPLE_TYPES


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


# Required values create asks for on a terminal: the question, its choices, its default.
PROMPTS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "sample_type": ("Sample type", SAMPLE_TYPES, None),
    "subject_id": ("Subject id", (), None),
    "collection_date": ("Collected (e.g. 2025-03-14T09:30, or now)", (), "now"),
    "storage_location": ("Storage location", (), None),
}
FLAG_OF = {"sample_type": "--type", "subject_id": "--subject", "collection_date": "--collected",
           "storage_location": "--location"}


def create(
    ctx: typer.Context,
    sample_id: opt.SampleIdFlag = None,
    sample_type: opt.TypeFlag = None,
    subject: opt.SubjectFlag = None,
    collected: opt.CollectedFlag = None,
    status: opt.StatusFlag = None,
    location: opt.LocationFlag = None,
    position: opt.PositionFlag = None,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Register one sample.

    Missing required values are asked for on a terminal; in a script they must be given as flags.
    With --position BOX:SLOT the storage location is the position's path (FRZ-1/R2/B3/A5).

    Example: samplectl create --type blood --subject SUBJ-0042 --collected 2025-03-14T09:30 --location FRZ-2/R3/B14
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    fields: dict[str, Any] = {
        "sample_id": sample_id, "sample_type": sample_type, "subject_id": subject,
        "collection_date": collected, "status": status, "storage_location": location, "position": position,
    }
    missing = [name for name in PROMPTS if fields[name] is None
               and not (name == "storage_location" and position is not None)]
    if missing:
        if not app_ctx.io.stdin_is_tty:
            from samplectl.domain.errors import UsageError

            flags = ", ".join(FLAG_OF[m] for m in missing)
            raise UsageError(f"missing {flags} (stdin is not a terminal, so nothing is asked)",
                             hint=f"give {flags} on the command line")
        from samplectl.cli.prompts import ask, field_check

        for name in missing:
            # Each answer is checked as it is given: a wrong one is asked again, nothing typed is lost.
            question, choices, default = PROMPTS[name]
            fields[name] = ask(app_ctx, question, field_check(app_ctx, name), choices=choices, default=default)
    service = app_ctx.services.sample_service()
    record = service.create({k: v for k, v in fields.items() if v is not None}, reason=reason)
    app_ctx.say(f"created sample {record['sample_id']}")
    print_records(app_ctx, [record], output, single=True)


def get(
    ctx: typer.Context,
    sample_ids: Annotated[list[str], typer.Argument(metavar="ID", help="One or more sample ids.",
                                                  autocompletion=stored_completion("sample_id"))],
    output: opt.Output = None,
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
    print_records(app_ctx, records, output, single=len(sample_ids) == 1)


def _criteria(app_ctx: AppContext, **flags: Any):  # -> Criteria
    from samplectl.domain.criteria import build_criteria

    return build_criteria(tz=app_ctx.settings.tzinfo(), **flags)


def _listing(
    app_ctx: AppContext, criteria: Any, sort: str | None, limit: int, all_: bool, output: str | None, count: bool
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
    shown = print_records(app_ctx, service.find(criteria, order, None if all_ else limit), output)
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
) -> None:
    """List samples, newest collection first.

    Example: samplectl list --limit 20
    """
    app_ctx = _ctx(ctx)
    from samplectl.domain.criteria import Criteria

    _listing(app_ctx, Criteria(), sort, limit, all_, output, count=False)


def filter_samples(
    ctx: typer.Context,
    sample_types: opt.TypeCriteria = None,
    statuses: opt.StatusCriteria = None,
    subjects: opt.SubjectCriteria = None,
    locations: opt.LocationCriteria = None,
    collected_from: opt.CollectedFrom = None,
    collected_to: opt.CollectedTo = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching samples.")] = False,
    limit: Limit = 50,
    all_: All = False,
    sort: opt.SortOption = None,
    output: opt.Output = None,
) -> None:
    """Find samples matching criteria.

    Repeat a flag for OR (--status collected --status processing); different flags combine with AND.

    Example: samplectl filter --status collected --type blood --collected-from 2025-01-01
    """
    app_ctx = _ctx(ctx)
    criteria = _criteria(
        app_ctx, sample_types=sample_types, statuses=statuses, subject_ids=subjects,
        location_prefixes=locations, collected_from=collected_from, collected_to=collected_to,
    )
    _listing(app_ctx, criteria, sort, limit, all_, output, count=count)


def delete(
    ctx: typer.Context,
    sample_ids: Annotated[list[str], typer.Argument(metavar="ID", help="The samples to delete.",
                                                  autocompletion=stored_completion("sample_id"))],
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
