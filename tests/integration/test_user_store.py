"""The users store on SQLite and PostgreSQL: schema by Alembic, accounts, lockout counting,
revocations — and the light identity look-up reading exactly what the store wrote."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from samplectl.config import load_settings
from samplectl.domain.errors import AuthError, Conflict, DatabaseUnavailable
from samplectl.stores.user_lookup import IdentityLookup
from samplectl.stores.userdb import locate_users_database
from samplectl.stores.users import INSTANCE_ID, SIGNING_SECRET, UserStore, user_store

T0 = datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(users_backend: str) -> Iterator[UserStore]:
    with user_store(locate_users_database(load_settings())) as opened:
        opened.migrate()
        yield opened


def lookup() -> IdentityLookup:
    return IdentityLookup(locate_users_database(load_settings()))


def test_migrating_twice_is_harmless(store: UserStore) -> None:
    assert store.migrate() == "0001"
    store.add("alice", "h", "viewer", T0)
    assert store.migrate() == "0001"
    assert store.get("alice") is not None


def test_usernames_are_unique_whatever_the_case(store: UserStore) -> None:
    store.add("Alice", "h", "viewer", T0)
    with pytest.raises(Conflict):
        store.add("aLICE", "h", "admin", T0)
    found = store.get("ALICE")
    assert found is not None and found.username == "Alice"


def test_accounts_round_trip_with_utc_times(store: UserStore) -> None:
    store.add("alice", "$2b$04$hash", "technician", T0)
    account = store.get("alice")
    assert account is not None
    assert (account.role, account.active, account.failed_logins, account.locked_until) == ("technician", True, 0, None)
    assert account.created_at == T0 and account.password_changed_at == T0
    assert account.password_hash == "$2b$04$hash"


def test_an_unknown_role_is_refused_by_the_database_itself(store: UserStore) -> None:
    import sqlalchemy as sa

    with pytest.raises(sa.exc.IntegrityError):
        store.add("mallory", "h", "root", T0)


def test_failures_lock_at_the_threshold_and_a_run_out_lock_starts_over(store: UserStore) -> None:
    store.add("alice", "h", "viewer", T0)
    lock = timedelta(minutes=15)
    for expected in (1, 2):
        account = store.record_failure("alice", T0, 3, lock)
        assert account is not None and account.failed_logins == expected and account.locked_until is None
    locked = store.record_failure("alice", T0, 3, lock)
    assert locked is not None and locked.locked_until == T0 + lock and locked.locked(T0)
    later = T0 + lock + timedelta(seconds=1)
    assert not locked.locked(later)
    again = store.record_failure("alice", later, 3, lock)
    assert again is not None and again.failed_logins == 1 and again.locked_until is None
    assert store.record_failure("nobody", T0, 3, lock) is None


def test_revocations_are_kept_until_their_tokens_expire(store: UserStore) -> None:
    store.revoke("jti-old", "alice", T0 - timedelta(hours=1), T0 - timedelta(hours=2))
    store.revoke("jti-1", "alice", T0 + timedelta(hours=8), T0)
    store.revoke("jti-1", "alice", T0 + timedelta(hours=8), T0)  # twice is fine
    assert store.is_revoked("jti-1")
    assert not store.is_revoked("jti-old")  # expired anyway: purged


def test_settings_are_added_once(store: UserStore) -> None:
    assert store.ensure_setting(SIGNING_SECRET, lambda: "first")
    assert not store.ensure_setting(SIGNING_SECRET, lambda: "second")
    store.ensure_setting(INSTANCE_ID, lambda: "db-1")
    assert store.settings() == {SIGNING_SECRET: "first", INSTANCE_ID: "db-1"}


def test_the_identity_lookup_reads_what_the_store_wrote(store: UserStore) -> None:
    store.add("Alice", "h", "technician", T0)
    store.update("alice", active=False, locked_until=T0 + timedelta(minutes=5), failed_logins=4)
    store.ensure_setting(INSTANCE_ID, lambda: "db-1")
    store.revoke("jti-1", "Alice", datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC))
    with lookup() as look:
        account = look.account("ALICE")
        assert account is not None
        assert (account.username, account.role, account.active, account.failed_logins) == ("Alice", "technician", False, 4)
        assert account.created_at == T0 and account.password_changed_at == T0
        assert account.locked_until == T0 + timedelta(minutes=5)
        assert look.account("bob") is None
        assert look.is_revoked("jti-1") and not look.is_revoked("jti-2")
        assert look.settings() == {INSTANCE_ID: "db-1"}


def test_an_unset_up_database_says_run_init(users_backend: str) -> None:
    with pytest.raises(AuthError, match="not set up") as refused, lookup() as look:
        look.account("alice")
    assert refused.value.hint is not None and "samplectl init" in refused.value.hint
    with pytest.raises(AuthError, match="not set up"), user_store(locate_users_database(load_settings())) as store:
        store.get("alice")


def test_the_sqlite_file_is_readable_by_its_owner_only() -> None:
    with user_store(locate_users_database(load_settings())) as store:
        store.migrate()
        assert store.database.path is not None
        assert stat.S_IMODE(os.stat(store.database.path).st_mode) == 0o600


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_exit_8_with_the_password_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("SAMPLECTL_DATABASE_URL", f"postgresql+psycopg://lab:Sup3rSecret@127.0.0.1:{free_port()}/lab")
    database = locate_users_database(load_settings())
    for attempt in (lambda: lookup().__enter__(), lambda: user_store(database).__enter__().get("x")):
        with pytest.raises(DatabaseUnavailable) as failed:
            attempt()
        assert "Sup3rSecret" not in failed.value.message and "lab:***@" in failed.value.message
