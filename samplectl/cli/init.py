"""samplectl init: create or migrate the users database and the sample store's indexes."""

from __future__ import annotations

from typing import Annotated

import typer

from samplectl.cli.auth import PasswordStdin, need_password_source, read_password
from samplectl.cli.context import AppContext


def init(
    ctx: typer.Context,
    admin: Annotated[
        str | None, typer.Option("--admin", metavar="NAME", help="Create the first admin account (password asked twice).")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create or migrate the schema and indexes; safe to run twice.

    The users database (schema by Alembic) and the sample store's indexes.

    Run it with the database credentials. With --admin NAME it also creates the first admin; once
    an admin exists, admins add users with `samplectl users add`.

    Example: samplectl init --admin admin

    Example (scripts): printf '%s\\n' "$PW" | samplectl init --admin admin --password-stdin
    """
    from samplectl.domain.errors import UsageError

    app_ctx = ctx.ensure_object(AppContext)
    app_ctx.local_only = True  # run where the database credentials are, SAMPLECTL_SERVER or not
    if password_stdin and not admin:
        raise UsageError("--password-stdin is for the first admin's password", hint="add --admin NAME")
    if admin:
        need_password_source(app_ctx, password_stdin, "init --admin")
    accounts = app_ctx.services.account_service(logged_in=False)
    revision, generated = accounts.set_up()
    app_ctx.say(f"users database ready ({app_ctx.services.users_database.shown}; schema {revision})")
    if generated:
        app_ctx.say("generated a token signing secret, kept in the users database")
    database = app_ctx.services.prepare_sample_database()
    for notice in database.notices:
        app_ctx.say(notice)
    if database.store_id is not None:
        from samplectl.stores.identity import SETTING, replaced

        # The users database remembers this store, so that a store emptied or replaced later is noticed.
        users = app_ctx.services.user_store()
        users.ensure_setting(SETTING, lambda: str(database.store_id))
        remembered = users.setting(SETTING)
        if remembered != database.store_id:
            raise replaced(database.where, str(remembered), database.store_id)
    indexes = database.samples.ensure_indexes() + database.audit.ensure_indexes() + database.batches.ensure_indexes()
    where = "embedded store " + str(app_ctx.settings.samples_path) if app_ctx.settings.embedded else "MongoDB"
    app_ctx.say(f"sample store ready ({where}; {len(indexes)} indexes)")
    if admin:
        existing = accounts.existing_first_admin(admin)
        if existing is not None:
            app_ctx.say(f"admin {existing.username} already exists; unchanged")
            return
        password = read_password(app_ctx, from_stdin=password_stdin, prompt=f"Password for {admin}", confirm=True)
        account = accounts.create_first_admin(admin, password)
        app_ctx.say(f"created admin {account.username}; log in with: samplectl login -u {account.username}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
