"""Alembic environment: samplectl hands over an open connection; there is no alembic.ini."""

from __future__ import annotations

from alembic import context

from samplectl.stores.users import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things in place: batch mode rebuilds the table when needed.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
