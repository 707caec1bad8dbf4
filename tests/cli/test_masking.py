"""Secrets stay out of every output, and masking does not mangle what is not secret (issue 9 items 9, 10, 23)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from samplectl.config import load_settings
from tests.cli.csvfiles import HEADER, row, write
from tests.conftest import CliRun, run_samplectl

ADMIN_PW = "admin-pass-123"


def _stored_secret() -> str:
    path = load_settings().home / "users.db"
    with sqlite3.connect(path) as conn:
        return str(conn.execute("SELECT value FROM auth_settings WHERE name = 'jwt_secret'").fetchone()[0])


# -- item 9: -vvv never prints the signing secret ---------------------------------------------------
def test_vvv_does_not_print_the_stored_signing_secret(tmp_path: Path) -> None:
    made = run_samplectl("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n")
    assert made.returncode == 0, made.stderr
    secret = _stored_secret()
    log = tmp_path / "log.jsonl"
    login = run_samplectl("-vvv", "--log-file", str(log), "login", "-u", "admin", "--password-stdin",
                          "--print-token", input=ADMIN_PW + "\n")
    assert login.returncode == 0, login.stderr
    assert "sqlalchemy" in login.stderr  # -vvv did show the driver's statements: the check is not empty
    token = login.stdout.strip()
    listed = run_samplectl("-vvv", "--log-file", str(log), "list", env={"SAMPLECTL_TOKEN": token})
    assert listed.returncode == 0, listed.stderr
    for text in (login.stderr, listed.stderr, log.read_text()):
        assert secret not in text
        assert "$2b$" not in text  # nor a password hash


# -- item 10: a password that is not cleanly escaped is masked all the same ------------------------
@pytest.mark.parametrize("password", ["s3cr/etpw", "pa#ss?wd", "p@ss/w"])
def test_a_mongodb_password_with_reserved_characters_is_masked(cli: CliRun, tmp_path: Path, password: str) -> None:
    log = tmp_path / "log.jsonl"
    uri = f"mongodb://user:{password}@127.0.0.1:1/?serverSelectionTimeoutMS=200"
    out = cli("-vv", "--log-file", str(log), "list", "-o", "json",
              env={"SAMPLECTL_MONGODB_URI": uri, "SAMPLECTL_SERVER_TIMEOUT_MS": "200"})
    assert out.exit_code == 8, out.stderr
    assert "user:***@" in out.stderr
    for part in (password, *password.replace("#", "/").replace("?", "/").replace("@", "/").split("/")):
        if len(part) >= 3:
            assert part not in out.stderr and part not in log.read_text(), part


@pytest.mark.parametrize("password", ["pass/word#xyz", "s3cret?abc/xyz"])
def test_a_postgresql_url_with_reserved_characters_in_the_password_is_exit_8_and_masked(
    cli: CliRun, password: str
) -> None:
    url = f"postgresql+psycopg://someone:{password}@127.0.0.1:1/samplectl"
    out = cli("login", "-u", "admin", "--password-stdin", input="whatever-1\n", env={"SAMPLECTL_DATABASE_URL": url})
    assert out.exit_code == 8, out.stderr
    assert "someone:***@127.0.0.1:1/samplectl" in out.stderr
    for part in password.replace("#", "/").replace("?", "/").split("/"):
        assert part not in out.stderr


@pytest.mark.postgres
def test_a_postgresql_password_with_reserved_characters_works_as_typed(cli: CliRun) -> None:
    from tests.login_support import postgres_database_owned_by_a_role

    with postgres_database_owned_by_a_role("pa/ss#wd?x") as url:
        made = cli("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n",
                   env={"SAMPLECTL_DATABASE_URL": url})
        assert made.exit_code == 0, made.stderr
        assert "pa/ss#wd?x" not in made.stderr


# -- item 23: masking does not over-mask; argv values are not logged; paths and batches named right --
def test_a_password_that_is_a_plain_word_does_not_mangle_messages(cli: CliRun) -> None:
    out = cli("get", "NOPE", env={"PGPASSWORD": "sample"})
    assert out.exit_code == 5
    assert out.stderr.splitlines()[0] == "error: no sample with id 'NOPE'"


def test_debug_log_does_not_carry_what_was_typed_after_u(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    typed = "Hunter2-typed-as-name"
    run_samplectl("-vv", "--log-file", str(log), "login", "-u", typed, "--password-stdin", input="x" * 10 + "\n")
    run_samplectl("-vv", "--log-file", str(log), "get", "S-secret-id")
    text = log.read_text()
    assert typed not in text and "S-secret-id" not in text
    argv_lines = [json.loads(line)["message"] for line in text.splitlines() if "argv" in line]
    assert argv_lines and "login -u ? --password-stdin" in argv_lines[0]


def test_an_empty_process_substitution_is_named_by_its_path(cli: CliRun) -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        out = cli("import", f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)
    assert out.exit_code == 6
    assert out.stderr.startswith(f"error: /dev/fd/{read_end} is empty")


def test_the_repeat_import_refusal_names_the_batch_that_created_the_samples(cli: CliRun, tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1)])
    first = json.loads(cli("import", str(data), "-o", "json").stdout)["batch_id"]
    again = cli("import", str(data), "--allow-repeat", "--on-conflict", "skip", "-o", "json")
    second = json.loads(again.stdout)["batch_id"]
    assert second != first
    refused = cli("import", str(data), "-o", "json")
    assert refused.exit_code == 7
    message = refused.stderr.splitlines()[0]
    assert first in message and second not in message
