"""The settings in effect and where each comes from (default, file, environment); writing the file.

The precedence is config.load_settings's: defaults < config file < environment. This module only
explains it; it never decides a value differently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from samplectl.config import (
    ENV_KEYS,
    ENV_PREFIX,
    FILE_KEYS,
    Settings,
    coerce_setting,
    config_path,
    load_settings,
    read_config_file,
)
from samplectl.domain.errors import ValidationFailed

SECRETS = ("token", "jwt_secret")
URIS = ("mongodb_uri", "database_url")
# What `config list` shows: the file's keys, then the environment-only ones (bcrypt_rounds is for tests).
SHOWN_KEYS = (*FILE_KEYS, "token", "jwt_secret", "server_timeout_ms")


def _shown(key: str, value: Any) -> Any:
    from samplectl.config import mask_uri

    if value is None:
        return None
    if key in SECRETS:
        return "***"
    if key in URIS:
        return mask_uri(str(value))
    return str(value)


def _default(key: str, settings: Settings, env: dict[str, str]) -> Any:
    from samplectl.config import default_home

    if key == "home":
        return default_home(env)
    if key == "database_url":
        return None  # an SQLite file in the data directory: see users_url
    return getattr(Settings(home=Path(".")), key)


def settings_in_effect(env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per setting: {"key", "value", "source"} with secrets masked."""
    env = dict(os.environ if env is None else env)
    settings = load_settings(env)
    path = config_path(env)
    in_file = read_config_file(path)
    rows = []
    for key in SHOWN_KEYS:
        variable = _shadowing(key, env)
        if variable and key in ENV_KEYS:
            source = f"environment ({variable})"
        elif key in in_file:
            source = f"file ({path})"
        else:
            source = "default"
        value = settings.home if key == "home" else getattr(settings, key)
        if key == "database_url" and value is None:
            value = settings.users_url
        if key == "timezone" and value is None:
            value, source = str(settings.tzinfo()), "default (this machine's time zone)"
        rows.append({"key": key, "value": _shown(key, value), "source": source})
    return rows


def setting(key: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    for row in settings_in_effect(env):
        if row["key"] == key:
            return row
    raise ValidationFailed(f"{key!r} is not a setting", hint=f"settings: {', '.join(SHOWN_KEYS)}")


def write_setting(key: str, value: str, env: dict[str, str] | None = None) -> tuple[Path, str | None]:
    """Write ``key = value`` to the config file, keeping its other lines and comments.

    Returns the file and, when an environment variable overrides the file, its name.
    """
    env = dict(os.environ if env is None else env)
    _file_key(key)
    if not value.strip():
        raise ValidationFailed(f"{key} cannot be set to an empty value",
                               hint=f"`samplectl config unset {key}` removes it from the file")
    path = config_path(env)
    typed = coerce_setting(key, value.strip(), FILE_KEYS[key], f"config set {key}")
    check_value(key, typed)
    document = _document(path)
    document[key] = typed
    _write_private(path, document.as_string())
    return path, _shadowing(key, env)


def remove_setting(key: str, env: dict[str, str] | None = None) -> tuple[Path, bool, str | None]:
    """Remove ``key`` from the config file (its default applies again), keeping the other lines.

    Returns the file, whether the key was in it, and the environment variable that still sets it.
    """
    env = dict(os.environ if env is None else env)
    _file_key(key)
    path = config_path(env)
    document = _document(path)
    present = key in document
    if present:
        del document[key]
        _write_private(path, document.as_string())
    return path, present, _shadowing(key, env)


def check_value(key: str, value: Any) -> None:
    """Refuse now, saying why, a value every later command would refuse: a slip in `config set`
    must not lock each command out until someone edits the file by hand (exit 6)."""
    if key == "timezone":
        from samplectl.domain.timezones import resolve_timezone

        resolve_timezone(value)
    elif key == "server":
        from samplectl.remote.address import server_address

        server_address(value, setting="server")
    elif key == "database_url":
        from samplectl.stores.userdb import locate_users_database

        locate_users_database(Settings(home=Path("."), database_url=value))
    elif key == "ca_bundle":
        from samplectl.remote.address import tls_context

        tls_context(value)
    elif key == "log_file":
        from samplectl.logs import check_log_file

        check_log_file(value)
    elif key == "home" and not Path(value).expanduser().is_absolute():
        raise ValidationFailed(f"home {value[:100]!r} is not an absolute path: it would change with the "
                               "directory each command runs in", hint="give a full path, e.g. ~/samplectl-data")


def _file_key(key: str) -> None:
    if key not in FILE_KEYS:
        hint = f"settings the file holds: {', '.join(FILE_KEYS)}"
        if key in ENV_KEYS:
            hint = f"{key} is read from the environment only ({ENV_PREFIX}{key.upper()}); " + hint
        raise ValidationFailed(f"{key!r} cannot be set in the config file", hint=hint)


def _document(path: Path) -> Any:
    """The config file as tomlkit's document (comments kept); a broken file is reported, not overwritten."""
    read_config_file(path)
    import tomlkit

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except OSError as exc:
        raise ValidationFailed(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _shadowing(key: str, env: dict[str, str]) -> str | None:
    """The environment variable that overrides the file's ``key``, when one is set."""
    variable = ENV_PREFIX + key.upper()
    return variable if env.get(variable) not in (None, "") else None


def _write_private(path: Path, text: str) -> None:
    """Replace the file atomically; the new file is 0600 from the moment it exists, its directory 0700."""
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", dir=path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError as exc:
        raise ValidationFailed(f"cannot write config file {path}: {exc.strerror or exc}",
                               hint="check the directory's permissions, or set SAMPLECTL_CONFIG") from None
