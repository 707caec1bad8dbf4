"""No secret reaches stdout, stderr or a log file, even at the highest verbosity with --debug.

`run_and_scan` runs samplectl as a real process with `--debug -vvv --log-file` and fails if any of
SECRETS shows up anywhere. To cover a new command (login, import...), add its secrets to SECRETS (or
pass extra ones) and call `run_and_scan` with its arguments and input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

MONGO_PASSWORD = "Mongo-Pw-9f3k2"
PG_PASSWORD = "Pg-Pw-77aa1"
CONFIG_PASSWORD = "Config-Pw-31x8"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2ZXJhIiwicm9sZSI6ImFkbWluIn0.dG9rZW4tc2lnbmF0dXJlLWJ5dGVz"
JWT_SECRET = "jwt-signing-secret-5521-kept-out-of-logs"  # at least 32 bytes, as samplectl requires
ADMIN_PASSWORD = "Admin-Pw-4q8z1"
SECRETS = (MONGO_PASSWORD, PG_PASSWORD, CONFIG_PASSWORD, TOKEN, JWT_SECRET)

# Secrets every scenario carries in its environment, as a script on a lab machine would.
SECRET_ENV = {
    "SAMPLECTL_TOKEN": TOKEN,
    "SAMPLECTL_JWT_SECRET": JWT_SECRET,
    "SAMPLECTL_DATABASE_URL": f"postgresql+psycopg://samplectl:{PG_PASSWORD}@127.0.0.1:{free_port()}/samplectl",
}


def run_and_scan(tmp_path: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None,
                 secrets: tuple[str, ...] = SECRETS) -> subprocess.CompletedProcess[str]:
    """samplectl --debug -vvv --log-file LOG ARGS, as a process; assert no secret in stdout, stderr or LOG."""
    log_file = tmp_path / "scan.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "samplectl", "--debug", "-vvv", "--log-file", str(log_file), *args],
        input=input, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **SECRET_ENV, **(env or {})},
    )
    logged = log_file.read_text() if log_file.exists() else ""
    for secret in secrets:
        for where, text in (("stdout", done.stdout), ("stderr", done.stderr), ("log file", logged)):
            assert secret not in text, f"`samplectl {' '.join(args)}` leaked {secret!r} on {where}:\n{text}"
    assert logged, "the run wrote no log at all: the scan proved nothing"
    return done


@pytest.fixture
def users_database(tmp_path: Path) -> Iterator[str]:
    """A users database the happy paths can log in to: on PostgreSQL (when the suite has one), through a
    role whose password is PG_PASSWORD, so that password travels in every real connection; else SQLite."""
    if not os.environ.get("SAMPLECTL_TEST_DATABASE_URL"):
        yield f"sqlite:///{tmp_path / 'users.db'}"
        return
    from tests.login_support import postgres_database_owned_by_a_role

    with postgres_database_owned_by_a_role(PG_PASSWORD) as url:
        yield url


def logged_in(tmp_path: Path, users_url: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """`init --admin` and `login`, scanned; the environment and secrets for the commands that follow."""
    env = {"SAMPLECTL_DATABASE_URL": users_url}
    secrets = SECRETS + (ADMIN_PASSWORD,)
    for args in (("init", "--admin", "admin", "--password-stdin"), ("login", "-u", "admin", "--password-stdin")):
        done = run_and_scan(tmp_path, *args, env=env, input=ADMIN_PASSWORD + "\n", secrets=secrets)
        assert done.returncode == 0, done.stderr
    # The token itself comes from --print-token (which prints it on purpose, so is not scanned).
    token = subprocess.run([sys.executable, "-m", "samplectl", "login", "-u", "admin", "--password-stdin",
                            "--print-token"], input=ADMIN_PASSWORD + "\n", capture_output=True, text=True,
                           env={**os.environ, **SECRET_ENV, **env}, timeout=60, check=True).stdout.strip()
    return {**env, "SAMPLECTL_TOKEN": token}, secrets + (token,)


@pytest.mark.slow
@pytest.mark.wire
def test_every_sample_command_against_mongodb_keeps_secrets(tmp_path: Path, wire_env: str, users_database: str) -> None:
    # The wire server takes no password, so the happy path runs here with the drivers' debug logs on.
    env, secrets = logged_in(tmp_path, users_database)
    created = run_and_scan(tmp_path, "create", "--type", "blood", "--subject", "S-1", "--collected", "2025-01-02",
                           "--location", "FRZ-1/R1", "-o", "json", env=env, secrets=secrets)
    assert created.returncode == 0, created.stderr
    sample_id = created.stdout.split('"sample_id": "')[1].split('"')[0]
    for args in (("get", sample_id), ("list",), ("filter", "--status", "collected", "--count"),
                 ("update", sample_id, "--status", "processing", "--reason", "aliquoted"),
                 ("delete", sample_id, "--yes", "--reason", "test"), ("whoami",), ("users", "list"), ("logout",)):
        done = run_and_scan(tmp_path, *args, env=env, secrets=secrets)
        assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_embedded_store_commands_keep_secrets(tmp_path: Path, users_database: str) -> None:
    env, secrets = logged_in(tmp_path, users_database)
    assert run_and_scan(tmp_path, "list", "-o", "jsonl", env=env, secrets=secrets).returncode == 0
    assert run_and_scan(tmp_path, "get", "missing", env=env, secrets=secrets).returncode == 5
    added = run_and_scan(tmp_path, "users", "add", "alice", "--role", "viewer", "--password-stdin", env=env,
                         input="Alice-Pw-0k2m9\n", secrets=secrets + ("Alice-Pw-0k2m9",))
    assert added.returncode == 0, added.stderr
    wrong = run_and_scan(tmp_path, "login", "-u", "alice", "--password-stdin", env=env, input="Typo-Pw-3v7c1\n",
                         secrets=secrets + ("Typo-Pw-3v7c1",))
    assert wrong.returncode == 3


@pytest.mark.slow
def test_a_bad_token_is_refused_without_echoing_it(tmp_path: Path, users_database: str) -> None:
    env, secrets = logged_in(tmp_path, users_database)
    done = run_and_scan(tmp_path, "list", env={**env, "SAMPLECTL_TOKEN": TOKEN}, secrets=secrets)
    assert done.returncode == 3


def test_unreachable_mongodb_with_a_password_in_the_uri(tmp_path: Path) -> None:
    uri = f"mongodb://samplectl:{MONGO_PASSWORD}@127.0.0.1:{free_port()}/?authSource=samplectl"
    done = run_and_scan(tmp_path, "list", env={"SAMPLECTL_MONGODB_URI": uri, "SAMPLECTL_SERVER_TIMEOUT_MS": "300"})
    assert done.returncode == 8
    assert "mongodb://samplectl:***@127.0.0.1" in done.stderr


def test_a_password_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'mongodb_uri = "mongodb://lab:{CONFIG_PASSWORD}@127.0.0.1:{free_port()}/"\n')
    done = run_and_scan(tmp_path, "get", "S-1",
                        env={"SAMPLECTL_CONFIG": str(config), "SAMPLECTL_SERVER_TIMEOUT_MS": "300"})
    assert done.returncode == 8


def test_a_malformed_uri_with_a_password(tmp_path: Path) -> None:
    # pymongo's own error message would quote the URI: it must not reach the user or the log.
    done = run_and_scan(tmp_path, "list",
                        env={"SAMPLECTL_MONGODB_URI": f"mongodb://u:{MONGO_PASSWORD}@host:notaport/"})
    assert done.returncode == 8


def test_debug_traceback_of_an_unexpected_error_is_redacted(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from samplectl.services.samples import SampleService

    uri = f"mongodb://lab:{MONGO_PASSWORD}@db.lab:27017/"

    def explode(self: object, sample_id: str) -> None:
        raise RuntimeError(f"driver failed talking to {uri} with token {TOKEN}")

    monkeypatch.setattr(SampleService, "get", explode)
    for flags in (("--debug",), ()):
        out = cli(*flags, "-vv", "get", "S-1")
        assert out.exit_code == 1
        assert MONGO_PASSWORD not in out.stderr and TOKEN not in out.stderr
        assert "mongodb://lab:***@db.lab:27017/" in out.stderr
    assert "Traceback" in cli("--debug", "get", "S-1").stderr


def test_a_driver_logging_secrets_is_masked_on_the_terminal_and_in_the_file(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Drivers log what they like at -vvv; the handlers samplectl installs mask it before writing.
    import logging

    from samplectl.services.samples import SampleService

    def chatty(self: object, sample_id: str) -> dict[str, str]:
        logging.getLogger("pymongo.command").debug(
            "connecting to %s, auth %s", f"mongodb://lab:{MONGO_PASSWORD}@db.lab/", {"password": PG_PASSWORD})
        logging.getLogger("sqlalchemy.engine").info("token=%s secret %s", TOKEN, JWT_SECRET)
        raise RuntimeError("stop here")

    monkeypatch.setattr(SampleService, "get", chatty)
    # The command runs logged in for real (the test's own login), with the signing secret in its environment.
    monkeypatch.setenv("SAMPLECTL_JWT_SECRET", JWT_SECRET)
    log_file = tmp_path / "x.jsonl"
    out = cli("-vvv", "--log-file", str(log_file), "get", "S-1")
    logged = log_file.read_text()
    assert "pymongo.command" in out.stderr and "sqlalchemy.engine" in logged
    for secret in SECRETS[:2] + SECRETS[3:]:
        assert secret not in out.stderr and secret not in logged


def test_masking_does_not_garble_an_ordinary_error_about_a_token_setting(cli) -> None:
    out = cli("list", env={"SAMPLECTL_TOKEN_LIFETIME_HOURS": "abc"})
    assert out.exit_code == 6
    assert out.stderr.splitlines()[0] == (
        "error: environment SAMPLECTL_TOKEN_LIFETIME_HOURS: token_lifetime_hours = 'abc' is not a valid number")


@pytest.mark.slow
def test_import_export_and_undo_keep_secrets(tmp_path: Path, users_database: str) -> None:
    """The issue's acceptance: `samplectl -vv import big.csv --log-file x.jsonl` leaves no secret anywhere."""
    env, secrets = logged_in(tmp_path, users_database)
    big = tmp_path / "big.csv"
    rows = [f"IMP-{i:04d},blood,SUBJ-{i % 7},2025-01-0{1 + i % 9},FRZ-1/R{i % 4}" for i in range(500)]
    big.write_text("sample_id,sample_type,subject_id,collection_date,storage_location\n" + "\n".join(rows) + "\n")
    imported = run_and_scan(tmp_path, "import", str(big), "-o", "json", env=env, secrets=secrets)
    assert imported.returncode == 0, imported.stderr
    batch_id = json.loads(imported.stdout)["batch_id"]
    exported = run_and_scan(tmp_path, "export", "-o", "csv", "--file", str(tmp_path / "out.csv"), env=env, secrets=secrets)
    assert exported.returncode == 0, exported.stderr
    undone = run_and_scan(tmp_path, "import", "undo", batch_id, "--yes", env=env, secrets=secrets)
    assert undone.returncode == 0, undone.stderr


@pytest.mark.slow
@pytest.mark.real_auth
def test_remote_mode_keeps_the_password_and_the_token_out_of_output_and_logs(tmp_path: Path, live_server: Any) -> None:
    """Through a real `samplectl serve` (remote mode): the password goes to the server, the token with every
    request, and httpx logs every request at -vvv; neither appears on stdout, stderr or in the log."""
    from tests.support.logins import TEST_PASSWORD

    secrets = SECRETS + (TEST_PASSWORD,)
    done = run_and_scan(tmp_path, "login", "-u", "tester", "--password-stdin", input=TEST_PASSWORD + "\n",
                        secrets=secrets)
    assert done.returncode == 0, done.stderr
    token = subprocess.run([sys.executable, "-m", "samplectl", "login", "-u", "tester", "--password-stdin",
                            "--print-token"], input=TEST_PASSWORD + "\n", capture_output=True, text=True,
                           env={**os.environ, **SECRET_ENV}, timeout=60, check=True).stdout.strip()
    env, secrets = {"SAMPLECTL_TOKEN": token}, secrets + (token,)
    big = tmp_path / "few.csv"
    big.write_text("sample_id,sample_type,subject_id,collection_date\n"
                   + "".join(f"R-{i},blood,SUBJ-1,2025-01-02\n" for i in range(3)))
    for args in (("whoami",), ("storage", "add", "freezer", "F1"), ("storage", "add", "box", "F1/B1", "--grid", "2x2"),
                 ("create", "--id", "R-X", "--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-01-02",
                  "--position", "F1/B1:A1"),
                 ("import", str(big), "--fill", "F1/B1"), ("get", "R-X"), ("list", "-o", "jsonl"),
                 ("update", "--where", "--subject", "SUBJ-1", "--set-status", "processing", "--yes"),
                 ("export", "-o", "csv"), ("history", "R-X"), ("storage", "show", "F1/B1"), ("users", "list"),
                 ("audit", "verify"), ("logout",)):
        done = run_and_scan(tmp_path, *args, env=env, secrets=secrets)
        assert done.returncode == 0, (args, done.stderr)
    assert run_and_scan(tmp_path, "list", env=env, secrets=secrets).returncode == 3  # revoked by the logout
