"""`samplectl update`: change one sample (`update ID`) or a selection (`update --where ...`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import typer

from samplectl.cli import options as opt
from samplectl.cli.completion import stored_completion
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_records, print_report
from samplectl.domain.errors import UsageError
from samplectl.domain.fields import fields
from samplectl.domain.vocab import SAMPLE_TYPES, STATUSES

# `update --where --dry-run`: one row per field a sample would change.
PLAN_FIELDS = ("sample_id", "field", "before", "after", "refused")

# In `update ID` these flags give the new value; with --where they select samples, like `filter`.
TypeOption = Annotated[
    list[str] | None,
    typer.Option("--type", help="New sample type; with --where: select by type (repeat for OR).",
                 autocompletion=opt.complete_from(SAMPLE_TYPES)),
]
SubjectOption = Annotated[
    list[str] | None, typer.Option("--subject", help="New subject id; with --where: select by subject (exact).",
                                      autocompletion=stored_completion("subject_id"))
]
StatusOption = Annotated[
    list[str] | None,
    typer.Option("--status", help="New status (lifecycle applies); with --where: select by status.",
                 autocompletion=opt.complete_from(STATUSES)),
]
LocationOption = Annotated[
    list[str] | None,
    typer.Option("--location", help="New storage location; with --where: select by location prefix.",
                 autocompletion=stored_completion("storage_location")),
]
NewId = Annotated[str | None, typer.Option("--id", help="New sample id (renames the sample; its history follows).")]
Where = Annotated[bool, typer.Option("--where", help="Change every sample the criteria flags select.")]
SetStatus = Annotated[
    str | None,
    typer.Option("--set-status", metavar="STATUS", help="With --where: the new status.",
                 autocompletion=opt.complete_from(STATUSES)),
]
SetLocation = Annotated[
    str | None,
    typer.Option("--set-location", metavar="LOCATION", help="With --where: the new storage location (the whole value)."),
]
SetLocationPrefix = Annotated[
    str | None,
    typer.Option("--set-location-prefix", metavar="NEW",
                 help="With --where and one --location PREFIX: replace that prefix by NEW, keeping the rest."),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="With --where: print every planned change; write nothing.")]
Force = Annotated[bool, typer.Option("--force", help="Admin: override the status lifecycle (needs --reason).")]
IfVersion = Annotated[
    int | None, typer.Option("--if-version", help="Refuse unless the sample is still at this version.")
]


def _one(values: list[str] | None) -> str | None:
    # For one sample a flag holds one value; given twice, the last counts (as for any single option).
    return values[-1] if values else None


# The six contract fields have flags of their own below (with --where they also select samples);
# any other field in the registry gets its flag from there, so a new field can be updated too.
_OWN_FLAGS = ("sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location")


@opt.field_flags(fields().where(lambda f: f.entered and f.name not in _OWN_FLAGS))
def update(
    ctx: typer.Context,
    sample_id: Annotated[str | None, typer.Argument(metavar="ID", help="The sample to change.",
                                                    autocompletion=stored_completion("sample_id"))] = None,
    where: Where = False,
    new_id: NewId = None,
    sample_type: TypeOption = None,
    subject: SubjectOption = None,
    collected: opt.CollectedFlag = None,
    status: StatusOption = None,
    location: LocationOption = None,
    values: opt.FieldValues | None = None,
    collected_from: opt.CollectedFrom = None,
    collected_to: opt.CollectedTo = None,
    set_status: SetStatus = None,
    set_location: SetLocation = None,
    set_location_prefix: SetLocationPrefix = None,
    reason: opt.Reason = None,
    force: Force = False,
    if_version: IfVersion = None,
    dry_run: DryRun = False,
    yes: opt.Yes = False,
    output: opt.Output = None,
) -> None:
    """Change one sample, or every sample a selection matches.

    Lifecycle: collected -> processing -> archived, and collected -> archived. Anything else needs an admin's --force --reason.

    Each change is checked against the version that was read (a concurrent change is never overwritten: exit 7) and is audited.

    One sample: `update ID` with new values (--type, --subject, --collected, --status, --location, --position,
    --id); --if-version N insists.

    A new --location alone takes a placed sample out of its position.

    A selection: `update --where` with the criteria flags of `filter` and --set-status, --set-location
    (the whole value) or --set-location-prefix (with one --location PREFIX: replaces that prefix, so
    boxes and positions below it are kept).

    It shows how many samples match and the first changes as before -> after, asks on a terminal
    (--yes otherwise), applies what it can, and exits 7 listing refusals. --dry-run prints the whole
    plan (sample_id, field, before, after, refused) and writes nothing.

    Example: samplectl update 3f2c9a1e-... --status processing --reason "aliquoted"

    Example (move rack FRZ-1/R3 to FRZ-2/R1, boxes and all):
    samplectl update --where --location FRZ-1/R3/ --set-location-prefix FRZ-2/R1/ --dry-run
    """
    app_ctx = ctx.ensure_object(AppContext)
    check_output(app_ctx, output)
    if force and not reason:
        raise UsageError("--force needs --reason", hint="say why the lifecycle is overridden: --reason TEXT")
    if where:
        if sample_id is not None:
            raise UsageError("give either ID or --where, not both",
                             hint="`update ID` changes one sample; `update --where` a selection")
        # --where sets only status and location; a registry field's own flag (--position) is per sample.
        misplaced = [flag for flag, value in (("--id", new_id), ("--collected", collected),
                                              ("--if-version", if_version),
                                              *((fields()[name].label, v) for name, v in (values or {}).items()))
                     if value is not None]
        if misplaced:
            raise UsageError(f"{misplaced[0]} cannot be used with --where",
                             hint="--where changes only --set-status, --set-location and --set-location-prefix")
        _update_where(app_ctx, sample_types=sample_type, statuses=status, subject_ids=subject,
                      location_prefixes=location, collected_from=collected_from, collected_to=collected_to,
                      set_status=set_status, set_location=set_location, set_location_prefix=set_location_prefix,
                      reason=reason, force=force, yes=yes, dry_run=dry_run, output=output)
        return
    misplaced = [flag for flag, value in (("--set-location-prefix", set_location_prefix), ("--dry-run", dry_run))
                 if value]
    if misplaced:
        raise UsageError(f"{misplaced[0]} needs --where",
                         hint="`samplectl update --where --location FRZ-1/R3/ --set-location-prefix FRZ-2/R1/`")
    if sample_id is None:
        raise UsageError("missing ID (or --where)", hint="`samplectl update ID --status processing`, "
                         "or `samplectl update --where --status collected --set-status processing`")
    misplaced = [flag for flag, value in (("--collected-from", collected_from), ("--collected-to", collected_to))
                 if value is not None]
    if misplaced:
        raise UsageError(f"{misplaced[0]} selects samples and needs --where", hint="use --collected for the new date")
    new_status, new_location = _one(status), _one(location)
    if set_status is not None and new_status is not None or set_location is not None and new_location is not None:
        raise UsageError("give --status or --set-status (--location or --set-location), not both")
    changes = {"sample_id": new_id, "sample_type": _one(sample_type), "subject_id": _one(subject),
               "collection_date": collected, "status": new_status or set_status,
               "storage_location": new_location or set_location, **(values or {})}
    if all(v is None for v in changes.values()):
        flags = ", ".join(f.label for f in fields().entered if f.flag)
        raise UsageError("nothing to change", hint=f"give at least one of {flags}")
    record, changed = app_ctx.services.sample_service().update(
        sample_id, changes, reason=reason, force=force, if_version=if_version
    )
    app_ctx.say(f"updated {record['sample_id']}: {', '.join(changed)}" if changed else "nothing changed")
    print_records(app_ctx, [record], output, single=True)


PREVIEW = 5  # changes shown before the question


def _preview(app_ctx: AppContext, plan: Iterable[dict[str, Any]], matching: int) -> None:
    """The first changes, as before -> after, so that the question is about what will happen."""
    import itertools

    from samplectl.output.table import literal

    def said(value: Any) -> str:
        return "(none)" if value is None else literal(str(value))  # a cleared value is not the text "None"

    err = app_ctx.io.stderr
    for row in itertools.islice(plan, PREVIEW):
        refused = f"  (refused: {row['refused']})" if row["refused"] else ""
        err.write(f"  {said(row['sample_id'])}  {row['field']}: {said(row['before'])} \u2192 {said(row['after'])}"
                  f"{refused}\n")
    if matching > PREVIEW:
        err.write(f"  ... and more ({matching} samples match; --dry-run lists every change)\n")


def _update_where(
    app_ctx: AppContext, *, set_status: str | None, set_location: str | None, set_location_prefix: str | None,
    reason: str | None, force: bool, yes: bool, dry_run: bool, output: str | None, **criteria_flags: Any,
) -> None:
    from samplectl.domain.criteria import build_criteria
    from samplectl.domain.errors import Conflict
    from samplectl.services.bulk import BulkChange, check_before_reading, new_values, require_criterion

    values = new_values(set_status, set_location, set_location_prefix, criteria_flags["location_prefixes"])
    criteria = build_criteria(tz=app_ctx.settings.tzinfo(), **criteria_flags)
    require_criterion(criteria)
    service = app_ctx.services.sample_service()
    change = BulkChange(criteria, values, reason, force)
    check_before_reading(service, change)
    matching = service.count(criteria)
    parts = [f"{name} to {value!r}" for name, value in values.values.items()]
    if values.prefix is not None:
        parts.append(f"the storage_location prefix {values.prefix[0]!r} to {values.prefix[1]!r}")
    what = " and ".join(parts)
    app_ctx.say(f"{matching} sample{'s' if matching != 1 else ''} match")
    if dry_run:
        from samplectl.output.records import write_records

        shown = write_records(service.plan_where(change),
                              app_ctx.choose_output(output), app_ctx.io.stdout, fields=PLAN_FIELDS,
                              color=app_ctx.color("stdout"))
        app_ctx.say(f"dry run: {shown} change{'s' if shown != 1 else ''} planned; nothing was written")
        return
    if matching and not yes:
        app_ctx.require_terminal_or("--yes", "update --where")
        _preview(app_ctx, service.plan_where(change, PREVIEW), matching)
        if not typer.confirm(f"Set {what} on {matching} samples?", default=False, err=True):
            raise typer.Abort()
    progress = _progress(app_ctx, matching)
    try:
        outcome = service.update_where(change, progress)
    finally:
        if progress is not None:
            progress.stop()
    summary = outcome.as_dict()
    rows = [("set", ", ".join(f"{k} = {v}" for k, v in values.described().items())), ("matched", outcome.matched),
            ("changed", outcome.changed), ("unchanged", outcome.unchanged), ("refused", len(outcome.refused)),
            ("seconds", summary["seconds"])]
    if outcome.refused:
        app_ctx.pending_error = Conflict(
            f"{len(outcome.refused)} of {outcome.matched} selected samples were refused; "
            f"{outcome.changed} changed",
            hint="see why above; a status change outside the lifecycle needs an admin's --force --reason, "
            "a sample changed meanwhile can be retried",
            details=outcome.refused,
        )
    print_report(app_ctx, summary, output, rows=rows)
    if app_ctx.pending_error is not None:
        for refused in outcome.refused:
            app_ctx.io.stderr.write(f"refused {refused['sample_id']}: {refused['message']}\n")
        raise app_ctx.pending_error


class _Progress:
    """A Rich progress bar on stderr (terminal only, not with --quiet); a no-op otherwise."""

    def __init__(self, app_ctx: AppContext, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=app_ctx.io.stderr, no_color=not app_ctx.color("stderr"))
        self.bar = Progress(TextColumn("updating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=console, transient=True)
        self.task = self.bar.add_task("update", total=total)
        self.bar.start()

    def __call__(self, done: int) -> None:
        self.bar.advance(self.task, done)

    def stop(self) -> None:
        self.bar.stop()


def _progress(app_ctx: AppContext, total: int) -> Any:
    if app_ctx.quiet or not app_ctx.io.stderr_is_tty or total < 2:
        return None
    return _Progress(app_ctx, total)


def register(app: typer.Typer) -> None:
    app.command("update")(update)
