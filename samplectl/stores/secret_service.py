"""The login token read straight from the Secret Service, as keyring's own backend reads it, without keyring.

On a Linux desktop the token lives in the Secret Service (GNOME Keyring, KeePassXC, KWallet's service),
which keyring reaches through secretstorage. Importing keyring alone costs ~40 ms of CPU (its helpers
import urllib.request, http.client, email and importlib_metadata, none of which a read needs): a TAB
through a server would miss its 100 ms for that alone (docs/benchmarks.md#start-up). So when keyring
would read this very item this very way, it is read here with secretstorage, the library keyring uses:

- the backend that kept the token at login is keyring's Secret Service backend (``SECRET_SERVICE``);
- nothing changes keyring's choices: no PYTHON_KEYRING_BACKEND, no keyring config file, no
  KEYRING_PROPERTY_* variable (its item naming scheme, a preferred collection);
- the item is the one that backend writes: in the default collection, attributes ``username`` and
  ``service`` (keyring's default scheme; tests/unit/test_secret_service.py fails if keyring changes
  either, and pyproject.toml pins keyring's major version);
- the secret travels as keyring's does: secretstorage opens the same session (encrypted with DH and
  AES when the service offers it, which every Secret Service does).

Anything else — a locked collection or item (keyring asks to unlock it), no such item, no D-Bus, any
error — gives None, and the caller asks keyring as before. Standard library and secretstorage only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


def keyring_config_file() -> Path:
    """Where keyring reads its config file on Linux (keyring.util.platform_.config_root()/keyringrc.cfg)."""
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root, "python_keyring", "keyringrc.cfg")


def keyring_would_read_it_so(remembered: str) -> bool:
    """True when keyring, asked for the token, would read it from the Secret Service exactly as here."""
    if remembered != SECRET_SERVICE or not sys.platform.startswith("linux"):
        return False
    if os.environ.get("PYTHON_KEYRING_BACKEND") or any("KEYRING_PROPERTY_" in name for name in os.environ):
        return False
    return not keyring_config_file().exists()


def read(service: str, entry: str) -> str | None:
    """The secret of keyring's item (``service``, ``entry``), or None: ask keyring instead."""
    try:
        from contextlib import closing

        import secretstorage

        with closing(secretstorage.dbus_init()) as connection:
            collection = secretstorage.get_default_collection(connection)
            if collection.is_locked():
                return None
            for item in collection.search_items({"username": entry, "service": service}):
                if item.is_locked():
                    return None
                return item.get_secret().decode("utf-8")
    except Exception:  # noqa: BLE001 - no D-Bus, no service, not installed: keyring decides what that means
        return None
    return None
