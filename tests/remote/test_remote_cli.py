"""Remote mode as a technician meets it: login against the server, where the token is kept, logout,
a revoked token, an unreachable or unsafe server, and what the client process imports.

The commands' behaviour through the server (CRUD, filter, output, errors, import, audit, roles) is
tested by the CLI test modules themselves, run in both modes (tests.remote_support.mode).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, CliRun, free_port
from tests.remote_support import LiveServer
from tests.support.logins import TEST_PASSWORD

pytestmark = pytest.mark.real_auth  # these tests log in themselves


def login(cli: CliRun, name: str = "tester", password: str = TEST_PASSWORD, *extra: str) -> Any:
    return cli("login", "-u", name, "--password-stdin", *extra, input=password + "\n")


def token_file(server: LiveServer) -> Path:
    digest = hashlib.sha256(server.url.encode()).hexdigest()[:16]
    return Path(os.environ["SAMPLECTL_HOME"]) / "tokens" / f"{digest}.jwt"


def test_login_asks_the_server_and_keeps_the_token_in_a_private_file_without_a_keyring(
    cli: CliRun, live_server: LiveServer
) -> None:
    done = login(cli)
    assert done.exit_code == 0, done.stderr
    assert "logged in as tester (admin) until " in done.stderr
    kept = token_file(live_server)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().count(".") == 2  # a JWT, kept on this machine only
    who = cli("whoami", "-o", "json")
    assert who.exit_code == 0, who.stderr
    assert who.json()["server"] == live_server.url and who.json()["username"] == "tester"
    assert who.json()["token_stored_in"] == f"file {kept}"
    assert "users_database" not in who.json()  # the client knows no database


@pytest.mark.keyring
def test_login_keeps_the_token_in_the_keyring_under_the_servers_url(
    cli: CliRun, live_server: LiveServer, real_keyring: Any
) -> None:
    assert login(cli).exit_code == 0
    token = real_keyring.get_password("samplectl", live_server.url)
    assert token and token.count(".") == 2
    assert not token_file(live_server).exists()
    table = cli("whoami", tty="stdout")
    assert f"server: {live_server.url}" in table.stdout and "OS keyring" in table.stdout
    assert cli("logout").exit_code == 0
    assert real_keyring.get_password("samplectl", live_server.url) is None


def test_a_wrong_password_is_exit_3_with_the_servers_words(cli: CliRun, live_server: LiveServer) -> None:
    refused = login(cli, "tester", "not-the-password")
    assert refused.exit_code == 3
    assert refused.stderr.startswith("error: wrong username or password\nhint: check both and try again\n")
    assert not token_file(live_server).exists()


def test_logout_revokes_the_token_on_the_server(cli: CliRun, live_server: LiveServer) -> None:
    token = login(cli, "tester", TEST_PASSWORD, "--print-token").stdout.strip()
    assert cli("list", env={"SAMPLECTL_TOKEN": token}).exit_code == 0
    out = cli("logout", env={"SAMPLECTL_TOKEN": token})
    assert out.exit_code == 0, out.stderr
    assert "logged out tester; the token is revoked" in out.stderr
    after = cli("list", env={"SAMPLECTL_TOKEN": token})
    assert after.exit_code == 3
    assert after.stderr.splitlines()[0] == "error: SAMPLECTL_TOKEN: this login has ended (logged out)"


def test_a_token_revoked_mid_session_is_exit_3_with_the_login_hint(cli: CliRun, live_server: LiveServer) -> None:
    import httpx

    assert login(cli).exit_code == 0
    assert cli("list").exit_code == 0
    token = token_file(live_server).read_text().strip()
    # Ended elsewhere (another terminal's logout, or an admin's reset): the next command learns it.
    httpx.post(live_server.url + "/logout", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    refused = cli("list")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[:2] == ["error: this login has ended (logged out)", "hint: run samplectl login"]


def test_not_logged_in_is_exit_3_before_any_request(cli: CliRun, live_server: LiveServer) -> None:
    refused = cli("get", "S-1")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[:2] == ["error: not logged in", "hint: run samplectl login"]


def test_an_unreachable_server_is_exit_8_within_the_timeout(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SAMPLECTL_SERVER", url)
    started = time.monotonic()
    refused = login(cli)
    assert refused.exit_code == 8
    assert refused.stderr.startswith(f"error: cannot reach the samplectl server at {url} (")
    assert "hint: check SAMPLECTL_SERVER (config: server) and that the server is running" in refused.stderr
    listed = cli("list", env={"SAMPLECTL_TOKEN": "x.y.z"})
    assert listed.exit_code == 8
    assert time.monotonic() - started < 6


def test_completion_works_without_asking_the_server(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    # The values completed (types, statuses, formats, roles) are the contract's; TAB never waits on a network.
    monkeypatch.setenv("SAMPLECTL_SERVER", f"http://127.0.0.1:{free_port()}")  # nobody listens
    for words, offered in ((["filter", "--status", ""], ["collected", "processing", "archived"]),
                           (["storage", "add", ""], ["freezer", "rack", "box", "bag"])):
        env = {"_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["samplectl", *words]),
               "COMP_CWORD": str(len(words))}
        done = cli(env=env)
        assert done.exit_code == 0 and done.stdout.split() == offered, done.stderr


@pytest.mark.parametrize("url", ["http://samples.lab.example", "http://10.1.2.3:8000"])
def test_plain_http_to_another_machine_is_refused_before_the_password_is_sent(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("SAMPLECTL_SERVER", url)
    refused = login(cli)
    assert refused.exit_code == 6
    assert "uses plain http:// to another machine" in refused.stderr
    assert "hint: use the server's https:// address" in refused.stderr


NOT_SAMPLECTL_HINT = "hint: check that SAMPLECTL_SERVER is a samplectl server of the same version; its log says more"
COMMANDS_EVERYWHERE = [["whoami"], ["get", "S-1"], ["list"], ["filter", "--count"], ["export"], ["history", "S-1"],
                       ["audit"], ["users", "list"], ["storage", "tree"], ["import", "-", "--dry-run"],
                       ["delete", "S-1", "--yes"]]


def another_web_server(handler: Any, request: Any) -> None:
    """What `python3 -m http.server` answers a samplectl client: a page, 404 to GET, 501 to anything else."""
    from tests.support.json_server import reply

    reply(handler, 404 if request.method == "GET" else 501, text="<html><body>Error response</body></html>")


def test_a_server_url_that_is_not_a_samplectl_server_is_exit_8_for_every_command(
        cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.json_server import serving

    with serving(another_web_server) as (url, _):
        monkeypatch.setenv("SAMPLECTL_SERVER", url)
        refused = login(cli)
        assert refused.exit_code == 8, refused.stderr
        assert refused.stderr.splitlines()[:2] == [
            f"error: the samplectl server at {url} answered status 501 to POST /token", NOT_SAMPLECTL_HINT]
        for args in COMMANDS_EVERYWHERE:
            out = cli(*args, env={"SAMPLECTL_TOKEN": "x.y.z"}, input="sample_type\n")
            assert out.exit_code == 8, (args, out.stderr)
            assert out.stderr.splitlines()[:2] == [
                f"error: the samplectl server at {url} answered status 404 to GET /me", NOT_SAMPLECTL_HINT], args


@pytest.mark.parametrize("body", [{}, [], None, {"error": 5}])
def test_a_server_answering_200_with_other_json_is_exit_8_not_a_crash(
        cli: CliRun, monkeypatch: pytest.MonkeyPatch, body: Any) -> None:
    from tests.support.json_server import reply, serving

    with serving(lambda handler, request: reply(handler, 200, body)) as (url, _):
        monkeypatch.setenv("SAMPLECTL_SERVER", url)
        refused = login(cli)
        assert refused.exit_code == 8, refused.stderr
        assert refused.stderr.startswith(f"error: the samplectl server at {url} answered JSON ")
        assert "to POST /token" in refused.stderr.splitlines()[0]
        assert refused.stderr.splitlines()[1] == NOT_SAMPLECTL_HINT
        for args in COMMANDS_EVERYWHERE:
            out = cli(*args, env={"SAMPLECTL_TOKEN": "x.y.z"}, input="sample_type\n")
            assert out.exit_code == 8, (args, out.stderr)
            assert "to GET /me" in out.stderr.splitlines()[0] and "Traceback" not in out.stderr


def test_the_server_setting_comes_from_the_config_file_too(
    cli: CliRun, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'server = "{live_server.url}"\n')
    monkeypatch.delenv("SAMPLECTL_SERVER")
    monkeypatch.setenv("SAMPLECTL_CONFIG", str(config))
    assert login(cli).exit_code == 0
    assert cli("whoami", "-o", "json").json()["server"] == live_server.url


def test_init_runs_on_the_local_databases_even_with_a_server_set(cli: CliRun, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("SAMPLECTL_SERVER", f"http://127.0.0.1:{free_port()}")  # nobody listens
    done = cli("init", "--admin", "admin", "--password-stdin", input="admin-pass-123\n")
    assert done.exit_code == 0, done.stderr
    assert (Path(os.environ["SAMPLECTL_HOME"]) / "users.db").exists()


# The databases are the server's; HTTP is the standard library's http.client (remote.client), not httpx.
CLIENT_MUST_NOT_LOAD = {"pymongo", "bson", "neosqlite", "sqlalchemy", "psycopg", "alembic", "bcrypt", "jwt",
                        "httpx", "httpcore", "h11"}


@pytest.mark.parametrize("args", [
    ["get", "S-1"],
    ["list", "-o", "json"],
    ["filter", "--status", "collected", "--count"],
    ["history", "S-1"],
    ["export", "-o", "csv"],
    ["import", "-", "--dry-run"],
    ["whoami"],
    ["storage", "tree", "-o", "json"],
    ["storage", "free", "--need", "2"],
])
def test_the_client_imports_no_database_driver_sqlalchemy_bcrypt_or_jwt(
    cli: CliRun, live_server: LiveServer, args: list[str]
) -> None:
    token = login(cli, "tester", TEST_PASSWORD, "--print-token").stdout.strip()
    made = cli("create", "--id", "S-1", "--type", "blood", "--subject", "P1", "--collected", "2025-03-14",
               "--location", "F/1", env={"SAMPLECTL_TOKEN": token})
    assert made.exit_code == 0, made.stderr
    probe = (
        "import sys, json, atexit\n"
        "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n'))\n"
        f"sys.argv = ['samplectl', *{args!r}]\n"
        "from samplectl.cli.entry import main\nmain()\n"
    )
    csv_in = "sample_type,subject_id,collection_date,storage_location\nblood,P2,2025-03-14,F/2\n"
    env = {**os.environ, "SAMPLECTL_TOKEN": token}
    done = subprocess.run([sys.executable, "-c", probe], input=csv_in, capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("MODULES "))
    modules = set(json.loads(line[len("MODULES "):]))
    loaded = {name.split(".")[0] for name in modules}
    assert not loaded & CLIENT_MUST_NOT_LOAD, sorted(loaded & CLIENT_MUST_NOT_LOAD)
    assert {"samplectl.remote.client", "http.client"} <= modules  # it did go through the server
