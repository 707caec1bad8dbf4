"""Helpers and fixtures for the login, users and roles tests (imported by those test modules)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import CliRun

ADMIN_PW = "admin-pass-123"
ALICE_PW = "alice-pass-123"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """A token's payload, unverified (to build attacks from a real token)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forge(payload: dict[str, Any], secret: str, algorithm: str = "HS256") -> str:
    import jwt

    return jwt.encode(payload, secret, algorithm=algorithm)


def unsigned(payload: dict[str, Any]) -> str:
    """An `alg: none` token: header and payload, no signature."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def where_the_databases_are() -> dict[str, str]:
    """Environment for reaching this test's databases: in remote mode the server's data directory
    (tests.remote_support), where `init` is run and what tests read behind the commands' back."""
    from tests.remote_support import server_home

    home = server_home()
    return {} if home is None else {"SAMPLECTL_HOME": str(home)}


def databases_settings() -> Any:
    from samplectl.config import load_settings

    return load_settings(dict(os.environ, **where_the_databases_are()))


def stored_secret() -> tuple[str, str]:
    """The signing secret and instance id `init` stored for the current SAMPLECTL_* settings."""
    from samplectl.stores.userdb import locate_users_database
    from samplectl.stores.users import user_store

    with user_store(locate_users_database(databases_settings())) as store:
        values = store.settings()
    return values["jwt_secret"], values["instance_id"]


def good_claims(sub: str = "admin", role: str = "admin", **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC).timestamp()
    claims = {"sub": sub, "role": role, "iat": int(now), "exp": int(now) + 3600, "jti": uuid.uuid4().hex,
              "aud": stored_secret()[1], "pwd": 0}
    claims.update(overrides)
    return claims


def init_admin(cli: CliRun, name: str = "admin", password: str = ADMIN_PW) -> None:
    made = cli("init", "--admin", name, "--password-stdin", input=password + "\n", env=where_the_databases_are())
    assert made.exit_code == 0, made.stderr


def login(cli: CliRun, name: str, password: str) -> Any:
    return cli("login", "-u", name, "--password-stdin", input=password + "\n")


def token_for(cli: CliRun, name: str, password: str) -> str:
    result = cli("login", "-u", name, "--password-stdin", "--print-token", input=password + "\n")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def add_user(cli: CliRun, name: str, role: str, password: str = ALICE_PW) -> None:
    made = cli("users", "add", name, "--role", role, "--password-stdin", input=password + "\n")
    assert made.exit_code == 0, made.stderr


@pytest.fixture
def logged_in_admin(cli: CliRun) -> None:
    """A users database with admin "admin", logged in (token in the fallback file)."""
    init_admin(cli)
    assert login(cli, "admin", ADMIN_PW).exit_code == 0


# -- PostgreSQL ------------------------------------------------------------------------------
# scripts/with-postgres starts one server for the whole run, shared by the pytest-xdist workers. Each test
# gets databases (and roles) of its own, named with its worker's prefix (the run's id and the worker's
# name), so no two workers, and no two runs against one server, ever touch the same ones; and when a
# worker ends it drops whatever its tests left behind (a test that failed half-way, a crashed fixture).
def _admin_url() -> str:
    url = os.environ.get("SAMPLECTL_TEST_DATABASE_URL")
    if not url:
        pytest.skip("set SAMPLECTL_TEST_DATABASE_URL (scripts/test starts a PostgreSQL) to run against PostgreSQL")
    return url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def worker_prefix() -> str:
    """What this worker's databases and roles are named with: t_<run>_<worker>_ (lower case, as PostgreSQL folds)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or uuid.uuid4().hex[:8]
    return f"t_{run}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_".lower()


_PREFIX = worker_prefix()


@pytest.fixture(scope="session", autouse=True)
def postgres_worker_cleanup() -> Iterator[None]:
    """At the end of this worker's session, drop every database and role named with its prefix."""
    yield
    url = os.environ.get("SAMPLECTL_TEST_DATABASE_URL")
    if not url:
        return
    import psycopg

    pattern = _PREFIX.replace("_", r"\_") + "%"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for (name,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)).fetchall():
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def postgres_name() -> str:
    """A new database or role name in this worker's namespace."""
    return _PREFIX + uuid.uuid4().hex[:16]


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; dropped afterwards."""
    import psycopg

    admin = _admin_url()
    name = postgres_name()
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database_owned_by_a_role(password: str) -> Iterator[str]:
    """A fresh database owned by a fresh login role with this password (as deploy/ sets one up)."""
    import psycopg

    admin = _admin_url()
    name = postgres_name()
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {name}')
    host_port = admin.split("@", 1)[1].rpartition("/")[0]
    try:
        yield f"postgresql+psycopg://{name}:{password}@{host_port}/{name}"
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


USERS_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=USERS_BACKENDS)
def users_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test on the embedded SQLite users database, then on PostgreSQL."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    with fresh_postgres_database() as url:
        monkeypatch.setenv("SAMPLECTL_DATABASE_URL", url)
        yield "postgres"


# -- a real OS keyring -------------------------------------------------------------------------
@pytest.fixture
def real_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Secret Service keyring scripts/with-keyring starts (gnome-keyring in a D-Bus session)."""
    if not os.environ.get("SAMPLECTL_TEST_KEYRING") or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.skip("no real keyring: run the tests through scripts/test (scripts/with-keyring)")
    import keyring
    from keyring.backends import SecretService, fail

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    backend = SecretService.Keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(fail.Keyring())


def future(hours: float) -> float:
    return (datetime.now(UTC) + timedelta(hours=hours)).timestamp()
