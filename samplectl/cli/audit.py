"""The audit trail commands: `history ID`, `audit` (query) and `audit verify`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from samplectl.cli import options as opt
from samplectl.cli.completion import stored_completion
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_kind, print_report

if TYPE_CHECKING:
    from samplectl.domain.errors import SamplectlError


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


def history(
    ctx: typer.Context,
    sample_id: Annotated[str, typer.Argument(metavar="ID", help="The sample (also a deleted one).",
                                           autocompletion=stored_completion("sample_id"))],
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Show the audit trail of one sample, oldest first.

    Who changed what, when, and why.

    Works after the sample is deleted (the delete record holds its last state); an id that never existed exits 5.

    Each JSON entry is {"at", "user", "action", "sample_id", "changes": {FIELD: {"before", "after"}}, "reason"}.

    Example: samplectl history 3f2c9a1e-... -o json
    """
    from samplectl.output.kinds import HISTORY

    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    entries = app_ctx.services.audit_service().history(sample_id)
    # Scripts get exactly the contract's entry (HISTORY's fields); the table also marks forced changes.
    print_kind(app_ctx, HISTORY, entries, output, fields=fields_)


audit_app = typer.Typer(
    name="audit",
    invoke_without_command=True,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Users = Annotated[list[str] | None, typer.Option("--user", help="Records by this user (repeat for OR).")]
Actions = Annotated[
    list[str] | None,
    typer.Option("--action", help="create, update, delete, import, undo, login, ... (repeat for OR)."),
]
Samples = Annotated[list[str] | None, typer.Option("--sample", help="Records of this sample id (repeat for OR).")]
Since = Annotated[str | None, typer.Option("--since", help="Recorded on or after this date or date-time.")]
Until = Annotated[
    str | None, typer.Option("--until", help="Recorded on or before this date (whole day) or date-time.")
]
Limit = Annotated[int, typer.Option("--limit", "-n", help="The newest N matching records (shown oldest first).")]
All = Annotated[bool, typer.Option("--all", help="Every matching record (streams; ignores --limit).")]


@audit_app.callback()
def audit(
    ctx: typer.Context,
    users: Users = None,
    actions: Actions = None,
    samples: Samples = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    all_: All = False,
    output: opt.Output = None,
    fields_: opt.FieldsOption = None,
) -> None:
    """Query the whole audit trail (admin).

    Sample changes, imports, user administration and logins.

    Different flags AND, a repeated flag ORs. Shows the newest 50 matching records, oldest first, unless --limit or --all.

    `samplectl audit verify` checks that the trail has not been tampered with.

    Example: samplectl audit --user alice --action update --since 2025-03-01 -o json
    """
    if ctx.invoked_subcommand:
        return
    from samplectl.domain.audit_query import AuditQuery, parse_range
    from samplectl.output.kinds import AUDIT

    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    service = app_ctx.services.audit_service()
    service.identity.require("admin", "reading the audit trail")
    from samplectl.domain.criteria import check_limit

    check_limit(limit)
    span = parse_range(since, until, app_ctx.settings.tzinfo())
    entries = service.query(AuditQuery.of(users=users, actions=actions, sample_ids=samples, span=span,
                                          limit=None if all_ else limit))
    shown = print_kind(app_ctx, AUDIT, entries, output, fields=fields_)
    if not all_ and shown == limit:
        app_ctx.say(f"showing the newest {limit}; use --limit N or --all for more")


@audit_app.command("verify")
def verify(ctx: typer.Context, output: opt.Output = None) -> None:
    """Check the audit trail has not been tampered with (admin).

    Walks the hash chain from the first record to the last.

    Reports the first record that was changed, removed or moved and exits 6 (the stored trail failed validation); 0 if intact.

    Keep the head (seq and hash) it prints somewhere safe: a later run still showing it proves nothing was cut off the end.

    Example: samplectl audit verify -o json
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    report = app_ctx.services.audit_service().verify()
    summary = report.as_dict()
    problem = report.chain.problem
    rows = [
        ("result", "intact" if report.chain.ok else "TAMPERED"),
        ("records checked", report.chain.checked),
        ("head seq", report.chain.head_seq),
        ("head hash", report.chain.head_hash),
    ]
    if problem is not None:
        rows.append(("first bad record", f"seq {problem.seq} (id {problem.record_id})"))
        rows.append(("problem", problem.problem))
    rows.append(("unfinished changes", len(report.unfinished)))
    app_ctx.pending_error = _tampered(problem)
    print_report(app_ctx, summary, output, rows=rows)
    if report.unfinished:
        app_ctx.warn(
            f"{len(report.unfinished)} sample change(s) are in progress or were left by a samplectl that "
            "stopped; the next write command finishes or undoes them"
        )
    if app_ctx.pending_error is not None:
        raise app_ctx.pending_error


def _tampered(problem: Any) -> SamplectlError | None:
    """The error of a chain that does not hold at ``problem`` (None: it holds)."""
    from samplectl.domain.errors import ValidationFailed

    if problem is not None:
        what = f"{problem.action} of {problem.sample_id}" if problem.sample_id else str(problem.action)
        return ValidationFailed(
            f"audit record seq {problem.seq} (id {problem.record_id}, {problem.at}, {what}) "
            f"does not match: {problem.problem}" if problem.record_id is not None
            else f"the audit trail does not hold at seq {problem.seq}: {problem.problem}",
            hint="the audit trail was altered outside samplectl; compare with a backup from before that "
            "record and investigate who had write access to the database",
            details=[problem.as_dict()],
        )
    return None


def register(app: typer.Typer) -> None:
    app.command("history")(history)
    app.add_typer(audit_app, name="audit")
