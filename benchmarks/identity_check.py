"""What checking the login token costs each command, measured in fresh processes (as commands run).

For each setup it starts N processes that import samplectl's CLI context, then time
`AppContext().identity()` — reading the token, checking signature/expiry/algorithm, and looking up
revocation, account and password change — cold (imports included) and then warm (a second check in
the same process). For comparison it times the same look-ups done through SQLAlchemy Core.

Setups: SAMPLECTL_TOKEN, the token file (no keyring), the OS keyring when a Secret Service is
running (DBUS_SESSION_BUS_ADDRESS), and PostgreSQL when SAMPLECTL_TEST_DATABASE_URL is set.

Usage: python benchmarks/identity_check.py [N]   (default 15; run under scripts/with-postgres and
       scripts/with-keyring to include those setups)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import uuid

PASSWORD = "bench-password-1"

PROBE = """
import time, json
from samplectl.cli.context import AppContext
started = time.perf_counter()
AppContext().identity()
cold = time.perf_counter() - started
started = time.perf_counter()
AppContext().identity()
warm = time.perf_counter() - started
print(json.dumps([cold, warm]))
"""

# The same three look-ups and the JWT check, through SQLAlchemy Core instead of the DB-API driver.
SQLALCHEMY_PROBE = """
import time, json
from samplectl.cli.context import AppContext
started = time.perf_counter()
ctx = AppContext()
cached = ctx.token_cache().load()
from samplectl.services import tokens
from samplectl.stores.users import open_user_store
store = open_user_store(ctx.services.users_database)
claims = tokens.read(cached.token, tokens.signing_key(ctx.settings.jwt_secret, store.settings(), "x"))
store.is_revoked(claims.jti); store.get(claims.sub); store.close()
print(json.dumps([time.perf_counter() - started, 0]))
"""


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, *args], env=env, input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr}")
    return result.stdout


def measure(name: str, env: dict[str, str], probe: str, n: int) -> None:
    import json

    colds, warms = [], []
    for _ in range(n):
        cold, warm = json.loads(run(["-c", probe], env))
        colds.append(cold * 1000)
        warms.append(warm * 1000)
    print(f"| {name} | {statistics.median(colds):.1f} ms | {statistics.median(warms):.1f} ms |")


def setup(base: dict[str, str]) -> str:
    run(["-m", "samplectl", "init", "--admin", "admin", "--password-stdin"], base, PASSWORD + "\n")
    return run(["-m", "samplectl", "login", "-u", "admin", "--password-stdin", "--print-token"], base,
               PASSWORD + "\n").strip()


def main(n: int) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_")}
    base.update(SAMPLECTL_HOME=tempfile.mkdtemp(prefix="samplectl-bench-"), SAMPLECTL_BCRYPT_ROUNDS="4")
    no_keyring = dict(base, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    token = setup(no_keyring)
    print("| setup | first check in a process (cold, imports included) | a second check (warm) |")
    print("|---|---|---|")
    measure("SQLite, SAMPLECTL_TOKEN", dict(no_keyring, SAMPLECTL_TOKEN=token), PROBE, n)
    run(["-m", "samplectl", "login", "-u", "admin", "--password-stdin"], no_keyring, PASSWORD + "\n")
    measure("SQLite, token file (no keyring)", no_keyring, PROBE, n)
    measure("SQLite, token file, via SQLAlchemy Core (not used)", no_keyring, SQLALCHEMY_PROBE, n)
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        keyring_env = dict(base)
        run(["-m", "samplectl", "logout"], no_keyring)
        run(["-m", "samplectl", "login", "-u", "admin", "--password-stdin"], keyring_env, PASSWORD + "\n")
        measure("SQLite, OS keyring (Secret Service)", keyring_env, PROBE, n)
    pg = os.environ.get("SAMPLECTL_TEST_DATABASE_URL")
    if pg:
        import psycopg

        name = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(pg.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        pg_env = dict(no_keyring, SAMPLECTL_DATABASE_URL=pg.rpartition("/")[0] + "/" + name)
        pg_env["SAMPLECTL_HOME"] = tempfile.mkdtemp(prefix="samplectl-bench-")
        pg_env["SAMPLECTL_TOKEN"] = setup({k: v for k, v in pg_env.items() if k != "SAMPLECTL_TOKEN"})
        measure("PostgreSQL, SAMPLECTL_TOKEN", pg_env, PROBE, n)
        measure("PostgreSQL, via SQLAlchemy Core (not used)", pg_env, SQLALCHEMY_PROBE, n)
        with psycopg.connect(pg.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
