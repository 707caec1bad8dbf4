"""A real `samplectl serve` on loopback, and the `mode` fixture that runs a test three times: against a
local embedded store, against the MongoDB engine (the wire server), and through that server (remote
mode), with the same assertions.

In remote mode the test's commands still run in-process (the `cli` fixture) with only SAMPLECTL_SERVER
and a token set, and a data directory of their own that holds no database: a command that reached for
a local store instead of the server would find nothing there and fail. The server is a separate process
on the test's original data directory, so what a test reads with the `store` fixture is what the server
wrote. Tokens come from that server's users database (tests.support.logins), as locally.

A module opts in with `pytestmark = pytest.mark.usefixtures("mode")`; a test that is about the local
store itself is marked `local_only` (its remote run is skipped, with the reason), one about the
embedded SQLite store `embedded_only` (its MongoDB run is skipped). A test that makes the first admin
itself (`init --admin`, run where the server's databases are: tests.login_support) is marked `no_users`,
so that the server's users database starts with nobody in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, bound_by, free_port

STARTUP_SECONDS = 60.0


@dataclass
class LiveServer:
    url: str
    home: Path  # the server's data directory (its stores)
    pid: int
    log: Path

    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful stop), then SIGKILL if it has not ended within 10 s."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


class ServeForks:
    """tests/support/servefork.py: forks a ready-imported `samplectl serve` per test (see there)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "support" / "servefork.py")], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def spawn(self, args: list[str], env: dict[str, str], log: Path) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"args": args, "env": env, "log": str(log)}) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def serve_forks() -> Iterator[ServeForks]:
    pytest.importorskip("samplectl.server.app", reason="samplectl serve is not part of this checkout")
    forks = ServeForks()
    yield forks
    forks.close()


def start_server(forks: ServeForks, env: dict[str, str], home: Path, log: Path) -> LiveServer:
    """`samplectl serve` on a free loopback port, once it answers /healthz."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = {k: v for k, v in env.items() if k not in ("SAMPLECTL_SERVER", "SAMPLECTL_TOKEN")}
    server_env["SAMPLECTL_HOME"] = str(home)
    pid = forks.spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], server_env, log)
    server = LiveServer(url, home, pid, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not server.running():
            pytest.fail(f"samplectl serve stopped:\n{log.read_text()[-3000:]}")
        try:
            if bound_by(log, port) and httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    server.stop()
    pytest.fail(f"samplectl serve did not answer within {STARTUP_SECONDS:g} s:\n{log.read_text()[-3000:]}")


ACTIVE: list[LiveServer] = []  # the server of the running test (the `store` fixture reads its stores)


def skip_in_remote_mode(reason: str) -> None:
    if ACTIVE:
        pytest.skip(f"local store only: {reason}")


def server_home() -> Path | None:
    """The data directory of the running test's server, when the test runs in remote mode."""
    return ACTIVE[-1].home if ACTIVE else None


@pytest.fixture
def live_server(request: pytest.FixtureRequest, test_login: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                serve_forks: ServeForks) -> Iterator[LiveServer]:
    """`samplectl serve` on this test's data directory; the test's commands then go through it."""
    from tests.support.logins import issue_token, set_up_users

    home = Path(os.environ["SAMPLECTL_HOME"])
    if request.node.get_closest_marker("no_users"):
        # A users database with nobody in it: the test makes its first admin with `init --admin`
        # (on the server's data directory: tests.login_support.init_admin), as a lab would.
        set_up_users()
    else:
        # The users database with the admin 'tester' (password TEST_PASSWORD), before the server opens
        # it; tests marked real_auth log in as tester themselves.
        issue_token("tester", "admin")
    server = start_server(serve_forks, dict(os.environ), home, tmp_path / "server.log")
    tokens: dict[tuple[str, str], str] = {}

    def token_from_server() -> str | None:
        # A token of the server's users database (the server checks it on every request).
        if test_login.username is None:
            return None
        key = (test_login.username, test_login.role)
        if key not in tokens:
            with monkeypatch.context() as there:
                there.setenv("SAMPLECTL_HOME", str(home))
                there.delenv("SAMPLECTL_SERVER", raising=False)
                tokens[key] = issue_token(*key)
        return tokens[key]

    monkeypatch.setattr(test_login, "token", token_from_server)
    monkeypatch.setenv("SAMPLECTL_SERVER", server.url)
    monkeypatch.setenv("SAMPLECTL_HOME", str(tmp_path / "client"))  # no database here: see the docstring
    ACTIVE.append(server)
    try:
        yield server
    finally:
        ACTIVE.remove(server)
        server.stop()


# local: the commands on the embedded store; wire: the same commands on the MongoDB engine (pymongo
# to the nx-27017 wire-protocol server, a database of the test's own); remote: through `samplectl serve`.
MODES = ["local", pytest.param("wire", marks=pytest.mark.wire), "remote"]
# Modules about the command line and remote mode rather than the engine run local and remote only; the
# core CLI modules (samples, update, import, export and undo, history and audit) run on every engine.
LOCAL_AND_REMOTE = [pytest.mark.usefixtures("mode"),
                    pytest.mark.embedded_only("about the command line and remote mode, not the engine")]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test on the embedded store, on the MongoDB engine, and through a real `samplectl serve`."""
    if request.param == "remote":
        marker = request.node.get_closest_marker("local_only")
        if marker is not None:
            pytest.skip(f"local store only: {marker.args[0] if marker.args else 'about the local store itself'}")
        request.getfixturevalue("live_server")
    if request.param == "wire":
        marker = request.node.get_closest_marker("embedded_only")
        if marker is not None:
            pytest.skip(f"embedded store only: {marker.args[0] if marker.args else 'about the SQLite store itself'}")
        request.getfixturevalue("wire_env")
    return str(request.param)
