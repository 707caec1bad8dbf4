"""Logins and account changes that race (issue 9 items 5, 16, 21), on SQLite and PostgreSQL.

Each race is forced: every process waits at a barrier right after reading the account, so all of
them act on the same state, as guesses started together by a script do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_samplectl
from tests.login_support import ADMIN_PW, ALICE_PW

pytestmark = pytest.mark.slow


def racing(mode: str, gate: Path, parties: int, *args: str, stdin: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.racing", mode, str(gate), str(parties), "--", *args],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    assert proc.stdin is not None
    proc.stdin.write(stdin or "")
    proc.stdin.close()
    return proc


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    results = []
    for proc in procs:
        assert proc.stderr is not None
        proc.wait(timeout=120)
        results.append((proc.returncode, proc.stderr.read()))
    return results


def token(name: str, password: str, **env: str) -> str:
    done = run_samplectl("login", "-u", name, "--password-stdin", "--print-token", input=password + "\n", env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def admin_token(users_backend: str) -> str:
    made = run_samplectl("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n")
    assert made.returncode == 0, made.stderr
    return token("admin", ADMIN_PW)


def add(admin: str, name: str, role: str, **env: str) -> None:
    done = run_samplectl("users", "add", name, "--role", role, "--password-stdin", input=ALICE_PW + "\n",
                         env={"SAMPLECTL_TOKEN": admin, **env})
    assert done.returncode == 0, done.stderr


# -- item 5: parallel wrong passwords cannot bypass the lockout --------------------------------------
def test_twelve_guesses_started_together_lock_the_account(admin_token: str, tmp_path: Path) -> None:
    add(admin_token, "alice", "technician")
    gate = tmp_path / "gate"
    gate.mkdir()
    guesses = [racing("login-barrier", gate, 12, "login", "-u", "alice", "--password-stdin",
                      stdin=f"wrong-guess-{i}\n") for i in range(12)]
    results = finish(guesses)
    assert all(code == 3 for code, _ in results), results
    locked = [err for _, err in results if "is locked until" in err]
    assert len(locked) >= 12 - 5, [err.splitlines()[0] for _, err in results]  # at most 5 passwords were checked
    right = run_samplectl("login", "-u", "alice", "--password-stdin", input=ALICE_PW + "\n")
    assert right.returncode == 3 and "is locked until" in right.stderr
    audit = run_samplectl("audit", "--action", "login_failed", "--limit", "100", "-o", "json",
                          env={"SAMPLECTL_TOKEN": admin_token})
    checked = [e for e in json.loads(audit.stdout) if e["reason"].startswith("wrong password")]
    assert len(checked) <= 5


# -- item 16: expiry is exact; a disable ends logins for good ------------------------------------------
def test_an_expired_token_is_refused_at_once(users_backend: str) -> None:
    assert run_samplectl("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n").returncode == 0
    short = token("admin", ADMIN_PW, SAMPLECTL_TOKEN_LIFETIME_HOURS="0.0003")  # about one second
    time.sleep(2.5)
    refused = run_samplectl("list", env={"SAMPLECTL_TOKEN": short})
    assert refused.returncode == 3, refused.stderr
    assert "expired" in refused.stderr


def test_users_enable_does_not_revive_logins_made_before_users_disable(admin_token: str) -> None:
    add(admin_token, "tina", "technician")
    old = token("tina", ALICE_PW)
    admin = {"SAMPLECTL_TOKEN": admin_token}
    assert run_samplectl("users", "disable", "tina", env=admin).returncode == 0
    assert run_samplectl("users", "enable", "tina", env=admin).returncode == 0
    refused = run_samplectl("list", env={"SAMPLECTL_TOKEN": old})
    assert refused.returncode == 3
    assert "before account 'tina' was disabled" in refused.stderr
    fresh = token("tina", ALICE_PW)
    assert run_samplectl("list", env={"SAMPLECTL_TOKEN": fresh}).returncode == 0


# -- item 21: two admins disabling (or demoting) each other at once leave one active admin ------------
@pytest.mark.parametrize("change", [["disable"], ["set-role", "viewer"]])
def test_two_admins_removing_each_other_at_once_leave_an_admin(admin_token: str, tmp_path: Path,
                                                                 change: list[str]) -> None:
    add(admin_token, "bob", "admin")
    bob = token("bob", ALICE_PW)
    gate = tmp_path / "gate"
    gate.mkdir()
    verb, *rest = change
    procs = [racing("admins-barrier", gate, 2, "users", verb, "bob", *rest, env={"SAMPLECTL_TOKEN": admin_token}),
             racing("admins-barrier", gate, 2, "users", verb, "admin", *rest, env={"SAMPLECTL_TOKEN": bob})]
    results = finish(procs)
    codes = sorted(code for code, _ in results)
    assert codes == [0, 7], results
    refused = next(err for code, err in results if code == 7)
    assert "would leave no active admin" in refused
    listed = run_samplectl("users", "list", "-o", "json",
                           env={"SAMPLECTL_TOKEN": admin_token if results[0][0] == 0 else bob})
    users = json.loads(listed.stdout)
    assert sum(1 for u in users if u["role"] == "admin" and u["active"]) == 1
