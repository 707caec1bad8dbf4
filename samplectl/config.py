"""Settings: built-in defaults < config file < environment < command-line flags."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from samplectl.domain.errors import ValidationFailed

ENV_PREFIX = "SAMPLECTL_"


@dataclass(frozen=True)
class Settings:
    home: Path
    mongodb_uri: str | None = None
    mongodb_db: str = "samplectl"
    database_url: str | None = None
    timezone: str | None = None  # None: the machine's local time zone
    token_lifetime_hours: float = 8.0
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    log_file: str | None = None
    token: str | None = None
    jwt_secret: str | None = None
    server_timeout_ms: int = 3000
    # Remote mode: a samplectl server's URL; commands then go through its HTTP API (samplectl.remote).
    server: str | None = None
    ca_bundle: str | None = None  # the lab's own CA certificate (PEM) for the server's TLS
    # bcrypt cost. Environment only (SAMPLECTL_BCRYPT_ROUNDS), for test suites: see docs/security.md.
    bcrypt_rounds: int = 12
    config_file: Path | None = None

    @property
    def embedded(self) -> bool:
        """True when samples live in the embedded store under the data directory."""
        return not self.mongodb_uri

    @property
    def remote(self) -> bool:
        """True when commands go through a samplectl server instead of the databases."""
        return bool(self.server)

    @property
    def samples_path(self) -> Path:
        return self.home / "samples.db"

    @property
    def users_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'users.db'}"

    def tzinfo(self):  # -> tzinfo
        from samplectl.domain.timezones import resolve_timezone

        return resolve_timezone(self.timezone)


# Keys a config file may hold, and the type each is read as.
FILE_KEYS: dict[str, type] = {
    "mongodb_uri": str,
    "mongodb_db": str,
    "database_url": str,
    "timezone": str,
    "token_lifetime_hours": float,
    "lockout_attempts": int,
    "lockout_minutes": float,
    "log_file": str,
    "home": str,
    "server": str,
    "ca_bundle": str,
}
ENV_KEYS = dict(FILE_KEYS, token=str, jwt_secret=str, server_timeout_ms=int, bcrypt_rounds=int)


def default_home(env: dict[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "samplectl"


def config_path(env: dict[str, str]) -> Path:
    if env.get("SAMPLECTL_CONFIG"):
        return Path(env["SAMPLECTL_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "samplectl" / "config.toml"


# The largest value a number setting may take: beyond these they are typos, and they would overflow
# dates or engine integers (a lock of 1e12 minutes ends after the year 9999).
LIMITS: dict[str, float] = {
    "token_lifetime_hours": 24 * 366,  # a year
    "lockout_minutes": 60 * 24 * 366,
    "lockout_attempts": 1_000_000,
    "server_timeout_ms": 3_600_000,  # an hour
    "bcrypt_rounds": 31,
}


def coerce_setting(key: str, value: Any, kind: type, source: str) -> Any:
    try:
        if kind is str:
            if not isinstance(value, str):
                raise ValueError
            return value
        if isinstance(value, bool):
            raise ValueError
        result = kind(value)
        # nan is neither <= 0 nor > a limit: isfinite catches it, and inf.
        if not math.isfinite(result) or result <= 0 or result > LIMITS.get(key, math.inf):
            raise ValueError
        return result
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{source}: {key} = {value!r} is not a valid {'number' if kind is not str else 'text value'}",
            hint=(f"give a positive number up to {LIMITS[key]:g}, or remove that setting" if key in LIMITS
                  else "fix or remove that setting"),
        ) from None


def _unreadable(path: Path, exc: Exception) -> ValidationFailed:
    return ValidationFailed(f"cannot read config file {path}: {exc}", hint="fix the TOML syntax")


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _unreadable(path, exc) from None
    import tomllib  # only once there is a file to parse: most machines have none, and every command reads this

    try:
        with fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _unreadable(path, exc) from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8: a file saved in another encoding, or not text at all
        raise ValidationFailed(f"cannot read config file {path}: byte {exc.start} is not UTF-8 text",
                               hint=f"save it as UTF-8 text, or remove it ({path}): samplectl works without one") from None
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ValidationFailed(
            f"config file {path}: unknown setting {unknown[0]!r}",
            hint=f"known settings: {', '.join(FILE_KEYS)}",
        )
    return {k: coerce_setting(k, v, FILE_KEYS[k], str(path)) for k, v in data.items()}


def load_settings(env: dict[str, str] | None = None, **flags: Any) -> Settings:
    """Resolve every setting from its sources; flags given as None are ignored."""
    env = dict(os.environ if env is None else env)
    path = config_path(env)
    values: dict[str, Any] = read_config_file(path)
    for key, kind in ENV_KEYS.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if key == "token" and raw is not None:
            # Set but empty is kept: a script whose login failed must not run as whoever is logged in.
            values[key] = raw
        elif raw not in (None, ""):
            values[key] = coerce_setting(key, raw, kind, f"environment {ENV_PREFIX}{key.upper()}")
    values.update({k: v for k, v in flags.items() if v is not None})
    home = _usable_directory(Path(values.pop("home", None) or default_home(env)).expanduser())
    known = {f.name for f in fields(Settings)}
    return replace(Settings(home=home, config_file=path), **{k: v for k, v in values.items() if k in known})


def _usable_directory(home: Path) -> Path:
    """The data directory, unless no system could have it: a name part over 255 bytes, or a path over 4,000."""
    parts = [len(os.fsencode(part)) for part in home.parts]
    if len(os.fsencode(str(home))) > 4000 or max(parts, default=0) > 255:
        shown = str(home)
        raise ValidationFailed(
            f"the data directory {shown[:100]}{'…' if len(shown) > 100 else ''} is too long a name "
            f"({len(shown)} characters) to be a directory",
            hint="set SAMPLECTL_HOME (or home in the config file) to a directory's path, or unset it",
        )
    return home


def split_credentials(uri: str) -> tuple[str, str, str | None, str] | None:
    """``scheme://``, user, password (None when there is none) and what follows the ``@``; None without userinfo.

    Read by hand rather than by urlsplit: a password with an unescaped ``/``, ``?`` or ``#``
    (``mongodb://user:s3cr/etpw@host/``) ends urlsplit's netloc early and leaves the rest of the
    password in the path, where masking would miss it. The userinfo ends at the last ``@``: a host
    never holds one, so at worst a little more than the password is masked, never less.
    """
    scheme, sep, rest = uri.partition("://")
    at = rest.rfind("@")
    if not sep or at < 0:
        return None
    user, colon, password = rest[:at].partition(":")
    return scheme + sep, user, password if colon else None, rest[at + 1 :]


def mask_uri(uri: str) -> str:
    """A URI fit to print: the password replaced by ***, however the URI is written."""
    parts = split_credentials(uri)
    if parts is None or parts[2] is None:
        return uri
    scheme, user, _, hosts = parts
    return f"{scheme}{user}:***@{hosts}"


def escape_password(uri: str) -> str:
    """The URI with its password percent-encoded, as RFC 3986 wants and drivers read it.

    People paste passwords as they are (``pw/with#signs``); an already encoded one stays as it was.
    """
    parts = split_credentials(uri)
    if parts is None or parts[2] is None:
        return uri
    scheme, user, password, hosts = parts
    return f"{scheme}{user}:{quote(unquote(password or ''), safe='')}@{hosts}"
