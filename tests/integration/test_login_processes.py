"""Login as real processes: the acceptance walk-through, the real OS keyring and its fallback,
PostgreSQL, and passwords kept out of `ps`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_samplectl
from tests.login_support import ADMIN_PW, ALICE_PW, postgres_name

pytestmark = pytest.mark.slow  # every test here runs samplectl as real processes

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14T09:30", "--location", "FRZ-1/R1"]


def samplectl(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return run_samplectl(*args, input=stdin, env=env)


def shell(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A script as a lab admin would write it, with `samplectl` on the PATH."""
    bindir = Path(sys.executable).parent
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", **env})


def walk_through(**env: str) -> None:
    """The issue's acceptance, as a new user would try it."""
    made = samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n", **env)
    assert made.returncode == 0, made.stderr
    logged = samplectl("login", "-u", "admin", "--password-stdin", stdin=ADMIN_PW + "\n", **env)
    assert logged.returncode == 0, logged.stderr
    created = samplectl("create", *BLOOD, "-o", "json", **env)
    assert created.returncode == 0, created.stderr
    assert samplectl("list", **env).returncode == 0
    assert samplectl("logout", **env).returncode == 0
    refused = samplectl("list", **env)
    assert refused.returncode == 3
    assert "hint: run samplectl login" in refused.stderr
    for result in (made, logged, created, refused):
        assert ADMIN_PW not in result.stdout + result.stderr


def test_acceptance_on_the_embedded_default() -> None:
    walk_through()


@pytest.mark.postgres
def test_acceptance_on_postgresql(postgres_url: str) -> None:
    walk_through(SAMPLECTL_DATABASE_URL=postgres_url)
    # Users, roles and logins all live in PostgreSQL: nothing was made in the SQLite default.
    from samplectl.config import load_settings

    assert not (load_settings().home / "users.db").exists()
    masked = samplectl("whoami", SAMPLECTL_DATABASE_URL=postgres_url)
    assert masked.returncode == 3
    assert postgres_url.split(":")[2].split("@")[0] not in masked.stderr  # the password


def test_a_script_logs_in_with_password_stdin_and_users_list_shows_roles() -> None:
    samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    script = """
      set -e
      printf '%s\\n' "$ADMIN_PW" | samplectl login -u admin --password-stdin
      printf '%s\\n' "$PW" | samplectl users add alice --role technician --password-stdin >/dev/null
      printf '%s\\n' "$PW" | samplectl login -u alice --password-stdin
      samplectl whoami -o json
    """
    result = shell(script, ADMIN_PW=ADMIN_PW, PW=ALICE_PW)
    assert result.returncode == 0, result.stderr
    assert '"username": "alice"' in result.stdout and '"role": "technician"' in result.stdout
    assert ALICE_PW not in result.stdout + result.stderr


def test_the_password_is_never_in_the_process_arguments() -> None:
    samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "samplectl", "login", "-u", "admin", "--password-stdin"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(0.3)  # samplectl is running and waiting for its stdin: what would `ps` show?
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
    environ = Path(f"/proc/{proc.pid}/environ").read_bytes().decode(errors="replace")
    out, err = proc.communicate(ADMIN_PW + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert "--password-stdin" in cmdline
    assert ADMIN_PW not in cmdline and ADMIN_PW not in environ


# -- the token cache -----------------------------------------------------------------------------
def test_without_a_keyring_the_token_goes_to_an_owner_only_file_and_says_so() -> None:
    samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    logged = samplectl("login", "-u", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    assert logged.returncode == 0
    assert logged.stderr.startswith("warning: no OS keyring is available; the token is kept in ")
    where = samplectl("whoami", "-o", "json")
    import json

    stored_in = json.loads(where.stdout)["token_stored_in"]
    path = Path(stored_in.removeprefix("file "))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert samplectl("logout").returncode == 0
    assert not path.exists()


@pytest.mark.keyring
def test_with_a_real_keyring_the_token_lives_there(real_keyring: Any) -> None:
    from samplectl.config import load_settings
    from samplectl.stores.userdb import locate_users_database

    key = locate_users_database(load_settings()).key
    samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    logged = samplectl("login", "-u", "admin", "--password-stdin", stdin=ADMIN_PW + "\n")
    assert logged.returncode == 0, logged.stderr
    assert "warning" not in logged.stderr
    token = real_keyring.get_password("samplectl", key)
    assert token and token.count(".") == 2
    assert not (load_settings().home / "tokens").exists() or not any((load_settings().home / "tokens").iterdir())
    who = samplectl("whoami", "-o", "json")
    assert who.returncode == 0 and "OS keyring (SecretService" in who.stdout
    assert samplectl("create", *BLOOD).returncode == 0
    assert samplectl("logout").returncode == 0
    assert real_keyring.get_password("samplectl", key) is None
    assert samplectl("list").returncode == 3
    # The token was revoked, not only forgotten.
    assert samplectl("list", SAMPLECTL_TOKEN=token).returncode == 3


@pytest.mark.keyring
def test_each_users_database_has_its_own_keyring_entry(real_keyring: Any, tmp_path: Path) -> None:
    other = {"SAMPLECTL_DATABASE_URL": f"sqlite:///{tmp_path / 'other-users.db'}"}
    for env in ({}, other):
        samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n", **env)
        assert samplectl("login", "-u", "admin", "--password-stdin", stdin=ADMIN_PW + "\n", **env).returncode == 0
    assert samplectl("logout", **other).returncode == 0
    assert samplectl("list").returncode == 0  # the default database's login is untouched
    assert samplectl("list", **other).returncode == 3


@pytest.mark.postgres
def test_everyday_use_works_with_the_least_privileged_database_role(postgres_url: str) -> None:
    """The grants docs/security.md's threat model recommends are enough for everything but `init`."""
    import uuid

    import psycopg

    assert samplectl("init", "--admin", "admin", "--password-stdin", stdin=ADMIN_PW + "\n",
                     SAMPLECTL_DATABASE_URL=postgres_url).returncode == 0
    role, secret = postgres_name(), uuid.uuid4().hex  # in this worker's namespace: dropped at its end if left
    owner = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON users TO {role}")
        conn.execute(f"GRANT USAGE ON SEQUENCE users_id_seq TO {role}")
        conn.execute(f"GRANT SELECT, INSERT, DELETE ON revoked_tokens TO {role}")
        conn.execute(f"GRANT SELECT ON auth_settings TO {role}")
    try:
        host_db = postgres_url.split("@", 1)[1]
        app = {"SAMPLECTL_DATABASE_URL": f"postgresql+psycopg://{role}:{secret}@{host_db}"}
        assert samplectl("login", "-u", "admin", "--password-stdin", stdin=ADMIN_PW + "\n", **app).returncode == 0
        for args in (["users", "add", "alice", "--role", "technician", "--password-stdin"],
                     ["users", "passwd", "alice", "--password-stdin"]):
            done = samplectl(*args, stdin=ALICE_PW + "\n", **app)
            assert done.returncode == 0, done.stderr
        assert samplectl("login", "-u", "alice", "--password-stdin", stdin="wrong-password\n", **app).returncode == 3
        assert samplectl("users", "disable", "alice", **app).returncode == 0
        assert samplectl("create", *BLOOD, **app).returncode == 0
        assert samplectl("logout", **app).returncode == 0
        assert samplectl("list", **app).returncode == 3
        # What it may not do: change the schema.
        refused = samplectl("init", **app)
        assert refused.returncode == 8 and "permission denied" in refused.stderr
        assert secret not in refused.stderr and "Traceback" not in refused.stderr
    finally:
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_the_per_command_check_does_not_import_sqlalchemy(process_env: dict[str, str]) -> None:
    probe = ("import sys; from samplectl.cli.context import AppContext; who = AppContext().identity(); "
             "print(who.username, who.role, 'sqlalchemy' in sys.modules, 'alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, **process_env}, timeout=60, check=False)
    assert result.stdout.split() == ["admin", "admin", "False", "False"], result.stderr
