"""A real `samplectl serve` process on a loopback port, with an admin, a technician and a viewer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import bound_by, free_port

PASSWORDS = {"admin": "admin-pass-123", "tina": "tina-pass-123", "vera": "vera-pass-123"}


def server_env(base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMPLECTL_") or k.startswith("SAMPLECTL_TEST_")}
    env.update(SAMPLECTL_HOME=str(base / "data"), SAMPLECTL_TIMEZONE="UTC", SAMPLECTL_BCRYPT_ROUNDS="4",
               HOME=str(base / "home"), XDG_CONFIG_HOME=str(base / "config"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.update(extra)
    return env


@dataclass
class Server:
    base: Path
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def init(self) -> None:
        done = subprocess.run([sys.executable, "-m", "samplectl", "init", "--admin", "admin", "--password-stdin"],
                              input=PASSWORDS["admin"] + "\n", capture_output=True, text=True, env=self.env,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr

    def start(self) -> Server:
        self.port = self.port or free_port()
        self.log = self.base / f"server-{self.port}.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "samplectl", "serve", "--port", str(self.port), *self.args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"samplectl serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if bound_by(self.log, self.port) and httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail("samplectl serve did not answer /healthz")
        raise AssertionError  # unreachable

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def client(self, user: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            answer = httpx.post(self.url + "/token", data={"username": user, "password": PASSWORDS[user]}, timeout=60)
            assert answer.status_code == 200, answer.text
            self.tokens[user] = answer.json()["access_token"]
        return self.tokens[user]

    def add_users(self) -> None:
        with self.client("admin") as admin:
            for name, role in (("tina", "technician"), ("vera", "viewer")):
                answer = admin.post("/users", json={"username": name, "role": role, "password": PASSWORDS[name]})
                assert answer.status_code == 201, answer.text


def start_server(base: Path, *, args: list[str] | None = None, **env: str) -> Server:
    server = Server(base, server_env(base, **env), args=list(args or []))
    server.init()
    server.start()
    server.add_users()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a module's tests (each test uses sample ids of its own)."""
    running = start_server(tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server with stores of its own, for tests that count everything stored."""
    running = start_server(tmp_path / "own")
    yield running
    running.stop()


def sample(sample_id: str, **fields: Any) -> dict[str, Any]:
    body = {"sample_id": sample_id, "sample_type": "blood", "subject_id": "SUBJ-1",
            "collection_date": "2025-03-14T09:30:00Z", "storage_location": "FRZ-1/R1/B1"}
    body.update(fields)
    return body
