"""Tokens, passwords, account rules and the token cache, without a database."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from samplectl.domain.accounts import check_new_password, check_role, check_username
from samplectl.domain.errors import AuthError, ValidationFailed
from samplectl.services import passwords, tokens
from samplectl.stores.tokens import TokenCache
from tests.login_support import b64, claims_of, forge, unsigned

KEY = tokens.SigningKey(secret="s" * 64, audience="db-1")
NOW = datetime.now(UTC)


CHANGED = datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=UTC)


def issue() -> str:
    token, _ = tokens.issue("alice", "technician", CHANGED, KEY, NOW, timedelta(hours=8))
    return token


def test_a_token_carries_sub_role_iat_exp_jti_and_reads_back() -> None:
    token, claims = tokens.issue("alice", "technician", CHANGED, KEY, NOW, timedelta(hours=8))
    payload = claims_of(token)
    assert set(payload) == {"sub", "role", "iat", "exp", "jti", "aud", "pwd", "iat_us"}
    assert isinstance(payload["iat"], int) and isinstance(payload["exp"], int)
    read = tokens.read(token, KEY)
    assert (read.sub, read.role, read.jti) == ("alice", "technician", claims.jti)
    assert read.exp - read.iat == 8 * 3600
    assert read.pwd == tokens.password_stamp(CHANGED) != tokens.password_stamp(CHANGED + timedelta(microseconds=1))
    assert tokens.issue("alice", "technician", CHANGED, KEY, NOW, timedelta(hours=8))[1].jti != claims.jti


@pytest.mark.parametrize(
    "attack",
    [
        "expired",
        "tampered payload",
        "alg none",
        "other secret",
        "other users database",
        "HS512 with the right secret",
        "missing jti",
        "garbage",
    ],
)
def test_token_attacks_are_refused(attack: str) -> None:
    good = issue()
    claims = claims_of(good)
    if attack == "expired":
        token = forge({**claims, "iat": NOW.timestamp() - 7200, "exp": NOW.timestamp() - 600}, KEY.secret)
    elif attack == "tampered payload":
        header, _, signature = good.split(".")
        token = f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}"
    elif attack == "alg none":
        token = unsigned({**claims, "role": "admin"})
    elif attack == "other secret":
        token = forge(claims, "x" * 48)
    elif attack == "other users database":
        token = forge({**claims, "aud": "db-2"}, KEY.secret)
    elif attack == "HS512 with the right secret":
        token = forge(claims, KEY.secret, algorithm="HS512")
    elif attack == "missing jti":
        token = forge({k: v for k, v in claims.items() if k != "jti"}, KEY.secret)
    else:
        token = "not-a-token"
    with pytest.raises(AuthError) as refused:
        tokens.read(token, KEY)
    assert refused.value.exit_code == 3
    assert KEY.secret not in refused.value.message


def test_signing_key_prefers_the_environment_and_refuses_a_short_one() -> None:
    stored = {"jwt_secret": "d" * 64, "instance_id": "db-1"}
    assert tokens.signing_key(None, stored, "here").secret == "d" * 64
    assert tokens.signing_key("e" * 40, stored, "here").secret == "e" * 40
    with pytest.raises(ValidationFailed, match="too short"):
        tokens.signing_key("short", stored, "here")
    with pytest.raises(AuthError, match="not set up"):
        tokens.signing_key(None, {"instance_id": "db-1"}, "here")


def test_passwords_hash_with_the_configured_cost_and_verify() -> None:
    hashed = passwords.hash_password("correct horse", 5)
    assert passwords.rounds_of(hashed) == 5
    assert passwords.verify_password("correct horse", hashed)
    assert not passwords.verify_password("correct horsE", hashed)
    assert not passwords.verify_password("x" * 100, hashed)  # longer than bcrypt reads: never equal
    assert not passwords.verify_password("correct horse", "not-a-hash")


@pytest.mark.parametrize("rounds", [3, 17])
def test_the_bcrypt_cost_has_a_floor_and_a_ceiling(rounds: int) -> None:
    with pytest.raises(ValidationFailed, match="SAMPLECTL_BCRYPT_ROUNDS"):
        passwords.hash_password("correct horse", rounds)


def test_the_default_bcrypt_cost_is_12(monkeypatch: pytest.MonkeyPatch) -> None:
    from samplectl.config import load_settings

    monkeypatch.delenv("SAMPLECTL_BCRYPT_ROUNDS")
    assert load_settings().bcrypt_rounds == passwords.DEFAULT_ROUNDS == 12


@pytest.mark.parametrize("name", ["", " ", "a b", "-x", "x" * 65, "al;ce", "ålice", "a\nb"])
def test_bad_usernames_are_invalid_input(name: str) -> None:
    with pytest.raises(ValidationFailed):
        check_username(name)


def test_usernames_and_roles_that_are_fine() -> None:
    assert check_username(" Alice.B-2@lab ") == "Alice.B-2@lab"
    assert check_role("Technician") == "technician"
    with pytest.raises(ValidationFailed) as refused:
        check_role("superuser")
    assert refused.value.hint == "use one of: viewer, technician, admin"


def test_password_policy() -> None:
    assert check_new_password("8 chars!") == "8 chars!"
    with pytest.raises(ValidationFailed, match="too short"):
        check_new_password("short")
    with pytest.raises(ValidationFailed, match="too long"):
        check_new_password("é" * 40)  # 80 bytes


class BrokenKeyring:
    """A keyring that fails as a locked or vanished Secret Service does."""

    def get_password(self, *args: str) -> str:
        raise RuntimeError("D-Bus went away")

    set_password = delete_password = get_password


def test_no_keyring_falls_back_to_an_owner_only_file(tmp_path: Path) -> None:
    cache = TokenCache("sqlite:/x/users.db", tmp_path / "home")
    saved = cache.save("tok.en.value")
    assert saved.source == "file" and cache.problem == "no OS keyring is available"
    mode = stat.S_IMODE(os.stat(cache.file).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(cache.file.parent).st_mode) == 0o700
    assert cache.load().token == "tok.en.value"  # type: ignore[union-attr]
    assert cache.forget() == [f"file {cache.file}"]
    assert cache.load() is None


def test_any_keyring_failure_falls_back_to_the_file(tmp_path: Path) -> None:
    cache = TokenCache("sqlite:/x/users.db", tmp_path, backend=BrokenKeyring())
    assert cache.save("t").source == "file"
    assert cache.problem == "the OS keyring failed (RuntimeError)"
    assert cache.load().source == "file"  # type: ignore[union-attr]


def test_one_cache_entry_per_users_database(tmp_path: Path) -> None:
    first, second = TokenCache("sqlite:/a/users.db", tmp_path), TokenCache("postgresql://db:5432/lab", tmp_path)
    first.save("one")
    second.save("two")
    assert first.load().token == "one" and second.load().token == "two"  # type: ignore[union-attr]


def test_samplectl_token_wins_over_a_cached_one(tmp_path: Path) -> None:
    TokenCache("k", tmp_path).save("cached")
    loaded = TokenCache("k", tmp_path, env_token="from-env").load()
    assert loaded is not None and (loaded.token, loaded.source) == ("from-env", "environment")


def test_a_little_clock_skew_is_tolerated_but_not_more() -> None:
    # Relative to the clock now, not to NOW (when the module was imported): in a long parallel run a test
    # may start many minutes after collection, and iat + 600 would no longer be in the future.
    now = datetime.now(UTC)
    claims = claims_of(tokens.issue("alice", "technician", CHANGED, KEY, now, timedelta(hours=8))[0])
    ahead = forge({**claims, "iat": claims["iat"] + 30}, KEY.secret)
    assert tokens.read(ahead, KEY).sub == "alice"
    with pytest.raises(AuthError):
        # Ten minutes ahead of now (not of NOW, taken when the module was collected: a long run passes it).
        tokens.read(forge({**claims, "iat": int(datetime.now(UTC).timestamp()) + 600}, KEY.secret), KEY)
    with pytest.raises(AuthError, match="expired"):
        tokens.read(forge({**claims, "exp": now.timestamp() - 61}, KEY.secret), KEY)
