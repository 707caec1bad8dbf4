"""The users store: accounts, revoked tokens and the signing secret, through SQLAlchemy 2 Core.

PostgreSQL (psycopg 3) in production, a SQLite file on the embedded default; the same code runs
on both. The schema belongs to Alembic (``stores/migrations``), applied by ``samplectl init``.
The per-command identity check does not come through here: see ``stores.user_lookup``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from samplectl.domain.accounts import Account, as_utc
from samplectl.domain.errors import Conflict, DatabaseUnavailable
from samplectl.stores.userdb import UsersDatabase, is_permission_problem, is_schema_problem, not_set_up, refused

VERSION_TABLE = "samplectl_users_schema"
SIGNING_SECRET = "jwt_secret"
INSTANCE_ID = "instance_id"  # names this users database inside every token (the JWT audience)

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'technician', 'admin')", name="users_role_known"),
)
sa.Index("users_username_ci", sa.func.lower(users.c.username), unique=True)
revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=False),
)
sa.Index("revoked_tokens_expiry", revoked_tokens.c.expires_at)
auth_settings = sa.Table(
    "auth_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

T = TypeVar("T")


def _same_name(username: str) -> Any:
    return sa.func.lower(users.c.username) == username.lower()


def _account(row: Any) -> Account:
    return Account(
        username=row.username, role=row.role, active=bool(row.active), created_at=as_utc(row.created_at),
        password_changed_at=as_utc(row.password_changed_at), failed_logins=int(row.failed_logins),
        locked_until=as_utc(row.locked_until), password_hash=row.password_hash,
    )


def _is_duplicate(exc: sa.exc.IntegrityError) -> bool:
    # 23505 unique_violation (PostgreSQL); SQLite says "UNIQUE constraint failed".
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE" in str(exc.orig)


class UserStore:
    def __init__(self, engine: sa.Engine, database: UsersDatabase) -> None:
        self.engine = engine
        self.database = database

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` in one transaction; engine errors become the contract's errors."""
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except sa.exc.IntegrityError:
            raise
        except sa.exc.DBAPIError as exc:
            if is_schema_problem(exc):
                raise not_set_up(self.database.shown) from None
            if is_permission_problem(exc):
                raise refused(self.database.shown) from None
            if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
                # The driver's first line names host and reason, never the password.
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
                raise DatabaseUnavailable(
                    f"cannot use the users database at {self.database.shown}: {reason}",
                    hint="check SAMPLECTL_DATABASE_URL and that the server is running",
                ) from None
            raise

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> str:
        """Create or upgrade the schema to the newest revision; returns that revision."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        config = Config()
        config.set_main_option("script_location", "samplectl.stores:migrations")

        def upgrade(conn: sa.Connection) -> str:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            return str(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision())

        return self._run(upgrade)

    def ensure_setting(self, name: str, make: Callable[[], str]) -> bool:
        """Store ``make()`` under ``name`` unless a value is there; True when one was added.

        Two `init`s racing both try; the primary key lets exactly one win.
        """
        def add(conn: sa.Connection) -> bool:
            if conn.execute(sa.select(auth_settings.c.name).where(auth_settings.c.name == name)).first():
                return False
            conn.execute(auth_settings.insert().values(name=name, value=make()))
            return True

        try:
            return self._run(add)
        except sa.exc.IntegrityError:
            return False

    def setting(self, name: str) -> str | None:
        """One stored setting's value (e.g. the sample store's id, see stores.identity)."""
        query = sa.select(auth_settings.c.value).where(auth_settings.c.name == name)
        row = self._run(lambda conn: conn.execute(query).first())
        return None if row is None else str(row[0])

    def settings(self) -> dict[str, str]:
        """The stored signing secret and instance id (what is there of them)."""
        query = sa.select(auth_settings.c.name, auth_settings.c.value).where(
            auth_settings.c.name.in_([SIGNING_SECRET, INSTANCE_ID]))
        return {name: value for name, value in self._run(lambda conn: conn.execute(query).all())}

    # -- accounts ---------------------------------------------------------------------------
    def get(self, username: str) -> Account | None:
        row = self._run(lambda conn: conn.execute(sa.select(users).where(_same_name(username))).first())
        return None if row is None else _account(row)

    def accounts(self) -> list[Account]:
        rows = self._run(lambda conn: conn.execute(sa.select(users).order_by(sa.func.lower(users.c.username))).all())
        return [_account(row) for row in rows]

    def active_admins(self) -> list[str]:
        query = sa.select(users.c.username).where(users.c.role == "admin", users.c.active == sa.true())
        return list(self._run(lambda conn: conn.execute(query).scalars().all()))

    def add(self, username: str, password_hash: str, role: str, now: datetime) -> Account:
        values = dict(username=username, password_hash=password_hash, role=role, active=True, created_at=now,
                      failed_logins=0, locked_until=None, password_changed_at=now)
        try:
            self._run(lambda conn: conn.execute(users.insert().values(**values)))
        except sa.exc.IntegrityError as exc:
            if not _is_duplicate(exc):
                raise
            raise Conflict(f"user {username!r} already exists (usernames ignore case)",
                           hint="choose another name, or see `samplectl users list`") from None
        return Account(**values)  # type: ignore[arg-type]

    def update_keeping_an_admin(self, username: str, **values: Any) -> bool:
        """Like ``update``, but only while another active admin remains; False (nothing changed) otherwise.

        Check and change are one step: two admins disabling each other at the same moment cannot
        both succeed. PostgreSQL: the active admins' rows are locked first, so the second
        transaction waits and then counts what the first left. SQLite: the one UPDATE runs under
        the database's write lock, subquery included.
        """
        others = sa.select(sa.func.count()).select_from(users).where(
            users.c.role == "admin", users.c.active == sa.true(), sa.not_(_same_name(username))
        ).scalar_subquery()
        statement = users.update().where(_same_name(username), others > 0).values(**values)

        def change(conn: sa.Connection) -> bool:
            if conn.dialect.name == "postgresql":
                admins = sa.select(users.c.id).where(users.c.role == "admin", users.c.active == sa.true())
                conn.execute(admins.with_for_update())
            return bool(conn.execute(statement).rowcount)

        return self._run(change)

    def update(self, username: str, **values: Any) -> bool:
        """Change columns of one account; False when there is no such account."""
        result = self._run(lambda conn: conn.execute(users.update().where(_same_name(username)).values(**values)))
        return bool(result.rowcount)

    def reserve_attempt(self, username: str, now: datetime, attempts: int, lock_for: timedelta) -> Account | None:
        """Count a login attempt as failed before its password is checked; None when the account is locked now.

        One conditional UPDATE: of many attempts started together, each gets its own count and
        those past the limit find the account locked without checking the password at all.
        (A right password then clears the count: see AccountService.login.)
        """
        open_now = sa.or_(users.c.locked_until.is_(None), users.c.locked_until <= now)
        expired = sa.and_(users.c.locked_until.is_not(None), users.c.locked_until <= now)
        count = sa.case((expired, 1), else_=users.c.failed_logins + 1)
        lock = sa.case((count >= attempts, now + lock_for), else_=None)
        statement = users.update().where(_same_name(username), open_now).values(failed_logins=count, locked_until=lock)

        def reserve(conn: sa.Connection) -> Any:
            if not conn.execute(statement).rowcount:
                return None
            return conn.execute(sa.select(users).where(_same_name(username))).first()

        row = self._run(reserve)
        return None if row is None else _account(row)

    def record_failure(self, username: str, now: datetime, attempts: int, lock_for: timedelta) -> Account | None:
        """Count one failed login, locking the account at ``attempts`` failures in a row.

        One UPDATE, so concurrent attempts cannot both read the same count. A lock that has run
        out starts the count again.
        """
        expired = sa.and_(users.c.locked_until.is_not(None), users.c.locked_until <= now)
        count = sa.case((expired, 1), else_=users.c.failed_logins + 1)
        lock = sa.case((count >= attempts, now + lock_for), (expired, None), else_=users.c.locked_until)
        statement = users.update().where(_same_name(username)).values(failed_logins=count, locked_until=lock)

        def fail(conn: sa.Connection) -> Any:
            conn.execute(statement)
            return conn.execute(sa.select(users).where(_same_name(username))).first()

        row = self._run(fail)
        return None if row is None else _account(row)

    # -- tokens -----------------------------------------------------------------------------
    def revoke(self, jti: str, username: str, expires_at: datetime, now: datetime) -> None:
        """Refuse this token from now on; forget revocations whose tokens have expired anyway."""
        def revoke(conn: sa.Connection) -> None:
            conn.execute(revoked_tokens.delete().where(revoked_tokens.c.expires_at < now))
            if not conn.execute(sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first():
                conn.execute(revoked_tokens.insert().values(jti=jti, username=username, revoked_at=now,
                                                            expires_at=expires_at))

        self._run(revoke)

    def end_sessions(self, marker: str, username: str, now: datetime, keep_for: timedelta) -> None:
        """Refuse every token of ``username`` issued before ``now`` (``users disable``).

        Kept as a row of revoked_tokens under a ``marker`` id, the one table the everyday database
        role may write besides users; it is kept as long as any token issued before could live.
        """
        def end(conn: sa.Connection) -> None:
            conn.execute(revoked_tokens.delete().where(revoked_tokens.c.jti == marker))
            conn.execute(revoked_tokens.insert().values(jti=marker, username=username, revoked_at=now,
                                                        expires_at=now + keep_for))

        self._run(end)

    def is_revoked(self, jti: str) -> bool:
        query = sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)
        return self._run(lambda conn: conn.execute(query).first()) is not None


def open_user_store(database: UsersDatabase, timeout_ms: int = 3000) -> UserStore:
    from sqlalchemy.pool import NullPool

    if database.kind == "sqlite":
        assert database.path is not None
        from samplectl.private_files import create_private_file, private_dir

        try:
            private_dir(database.path.parent, tighten=True)
            # 0600 before SQLite opens it: it will hold password hashes and the signing secret, and
            # SQLite gives its -wal and -journal files the same mode.
            create_private_file(database.path)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create {database.path.parent}: {exc.strerror}",
                                      hint="check SAMPLECTL_HOME points at a writable directory") from None
        connect_args: dict[str, Any] = {"timeout": 30.0}
    else:
        connect_args = {"connect_timeout": max(1, timeout_ms // 1000), "application_name": "samplectl"}
    # A command opens one connection and exits: no pool to keep warm.
    # hide_parameters: an error message must never carry a password hash or a token id.
    engine = sa.create_engine(database.url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True)
    return UserStore(engine, database)


@contextmanager
def user_store(database: UsersDatabase, timeout_ms: int = 3000) -> Iterator[UserStore]:
    store = open_user_store(database, timeout_ms)
    try:
        yield store
    finally:
        store.close()
