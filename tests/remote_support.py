"""A real `samplectl serve` on loopback, and the `mode` fixture that runs a test against a local
store and against that server (remote mode), with the same assertions.

In remote mode the test's commands still run in-process (the `cli` fixture), with only
SAMPLECTL_SERVER and a token set; the server is a separate process on this test's own data
directory, so what the test finds stored (the `store` fixture) is what the server wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CliRun, free_port

PASSWORD = "remote-pass-123"
STARTUP_SECONDS = 60.0


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, token: str | None = None, **kwargs: object):  # -> httpx.Response
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def login(self, username: str, password: str = PASSWORD) -> str:
        answer = self.request("POST", "/token", data={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def token_for(self, username: str, role: str) -> str:
        """A token of ``username`` with ``role``, the account added (or its role set) by the admin first."""
        admin = self.tokens["tester"]
        if username != "tester":
            added = self.request("POST", "/users", admin, json={"username": username, "role": role,
                                                                "password": PASSWORD})
            if added.status_code == 409:
                changed = self.request("PATCH", f"/users/{username}", admin, json={"role": role})
                assert changed.status_code == 200, changed.text
            else:
                assert added.status_code == 201, added.text
        self.tokens[username] = self.login(username)
        return self.tokens[username]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(env: dict[str, str], log: Path) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = {k: v for k, v in env.items() if k not in ("SAMPLECTL_SERVER", "SAMPLECTL_TOKEN")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "samplectl", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    server = LiveServer(url, process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    import httpx

    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"samplectl serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"samplectl serve did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


ACTIVE: list[LiveServer] = []  # the server of the running test, for act_as


@pytest.fixture
def live_server(cli: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """`samplectl serve` on this test's data directory; the commands then run in remote mode as 'tester' (admin)."""
    made = cli("init", "--admin", "tester", "--password-stdin", input=PASSWORD + "\n")
    assert made.exit_code == 0, made.stderr
    server = start_server(dict(os.environ), tmp_path / "server.log")
    try:
        server.tokens["tester"] = server.login("tester")
        monkeypatch.setenv("SAMPLECTL_SERVER", server.url)
        monkeypatch.setenv("SAMPLECTL_TOKEN", server.tokens["tester"])
        ACTIVE.append(server)
        yield server
    finally:
        if server in ACTIVE:
            ACTIVE.remove(server)
        server.stop()


@pytest.fixture(params=["local", "remote"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test twice: on the local store, and through a real server (remote mode)."""
    if request.param == "remote":
        request.getfixturevalue("live_server")
    return str(request.param)


def act_as_remote(username: str, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """In remote mode act_as also logs in to the server as that user, with that role."""
    if ACTIVE:
        monkeypatch.setenv("SAMPLECTL_TOKEN", ACTIVE[-1].token_for(username, role))
