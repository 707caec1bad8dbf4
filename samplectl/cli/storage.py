"""`samplectl storage ...`: freezers, racks, boxes, bags and the positions samples are placed in."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output, print_report
from samplectl.domain.storage import parse_path

storage_app = typer.Typer(
    name="storage",
    help="Freezers, racks, boxes, bags and free positions.\n\nExample: samplectl storage show FRZ-1/R2/B3",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

KINDS = ("freezer", "rack", "box", "bag")
PathArg = Annotated[str, typer.Argument(metavar="PATH", help="A container's path, e.g. FRZ-1/R2/B3.")]
OptionalPath = Annotated[
    str | None, typer.Argument(metavar="[PATH]", help="Only this container and what is in it.", show_default=False)
]


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


def _result(app_ctx: AppContext, result: dict[str, Any], output: str | None) -> None:
    """What a change did, for scripts; on a terminal the line said on stderr says it all."""
    if app_ctx.choose_output(output) not in ("table", "wide"):
        print_report(app_ctx, result, output)


def _print(app_ctx: AppContext, kind: Any, rows: Any, output: str | None, *, single: bool = False) -> None:
    from samplectl.cli.render import print_kind

    print_kind(app_ctx, kind, rows, output, single=single)


@storage_app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="KIND", help="freezer, rack, box or bag.",
                                        autocompletion=opt.complete_from(KINDS))],
    path: PathArg,
    grid: Annotated[str | None, typer.Option("--grid", metavar="ROWSxCOLS",
                                             help="A box's positions: 9x9 is A1...I9, 8x12 is A1...H12.")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", metavar="N", help="How many samples a bag holds.")] = None,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Add a freezer, rack, box (--grid) or bag (--capacity).

    The path names the container and where it is: a freezer at the top, racks in freezers, boxes and
    bags in racks or freezers.

    Example: samplectl storage add box FRZ-1/R2/B3 --grid 9x9
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    container = app_ctx.services.storage_service().add(kind, path, grid=grid, capacity=capacity, reason=reason)
    app_ctx.say(f"added {container['kind']} {container['path']}")
    shown = {k: v for k, v in container.items() if k not in ("created_at", "created_by", "name")}
    shown["created_at"] = container["created_at"]
    print_report(app_ctx, shown, output)


@storage_app.command("list")
def list_containers(ctx: typer.Context, path: OptionalPath = None, output: opt.Output = None) -> None:
    """List containers with used/total places.

    Example: samplectl storage list FRZ-1 -o json
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    from samplectl.output.storage import CONTAINERS

    _print(app_ctx, CONTAINERS, app_ctx.services.storage_service().tree(path), output)


@storage_app.command("tree")
def tree(ctx: typer.Context, path: OptionalPath = None, output: opt.Output = None) -> None:
    """Show containers as a tree, each with used/total places.

    In JSON each container carries its "children".

    Example: samplectl storage tree FRZ-1
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    from samplectl.output.storage import TREE

    rows = app_ctx.services.storage_service().tree(path)
    if app_ctx.choose_output(output) in ("json", "jsonl"):
        rows = _nested(rows)  # the top containers, each with its "children"
    _print(app_ctx, TREE, rows, output)


def _nested(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_path: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for row in rows:
        node = {**row, "children": []}
        by_path[row["path"]] = node
        parent = by_path.get(row["path"].rpartition("/")[0])
        (parent["children"] if parent is not None else top).append(node)
    return top


@storage_app.command("show")
def show(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="BOX", help="A box (or a bag).")],
    output: opt.Output = None,
) -> None:
    """Draw a box as a grid of its samples and free positions.

    A bag is listed place by place.

    Example: samplectl storage show FRZ-1/R2/B3
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    box = app_ctx.services.storage_service().show(path)
    fmt = app_ctx.choose_output(output)
    if fmt in ("csv", "jsonl"):
        from samplectl.output.storage import PLACES

        _print(app_ctx, PLACES, [{"path": box["path"], **p} for p in box["positions"]], output)
    elif fmt == "json":
        from samplectl.output.formats import dumps

        app_ctx.io.stdout.write(dumps(box, indent=2) + "\n")  # the box whole: its grid and every position
    else:
        from samplectl.output.storage import write_box

        write_box(box, app_ctx.io.stdout, color=app_ctx.color("stdout"))


@storage_app.command("free")
def free(
    ctx: typer.Context,
    under: Annotated[str | None, typer.Option("--under", metavar="PATH", help="Only within this container.")] = None,
    need: Annotated[int | None, typer.Option("--need", metavar="N", help="Only boxes and bags with N free places.")] = None,
    together: Annotated[bool, typer.Option("--together", help="With --need: N free places in a row (in fill order), "
                                                              "and which ones.")] = False,
    output: opt.Output = None,
) -> None:
    """Find free positions, or boxes with room for --need N.

    --together asks for N next to each other, in the order --fill places samples (row by row).

    Example: samplectl storage free --under FRZ-1 --need 24 --together
    """
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    from samplectl.output.storage import FREE

    _print(app_ctx, FREE, app_ctx.services.storage_service().free(under, need=need, together=together), output)


def _changing(ctx: typer.Context, output: str | None, doing: str) -> tuple[AppContext, Any]:
    """The context and storage service of a change, the role checked before anything is asked."""
    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    service = app_ctx.services.storage_service()
    service.identity.require("technician", doing)
    return app_ctx, service


def _confirm(app_ctx: AppContext, yes: bool, action: str, question: str) -> None:
    if yes:
        return
    app_ctx.require_terminal_or("--yes", action)
    if not typer.confirm(question, default=False, err=True):
        raise typer.Abort()


@storage_app.command("move")
def move(
    ctx: typer.Context,
    path: PathArg,
    to: Annotated[str, typer.Option("--to", metavar="PARENT", help="The container to move it into.")],
    yes: opt.Yes = False,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Move a box, bag or rack with every sample in it.

    It moves into the container --to names, in one step.

    Each sample's storage location follows (one audit record per sample); nothing moves if any part
    cannot. Asks first on a terminal; scripts must pass --yes.

    Example: samplectl storage move FRZ-1/R3/B2 --to FRZ-2/R1 --yes
    """
    app_ctx, service = _changing(ctx, output, "moving storage containers")
    if not yes:
        service.get(parse_path(path))
        _confirm(app_ctx, yes, "storage move", f"Move {path} and every sample in it into {to}?")
    result = service.move(path, to, reason=reason)
    app_ctx.say(f"moved {result['path']} to {result['to']} with {result['samples']} samples")
    _result(app_ctx, result, output)


@storage_app.command("remove")
def remove(
    ctx: typer.Context,
    path: PathArg,
    yes: opt.Yes = False,
    reason: opt.Reason = None,
    output: opt.Output = None,
) -> None:
    """Remove an empty container.

    One still holding samples or containers is refused (exit 7).

    Asks first on a terminal; scripts must pass --yes.

    Example: samplectl storage remove FRZ-1/R2/B3 --yes
    """
    app_ctx, service = _changing(ctx, output, "removing storage containers")
    if not yes:
        service.get(parse_path(path))
        service.refuse_unless_empty(parse_path(path))
        _confirm(app_ctx, yes, "storage remove", f"Remove {path}?")
    result = service.remove(path, reason=reason)
    app_ctx.say(f"removed {result['kind']} {result['path']}")
    _result(app_ctx, result, output)


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")
