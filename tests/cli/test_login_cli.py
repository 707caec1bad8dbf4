"""init --admin, login, logout, whoami and the roles, as users and scripts see them (real identity)."""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from samplectl.config import load_settings
from tests.conftest import CliRun
from tests.login_support import (
    ADMIN_PW,
    ALICE_PW,
    add_user,
    b64,
    claims_of,
    databases_settings,
    forge,
    good_claims,
    init_admin,
    login,
    stored_secret,
    token_for,
    unsigned,
)
from tests.remote_support import LOCAL_AND_REMOTE

# Run on local databases and through a real `samplectl serve` (remote mode: tests/remote_support.py),
# whose users database starts empty, as a lab's does before `init --admin`.
pytestmark = [pytest.mark.real_auth, pytest.mark.no_users, *LOCAL_AND_REMOTE]
INIT = "about `init`, which runs where the databases are, never through a server"
SERVER_SETTING = "a setting of the server's process (its environment), not of the client"

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14T09:30", "--location", "FRZ-1/R1"]


def create(cli: CliRun, sample_id: str, **env: str) -> Any:
    return cli("create", *BLOOD, "--id", sample_id, "-o", "json", env=env)


def audit_entries(action: str | None = None) -> list[dict[str, Any]]:
    from samplectl.stores.engines import open_sample_database

    database = open_sample_database(databases_settings())
    try:
        return [{k: v for k, v in doc.items() if k != "_id"} for doc in database.audit.walk()
                if action is None or doc["action"] == action]
    finally:
        database.close()


# -- init --admin --------------------------------------------------------------------------------
@pytest.mark.local_only(INIT)
def test_init_admin_then_again_is_safe(cli: CliRun) -> None:
    first = cli("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n")
    assert first.exit_code == 0, first.stderr
    assert "created admin admin" in first.stderr and "generated a token signing secret" in first.stderr
    again = cli("init", "--admin", "admin", "--password-stdin", input="other-password\n")
    assert again.exit_code == 0 and "admin admin already exists; unchanged" in again.stderr
    assert "generated" not in again.stderr
    assert cli("init").exit_code == 0
    assert login(cli, "admin", ADMIN_PW).exit_code == 0  # the first password still holds
    users = cli("users", "list", "-o", "json").json()
    assert [(u["username"], u["role"]) for u in users] == [("admin", "admin")]


@pytest.mark.local_only(INIT)
def test_init_admin_asks_for_the_password_twice_on_a_terminal(cli: CliRun) -> None:
    result = cli("init", "--admin", "admin", input=f"{ADMIN_PW}\nmistyped-pw\n{ADMIN_PW}\n{ADMIN_PW}\n", tty="stdin")
    assert result.exit_code == 0, result.stderr
    assert "the two passwords differ" in result.stderr
    assert ADMIN_PW not in result.stdout + result.stderr
    assert login(cli, "admin", ADMIN_PW).exit_code == 0


@pytest.mark.local_only(INIT)
def test_init_admin_in_a_script_needs_password_stdin_and_writes_nothing(cli: CliRun) -> None:
    result = cli("init", "--admin", "admin")
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr
    assert not load_settings().home.joinpath("users.db").exists()
    assert cli("init", "--password-stdin").exit_code == 2  # without --admin it means nothing


@pytest.mark.local_only(INIT)
def test_init_does_not_make_a_second_first_admin(cli: CliRun) -> None:
    init_admin(cli)
    other = cli("init", "--admin", "root2", "--password-stdin", input="whatever-pw\n")
    assert other.exit_code == 7 and "already has an admin (admin)" in other.stderr


@pytest.mark.local_only(SERVER_SETTING)
def test_an_env_signing_secret_is_used_and_not_stored(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_JWT_SECRET", "k" * 40)
    init_admin(cli)
    assert "generated" not in cli("init").stderr
    from samplectl.stores.userdb import locate_users_database
    from samplectl.stores.users import user_store

    with user_store(locate_users_database(load_settings())) as store:
        assert "jwt_secret" not in store.settings()
    assert login(cli, "admin", ADMIN_PW).exit_code == 0
    assert cli("list").exit_code == 0
    monkeypatch.setenv("SAMPLECTL_JWT_SECRET", "j" * 40)  # rotating the secret ends every login
    assert cli("list").exit_code == 3


# -- login, whoami, logout ------------------------------------------------------------------------
def test_login_create_logout_then_list_is_refused(cli: CliRun) -> None:
    init_admin(cli)
    assert cli("list").exit_code == 3
    result = login(cli, "admin", ADMIN_PW)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "logged in as admin (admin)" in result.stderr
    # No keyring in this test: said on stderr, as gh does.
    assert "no OS keyring is available; the token is kept in" in result.stderr
    made = create(cli, "S-1")
    assert made.exit_code == 0 and made.json()["created_by"] == "admin"
    out = cli("logout")
    assert out.exit_code == 0 and "token is revoked" in out.stderr
    refused = cli("list")
    assert refused.exit_code == 3
    assert refused.stderr.splitlines()[:2] == ["error: not logged in", "hint: run samplectl login"]
    assert cli("logout").exit_code == 0  # twice is fine


def test_whoami_says_who_until_when_and_where(cli: CliRun, logged_in_admin: None, mode: str) -> None:
    shown = cli("whoami", "-o", "json").json()
    assert shown["username"] == "admin" and shown["role"] == "admin"
    expires = datetime.fromisoformat(shown["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - datetime.now(UTC)).total_seconds() - 8 * 3600) < 60
    assert shown["token_stored_in"].startswith("file ") and shown["token_stored_in"].endswith(".jwt")
    if mode == "remote":  # where logins are checked: the server, by its URL
        assert shown["server"] == os.environ["SAMPLECTL_SERVER"] and "users_database" not in shown
    else:
        assert shown["users_database"].startswith("sqlite:///")
    table = cli("whoami", tty="stdout")
    assert table.stdout.splitlines()[:2] == ["username: admin", "role: admin"]


@pytest.mark.local_only(SERVER_SETTING)
def test_the_token_lifetime_is_a_setting(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_TOKEN_LIFETIME_HOURS", "0.5")
    init_admin(cli)
    claims = claims_of(token_for(cli, "admin", ADMIN_PW))
    assert claims["exp"] - claims["iat"] == pytest.approx(1800, abs=1)


def test_login_asks_for_username_and_a_hidden_password_on_a_terminal(cli: CliRun) -> None:
    init_admin(cli)
    result = cli("login", input=f"admin\n{ADMIN_PW}\n", tty="stdin")
    assert result.exit_code == 0, result.stderr
    assert "Username" in result.stderr and "Password" in result.stderr
    assert ADMIN_PW not in result.stdout + result.stderr


def test_login_in_a_script_needs_its_flags(cli: CliRun) -> None:
    init_admin(cli)
    assert cli("login", input=ADMIN_PW + "\n").exit_code == 2
    no_stdin_flag = cli("login", "-u", "admin", input=ADMIN_PW + "\n")
    assert no_stdin_flag.exit_code == 2 and "--password-stdin" in no_stdin_flag.stderr
    assert cli("login", "-u", "admin", "--password-stdin", input="").exit_code == 6


@pytest.mark.parametrize("args", [["-u", "admin", "--password", ADMIN_PW], ["admin", ADMIN_PW], ["-p", ADMIN_PW]])
def test_a_password_is_never_accepted_as_an_argument(cli: CliRun, args: list[str]) -> None:
    init_admin(cli)
    assert cli("login", *args).exit_code == 2


def test_print_token_is_for_scripts_only(cli: CliRun) -> None:
    init_admin(cli)
    tty = cli("login", "-u", "admin", "--password-stdin", "--print-token", input=ADMIN_PW + "\n", tty="stdout")
    assert tty.exit_code == 2 and tty.stdout == ""
    token = token_for(cli, "admin", ADMIN_PW)
    assert token.count(".") == 2
    assert cli("list").exit_code == 3  # printed, not kept
    assert cli("list", env={"SAMPLECTL_TOKEN": token}).exit_code == 0


@pytest.mark.local_only(INIT)
def test_login_before_init_says_to_run_init(cli: CliRun) -> None:
    result = login(cli, "admin", ADMIN_PW)
    assert result.exit_code == 3 and "samplectl init" in result.stderr


# -- failed logins --------------------------------------------------------------------------------
def test_unknown_user_and_wrong_password_look_the_same(cli: CliRun) -> None:
    init_admin(cli)
    unknown, wrong = login(cli, "nobody", ADMIN_PW), login(cli, "admin", "wrong-password")
    assert unknown.exit_code == wrong.exit_code == 3
    assert unknown.stderr == wrong.stderr
    assert unknown.stderr.startswith("error: wrong username or password\n")


@pytest.mark.slow
@pytest.mark.local_only(SERVER_SETTING)
def test_unknown_user_and_wrong_password_take_about_the_same_time(
    cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_admin(cli)
    monkeypatch.setenv("SAMPLECTL_BCRYPT_ROUNDS", "10")  # bcrypt dominates: ~60 ms a check
    cli("users", "passwd", "admin", "--password-stdin", input=ADMIN_PW + "\n",
        env={"SAMPLECTL_TOKEN": token_for(cli, "admin", ADMIN_PW)})
    monkeypatch.setenv("SAMPLECTL_LOCKOUT_ATTEMPTS", "1000")

    def timed(name: str) -> float:
        started = time.perf_counter()
        assert login(cli, name, "wrong-password").exit_code == 3
        return time.perf_counter() - started

    # Interleaved, so that a busy machine slows both alike.
    pairs = [(timed("nobody"), timed("admin")) for _ in range(9)]
    unknown, wrong = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    assert 0.6 < unknown / wrong < 1.6, (unknown, wrong)


def test_five_failures_lock_the_account_until_an_admin_unlocks_it(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "alice", "technician")
    for _ in range(5):
        assert login(cli, "alice", "wrong-password").exit_code == 3
    locked = login(cli, "alice", ALICE_PW)
    assert locked.exit_code == 3
    assert "account 'alice' is locked until" in locked.stderr and "samplectl users unlock alice" in locked.stderr
    listed = {u["username"]: u for u in cli("users", "list", "-o", "json").json()}
    assert listed["alice"]["failed_logins"] == 5 and listed["alice"]["locked_until"]
    unlocked = cli("users", "unlock", "alice", "-o", "json")
    assert unlocked.exit_code == 0 and unlocked.json()["failed_logins"] == 0
    assert login(cli, "alice", ALICE_PW).exit_code == 0


@pytest.mark.local_only(SERVER_SETTING)
def test_the_lock_is_configurable_and_runs_out(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_LOCKOUT_ATTEMPTS", "2")
    monkeypatch.setenv("SAMPLECTL_LOCKOUT_MINUTES", "0.01")  # 0.6 s
    init_admin(cli)
    login(cli, "admin", "wrong-password")
    assert "locked" not in login(cli, "admin", "wrong-password").stderr  # the lock is not announced
    assert "locked" in login(cli, "admin", ADMIN_PW).stderr
    time.sleep(0.7)
    assert login(cli, "admin", ADMIN_PW).exit_code == 0


def test_a_success_resets_the_count(cli: CliRun) -> None:
    init_admin(cli)
    for _ in range(4):
        login(cli, "admin", "wrong-password")
    assert login(cli, "admin", ADMIN_PW).exit_code == 0
    for _ in range(4):
        login(cli, "admin", "wrong-password")
    assert login(cli, "admin", ADMIN_PW).exit_code == 0


def test_a_disabled_account_cannot_log_in(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "alice", "viewer")
    assert cli("users", "disable", "alice").exit_code == 0
    refused = login(cli, "alice", ALICE_PW)
    assert refused.exit_code == 3 and "account 'alice' is disabled" in refused.stderr
    # Only the right password learns that: a wrong one gets the usual answer.
    assert "wrong username or password" in login(cli, "alice", "wrong-password").stderr


# -- roles ----------------------------------------------------------------------------------------
def test_a_viewer_reads_but_cannot_create_update_or_delete(cli: CliRun, logged_in_admin: None) -> None:
    assert create(cli, "S-1").exit_code == 0
    add_user(cli, "vera", "viewer")
    env = {"SAMPLECTL_TOKEN": token_for(cli, "vera", ALICE_PW)}
    assert cli("get", "S-1", env=env).exit_code == 0
    assert cli("list", env=env).exit_code == 0
    for args in (["create", *BLOOD], ["update", "S-1", "--location", "X"], ["delete", "S-1", "--yes"]):
        denied = cli(*args, env=env)
        assert denied.exit_code == 4, args
        assert "role; vera is viewer" in denied.stderr


def test_a_technician_writes_but_cannot_delete_or_manage_users(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "tina", "technician")
    env = {"SAMPLECTL_TOKEN": token_for(cli, "tina", ALICE_PW)}
    assert create(cli, "S-1", **env).exit_code == 0
    assert cli("update", "S-1", "--location", "X", env=env).exit_code == 0
    delete = cli("delete", "S-1", "--yes", env=env)
    assert delete.exit_code == 4 and "needs the admin role" in delete.stderr
    for args in (["users", "list"], ["users", "disable", "admin"], ["users", "set-role", "tina", "admin"],
                 ["users", "unlock", "admin"], ["users", "passwd", "admin", "--password-stdin"],
                 ["users", "add", "eve", "--role", "admin", "--password-stdin"]):
        denied = cli(*args, env=env, input="new-password-1\n")
        assert denied.exit_code == 4, args
        assert "needs the admin role" in denied.stderr


def test_a_role_change_applies_to_the_next_command(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "tina", "technician")
    env = {"SAMPLECTL_TOKEN": token_for(cli, "tina", ALICE_PW)}
    assert create(cli, "S-1", **env).exit_code == 0
    assert cli("users", "set-role", "tina", "viewer").exit_code == 0
    assert create(cli, "S-2", **env).exit_code == 4
    assert cli("whoami", "-o", "json", env=env).json()["role"] == "viewer"


# -- token attacks: every one is exit 3 with the hint ---------------------------------------------
def attack_token(cli: CliRun, attack: str) -> str:
    """A token for alice (technician) spoilt the way `attack` says."""
    add_user(cli, "alice", "technician")
    token = token_for(cli, "alice", ALICE_PW)
    secret, _ = stored_secret()
    claims = claims_of(token)
    if attack == "expired":
        return forge({**claims, "iat": claims["iat"] - 9 * 3600, "exp": claims["iat"] - 3600}, secret)
    if attack == "tampered payload":
        header, _, signature = token.split(".")
        return f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}"
    if attack == "alg none":
        return unsigned({**claims, "role": "admin"})
    if attack == "other secret":
        return forge({**claims, "role": "admin"}, "another-secret-" * 4)
    if attack == "user disabled":
        assert cli("users", "disable", "alice").exit_code == 0
    elif attack == "user deleted":
        from samplectl.stores.userdb import locate_users_database
        from samplectl.stores.users import user_store, users

        with user_store(locate_users_database(databases_settings())) as store, store.engine.begin() as conn:
            conn.execute(users.delete().where(users.c.username == "alice"))
    elif attack == "after logout":
        assert cli("logout", env={"SAMPLECTL_TOKEN": token}).exit_code == 0
    elif attack == "after passwd":
        assert cli("users", "passwd", "alice", "--password-stdin", input="brand-new-pw\n").exit_code == 0
    return token


ATTACKS = ["expired", "tampered payload", "alg none", "other secret", "user disabled", "user deleted",
           "after logout", "after passwd"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_spoilt_token_is_refused_with_exit_3(cli: CliRun, logged_in_admin: None, attack: str) -> None:
    token = attack_token(cli, attack)
    refused = cli("list", env={"SAMPLECTL_TOKEN": token})
    assert refused.exit_code == 3, refused.stderr
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("error: SAMPLECTL_TOKEN: ")
    assert lines[1].startswith("hint: ")
    assert json.loads(lines[2])["error"]["code"] == "auth"
    assert "Traceback" not in refused.stderr and token not in refused.stderr
    if attack not in ("user disabled",):
        assert lines[1].startswith("hint: run samplectl login")


@pytest.mark.parametrize("attack", ["user disabled", "after passwd", "expired"])
def test_a_cached_login_ends_the_same_way(cli: CliRun, logged_in_admin: None, attack: str) -> None:
    token = attack_token(cli, attack)
    from samplectl.services.factory import open_services
    from samplectl.stores.tokens import TokenCache

    settings = load_settings()  # where `login` keeps it: under the users database, or the server's URL
    TokenCache(open_services(settings).users_database.key, settings.home).save(token)
    refused = cli("create", *BLOOD)
    assert refused.exit_code == 3
    assert refused.stderr.startswith("error: ") and "SAMPLECTL_TOKEN" not in refused.stderr


def test_a_bad_samplectl_token_is_never_replaced_by_the_cached_login(cli: CliRun, logged_in_admin: None) -> None:
    assert cli("list").exit_code == 0
    for bad in ("garbage", unsigned(good_claims())):
        refused = cli("list", env={"SAMPLECTL_TOKEN": bad})
        assert refused.exit_code == 3 and "SAMPLECTL_TOKEN" in refused.stderr


# -- user management --------------------------------------------------------------------------------
def test_users_add_list_disable_enable_set_role(cli: CliRun, logged_in_admin: None) -> None:
    added = cli("users", "add", "Alice", "--role", "technician", "--password-stdin", "-o", "json",
                input=ALICE_PW + "\n")
    assert added.exit_code == 0, added.stderr
    assert {k: added.json()[k] for k in ("username", "role", "active", "failed_logins")} == {
        "username": "Alice", "role": "technician", "active": True, "failed_logins": 0}
    assert "password" not in json.dumps(added.json()).replace("password_changed_at", "")
    assert cli("users", "add", "alice", "--role", "viewer", "--password-stdin", input=ALICE_PW + "\n").exit_code == 7
    assert cli("users", "add", "bob", "--role", "superuser", "--password-stdin", input=ALICE_PW + "\n").exit_code == 6
    assert cli("users", "add", "bob bob", "--role", "viewer", "--password-stdin", input=ALICE_PW + "\n").exit_code == 6
    assert cli("users", "add", "bob", "--role", "viewer", "--password-stdin", input="short\n").exit_code == 6
    assert cli("users", "add", "bob", "--password-stdin", input=ALICE_PW + "\n").exit_code == 2  # --role required
    assert claims_of(token_for(cli, "ALICE", ALICE_PW))["sub"] == "Alice"  # names ignore case
    assert cli("users", "disable", "alice", "-o", "json").json()["active"] is False
    assert cli("users", "enable", "alice", "-o", "json").json()["active"] is True
    assert cli("users", "set-role", "alice", "viewer", "-o", "json").json()["role"] == "viewer"
    assert cli("users", "set-role", "alice", "root").exit_code == 6
    assert cli("users", "disable", "nobody").exit_code == 5
    names = [u["username"] for u in cli("users", "list", "-o", "json").json()]
    assert names == ["admin", "Alice"]
    assert "bob" not in names  # nothing was written by the refused adds


def test_the_last_admin_cannot_be_disabled_or_demoted(cli: CliRun, logged_in_admin: None) -> None:
    for args in (["users", "disable", "admin"], ["users", "set-role", "admin", "technician"]):
        refused = cli(*args)
        assert refused.exit_code == 7 and "no active admin" in refused.stderr
    add_user(cli, "root2", "admin")
    assert cli("users", "set-role", "admin", "technician").exit_code == 0


def test_users_add_asks_twice_on_a_terminal_and_checks_role_first(cli: CliRun, logged_in_admin: None) -> None:
    made = cli("users", "add", "alice", "--role", "viewer", input=f"{ALICE_PW}\n{ALICE_PW}\n", tty="stdin")
    assert made.exit_code == 0 and ALICE_PW not in made.stdout + made.stderr
    assert cli("users", "add", "bob", "--role", "viewer").exit_code == 2  # script without --password-stdin


def test_changing_your_own_password_needs_the_current_one(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "alice", "viewer")
    env = {"SAMPLECTL_TOKEN": token_for(cli, "alice", ALICE_PW)}
    wrong = cli("users", "passwd", "--password-stdin", input="not-my-password\nnew-password-1\n", env=env)
    assert wrong.exit_code == 3 and "current password is wrong" in wrong.stderr
    done = cli("users", "passwd", "--password-stdin", input=f"{ALICE_PW}\nnew-password-1\n", env=env)
    assert done.exit_code == 0, done.stderr
    assert cli("list", env=env).exit_code == 3  # the old login ended
    assert login(cli, "alice", ALICE_PW).exit_code == 3
    assert login(cli, "alice", "new-password-1").exit_code == 0
    # A viewer may change only their own.
    env = {"SAMPLECTL_TOKEN": token_for(cli, "alice", "new-password-1")}
    assert cli("users", "passwd", "admin", "--password-stdin", input="x-password-1\n", env=env).exit_code == 4


def test_an_admin_reset_sets_the_password_and_lifts_a_lock(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "alice", "viewer")
    for _ in range(5):
        login(cli, "alice", "wrong-password")
    assert cli("users", "passwd", "alice", "--password-stdin", input="reset-pass-1\n").exit_code == 0
    assert login(cli, "alice", "reset-pass-1").exit_code == 0


@pytest.mark.local_only(SERVER_SETTING)
def test_a_cheap_hash_is_made_dearer_at_the_next_login(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from samplectl.services.passwords import rounds_of
    from samplectl.stores.userdb import locate_users_database
    from samplectl.stores.users import user_store

    init_admin(cli)  # at cost 4
    monkeypatch.setenv("SAMPLECTL_BCRYPT_ROUNDS", "5")
    assert login(cli, "admin", ADMIN_PW).exit_code == 0
    with user_store(locate_users_database(load_settings())) as store:
        account = store.get("admin")
    assert account is not None and rounds_of(account.password_hash) == 5


# -- the audit trail ----------------------------------------------------------------------------------
def test_logins_and_user_changes_are_audited_without_passwords(cli: CliRun, logged_in_admin: None) -> None:
    add_user(cli, "alice", "viewer")
    login(cli, "alice", "wrong-password")
    login(cli, "nobody", "typed-in-the-wrong-box")
    cli("users", "set-role", "alice", "technician")
    cli("users", "disable", "alice")
    entries = audit_entries()
    assert {e["action"] for e in entries} >= {"user_add", "login", "login_failed", "user_set_role", "user_disable"}
    for entry in entries:
        assert set(entry) >= {"at", "user", "action", "sample_id", "changes", "reason", "samplectl_version"}
        assert entry["sample_id"] is None
    failed = [e for e in entries if e["action"] == "login_failed"]
    assert [(e["user"], e["reason"]) for e in failed] == [("alice", "wrong password"), ("(unknown)", "unknown username")]
    role = next(e for e in entries if e["action"] == "user_set_role")
    assert (role["user"], role["account"], role["changes"]) == (
        "admin", "alice", {"role": {"before": "viewer", "after": "technician"}})
    dumped = json.dumps(entries, default=str)
    for secret in (ADMIN_PW, ALICE_PW, "wrong-password", "typed-in-the-wrong-box", "$2b$"):
        assert secret not in dumped


@pytest.mark.parametrize("damage", ["not utf-8", "endless"])
def test_a_damaged_token_file_is_an_invalid_login_not_a_crash_or_a_hang(cli: CliRun, logged_in_admin: None,
                                                                         damage: str) -> None:
    from pathlib import Path

    shown = cli("whoami", "-o", "json").json()["token_stored_in"]
    token_file = Path(shown.removeprefix("file "))
    token_file.unlink()
    if damage == "not utf-8":
        token_file.write_bytes(b"\xff\xfe\x00")  # was: exit 1, UnicodeDecodeError
    else:
        token_file.symlink_to("/dev/zero")  # was: read until memory ran out
    refused = cli("list")
    assert refused.exit_code == 3, refused.stderr
    assert refused.stderr.startswith("error: the token is not valid")
    assert "hint: run samplectl login" in refused.stderr


@pytest.mark.parametrize("token", ["é.é.é", "a.b\x01.c", "a" * 9000 + ".b.c", "eyJ hello.b.c"])
def test_a_samplectl_token_that_is_not_a_token_is_exit_3_naming_the_variable(cli: CliRun, logged_in_admin: None,
                                                                              token: str) -> None:
    # Remote mode put it in the Authorization header as it was: exit 1 (UnicodeEncodeError), or exit 8 when
    # the server answered a header of NULs with a page of its own.
    refused = cli("list", env={"SAMPLECTL_TOKEN": token})
    assert refused.exit_code == 3, refused.stderr
    assert refused.stderr.startswith("error: SAMPLECTL_TOKEN: ")
    assert "\nhint: run samplectl login --print-token for a new SAMPLECTL_TOKEN" in refused.stderr
