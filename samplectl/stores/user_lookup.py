"""The read-only look-up every command makes to check its token, straight through the DB-API driver.

Every samplectl command checks its token against the users database. Going through SQLAlchemy
would add ~140 ms of imports to each command; these three read-only queries over sqlite3 or
psycopg take ~0.5 ms on SQLite once imported (see docs/benchmarks.md). They read the tables that
``stores.users`` (SQLAlchemy) writes, and the tests run both against the same databases.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from samplectl.domain.accounts import Account, as_utc
from samplectl.domain.errors import DatabaseUnavailable
from samplectl.stores.userdb import UsersDatabase, is_permission_problem, is_schema_problem, not_set_up, refused

SETTINGS_SQL = "SELECT name, value FROM auth_settings WHERE name IN ('jwt_secret', 'instance_id')"
ACCOUNT_SQL = (
    "SELECT username, role, active, created_at, failed_logins, locked_until, password_changed_at "
    "FROM users WHERE lower(username) = ?"
)
REVOKED_SQL = "SELECT 1 FROM revoked_tokens WHERE jti = ?"
ENDED_SQL = "SELECT revoked_at FROM revoked_tokens WHERE jti = ?"


def _when(value: Any) -> datetime | None:
    # SQLite hands back SQLAlchemy's text form ("2025-03-14 09:30:00.000000"); psycopg a datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


class IdentityLookup:
    """One read-only connection for the life of a command: ``with IdentityLookup(db) as look: ...``."""

    def __init__(self, database: UsersDatabase, timeout_ms: int = 3000) -> None:
        self.database = database
        self.timeout_ms = timeout_ms
        self.conn: Any = None
        self.placeholder = "?"

    def __enter__(self) -> IdentityLookup:
        if self.database.kind == "sqlite":
            self._open_sqlite()
        else:
            self._open_postgresql()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _open_sqlite(self) -> None:
        path = self.database.path
        assert path is not None
        if not path.exists():
            raise not_set_up(self.database.shown)
        try:
            # mode=ro: checking a token never creates or changes the database.
            self.conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=self.timeout_ms / 1000)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open the users database at {path}: {exc}",
                                      hint="check the file's permissions") from None

    def _open_postgresql(self) -> None:
        import psycopg

        try:
            self.conn = psycopg.connect(self.database.libpq_url, autocommit=True, application_name="samplectl",
                                        connect_timeout=max(1, self.timeout_ms // 1000))
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailable(
                f"cannot use the users database at {self.database.shown}: {reason}",
                hint="check SAMPLECTL_DATABASE_URL and that the server is running",
            ) from None
        self.placeholder = "%s"

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            cursor = self.conn.execute(sql.replace("?", self.placeholder), params)
            return list(cursor.fetchall())
        except Exception as exc:  # noqa: BLE001 - sqlite3 and psycopg errors, translated below
            if is_schema_problem(exc):
                raise not_set_up(self.database.shown) from None
            if is_permission_problem(exc):
                raise refused(self.database.shown) from None
            if isinstance(exc, sqlite3.OperationalError) or type(exc).__name__ == "OperationalError":
                raise DatabaseUnavailable(f"cannot read the users database at {self.database.shown}: "
                                          f"{str(exc).splitlines()[0][:200]}") from None
            raise

    def settings(self) -> dict[str, str]:
        """The stored signing secret and this database's instance id (what is there of them)."""
        return {name: value for name, value in self._rows(SETTINGS_SQL)}

    def account(self, username: str) -> Account | None:
        rows = self._rows(ACCOUNT_SQL, username.lower())
        if not rows:
            return None
        name, role, active, created, failed, locked, changed = rows[0]
        return Account(username=name, role=role, active=bool(active), created_at=_when(created),  # type: ignore[arg-type]
                       failed_logins=int(failed), locked_until=_when(locked),
                       password_changed_at=_when(changed))  # type: ignore[arg-type]

    def is_revoked(self, jti: str) -> bool:
        return bool(self._rows(REVOKED_SQL, jti))

    def sessions_ended(self, marker: str) -> datetime | None:
        """When ``users disable`` last ended a user's logins (see UserStore.end_sessions)."""
        rows = self._rows(ENDED_SQL, marker)
        return _when(rows[0][0]) if rows else None
