"""`samplectl doctor`: the setup checked step by step, each problem with what to do about it.

Each check is a function returning a ``Check``; none of them creates or changes anything (a
fresh machine stays fresh), and each catches its own failures so that one broken part does not
hide the state of the others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from samplectl.config import Settings, config_path, load_settings
from samplectl.domain.errors import SamplectlError

CLOCK_SKEW_SECONDS = 60  # tokens expire by the clock: a minute off is worth a word


OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    check: str
    status: str  # ok, warn (works, but worth fixing), fail
    detail: str
    fix: str | None = None
    unreachable: bool = False  # a database or server that cannot be reached (exit 8 rather than 6)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["unreachable"]
        return out


def run_checks(env: dict[str, str] | None = None) -> Iterator[Check]:
    env = dict(os.environ if env is None else env)
    try:
        settings = load_settings(env)
    except SamplectlError as exc:
        yield Check("settings", FAIL, exc.message, exc.hint or "fix the setting named above")
        return
    yield Check("settings", OK, f"config file {settings.config_file}"
                + ("" if settings.config_file and settings.config_file.exists() else " (none: defaults)"))
    steps: list[tuple[str, Callable[[], Check]]]
    if settings.remote:  # the server holds the stores: what this machine needs is the server, not init
        answer: dict[str, Any] = {}
        steps = [("server", lambda: _server(settings, answer)), ("keyring", lambda: _keyring(settings)),
                 ("file permissions", lambda: _permissions(settings, env)),
                 ("clock", lambda: _server_clock(settings, answer.get("date")))]
    else:
        steps = [("users database", lambda: _users_database(settings)),
                 ("sample store", lambda: _sample_store(settings)), ("keyring", lambda: _keyring(settings)),
                 ("file permissions", lambda: _permissions(settings, env)), ("clock", lambda: _clock(settings))]
    if settings.log_file:
        log_file = settings.log_file
        steps.append(("log file", lambda: _log_file(log_file)))
    for name, step in steps:
        try:
            yield step()
        except SamplectlError as exc:
            yield Check(name, FAIL, exc.message, exc.hint, unreachable=int(exc.exit_code) == 8)
        except Exception as exc:  # noqa: BLE001 - a check that breaks is a failed check, never a crash
            yield Check(name, FAIL, f"{type(exc).__name__}: {exc}"[:300], "run again with --debug for details")


def _users_database(settings: Settings) -> Check:
    from samplectl.stores.userdb import locate_users_database

    database = locate_users_database(settings)
    name = "users database"
    if database.kind == "sqlite" and database.path is not None and not database.path.exists():
        return Check(name, FAIL, f"{database.shown} does not exist yet", "run samplectl init --admin NAME")
    import sqlalchemy as sa
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.pool import NullPool

    from samplectl.stores.users import VERSION_TABLE

    connect_args: dict[str, Any] = {} if database.kind == "sqlite" else {
        "connect_timeout": max(1, settings.server_timeout_ms // 1000)}
    url = database.url if database.kind != "sqlite" else f"sqlite:///file:{database.path}?mode=ro&uri=true"
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return Check(name, FAIL, f"cannot reach {database.shown}: {reason}",
                     "check SAMPLECTL_DATABASE_URL and that the server is running", unreachable=True)
    finally:
        engine.dispose()
    config = Config()
    config.set_main_option("script_location", "samplectl.stores:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    if current != head:
        return Check(name, FAIL, f"{database.shown}: schema {current or 'none'}, this samplectl needs {head}",
                     "run samplectl init (it migrates the schema)")
    return Check(name, OK, f"{database.shown} (schema {current}, current)")


def _sample_store(settings: Settings) -> Check:
    name = "sample store"
    if settings.embedded:
        if not settings.samples_path.exists():
            return Check(name, FAIL, f"embedded store {settings.samples_path} does not exist yet",
                         "run samplectl init --admin NAME")
        return Check(name, OK, f"embedded store {settings.samples_path}")
    from samplectl.config import mask_uri

    shown = mask_uri(settings.mongodb_uri or "")
    try:
        _mongo_command(settings, "ping")
    except SamplectlError as exc:
        return Check(name, FAIL, f"{shown}: {exc.message}", exc.hint or "check SAMPLECTL_MONGODB_URI",
                     unreachable=True)
    except Exception as exc:  # noqa: BLE001 - any driver failure means "not reachable"
        return Check(name, FAIL, f"cannot reach {shown}: {type(exc).__name__}",
                     "check SAMPLECTL_MONGODB_URI and that the server is running", unreachable=True)
    return Check(name, OK, f"MongoDB {shown}, database {settings.mongodb_db}")


def _mongo_command(settings: Settings, command: str) -> dict[str, Any]:
    """One server command (ping, hello) on a connection of its own, closed at once."""
    from samplectl.stores.mongo.engine import connect

    client, db, _where = connect(settings.mongodb_uri or "", settings.mongodb_db, settings.server_timeout_ms)
    try:
        return dict(db.command(command))
    finally:
        client.close()


def _keyring(settings: Settings) -> Check:
    name = "keyring"
    if settings.token:
        return Check(name, OK, "SAMPLECTL_TOKEN is set: the keyring is not used")
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return Check(name, WARN, "no OS keyring is available: logins are kept in a private file (0600) instead",
                     "install and unlock a keyring (e.g. gnome-keyring or KWallet), or set SAMPLECTL_TOKEN in scripts")
    return Check(name, OK, f"{type(backend).__module__}.{type(backend).__name__}")


def _permissions(settings: Settings, env: dict[str, str]) -> Check:
    """Everything samplectl keeps is its owner's alone: directories 0700, files 0600."""
    loose = []
    paths: list[Path] = []
    if settings.home.exists():
        paths.append(settings.home)
        paths.extend(p for p in settings.home.rglob("*"))
    config = config_path(env)
    if config.exists():
        paths.append(config)
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_IMODE(mode) & 0o077 and not stat.S_ISLNK(mode):
            loose.append(f"{path} ({stat.S_IMODE(mode):o})")
    if loose:
        shown = ", ".join(loose[:3]) + (f" and {len(loose) - 3} more" if len(loose) > 3 else "")
        return Check("file permissions", FAIL, f"readable by others: {shown}",
                     f"chmod -R go-rwx {settings.home}" + (f" {config}" if config.exists() else ""))
    return Check("file permissions", OK, f"{len(paths)} files and directories private to their owner")


def _clock(settings: Settings) -> Check:
    """Tokens expire by the clock and audit records carry its time: it must be right, and the zone known."""
    zone = settings.tzinfo()
    if settings.embedded:
        return Check("clock", OK, f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, time zone {zone} "
                     "(no server to compare with)")
    server_time = _mongo_command(settings, "hello").get("localTime")
    if server_time is None:
        return Check("clock", OK, f"time zone {zone} (the server does not tell its time)")
    return _skew(server_time if server_time.tzinfo else server_time.replace(tzinfo=UTC), zone, "database server")


def _server_clock(settings: Settings, date: str | None) -> Check:
    """The clock against the samplectl server's (its answer's Date header, to the second)."""
    from email.utils import parsedate_to_datetime

    zone = settings.tzinfo()
    if not date:
        return Check("clock", OK, f"time zone {zone} (the server's time is not known: it did not answer)")
    try:
        theirs = parsedate_to_datetime(date)
        # "-0000" (UTC, said without conviction) parses without a zone: Date headers are in GMT.
        theirs = theirs.astimezone(UTC) if theirs.tzinfo else theirs.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):  # a Date header that is not a date: nothing to compare with
        return Check("clock", OK, f"time zone {zone} (the server's time is not known: its Date header "
                     f"{date[:40]!r} is not a date)")
    return _skew(theirs, zone, "samplectl server")


def _skew(theirs: datetime, zone: Any, whose: str) -> Check:
    skew = (datetime.now(UTC) - theirs).total_seconds()
    if abs(skew) > CLOCK_SKEW_SECONDS:
        return Check("clock", FAIL, f"this machine's clock is {skew:+.0f} s off the {whose}'s",
                     "turn on time synchronisation (timedatectl set-ntp true)")
    return Check("clock", OK, f"within {abs(skew):.0f} s of the {whose}; time zone {zone}")


def _log_file(path: str) -> Check:
    from samplectl.logs import check_log_file

    check_log_file(path)  # exit 6's message and hint become the failed check's
    return Check("log file", OK, f"{path} can be written")


def _server(settings: Settings, answer: dict[str, Any]) -> Check:
    """The server reached as every command reaches it (remote.client: its address rules, TLS with the
    lab's CA, the timeout), and ready: its /readyz answers once both of its stores do."""
    from samplectl.remote.address import server_address
    from samplectl.remote.client import ApiClient

    address = server_address(settings.server or "")
    client = ApiClient(address, timeout_ms=settings.server_timeout_ms, ca_bundle=settings.ca_bundle)
    try:
        response = client.request("GET", "/readyz")  # an error is raised as the commands would raise it
        client.object_of(response, ("status",))  # another web server answering 200 is not ready either
    finally:
        client.close()
    answer["date"] = response.headers.get("Date")
    return Check("server", OK, f"{address} answers; its sample store and users database are ready")
