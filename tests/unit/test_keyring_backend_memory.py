"""The token cache remembers which keyring backend kept the token and reads it from there directly.

In-process, with keyring backends defined here (keyring loads them by name, as it loads any backend),
so each rule is checked without a real OS keyring: tests/integration/test_keyring_reads.py checks the
same against gnome-keyring as real processes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from samplectl.stores.tokens import REMEMBERED_BACKEND, SERVICE, TokenCache

KEY = "sqlite:/x/users.db"
MEMORY = f"{__name__}.MemoryKeyring"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps its entries for the test; counts the reads."""

    priority: ClassVar[float] = 1  # type: ignore[misc]
    entries: ClassVar[dict[tuple[str, str], str]] = {}
    reads: ClassVar[int] = 0

    def get_password(self, service: str, username: str) -> str | None:
        type(self).reads += 1
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


class OtherMemoryKeyring(MemoryKeyring):
    """Another backend, as when keyring would now choose differently from the one that kept the token."""

    entries: ClassVar[dict[tuple[str, str], str]] = {}


class LockedKeyring(KeyringBackend):
    """A backend whose every read fails, as a locked collection whose unlock prompt was dismissed does."""

    priority: ClassVar[float] = 1  # type: ignore[misc]
    reads: ClassVar[int] = 0

    def get_password(self, service: str, username: str) -> str | None:
        type(self).reads += 1
        raise RuntimeError("Failed to unlock the collection!")

    set_password = delete_password = get_password  # type: ignore[assignment]


@pytest.fixture
def discovered(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Which backend keyring itself would choose: set with the returned function (default: none, headless)."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    MemoryKeyring.entries.clear()
    OtherMemoryKeyring.entries.clear()
    MemoryKeyring.reads = LockedKeyring.reads = 0
    keyring.set_keyring(fail.Keyring())
    yield keyring.set_keyring
    keyring.set_keyring(fail.Keyring())


def remember(home: Path, name: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / REMEMBERED_BACKEND).write_text(name + "\n")


def test_login_remembers_the_backend_class_privately_and_never_the_token(tmp_path: Path, discovered: Any) -> None:
    discovered(MemoryKeyring())
    saved = TokenCache(KEY, tmp_path).save("secret.token.value")
    assert saved.source == "keyring"
    remembered = tmp_path / REMEMBERED_BACKEND
    assert remembered.read_text() == MEMORY + "\n"
    assert stat.S_IMODE(os.stat(remembered).st_mode) == 0o600


def test_a_read_uses_the_remembered_backend_without_asking_keyring_to_find_one(
    tmp_path: Path, discovered: Any
) -> None:
    MemoryKeyring.entries[(SERVICE, KEY)] = "tok"
    remember(tmp_path, MEMORY)  # keyring's own choice is "no keyring" (fail): only the remembered one has it
    loaded = TokenCache(KEY, tmp_path).load()
    assert loaded is not None and (loaded.token, loaded.source) == ("tok", "keyring")
    assert loaded.where.startswith("OS keyring (test_keyring_backend_memory, ")


@pytest.mark.parametrize("stale", [
    "no.such.module.Keyring",  # its package was uninstalled
    f"{__name__}.NoSuchClass",
    "keyring.backends.fail.Keyring",  # loads, but holds nothing
    "not a class name; rm -rf",
])
def test_a_stale_remembered_backend_falls_back_to_keyrings_choice_and_is_corrected(
    tmp_path: Path, discovered: Any, stale: str
) -> None:
    OtherMemoryKeyring.entries[(SERVICE, KEY)] = "tok"
    discovered(OtherMemoryKeyring())
    remember(tmp_path, stale)
    loaded = TokenCache(KEY, tmp_path).load()
    assert loaded is not None and loaded.token == "tok"
    assert (tmp_path / REMEMBERED_BACKEND).read_text() == f"{__name__}.OtherMemoryKeyring\n"


def test_python_keyring_backend_still_wins_over_the_remembered_backend(
    tmp_path: Path, discovered: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    MemoryKeyring.entries[(SERVICE, KEY)] = "tok"
    remember(tmp_path, MEMORY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    cache = TokenCache(KEY, tmp_path)
    assert cache.load() is None and cache.no_keyring
    assert MemoryKeyring.reads == 0


def test_keyrings_config_file_still_wins_over_the_remembered_backend(
    tmp_path: Path, discovered: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    MemoryKeyring.entries[(SERVICE, KEY)] = "tok"
    OtherMemoryKeyring.entries[(SERVICE, KEY)] = "configured"
    remember(tmp_path, MEMORY)
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "python_keyring"
    config.mkdir(parents=True)
    (config / "keyringrc.cfg").write_text(f"[backend]\ndefault-keyring={__name__}.OtherMemoryKeyring\n")
    loaded = TokenCache(KEY, tmp_path).load()
    assert loaded is not None and loaded.token == "configured"
    assert MemoryKeyring.reads == 0


def test_a_failing_remembered_backend_is_not_asked_twice_when_keyring_would_choose_it_too(
    tmp_path: Path, discovered: Any
) -> None:
    discovered(LockedKeyring())
    remember(tmp_path, f"{__name__}.LockedKeyring")
    cache = TokenCache(KEY, tmp_path)
    assert cache.load() is None
    assert cache.problem == "the OS keyring failed (RuntimeError)"
    assert LockedKeyring.reads == 1  # a second read would, for a locked keyring, prompt a second time


def test_logout_removes_the_token_from_the_backend_that_holds_it(tmp_path: Path, discovered: Any) -> None:
    MemoryKeyring.entries[(SERVICE, KEY)] = "tok"
    discovered(OtherMemoryKeyring())  # keyring would now choose another backend
    remember(tmp_path, MEMORY)
    assert TokenCache(KEY, tmp_path).forget() and not MemoryKeyring.entries
    assert TokenCache(KEY, tmp_path).load() is None


def test_without_a_keyring_the_file_is_used_and_no_backend_is_remembered(tmp_path: Path, discovered: Any) -> None:
    cache = TokenCache(KEY, tmp_path)
    assert cache.save("tok").source == "file"
    assert TokenCache(KEY, tmp_path).load().source == "file"  # type: ignore[union-attr]
    assert not (tmp_path / REMEMBERED_BACKEND).exists()
