"""Shared fixtures: an isolated environment per test, the CLI runner, and the sample-store backends."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.logins import TestLogin

ROOT = Path(__file__).resolve().parent.parent
# Fixtures of the login, users and roles tests (users_backend, postgres_url, real_keyring, ...).
pytest_plugins = ["tests.login_support", "tests.remote_support"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory, config location and a fixed time zone."""
    for name in list(os.environ):
        if name.startswith("SAMPLECTL_") and not name.startswith("SAMPLECTL_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("NO_COLOR", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SAMPLECTL_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SAMPLECTL_TIMEZONE", "UTC")
    # bcrypt at its minimum cost keeps logins fast in tests (the default, 12, costs ~0.25 s each).
    monkeypatch.setenv("SAMPLECTL_BCRYPT_ROUNDS", "4")
    # No test touches the keyring of the person running them: tests that want a real one use the
    # real_keyring fixture; the others see "no keyring" and exercise the token-file fallback.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    if "keyring.core" in sys.modules:
        import keyring
        from keyring.backends import fail

        keyring.set_keyring(fail.Keyring())
    return tmp_path


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


CliRun = Callable[..., Outcome]


@pytest.fixture
def cli(test_login: TestLogin) -> CliRun:
    """Run samplectl in-process: cli("list", "-o", "json", input="...", tty="stdout,stdin").

    Commands run as `test_login`'s user through the real login path (a token in SAMPLECTL_TOKEN);
    a test that sets SAMPLECTL_TOKEN itself, or runs `init`, is left alone.
    """
    from typer.testing import CliRunner

    from samplectl.cli.app import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None, tty: str = "", env: dict[str, str] | None = None) -> Outcome:
        full_env = dict(env or {})
        full_env["SAMPLECTL_FORCE_TTY"] = tty
        if "init" not in args and "SAMPLECTL_TOKEN" not in full_env and "SAMPLECTL_TOKEN" not in os.environ:
            token = test_login.token()
            if token is not None:
                full_env["SAMPLECTL_TOKEN"] = token
        result = runner.invoke(app, list(args), input=input, env=full_env, catch_exceptions=False)
        return Outcome(result.exit_code, result.stdout, result.stderr)

    return run


def run_samplectl(*args: str, env: dict[str, str] | None = None, input: str | None = None,
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run samplectl as a real process (for concurrency, kills and start-up checks)."""
    return subprocess.run(
        [sys.executable, "-m", "samplectl", *args], input=input, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=timeout, check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bound_by(log: Path, port: int) -> bool:
    """Whether the `samplectl serve` writing ``log`` has bound ``port`` (uvicorn says so once it has).

    Until then an answer on the port may come from another test's server, which took the same free
    port between free_port() and this one's bind: its users differ, and a login there fails (401).
    """
    try:
        return f":{port} (Press CTRL+C to quit)" in log.read_text(errors="replace")
    except FileNotFoundError:
        return False


@pytest.fixture(scope="session")
def wire_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB wire-protocol server (nx-27017) on loopback, spoken to by the real pymongo driver."""
    exe = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    if not Path(exe).exists():
        pytest.skip("nx-27017 is not installed (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("wire")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--data-dir", str(base / "dbs"), "--host", "127.0.0.1", "-p", str(port),
         "--log-file", str(base / "server.log"), "--pid-file", str(base / "server.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("nx-27017 did not start listening")
    yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def wire_env(wire_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point samplectl at the wire server, in a database of this test's own."""
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", wire_server)
    monkeypatch.setenv("SAMPLECTL_MONGODB_DB", "t" + uuid.uuid4().hex[:12])
    return wire_server


BACKENDS = ["mongomock", "embedded", "wire", "mongodb"]


@pytest.fixture(params=BACKENDS)
def sample_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An open SampleDatabase on each backend; the same store code runs on all of them."""
    from samplectl.stores.engines import open_embedded
    from samplectl.stores.mongo import mongo_database, open_mongodb

    kind = request.param
    if kind == "mongomock":
        import mongomock

        client: Any = mongomock.MongoClient()
        database = mongo_database(client["samplectl"], "mongomock", client)
    elif kind == "embedded":
        from samplectl.config import load_settings

        database = open_embedded(load_settings())
    elif kind == "wire":
        uri = request.getfixturevalue("wire_server")
        database = open_mongodb(uri, "t" + uuid.uuid4().hex[:12], 3000)
    else:
        uri = os.environ.get("SAMPLECTL_TEST_MONGODB_URI")
        if not uri:
            pytest.skip("set SAMPLECTL_TEST_MONGODB_URI to run against a real MongoDB")
        database = open_mongodb(uri, "t" + uuid.uuid4().hex[:12], 3000)
    database.backend = kind  # type: ignore[attr-defined]
    yield database
    if kind in ("wire", "mongodb"):
        mongo = database.samples.db  # type: ignore[attr-defined]
        mongo.client.drop_database(mongo.name)
    database.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_auth: resolve the identity as production does (no test identity)")
    config.addinivalue_line("markers", "local_only(reason): with the mode fixture, run on the local store only")
    config.addinivalue_line("markers", "no_users: in remote mode the server's users database starts empty "
                                       "(the test runs `init --admin` itself)")
    config.addinivalue_line("markers", "embedded_only(reason): with the mode fixture, not on the MongoDB engine")


# The global timeout (pyproject.toml) catches a hang; a slow test starting dozens of processes can take longer
# than that honestly when the parallel workers (and whatever else runs on the machine) share two cores.
SLOW_TEST_TIMEOUT = 600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT))


@pytest.fixture
def test_login(request: pytest.FixtureRequest) -> TestLogin:
    """In-process CLI tests act as the admin 'tester' (logged in for real) unless marked real_auth.

    Tests of roles use act_as(); tests of login itself use the real_auth marker.
    """
    if request.node.get_closest_marker("real_auth"):
        return TestLogin(username=None)
    return TestLogin()


@pytest.fixture
def act_as(test_login: TestLogin) -> Callable[[str, str], None]:
    """act_as("vera", "viewer"): in-process commands run as that user and role (a real account and token)."""
    return test_login.act_as


ADMIN_PASSWORD = "admin-pass-123"


@pytest.fixture
def process_env() -> dict[str, str]:
    """Environment for samplectl run as a separate process (run_samplectl), authorised for real.

    Sets up the users database with an admin "admin", logs in as real processes do, and returns
    {"SAMPLECTL_TOKEN": ...} for run_samplectl(..., env=process_env).
    """
    made = run_samplectl("init", "--admin", "admin", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    login = run_samplectl("login", "-u", "admin", "--password-stdin", "--print-token", input=ADMIN_PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    return {"SAMPLECTL_TOKEN": login.stdout.strip()}
