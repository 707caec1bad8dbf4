"""The test loop itself: `scripts/test --fast` leaves out what is slow, and the pytest-xdist workers that share
one PostgreSQL server each work in a namespace of their own and clean it up when they end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.login_support import fresh_postgres_database, worker_prefix


def _database_names(admin_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall()}


@pytest.mark.slow  # runs scripts/test
def test_fast_mode_leaves_out_slow_and_postgres_tests() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test"), "--fast", "-n", "0", "--collect-only", "-q",
         "tests/integration/test_concurrency.py", "tests/integration/test_user_store.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected, done.stdout
    assert not [test for test in collected if "test_concurrency.py" in test]  # marked slow
    assert not [test for test in collected if "[postgres]" in test]  # needs PostgreSQL
    assert [test for test in collected if "[sqlite]" in test]  # the rest of the module still runs


def test_worker_prefix_names_the_run_and_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "ABCDEF0123456789")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert worker_prefix() == "t_abcdef01_gw3_"
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw4")
    assert worker_prefix() != "t_abcdef01_gw3_"
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID")
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert worker_prefix() != worker_prefix()  # without xdist each run has a namespace of its own


@pytest.mark.postgres
def test_a_test_database_is_in_this_workers_namespace_and_dropped_after() -> None:
    admin = os.environ.get("SAMPLECTL_TEST_DATABASE_URL")
    if not admin:
        pytest.skip("set SAMPLECTL_TEST_DATABASE_URL (scripts/test starts a PostgreSQL)")
    with fresh_postgres_database() as url:
        name = url.rpartition("/")[2]
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        assert name.startswith("t_") and f"_{worker}_" in name
        assert name in _database_names(admin)
    assert name not in _database_names(admin)


LEAKY_TEST = """
import os, psycopg
from tests.login_support import postgres_name

def test_leaves_a_database_behind():
    name = postgres_name()
    url = os.environ["SAMPLECTL_TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"CREATE ROLE {name}")
    open(os.environ["LEAKED_TO"], "w").write(name)
"""


@pytest.mark.postgres
@pytest.mark.slow  # a pytest run of its own
def test_a_worker_drops_what_its_tests_left_behind_when_it_ends(tmp_path: Path) -> None:
    admin = os.environ.get("SAMPLECTL_TEST_DATABASE_URL")
    if not admin:
        pytest.skip("set SAMPLECTL_TEST_DATABASE_URL (scripts/test starts a PostgreSQL)")
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST)
    leaked_to = tmp_path / "leaked"
    # Its own worker name, so that its clean-up is not this worker's.
    env = {**os.environ, "PYTEST_XDIST_WORKER": "probe", "LEAKED_TO": str(leaked_to), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.login_support",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_leaky.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    name = leaked_to.read_text()
    assert "_probe_" in name
    assert name not in _database_names(admin)
    import psycopg

    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None
