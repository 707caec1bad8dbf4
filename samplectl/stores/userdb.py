"""Where the users database is: its URL, its kind, and how it is named in messages and the keyring.

Standard library only: the per-command identity check reads this without importing SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from samplectl.config import Settings, escape_password, mask_uri
from samplectl.domain.errors import AuthError, DatabaseUnavailable, ValidationFailed

POSTGRES_SCHEMES = ("postgresql+psycopg", "postgresql", "postgres")


@dataclass(frozen=True)
class UsersDatabase:
    url: str  # the SQLAlchemy URL (may hold a password: never print it)
    kind: str  # "sqlite" or "postgresql"
    path: Path | None = None  # the SQLite file

    @property
    def shown(self) -> str:
        """The URL fit for messages: password masked."""
        return mask_uri(self.url)

    @property
    def key(self) -> str:
        """One name per users database, whoever connects to it: the keyring entry and token file."""
        if self.kind == "sqlite":
            return f"sqlite:{self.path}"
        parts = urlsplit(self.url)
        return f"postgresql://{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"

    @property
    def libpq_url(self) -> str:
        """The same PostgreSQL URL as libpq (psycopg) reads it, for the light identity check."""
        return urlunsplit(urlsplit(self.url)._replace(scheme="postgresql"))


def locate_users_database(settings: Settings) -> UsersDatabase:
    url = escape_password(settings.users_url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValidationFailed(
            "SAMPLECTL_DATABASE_URL is not a URL",
            hint="use postgresql+psycopg://user:password@host:5432/samplectl (or leave it unset for SQLite)",
        )
    scheme = scheme.lower()
    if scheme in POSTGRES_SCHEMES:
        # psycopg 3 is the driver samplectl ships with; plain postgresql:// would ask for psycopg2.
        return UsersDatabase(url="postgresql+psycopg://" + rest, kind="postgresql")
    if scheme in ("sqlite", "sqlite+pysqlite"):
        raw = unquote(urlsplit(url).path)
        path = raw[1:] if raw.startswith("/") else raw
        if not path or path == ":memory:":
            raise ValidationFailed("the users database cannot be in memory", hint="give a file: sqlite:////path/users.db")
        absolute = Path(path).expanduser().resolve()
        return UsersDatabase(url=f"sqlite:///{absolute}", kind="sqlite", path=absolute)
    raise ValidationFailed(
        f"SAMPLECTL_DATABASE_URL uses {scheme!r}, which samplectl does not support",
        hint="use postgresql+psycopg://user:password@host:5432/samplectl (or leave it unset for SQLite)",
    )


def not_set_up(where: str) -> AuthError:
    return AuthError(
        f"the users database at {where} is not set up (or its schema is out of date)",
        hint="run samplectl init --admin NAME (it creates or migrates the schema)",
    )


def is_schema_problem(exc: BaseException) -> bool:
    """A missing table or column: the database predates this samplectl's schema."""
    orig = getattr(exc, "orig", exc)
    # 42P01 undefined table, 42703 undefined column (PostgreSQL); SQLite says it in words.
    if getattr(orig, "sqlstate", None) in ("42P01", "42703"):
        return True
    text = str(orig)
    return "no such table" in text or "no such column" in text


def is_permission_problem(exc: BaseException) -> bool:
    """The database user may not do this (PostgreSQL 42501), e.g. an everyday role running init."""
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "42501"


def refused(where: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the users database at {where} refused this operation to its database user (permission denied)",
        hint="`samplectl init` needs the schema owner's credentials; see docs/security.md (threat model) for the grants",
    )
