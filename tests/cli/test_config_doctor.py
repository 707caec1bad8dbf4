"""`samplectl config list|get|set` and `samplectl doctor`."""

from __future__ import annotations

import json
import os
import stat
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRun


def config_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "samplectl" / "config.toml"


def rows(cli: CliRun, **env: str) -> dict[str, dict[str, str]]:
    out = cli("config", "list", "-o", "json", env=env)
    assert out.exit_code == 0, out.stderr
    return {r["key"]: r for r in out.json()}


def test_config_list_says_where_each_value_comes_from(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPLECTL_TIMEZONE")
    config_file().parent.mkdir(parents=True)
    config_file().write_text('mongodb_db = "lab"\n')
    monkeypatch.setenv("SAMPLECTL_LOCKOUT_ATTEMPTS", "9")
    shown = rows(cli)
    assert shown["mongodb_db"] == {"key": "mongodb_db", "value": "lab", "source": f"file ({config_file()})"}
    assert shown["lockout_attempts"]["value"] == "9"
    assert shown["lockout_attempts"]["source"] == "environment (SAMPLECTL_LOCKOUT_ATTEMPTS)"
    assert shown["token_lifetime_hours"] == {"key": "token_lifetime_hours", "value": "8.0", "source": "default"}


def test_config_list_masks_secrets(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", "mongodb://app:s3cret-pw@db.lab:27017/")
    monkeypatch.setenv("SAMPLECTL_TOKEN", "eyJ.secret.token")
    out = cli("config", "list")
    assert "s3cret-pw" not in out.stdout and "eyJ.secret.token" not in out.stdout
    assert "mongodb://app:***@db.lab:27017/" in out.stdout


def test_config_set_writes_a_private_file_and_get_reads_it(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPLECTL_TIMEZONE")
    out = cli("config", "set", "timezone", "Europe/Berlin")
    assert out.exit_code == 0, out.stderr
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    got = cli("config", "get", "timezone")
    assert got.stdout == "Europe/Berlin\n" and "file" in got.stderr
    config_file().write_text('# the lab in Berlin\ntimezone = "Europe/Berlin"\n')
    assert cli("config", "set", "lockout_attempts", "3").exit_code == 0
    text = config_file().read_text()
    assert "# the lab in Berlin" in text and "lockout_attempts = 3" in text


def test_config_set_refuses_what_the_file_cannot_hold(cli: CliRun) -> None:
    assert cli("config", "set", "lockout_attempts", "many").exit_code == 6
    assert cli("config", "set", "timezone", "Mars/Olympus").exit_code == 6
    token = cli("config", "set", "token", "x")
    assert token.exit_code == 6 and "environment only" in token.stderr
    assert not config_file().exists()


@pytest.mark.parametrize(("key", "value", "said"), [
    ("server", "ftp://lab", "server 'ftp://lab' is not an http(s) URL"),
    ("server", "http://10.0.0.5:8000", "plain http:// to another machine"),
    ("database_url", "users-db", "is not a URL"),
    ("ca_bundle", "/nonexistent/lab-ca.pem", "cannot be used"),
    ("log_file", "/proc/no/such/dir/samplectl.log", "cannot write the log file"),
    ("home", "relative/data", "is not an absolute path"),
])
def test_config_set_refuses_a_value_every_later_command_would_refuse(cli: CliRun, key: str, value: str,
                                                                     said: str) -> None:
    out = cli("config", "set", key, value)
    assert out.exit_code == 6 and said in out.stderr and "hint:" in out.stderr
    assert not config_file().exists()  # nothing written: the next command is not locked out


def test_config_unset_removes_a_setting_and_keeps_the_rest(cli: CliRun) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text('# the lab\nserver = "https://samples.lab.example"\nmongodb_db = "lab"\n')
    out = cli("config", "unset", "server")
    assert out.exit_code == 0 and f"unset server in {config_file()}" in out.stderr
    assert config_file().read_text() == '# the lab\nmongodb_db = "lab"\n'
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    again = cli("config", "unset", "server")
    assert again.exit_code == 0 and "server was not set" in again.stderr
    assert cli("config", "unset", "token").exit_code == 6  # never in the file
    assert "config unset timezone" in cli("config", "set", "timezone", " ").stderr


def test_a_log_file_that_cannot_be_written_does_not_lock_out_config_and_doctor(cli: CliRun) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text('log_file = "/proc/no/such/dir/samplectl.log"\n')
    assert cli("list").exit_code == 6  # a data command still refuses to run without its log
    doctor = cli("doctor", "-o", "json")
    assert "this command runs without it" in doctor.stderr
    checks = {c["check"]: c for c in doctor.json()}
    assert checks["log file"]["status"] == "fail" and "writable path" in checks["log file"]["fix"]
    mended = cli("config", "unset", "log_file")
    assert mended.exit_code == 0 and "warning: cannot write the log file" in mended.stderr
    assert cli("config", "get", "log_file").stderr == "(default)\n"


def test_doctor_checks_the_server_of_the_config_file(cli: CliRun) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text('server = "http://10.0.0.5:8000"\n')  # written by hand: config set refuses it
    out = cli("doctor", "-o", "json")
    server = [c for c in out.json() if c["check"] == "server"][0]
    assert out.exit_code == 6 and server["status"] == "fail" and "plain http://" in server["detail"]


def test_doctor_in_remote_mode_checks_the_server_not_the_stores_it_holds(cli: CliRun, live_server: Any) -> None:
    out = cli("doctor", "-o", "json")  # a client machine: no database here, and none is needed
    checks = {c["check"]: c for c in out.json()}
    assert out.exit_code == 0, out.stdout
    assert "users database" not in checks and "sample store" not in checks  # not "run samplectl init"
    assert checks["server"]["status"] == "ok" and "ready" in checks["server"]["detail"]
    assert checks["clock"]["status"] == "ok" and "of the samplectl server" in checks["clock"]["detail"]


def answer_readyz(status: int, body: Any, date: str | None = None) -> Any:
    from tests.support.json_server import serving

    def respond(handler: BaseHTTPRequestHandler, seen: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response_only(status)
        handler.send_header("Date", date or handler.date_time_string())
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return serving(respond)


def test_doctor_says_what_keeps_the_server_from_being_ready(cli: CliRun) -> None:
    envelope = {"error": {"code": "unavailable", "message": "not ready: the users database is not set up",
                          "details": [], "hint": "run samplectl init --admin NAME on the server"}}
    with answer_readyz(503, envelope) as (url, seen):
        out = cli("doctor", "-o", "json", env={"SAMPLECTL_SERVER": url})
    server = {c["check"]: c for c in out.json()}["server"]
    assert out.exit_code == 8 and server["status"] == "fail"
    assert "not ready: the users database is not set up" in server["detail"]
    assert [r.path for r in seen] == ["/readyz"]


def test_doctor_finds_a_clock_off_the_servers(cli: CliRun) -> None:
    with answer_readyz(200, {"status": "ok"}, date="Mon, 01 Jan 2024 00:00:00 GMT") as (url, _):
        out = cli("doctor", "-o", "json", env={"SAMPLECTL_SERVER": url})
    clock = {c["check"]: c for c in out.json()}["clock"]
    assert out.exit_code == 6 and clock["status"] == "fail" and "off the samplectl server's" in clock["detail"]


@pytest.mark.parametrize("date", ["garbage", "Thu, 31 Feb 2026 00:00:00 GMT", "Thu, 01 Jan 99999 00:00:00 GMT",
                                  "Thu, 01 Jan 2026 00:00:00 +9999"])
def test_doctor_with_a_date_header_that_is_not_a_date_says_the_servers_time_is_not_known(cli: CliRun,
                                                                                       date: str) -> None:
    with answer_readyz(200, {"status": "ok"}, date=date) as (url, _):
        out = cli("doctor", "-o", "json", env={"SAMPLECTL_SERVER": url})
    clock = {c["check"]: c for c in out.json()}["clock"]
    assert out.exit_code == 0, out.stdout
    assert clock["status"] == "ok" and "the server's time is not known" in clock["detail"], clock


@pytest.mark.parametrize("body", [{}, [], None, "<html>"])
def test_doctor_does_not_take_another_web_server_answering_200_for_a_ready_samplectl_server(cli: CliRun,
                                                                                          body: Any) -> None:
    with answer_readyz(200, body) as (url, _):
        out = cli("doctor", "-o", "json", env={"SAMPLECTL_SERVER": url})
    server = {c["check"]: c for c in out.json()}["server"]
    assert out.exit_code == 8 and server["status"] == "fail", out.stdout
    assert "to GET /readyz" in server["detail"] and "is a samplectl server" in server["fix"]


def test_config_set_warns_when_the_environment_wins(cli: CliRun) -> None:
    out = cli("config", "set", "timezone", "Europe/Paris")  # the tests set SAMPLECTL_TIMEZONE
    assert out.exit_code == 0 and "SAMPLECTL_TIMEZONE is set and takes precedence" in out.stderr


@pytest.mark.real_auth
def test_doctor_on_a_fresh_machine_fails_and_says_to_run_init(cli: CliRun) -> None:
    out = cli("doctor", "-o", "json")
    assert out.exit_code == 6
    checks = {c["check"]: c for c in out.json()}
    assert checks["users database"]["status"] == "fail" and "samplectl init" in checks["users database"]["fix"]
    assert checks["sample store"]["status"] == "fail"
    assert not Path(os.environ["SAMPLECTL_HOME"]).exists()  # checking created nothing


def make_private(home: Path) -> None:
    # What the contract asks of everything samplectl creates (the embedded store's own files are
    # being made so by the store's rework; doctor reports them until then).
    for path in [home, *home.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


def test_doctor_folds_its_lines_at_words_to_the_terminal_width(cli: CliRun) -> None:
    out = cli("doctor", "-o", "table", env={"COLUMNS": "60"})
    lines = out.stdout.splitlines()
    assert lines and all(len(line) <= 60 for line in lines), out.stdout
    assert any(line.startswith(" " * 24) for line in lines)  # a folded detail or fix, under the detail
    words = " ".join(line.strip() for line in lines)
    assert "fix: run samplectl init --admin NAME" in words  # every word there, none cut in two


@pytest.mark.real_auth
def test_doctor_after_init_passes(cli: CliRun) -> None:
    assert cli("init", "--admin", "admin", "--password-stdin", input="admin-pass-123\n").exit_code == 0
    make_private(Path(os.environ["SAMPLECTL_HOME"]))
    out = cli("doctor", "-o", "json")
    assert out.exit_code == 0, out.stdout
    checks = {c["check"]: c for c in out.json()}
    assert checks["users database"]["status"] == "ok" and "current" in checks["users database"]["detail"]
    assert checks["keyring"]["status"] in ("ok", "warn")  # warn: no OS keyring, a private file is used
    assert checks["file permissions"]["status"] == "ok"


@pytest.mark.real_auth
def test_doctor_finds_loose_permissions_and_says_how_to_fix_them(cli: CliRun) -> None:
    assert cli("init", "--admin", "admin", "--password-stdin", input="admin-pass-123\n").exit_code == 0
    home = Path(os.environ["SAMPLECTL_HOME"])
    make_private(home)
    (home / "users.db").chmod(0o644)
    out = cli("doctor")
    assert out.exit_code == 6
    assert "users.db (644)" in out.stdout and f"chmod -R go-rwx {home}" in out.stdout


def test_doctor_reports_an_unreachable_server_with_exit_8(cli: CliRun) -> None:
    from tests.conftest import free_port

    out = cli("doctor", "-o", "json", env={"SAMPLECTL_SERVER": f"http://127.0.0.1:{free_port()}"})
    assert out.exit_code == 8
    server = [c for c in json.loads(out.stdout) if c["check"] == "server"][0]
    assert server["status"] == "fail" and "SAMPLECTL_SERVER" in server["fix"]


@pytest.mark.wire
@pytest.mark.real_auth
def test_doctor_reaches_a_mongodb_server(cli: CliRun, wire_env: str) -> None:
    out = cli("doctor", "-o", "json")
    checks = {c["check"]: c for c in json.loads(out.stdout)}
    assert checks["sample store"]["status"] == "ok" and "MongoDB" in checks["sample store"]["detail"]
    assert checks["clock"]["status"] == "ok"


def test_doctor_says_a_mongodb_server_cannot_be_reached(cli: CliRun) -> None:
    from tests.conftest import free_port

    uri = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    out = cli("doctor", "-o", "json", env={"SAMPLECTL_MONGODB_URI": uri, "SAMPLECTL_SERVER_TIMEOUT_MS": "300"})
    assert out.exit_code == 8
    store = [c for c in json.loads(out.stdout) if c["check"] == "sample store"][0]
    assert store["status"] == "fail" and "SAMPLECTL_MONGODB_URI" in store["fix"]


def test_a_config_file_that_is_not_utf8_is_invalid_input_not_a_crash(cli: CliRun) -> None:
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_bytes(b'timezone = "Europe/Z\xfcrich"\n')  # saved as Latin-1 (was: exit 1, UnicodeDecodeError)
    for args in (["list"], ["config", "list"]):
        out = cli(*args, env={"SAMPLECTL_TOKEN": "x.y.z"})  # the settings are read before any token
        assert out.exit_code == 6, out.stderr
        assert out.stderr.splitlines()[:2] == [
            f"error: cannot read config file {config_file()}: byte 20 is not UTF-8 text",
            f"hint: save it as UTF-8 text, or remove it ({config_file()}): samplectl works without one"]
    doctor = cli("doctor", "-o", "json", env={"SAMPLECTL_TOKEN": "x.y.z"})
    settings = {c["check"]: c for c in doctor.json()}["settings"]
    assert doctor.exit_code == 6 and settings["status"] == "fail" and "is not UTF-8 text" in settings["detail"]


@pytest.mark.parametrize("home", ["x" * 300, "/tmp/" + "x/" * 3000 + "x"])
def test_a_data_directory_no_system_could_have_is_invalid_input(cli: CliRun, home: str) -> None:
    out = cli("list", env={"SAMPLECTL_HOME": home, "SAMPLECTL_TOKEN": "x.y.z"})
    assert out.exit_code == 6, out.stderr  # was 1: OSError, file name too long, and the whole name echoed
    first, hint = out.stderr.splitlines()[:2]
    assert first.startswith("error: the data directory ") and f"is too long a name ({len(home)} characters)" in first
    assert len(first) < 250
    assert hint == "hint: set SAMPLECTL_HOME (or home in the config file) to a directory's path, or unset it"
