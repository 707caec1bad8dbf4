"""samplectl users: the lab admins' account management (add, list, disable, enable, set-role, unlock, passwd)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from samplectl.cli import options as opt
from samplectl.cli.auth import PasswordStdin, need_password_source, read_password
from samplectl.cli.context import AppContext

if TYPE_CHECKING:
    from samplectl.domain.accounts import Account

users_app = typer.Typer(
    name="users",
    help="Manage lab accounts (admins).\n\nAnyone may change their own password with `samplectl users passwd`.\n\n"
    "Example: samplectl users add alice --role technician",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The username.")]


def _print(app_ctx: AppContext, accounts: list[Account], output: str | None, *, single: bool,
           fields: str | None = None) -> None:
    from samplectl.cli.render import print_kind
    from samplectl.output.kinds import ACCOUNTS

    print_kind(app_ctx, ACCOUNTS, [a.public() for a in accounts], output, fields=fields, single=single)


def _ctx(ctx: typer.Context, output: str | None) -> AppContext:
    """The context, with -o read before anything is changed (a bad format changes nothing: 6)."""
    from samplectl.cli.render import check_output

    app_ctx = ctx.ensure_object(AppContext)
    check_output(app_ctx, output)
    return app_ctx


@users_app.command("add")
def add(ctx: typer.Context, name: Name, role: opt.RoleOption, password_stdin: PasswordStdin = False,
        output: opt.Output = None) -> None:
    """Add an account with a role.

    ROLE is viewer, technician or admin; the password is asked for twice.

    Example: samplectl users add alice --role technician

    Example (scripts): printf '%s\\n' "$PW" | samplectl users add alice --role technician --password-stdin
    """
    app_ctx = _ctx(ctx, output)
    need_password_source(app_ctx, password_stdin, "users add")
    service = app_ctx.services.account_service()
    service.may_manage_users()  # refuse a non-admin before asking for a password
    password = read_password(app_ctx, from_stdin=password_stdin, prompt=f"Password for {name}", confirm=True)
    account = service.add(name, role, password)
    app_ctx.say(f"added {account.username} ({account.role})")
    _print(app_ctx, [account], output, single=True)


@users_app.command("list")
def list_users(ctx: typer.Context, output: opt.Output = None, fields_: opt.FieldsOption = None) -> None:
    """List every account with its role and state.

    Example: samplectl users list -o json
    """
    app_ctx = _ctx(ctx, output)
    _print(app_ctx, app_ctx.services.account_service().accounts(), output, single=False, fields=fields_)


@users_app.command("disable")
def disable(ctx: typer.Context, name: Name, output: opt.Output = None) -> None:
    """Disable an account; its logins end at once.

    The account and its history stay; `samplectl users enable` undoes it.

    Example: samplectl users disable alice
    """
    _set_active(ctx, name, False, output)


@users_app.command("enable")
def enable(ctx: typer.Context, name: Name, output: opt.Output = None) -> None:
    """Enable a disabled account again.

    Example: samplectl users enable alice
    """
    _set_active(ctx, name, True, output)


def _set_active(ctx: typer.Context, name: str, active: bool, output: str | None) -> None:
    app_ctx = _ctx(ctx, output)
    account = app_ctx.services.account_service().set_active(name, active)
    app_ctx.say(f"{account.username} is {'enabled' if active else 'disabled'}")
    _print(app_ctx, [account], output, single=True)


@users_app.command("set-role")
def set_role(
    ctx: typer.Context,
    name: Name,
    role: Annotated[str, typer.Argument(metavar="ROLE", help="viewer, technician or admin.")],
    output: opt.Output = None,
) -> None:
    """Change an account's role.

    It applies from the user's next command.

    Example: samplectl users set-role alice admin
    """
    app_ctx = _ctx(ctx, output)
    account = app_ctx.services.account_service().set_role(name, role)
    app_ctx.say(f"{account.username} is {account.role}")
    _print(app_ctx, [account], output, single=True)


@users_app.command("unlock")
def unlock(ctx: typer.Context, name: Name, output: opt.Output = None) -> None:
    """Unlock an account locked by failed logins.

    Also resets its count of failed logins.

    Example: samplectl users unlock alice
    """
    app_ctx = _ctx(ctx, output)
    account = app_ctx.services.account_service().unlock(name)
    app_ctx.say(f"{account.username} is unlocked")
    _print(app_ctx, [account], output, single=True)


@users_app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="Whose password (default: yours).")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Change your password, or (admins) anyone's.

    Logins made with the old password end at once.

    Your own: the current password, then the new one twice. With --password-stdin: the current
    password on the first line and the new one on the second (an admin setting someone else's
    gives only the new one). An admin's reset also unlocks the account.

    Example: samplectl users passwd

    Example: samplectl users passwd alice
    """
    app_ctx = ctx.ensure_object(AppContext)
    need_password_source(app_ctx, password_stdin, "users passwd")
    service = app_ctx.services.account_service()
    own = service.is_self(name)
    if not own:
        service.may_manage_users()
    current = read_password(app_ctx, from_stdin=password_stdin, prompt="Current password") if own else None
    target = name or service.actor.username  # type: ignore[union-attr]
    new = read_password(app_ctx, from_stdin=password_stdin, prompt=f"New password for {target}", confirm=True)
    account = service.set_password(name, new, current)
    if own:
        app_ctx.say(f"password changed for {account.username}; log in again: samplectl login -u {account.username}")
    else:
        app_ctx.say(f"password set for {account.username}; their current logins have ended")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app)
