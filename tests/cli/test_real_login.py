"""In-process commands run logged in for real: a token checked against the users database each time."""

from __future__ import annotations

from tests.remote_support import LOCAL_AND_REMOTE

# Run on a local store and through a real `samplectl serve` (remote mode): tests/remote_support.py.
pytestmark = LOCAL_AND_REMOTE


def test_commands_run_as_the_tests_user_with_a_real_token(cli) -> None:
    who = cli("whoami", "-o", "json")
    assert who.exit_code == 0, who.stderr
    assert who.json()["username"] == "tester" and who.json()["role"] == "admin"


def test_a_disabled_account_is_refused_on_its_next_command(cli, act_as) -> None:
    act_as("vera", "viewer")
    assert cli("list", "-o", "json").exit_code == 0
    act_as("tester", "admin")
    assert cli("users", "disable", "vera").exit_code == 0
    act_as("vera", "viewer")
    refused = cli("list", "-o", "json")
    assert refused.exit_code == 3
    assert "account 'vera' is disabled" in refused.stderr


def test_the_role_comes_from_the_users_database_not_the_token(cli, act_as) -> None:
    act_as("vic", "viewer")
    assert cli("list", "-o", "json").exit_code == 0
    act_as("tester", "admin")
    assert cli("users", "set-role", "vic", "technician").exit_code == 0
    act_as("vic", "viewer")  # the same token as before: its role claim still says viewer
    who = cli("whoami", "-o", "json")
    assert who.json()["role"] == "technician"
