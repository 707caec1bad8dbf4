"""login, logout, whoami — and reading passwords, which init and users share.

A password is never a command-line argument (it would show in `ps` and shell history): it is
asked for without echo on a terminal, or read as one line from stdin with --password-stdin.
"""

from __future__ import annotations

from typing import Annotated

import typer

from samplectl.cli import options as opt
from samplectl.cli.context import AppContext
from samplectl.domain.errors import UsageError, ValidationFailed

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password as one line from stdin (scripts).")
]
STDIN_EXAMPLE = "printf '%s\\n' \"$PW\" | samplectl"


def read_password(app_ctx: AppContext, *, from_stdin: bool, prompt: str, confirm: bool = False) -> str:
    """One password: the next line of stdin with --password-stdin, else a hidden prompt.

    A new password (``confirm``) is checked as soon as it is typed, before it is asked for again.
    """
    if from_stdin:
        line = app_ctx.io.stdin.readline()
        # Only the line ending goes: spaces may belong to a passphrase.
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise ValidationFailed("no password on stdin", hint=f"pipe it in: {STDIN_EXAMPLE} ... --password-stdin")
        return password
    if confirm:
        from samplectl.cli.prompts import ask_new_password
        from samplectl.domain.accounts import check_new_password

        return ask_new_password(app_ctx, check_new_password, question=prompt)
    return str(typer.prompt(prompt, hide_input=True, err=True))


def need_password_source(app_ctx: AppContext, from_stdin: bool, command: str) -> None:
    """Refuse before any work when a password is needed but can be neither asked for nor read."""
    if not from_stdin and not app_ctx.io.stdin_is_tty:
        raise UsageError(f"{command} needs --password-stdin when stdin is not a terminal",
                         hint=f"{STDIN_EXAMPLE} {command} ... --password-stdin")


def login(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option("--username", "-u", help="Your username (asked when left out).")] = None,
    password_stdin: PasswordStdin = False,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Print the token on stdout instead of keeping it (for SAMPLECTL_TOKEN).")
    ] = False,
) -> None:
    """Log in and keep a token for the next commands.

    Checks your password. The token lasts token_lifetime_hours (8 by default, a shift). It is kept in the OS keyring, or
    where there is none, in a file only you can read. After 5 wrong passwords in a row the account
    is locked for 15 minutes.

    Example: samplectl login -u alice

    Example (scripts): printf '%s\\n' "$PW" | samplectl login -u alice --password-stdin
    """
    app_ctx = ctx.ensure_object(AppContext)
    if print_token and app_ctx.io.stdout_is_tty:
        raise UsageError("--print-token writes the secret token to stdout, which is a terminal here",
                         hint='capture it instead: export SAMPLECTL_TOKEN="$(samplectl login ... --print-token)"')
    if username is None and (password_stdin or not app_ctx.io.stdin_is_tty):
        raise UsageError("login needs -u NAME when the password comes from stdin or stdin is not a terminal",
                         hint=f"{STDIN_EXAMPLE} login -u NAME --password-stdin")
    need_password_source(app_ctx, password_stdin, "login")
    if username is None:
        username = str(typer.prompt("Username", err=True))
    password = read_password(app_ctx, from_stdin=password_stdin, prompt="Password")
    result = app_ctx.services.account_service(logged_in=False).login(username, password)
    until = result.claims.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    who = f"{result.identity.username} ({result.identity.role})"
    if print_token:
        app_ctx.io.stdout.write(result.token + "\n")
        app_ctx.say(f"token for {who}, valid until {until}")
        return
    cache = app_ctx.token_cache()
    stored = cache.save(result.token)
    if stored.source == "file":
        app_ctx.warn(f"{cache.problem}; the token is kept in {cache.file} (readable only by you)")
    app_ctx.say(f"logged in as {who} until {until}")


def logout(ctx: typer.Context) -> None:
    """Forget the kept token and revoke it.

    The token stops working everywhere, not only here.

    Example: samplectl logout
    """
    from samplectl.domain.errors import AuthError, DatabaseUnavailable

    app_ctx = ctx.ensure_object(AppContext)
    cache = app_ctx.token_cache()
    cached = cache.load()
    if cached is None:
        app_ctx.say("not logged in; nothing to do")
        return
    removed = [] if cached.source == "environment" else cache.forget()
    try:
        claims = app_ctx.services.account_service(logged_in=False).revoke(cached.token)
    except AuthError:
        claims = None  # no usable users database: the token cannot work anywhere either
    except DatabaseUnavailable as exc:
        raise DatabaseUnavailable(f"the token was forgotten here but could not be revoked: {exc.message}",
                                  hint=exc.hint) from None
    for where in removed:
        app_ctx.say(f"removed the token from {where}")
    if claims is not None:
        app_ctx.say(f"logged out {claims.sub}; the token is revoked")
    else:
        app_ctx.say("logged out (the token had already expired or was not valid)")
    if cached.source == "environment":
        app_ctx.warn("SAMPLECTL_TOKEN is still set in your environment: unset it")


def whoami(ctx: typer.Context, output: opt.Output = None) -> None:
    """Show who is logged in, until when, and where.

    Username, role, when the login expires, and where its token is kept.

    Example: samplectl whoami -o json
    """
    from dataclasses import replace

    from samplectl.cli.render import check_output, print_kind
    from samplectl.output.kinds import WHOAMI

    app_ctx = ctx.ensure_object(AppContext)
    check_output(app_ctx, output)
    session = app_ctx.session()
    # Where logins are checked: the users database, or in remote mode the server.
    where = "server" if app_ctx.remote else "users_database"
    fields = (*WHOAMI.fields[:-1], where)
    record = {"username": session.identity.username, "role": session.identity.role,
              "expires_at": session.claims.expires_at, "token_stored_in": session.stored_in,
              where: app_ctx.services.users_database.shown}
    # One person: a few labelled lines read better than a one-row table (WHOAMI is shown as pairs).
    print_kind(app_ctx, replace(WHOAMI, fields=fields), [record], output, single=True)


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
