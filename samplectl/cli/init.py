"""samplectl init: create or migrate the schema and indexes."""

from __future__ import annotations

import typer

from samplectl.cli.context import AppContext


def init(ctx: typer.Context) -> None:
    """Create or migrate the schema and indexes; safe to run twice.

    Example: samplectl init
    """
    app_ctx = ctx.ensure_object(AppContext)
    store = app_ctx.sample_store()
    indexes = store.ensure_indexes() + app_ctx.audit_log(store).ensure_indexes()
    where = "embedded store " + str(app_ctx.settings.samples_path) if app_ctx.settings.embedded else "MongoDB"
    app_ctx.say(f"sample store ready ({where}; {len(indexes)} indexes)")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
