"""A sample store that was emptied or replaced is noticed (issue 9, item 18).

Each store has an id of its own, made with its tables. `samplectl init` has the users database
remember it (setting ``sample_store_id``); every later command compares the store it opens with the
remembered one and refuses (exit 8) a store that is not it: a zero-length or deleted `samples.db`
that would otherwise silently be a new empty store, or another file put in its place.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from samplectl.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.stores.engines import SampleDatabase

SETTING = "sample_store_id"


def replaced(where: str, remembered: str, found: str | None) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the sample store at {where} is not the one this installation set up "
        f"(expected store {remembered[:8]}, found {found[:8] if found else 'none'}): it was emptied or replaced",
        hint="restore samples.db from a backup; samplectl refuses to start over silently with an empty store",
    )


def remembered_id(settings: Settings) -> str | None:
    """The store id the users database remembers (embedded users database only: one quick read)."""
    from samplectl.stores.userdb import locate_users_database

    users = locate_users_database(settings)
    if users.kind != "sqlite" or users.path is None or not users.path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{users.path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM auth_settings WHERE name = ?", (SETTING,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # not set up, or unreadable: the login check reports that in its own words
    return None if row is None else str(row[0])


def check(database: SampleDatabase, settings: Settings) -> None:
    remembered = remembered_id(settings)
    if remembered is not None and database.store_id != remembered:
        raise replaced(database.where, remembered, database.store_id)
