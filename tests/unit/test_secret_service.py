"""stores.secret_service reads the item keyring's Secret Service backend writes, only where keyring would.

These fail if keyring changes how it names the item or where it reads its config file: then the direct
read must change with it (pyproject.toml pins keyring's major version for that reason).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from keyring.backends import SecretService
from keyring.util import platform_

from samplectl.stores import secret_service
from samplectl.stores.tokens import SERVICE


def test_the_item_is_named_as_keyrings_secret_service_backend_names_it() -> None:
    assert f"{SecretService.Keyring.__module__}.{SecretService.Keyring.__qualname__}" == secret_service.SECRET_SERVICE
    assert SecretService.Keyring()._query(SERVICE, "sqlite:/x/users.db") == {
        "username": "sqlite:/x/users.db", "service": SERVICE}


@pytest.mark.parametrize("xdg", [True, False])
def test_the_config_file_is_where_keyring_reads_it(monkeypatch: pytest.MonkeyPatch, xdg: bool) -> None:
    if not xdg:
        monkeypatch.delenv("XDG_CONFIG_HOME")
    assert secret_service.keyring_config_file() == platform_.config_root() / "keyringrc.cfg"


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    """No keyring setting at all, as on most desktops (the tests' conftest sets PYTHON_KEYRING_BACKEND)."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    for name in [n for n in os.environ if "KEYRING_PROPERTY_" in n]:
        monkeypatch.delenv(name)


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="the Secret Service is read directly on Linux only")
def test_read_directly_only_where_keyring_would_read_the_same_item(
    desktop: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert secret_service.keyring_would_read_it_so(secret_service.SECRET_SERVICE)
    assert not secret_service.keyring_would_read_it_so("keyring.backends.kwallet.DBusKeyring")
    assert not secret_service.keyring_would_read_it_so("")
    monkeypatch.setenv("KEYRING_PROPERTY_PREFERRED_COLLECTION", "/org/freedesktop/secrets/collection/work")
    assert not secret_service.keyring_would_read_it_so(secret_service.SECRET_SERVICE)
    monkeypatch.delenv("KEYRING_PROPERTY_PREFERRED_COLLECTION")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", secret_service.SECRET_SERVICE)
    assert not secret_service.keyring_would_read_it_so(secret_service.SECRET_SERVICE)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    config: Path = secret_service.keyring_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring=keyring.backends.SecretService.Keyring\n")
    assert not secret_service.keyring_would_read_it_so(secret_service.SECRET_SERVICE)


def test_without_a_secret_service_the_read_gives_none_and_keyring_decides(
    desktop: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert secret_service.read(SERVICE, "sqlite:/x/users.db") is None


def test_after_the_secret_service_client_pyjwt_still_loads_without_cryptographys_algorithms() -> None:
    """secretstorage imports cryptography's ciphers; PyJWT must not then import x509 and the asymmetric keys."""
    import subprocess
    import sys

    probe = (
        "import sys, secretstorage, cryptography\n"
        "from samplectl.services import tokens\n"
        "from datetime import UTC, datetime, timedelta\n"
        "key = tokens.SigningKey(secret='s' * 64, audience='db-1')\n"
        "now = datetime.now(UTC)\n"
        "token, _ = tokens.issue('alice', 'technician', now, key, now, timedelta(hours=1))\n"
        "assert tokens.read(token, key).sub == 'alice'\n"
        "import jwt.algorithms\n"
        "print(jwt.algorithms.has_crypto, 'cryptography.x509' in sys.modules,\n"
        "      sys.modules['cryptography'] is cryptography)\n"
    )
    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True"]
