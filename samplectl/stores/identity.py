"""A sample store that was emptied, replaced or cut short is noticed (issue 9, item 18).

Each store has an id of its own, made with its tables. `samplectl init` has the users database
remember it (setting ``sample_store_id``); every later command compares the store it opens with the
remembered one and refuses (exit 8) a store that is not it: a zero-length or deleted `samples.db`
that would otherwise silently be a new empty store, or another file put in its place.

The users database also remembers how far the audit trail has reached (``sample_store_audit_head``:
the head's seq and hash), updated when a command that added records closes the store. Records cut
off the end of the trail leave no gap for the hash chain to show; `audit verify` compares the
trail with the remembered head and reports them. The remembered head only moves forward, and not
past a trail that no longer holds it, so the evidence stays until someone looks.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from samplectl.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.stores.engines import SampleDatabase

log = logging.getLogger(__name__)
SETTING = "sample_store_id"
HEAD_SETTING = "sample_store_audit_head"


def replaced(where: str, remembered: str, found: str | None) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the sample store at {where} is not the one this installation set up "
        f"(expected store {remembered[:8]}, found {found[:8] if found else 'none'}): it was emptied or replaced",
        hint="restore samples.db from a backup; samplectl refuses to start over silently with an empty store",
    )


def _users_path(settings: Settings) -> Path | None:
    """The embedded users database's file, if that is where users live and it exists."""
    from samplectl.stores.userdb import locate_users_database

    users = locate_users_database(settings)
    if users.kind != "sqlite" or users.path is None or not users.path.exists():
        return None
    return users.path


def remembered(settings: Settings) -> dict[str, str]:
    """What the users database remembers of the sample store (embedded users database only: one quick read)."""
    path = _users_path(settings)
    if path is None:
        return {}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT name, value FROM auth_settings WHERE name IN (?, ?)",
                                (SETTING, HEAD_SETTING)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}  # not set up, or unreadable: the login check reports that in its own words
    return {str(name): str(value) for name, value in rows}


def remembered_id(settings: Settings) -> str | None:
    return remembered(settings).get(SETTING)


def head_text(seq: int, hashed: str) -> str:
    # Zero-padded, so that comparing the texts compares the seqs (the update below relies on it).
    return f"{seq:020d}:{hashed}"


def parse_head(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, _, hashed = text.partition(":")
    try:
        return int(seq), hashed
    except ValueError:
        return None


def check(database: SampleDatabase, settings: Settings) -> None:
    found = remembered(settings)
    remembered_store = found.get(SETTING)
    if remembered_store is not None and database.store_id != remembered_store:
        raise replaced(database.where, remembered_store, database.store_id)
    database.remembered_head = parse_head(found.get(HEAD_SETTING))


def remember_head(database: SampleDatabase, settings: Settings) -> None:
    """When closing the store: have the users database remember how far the trail reached, if further
    than it remembers (and the trail still holds what it remembers). Never fails the command."""
    try:
        seq, hashed = database.audit.head()
        known = database.remembered_head
        if known is None:
            known = parse_head(remembered(settings).get(HEAD_SETTING))
        if seq == 0 or (known is not None and (seq <= known[0] or database.audit.hash_at(known[0]) != known[1])):
            return  # nothing new; or cut short or rewritten: left for `audit verify` to report
        path = _users_path(settings)
        if path is None:
            return
        conn = sqlite3.connect(str(path), timeout=5, isolation_level=None)
        try:
            new = head_text(seq, hashed)
            conn.execute("INSERT OR IGNORE INTO auth_settings (name, value) VALUES (?, ?)", (HEAD_SETTING, new))
            # Only forward: two samplectl closing at once leave the further head.
            conn.execute("UPDATE auth_settings SET value = ? WHERE name = ? AND value < ?", (new, HEAD_SETTING, new))
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - a users database that cannot be written now is checked at the next write
        log.debug("could not remember the audit head", exc_info=True)
