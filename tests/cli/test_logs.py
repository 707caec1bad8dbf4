"""Logs: -v/-vv/-vvv on stderr, --log-file / log_file as JSON lines, and the redaction of secrets."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from samplectl import logs
from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE

CREATE = ("create", "--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-01-02",
          "--location", "FRZ-1/R1", "-o", "json")


@pytest.fixture(autouse=True)
def fresh_secrets() -> None:
    logs.forget_secrets()


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_no_verbosity_keeps_stderr_free_of_log_lines(cli) -> None:
    out = cli("list", "-o", "json")
    assert out.exit_code == 0
    assert out.stderr == ""
    assert out.stdout == "[]\n"


def test_v_logs_progress_to_stderr_and_leaves_stdout_to_data(cli, mode: str) -> None:
    out = cli("-v", "list", "-o", "json")
    assert out.exit_code == 0
    assert out.stdout == "[]\n"
    assert "info: samplectl: samplectl " in out.stderr
    if mode == "remote":  # where the command goes, as a local run names the store it opens
        assert f"info: samplectl.remote.services: through the samplectl server at {os.environ['SAMPLECTL_SERVER']}" \
            in out.stderr
    else:
        assert "info: samplectl.stores.engines: opening the embedded sample store at" in out.stderr
    assert "info: samplectl: exit 0 after" in out.stderr
    assert "debug:" not in out.stderr


def test_vv_adds_debugging_detail(cli, mode: str) -> None:
    out = cli("-vv", "list", "-o", "json")
    assert "debug: samplectl: settings: " in out.stderr
    assert "debug: samplectl: argv: -vv list -o ?" in out.stderr  # values are never logged (issue 9 item 23)
    settings = next(line for line in out.stderr.splitlines() if "settings: " in line)
    assert ("remote mode: the samplectl server at http://127.0.0.1:" in settings) == (mode == "remote")


def test_quiet_wins_over_verbose_on_stderr(cli) -> None:
    out = cli("-q", "-v", "list", "-o", "json")
    assert out.stderr == ""


@pytest.mark.wire
@pytest.mark.local_only("about the database driver, which remote mode does not load")
def test_vvv_adds_the_database_drivers_own_logs(cli, wire_env: str) -> None:
    assert "pymongo" not in cli("-vv", "list", "-o", "json").stderr
    out = cli("-vvv", "list", "-o", "json")
    assert out.exit_code == 0
    assert "debug: pymongo." in out.stderr


def test_log_file_gets_json_lines_at_info_without_any_flag(cli, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "samplectl.jsonl"
    out = cli("--log-file", str(path), *CREATE)
    assert out.exit_code == 0
    assert out.stderr.startswith("created sample ")  # the log does not spill onto the terminal
    lines = log_lines(path)
    assert {line["level"] for line in lines} == {"info"}
    first = lines[0]
    assert set(first) >= {"time", "level", "logger", "command", "pid", "message"}
    assert first["time"].endswith("Z") and first["command"] == "create"
    assert lines[-1]["message"].startswith("exit 0 after")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_log_file_appends_and_takes_debug_with_vv(cli, tmp_path: Path) -> None:
    path = tmp_path / "samplectl.jsonl"
    cli("--log-file", str(path), "list", "-o", "json")
    before = len(log_lines(path))
    cli("-vv", "--log-file", str(path), "list", "-o", "json")
    lines = log_lines(path)
    assert len(lines) > before
    assert "debug" in {line["level"] for line in lines[before:]}


def test_an_error_is_recorded_in_the_log_but_shown_once_on_the_terminal(cli, tmp_path: Path) -> None:
    path = tmp_path / "samplectl.jsonl"
    out = cli("-v", "--log-file", str(path), "get", "nope", "-o", "json")
    assert out.exit_code == 5
    assert out.stderr.count("no sample with id 'nope'") == 2  # the error: line and the JSON envelope
    errors = [line for line in log_lines(path) if line["level"] == "error"]
    assert errors == [{**errors[0], "message": "not_found (exit 5): no sample with id 'nope'", "exit_code": 5}]


def test_log_file_setting_from_the_config_file_and_the_environment(cli, tmp_path: Path) -> None:
    from_config, from_env, from_flag = (tmp_path / f"{n}.jsonl" for n in ("config", "env", "flag"))
    config = tmp_path / "config.toml"
    config.write_text(f'log_file = "{from_config}"\n')
    cli("list", env={"SAMPLECTL_CONFIG": str(config)})
    assert from_config.exists()
    cli("list", env={"SAMPLECTL_CONFIG": str(config), "SAMPLECTL_LOG_FILE": str(from_env)})
    assert from_env.exists()
    cli("--log-file", str(from_flag), "list", env={"SAMPLECTL_LOG_FILE": str(from_env)})
    assert from_flag.exists()
    assert len(log_lines(from_env)) == len(log_lines(from_config))  # the flag's run went elsewhere


def test_an_unwritable_log_file_is_invalid_input(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = cli("--log-file", str(blocker / "x.jsonl"), "list", "-o", "json")
    assert out.exit_code == 6
    assert out.stdout == ""
    assert out.stderr.splitlines()[0].startswith(f"error: cannot write the log file {blocker / 'x.jsonl'}")
    assert out.stderr.splitlines()[1].startswith("hint: ")
    assert "Traceback" not in out.stderr


def test_each_run_leaves_logging_as_it_found_it(cli, tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    cli("-vvv", "--log-file", str(tmp_path / "x.jsonl"), "list")
    cli("-v", "get", "missing")
    assert [h for h in root.handlers if not isinstance(h, logging.NullHandler)] == [
        h for h in handlers if not isinstance(h, logging.NullHandler)]
    assert root.level == level
    assert not logs.active()


# -- redaction ---------------------------------------------------------------------------------
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2ZXJhIn0.c2lnbmF0dXJlLWJ5dGVz"
BCRYPT = "$2b$12$" + "a" * 53


@pytest.mark.parametrize(("text", "secret"), [
    ("connecting to mongodb://app:Pw-1x9@db1:27017,db2:27017/?replicaSet=rs0", "Pw-1x9"),
    ("url postgresql+psycopg://samplectl:Pg%2Fpw@127.0.0.1:5432/samplectl", "Pg%2Fpw"),
    (f"token {JWT} refused", JWT),
    (f"row password_hash={BCRYPT}", BCRYPT),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ('{"password": "hunter22", "user": "vera"}', "hunter22"),
    ("login with pwd=hunter22&user=vera", "hunter22"),
    ("jwt_secret: s3cr3t-value", "s3cr3t-value"),
])
def test_redact_recognises_secrets_by_their_shape(text: str, secret: str) -> None:
    masked = logs.redact(text)
    assert secret not in masked
    assert "***" in masked


def test_redact_masks_registered_values_in_any_context() -> None:
    logs.register_secret("correct horse battery")
    logs.register_uri("mongodb://app:p%40ss-word@host/")
    masked = logs.redact("typed correct horse battery; decoded p@ss-word; raw p%40ss-word")
    assert masked == "typed ***; decoded ***; raw ***"


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "opening the embedded sample store at /data/samples.db; 3 samples; mongodb://db1:27017/"
    assert logs.redact(text) == text


def test_redact_keeps_the_hints_placeholder_but_not_a_token_spelled_like_it() -> None:
    hint = "POST /token with username and password (samplectl login), then send Authorization: Bearer TOKEN"
    assert logs.redact(hint) == hint
    assert logs.redact("Authorization: Bearer TOKENabc123") == "Authorization: Bearer ***"
    assert logs.redact("authorization: bearer token-1") == "authorization: bearer ***"


def test_secret_environment_variables_are_registered() -> None:
    logs.register_environment({"SAMPLECTL_TOKEN": "tok-value-1", "PGPASSWORD": "pg-value-2",
                               "SAMPLECTL_MONGODB_URI": "mongodb://u:uri-pw-3@h/", "HOME": "/root",
                               "AWS_SECRET_ACCESS_KEY": "aws-value-4", "SAMPLECTL_TOKEN_LIFETIME_HOURS": "12"})
    assert logs.redact("tok-value-1 pg-value-2 uri-pw-3 aws-value-4 /root 12") == "*** *** *** *** /root 12"
