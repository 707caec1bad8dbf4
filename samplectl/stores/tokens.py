"""Where the login token is kept between commands.

In order: SAMPLECTL_TOKEN (scripts, CI), else the OS keyring (service ``samplectl``, one entry per
users database), else — where no keyring works, as on headless lab machines — a file under the
data directory that only its owner can read (0600), as gh does. Nothing here prints the token.

Reading the keyring is most of a logged-in command's start-up on a desktop: the keyring library finds
its backend by scanning package entry points and importing every backend it ships, each run. So the
backend that kept the token is remembered (its class name, never the token: ``keyring-backend`` in the
0700 data directory) and loaded directly by the next commands — see ``TokenCache._remembered``; when
it is keyring's Secret Service backend, the token is read with secretstorage alone (``stores.secret_service``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SERVICE = "samplectl"
REMEMBERED_BACKEND = "keyring-backend"  # in the data directory: which backend class kept the token
MAX_TOKEN_FILE = 1 << 16  # bytes of a token file read at most
_BACKEND_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")  # a dotted class name, as keyring's own config names one


@dataclass(frozen=True)
class CachedToken:
    token: str
    source: str  # "environment", "keyring" or "file"
    where: str  # for people: which variable, keyring or file

    def refuse_if_empty(self) -> None:
        """SAMPLECTL_TOKEN="" is an error (3), never "not given": in a script it is a login that failed."""
        if self.source == "environment" and not self.token:
            from samplectl.domain.errors import AuthError

            raise AuthError(
                "SAMPLECTL_TOKEN is set but empty (did the login that should have filled it fail?)",
                hint="unset SAMPLECTL_TOKEN to use your own login, or set it to a token from samplectl login --print-token",
            )


class TokenCache:
    def __init__(self, database_key: str, home: Path, env_token: str | None = None, backend: Any = None) -> None:
        self.key = database_key
        self.env_token = env_token
        self._backend = backend
        self.home = home
        self.remembered_file = home / REMEMBERED_BACKEND
        self.problem: str | None = None  # why the keyring could not be used, when it could not
        self.no_keyring = False  # no backend at all (headless): expected, not worth a word on each command
        self._direct = False  # read from the Secret Service without keyring (stores.secret_service)

    @property
    def file(self) -> Path:
        """The owner-only token file of this users database (its key's digest names it)."""
        import hashlib  # here, not at the start: SAMPLECTL_TOKEN (scripts) never needs it, ~2 ms of each command

        digest = hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:16]
        return self.home / "tokens" / f"{digest}.jwt"

    # -- the keyring ------------------------------------------------------------------------
    def backend(self) -> Any:
        """The backend keyring itself chooses: PYTHON_KEYRING_BACKEND, its config file, else the best one found."""
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def _remembered(self) -> Any:
        """The backend to read the token from first, loaded without keyring's scan; None: do as keyring does.

        keyring's own choices win, and cost no scan either: PYTHON_KEYRING_BACKEND (then None here, so
        keyring loads it) and keyring's config file (its backend is returned). Otherwise the backend class
        that kept the token at login is loaded by name with ``keyring.core.load_keyring``, which imports that
        backend alone and checks it is viable (for the Secret Service: the daemon answers). Whatever goes
        wrong — nothing remembered, a class gone with an uninstalled package, a backend no longer viable —
        gives None, and the read falls back to keyring's full discovery. The name file is in the owner's
        0700 data directory: who can write it could as well write keyring's config file or the stores.
        """
        if self._backend is not None or os.environ.get("PYTHON_KEYRING_BACKEND"):
            return None
        name = self._remembered_name()
        try:
            import keyring.core
            from keyring.backend import KeyringBackend

            configured = keyring.core.load_config()
            if configured is not None:
                return configured
            if not _BACKEND_NAME.fullmatch(name):
                return None
            backend = keyring.core.load_keyring(name)
        except Exception:  # noqa: BLE001 - any failure means: let keyring find its backend as usual
            return None
        return backend if isinstance(backend, KeyringBackend) else None

    def _remembered_name(self) -> str:
        try:
            return self.remembered_file.read_text(encoding="utf-8").strip()
        except (OSError, ValueError):  # unreadable or not text: keyring finds its backend as usual
            return ""

    def _remember(self, backend: Any) -> None:
        """Remember which backend class holds the token (not the token), for the next commands' reads."""
        kind = type(backend)
        name = f"{kind.__module__}.{kind.__qualname__}"
        if not _BACKEND_NAME.fullmatch(name):
            return
        if self._remembered_name() == name:
            return
        from samplectl.private_files import private_dir, write_whole

        try:
            private_dir(self.remembered_file.parent)
            write_whole(str(self.remembered_file), lambda fh: fh.write(name + "\n"))
        except OSError:
            pass  # only a speed-up: the next command finds the backend as keyring does

    def _read_keyring(self, *, direct: bool = True) -> str:
        """The token in the keyring ('' when none): from the remembered backend, else keyring's own choice.

        ``direct``: read it without keyring when keyring would read it from the Secret Service anyway.
        """
        if direct and self._backend is None:
            from samplectl.stores import secret_service

            if secret_service.keyring_would_read_it_so(self._remembered_name()):
                token = secret_service.read(SERVICE, self.key)
                if token:
                    self._direct = True
                    return token
        remembered = self._remembered()
        failure: Exception | None = None
        if remembered is not None:
            try:
                token = remembered.get_password(SERVICE, self.key)
            except Exception as exc:  # noqa: BLE001 - locked, D-Bus gone: decided below
                token, failure = None, exc
            if token:
                self._backend = remembered
                return str(token)
        if failure is not None and type(self.backend()) is type(remembered):
            # keyring would choose that very backend: asking it again would only fail again (or, for a
            # locked keyring, ask to unlock it a second time).
            self._unusable(failure)
        token = self._keyring("get_password") or ""
        if token:
            self._remember(self.backend())
        return str(token)

    def keyring_name(self) -> str:
        module = "SecretService" if self._direct else type(self.backend()).__module__.rsplit(".", 1)[-1]
        return f"OS keyring ({module}, service {SERVICE!r}, entry {self.key!r})"

    def _keyring(self, operation: str, *args: str) -> Any:
        """Call the keyring; on any failure remember why (for the fallback message) and give None."""
        try:
            return getattr(self.backend(), operation)(SERVICE, self.key, *args)
        except Exception as exc:  # noqa: BLE001 - no backend, locked, D-Bus gone: all mean "use the file"
            self._unusable(exc)

    def _unusable(self, exc: Exception) -> NoReturn:
        """Remember why the keyring cannot be used (for the fallback message) and say so."""
        from keyring.errors import NoKeyringError

        self.no_keyring = isinstance(exc, NoKeyringError)
        self.problem = "no OS keyring is available" if self.no_keyring else (
            f"the OS keyring failed ({type(exc).__name__})")
        raise _KeyringUnusable from None

    # -- the cache --------------------------------------------------------------------------
    def load(self) -> CachedToken | None:
        if self.env_token is not None:
            return CachedToken(self.env_token.strip(), "environment", "the SAMPLECTL_TOKEN environment variable")
        # The file exists only when login could not use the keyring: reading it first spares
        # every command the keyring's start-up on those machines.
        try:
            with self.file.open("rb") as fh:
                # A token is well under a kilobyte; a damaged file (or a link to /dev/zero) is read no
                # further than this, and bytes that are not UTF-8 make a token the check refuses (3).
                token = fh.read(MAX_TOKEN_FILE).decode("utf-8", errors="replace").strip()
        except FileNotFoundError:
            token = ""
        except OSError as exc:
            self.problem = f"cannot read {self.file}: {exc.strerror}"
            token = ""
        if token:
            return CachedToken(token, "file", f"file {self.file}")
        try:
            token = self._read_keyring()
        except _KeyringUnusable:
            return None
        return CachedToken(token, "keyring", self.keyring_name()) if token else None

    def save(self, token: str) -> CachedToken:
        """Keep the token in the keyring, or in the owner-only file when the keyring fails."""
        try:
            self._keyring("set_password", token)
        except _KeyringUnusable:
            self._write_file(token)
            return CachedToken(token, "file", f"file {self.file}")
        self._remove_file()  # an older fallback file would shadow the keyring entry
        self._remember(self.backend())
        return CachedToken(token, "keyring", self.keyring_name())

    def forget(self) -> list[str]:
        """Remove the cached token from the keyring and the file; says where one was removed."""
        removed = []
        if self._remove_file():
            removed.append(f"file {self.file}")
        try:
            if self._read_keyring(direct=False):  # where commands read it: the remembered backend first
                self._keyring("delete_password")
                removed.append(self.keyring_name())
        except _KeyringUnusable:
            pass
        return removed

    def _write_file(self, token: str) -> None:
        from samplectl.private_files import private_dir

        folder = private_dir(self.file.parent)
        temporary = folder / f".{self.file.name}.{os.getpid()}"
        # Created 0600 from the first byte (never world-readable, even briefly), then moved in place.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token + "\n")
            os.replace(temporary, self.file)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _remove_file(self) -> bool:
        try:
            self.file.unlink()
            return True
        except FileNotFoundError:
            return False


class _KeyringUnusable(Exception):
    pass
