"""`samplectl config list|get|set`: the settings in effect, where each comes from, and changing the file."""

from __future__ import annotations

from typing import Annotated

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.cli.render import check_output

config_app = typer.Typer(
    name="config",
    help="Show the settings in effect and where each comes from.\n\n"
    "Sources, lowest to highest: default < config file < environment < flags; `set` and `unset` write the file.\n\n"
    "Example: samplectl config list",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

KeyArgument = Annotated[
    str,
    typer.Argument(metavar="KEY", help="A setting, e.g. timezone or mongodb_uri.",
                   autocompletion=lambda incomplete: [k for k in _keys() if k.startswith(incomplete)]),
]


def _keys() -> tuple[str, ...]:
    from samplectl.services.configinfo import SHOWN_KEYS

    return SHOWN_KEYS


def _ctx(ctx: typer.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


@config_app.command("list")
def list_settings(ctx: typer.Context, output: opt.Output = None) -> None:
    """Show every setting, its value and where it comes from.

    Sources, lowest to highest: default < file < environment. Passwords and secrets are masked.

    Example: samplectl config list -o json
    """
    from samplectl.output.records import write_records
    from samplectl.services.configinfo import settings_in_effect

    app_ctx = _ctx(ctx)
    check_output(app_ctx, output)
    write_records(settings_in_effect(), app_ctx.choose_output(output), app_ctx.io.stdout,
                  fields=("key", "value", "source"), color=app_ctx.color("stdout"))


@config_app.command("get")
def get_setting(ctx: typer.Context, key: KeyArgument) -> None:
    """Print one setting's value (empty when unset).

    Where it comes from goes to stderr, so that scripts read the value alone.

    Example: samplectl config get timezone
    """
    from samplectl.services.configinfo import setting

    app_ctx = _ctx(ctx)
    row = setting(key)
    app_ctx.io.stdout.write(f"{row['value'] if row['value'] is not None else ''}\n")
    app_ctx.say(f"({row['source']})")


@config_app.command("set")
def set_setting(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")],
) -> None:
    """Write one setting to the config file (made private: 0600).

    The environment still wins over the file; the command says so when it does.

    Example: samplectl config set timezone Europe/Berlin
    """
    from samplectl.services.configinfo import write_setting

    app_ctx = _ctx(ctx)
    path, shadowed_by = write_setting(key, value)
    app_ctx.say(f"set {key} in {path}")
    if shadowed_by:
        app_ctx.warn(f"{shadowed_by} is set and takes precedence over the file")


@config_app.command("unset")
def unset_setting(ctx: typer.Context, key: KeyArgument) -> None:
    """Remove one setting from the config file (its default again).

    Example: samplectl config unset server
    """
    from samplectl.services.configinfo import remove_setting

    app_ctx = _ctx(ctx)
    path, present, shadowed_by = remove_setting(key)
    app_ctx.say(f"unset {key} in {path}" if present else f"{key} was not set in {path}")
    if shadowed_by:
        app_ctx.warn(f"{shadowed_by} is set and still sets {key}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
