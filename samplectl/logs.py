"""Logs: `-v`/`-vv` for the person at the terminal (stderr), `--log-file` for machines (JSON lines).

Nothing secret may reach a log: every handler installed here runs records through ``redact``,
which masks the password of any URI, JWTs, bcrypt hashes, `password=...`-style pairs, and every
value registered with ``register_secret`` (tokens, the JWT secret, passwords typed at a prompt).
Code that learns a secret at run time (login reading a password, a token being issued) must
call ``register_secret`` before it logs anything.

Verbosity: 0 warnings only, 1 (`-v`) samplectl's INFO, 2 (`-vv`) samplectl's DEBUG,
3 (`-vvv`) DEBUG from the drivers too (pymongo, SQLAlchemy), still redacted.

Only the standard library is imported here: this runs at the start of every command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import unquote

from samplectl.config import mask_uri, split_credentials

LOGGER_NAME = "samplectl"
MASK = "***"
# Shorter values are not credible secrets, and masking every "ab" would make logs unreadable.
MIN_SECRET_LENGTH = 3

log = logging.getLogger(LOGGER_NAME)

_secrets: set[str] = set()

_URI = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BCRYPT = re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}")
# Not the word TOKEN itself: that is the placeholder of samplectl's own hints ("send Authorization: Bearer TOKEN").
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!(?-i:TOKEN)\b)[A-Za-z0-9._~+/=-]+")
# key=value, key: value, "key": "value" for any key that names a secret (password_hash too).
_PAIR = re.compile(
    r"""(?ix)
    (\b[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|credential)[\w-]*["']?\s*[:=]\s*["']?)
    ([^\s"',;&}\]]+)
    """
)
# Environment variables whose value is itself a secret (SAMPLECTL_TOKEN, PGPASSWORD, AWS_SECRET_ACCESS_KEY, but
# not SAMPLECTL_TOKEN_LIFETIME_HOURS), and those that may carry one in a URI.
_SECRET_ENV = re.compile(r"(?i)(password|passwd|secret|token|credentials?|_key)$")
_URI_ENV = re.compile(r"(?i)(_uri|_url|_dsn)$")


def register_secret(value: str | None) -> None:
    """Mask this exact value (and its URL-decoded form) wherever it would be logged or shown."""
    if not value:
        return
    for form in {value, unquote(value)}:
        if len(form) >= MIN_SECRET_LENGTH:
            _secrets.add(form)


def register_uri(uri: str | None) -> None:
    """Register the password inside a URI (MongoDB, SQLAlchemy), if it has one."""
    parts = split_credentials(uri) if uri else None
    if parts is not None:
        register_secret(parts[2])


def register_environment(env: Mapping[str, str]) -> None:
    """Every secret-looking environment variable: SAMPLECTL_TOKEN, SAMPLECTL_JWT_SECRET, PGPASSWORD..."""
    for name, value in env.items():
        if _URI_ENV.search(name):
            register_uri(value)
        elif _SECRET_ENV.search(name):
            register_secret(value)


def register_settings(settings: Any) -> None:
    """Secrets that came from the config file rather than the environment."""
    register_uri(getattr(settings, "mongodb_uri", None))
    register_uri(getattr(settings, "database_url", None))
    register_secret(getattr(settings, "token", None))
    register_secret(getattr(settings, "jwt_secret", None))


def _plain_word(secret: str) -> bool:
    """A secret that is only letters (PGPASSWORD=sample) is not masked as free text.

    Masked everywhere it would turn samplectl's own words into *** ("no *** with id") and so tell
    anyone reading which word the password is. Drivers never echo a password outside a URI or a
    ``password=`` pair, and those are masked whatever the password looks like.
    """
    return secret.isalpha()


def forget_secrets() -> None:
    """For tests: start again with an empty registry."""
    _secrets.clear()


def redact(text: str, *, pairs: bool = True) -> str:
    """``text`` with every secret we know of, or can recognise, replaced by ***.

    ``pairs=False`` leaves `key: value` text alone: error messages shown to people say things like
    "SAMPLECTL_TOKEN_LIFETIME_HOURS: ... 'abc' is not a valid number", which a log may lose but a user must see.
    """
    if not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text and not _plain_word(secret):
            text = text.replace(secret, MASK)
    text = _URI.sub(lambda m: mask_uri(m.group(0)), text)
    text = _JWT.sub(MASK, text)
    text = _BCRYPT.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _PAIR.sub(lambda m: m.group(1) + MASK, text) if pairs else text


# Attributes every LogRecord has; anything else was passed with extra= and goes into the JSON line.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "command"}


class RedactSecrets(logging.Filter):
    """Rewrites each record in place (message, arguments, traceback, extras) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, Z), level, logger, command, pid, message, extras, exception."""

    def __init__(self, command: str | None) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": at.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "command": self.command,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in line:
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class _NotShownYet(logging.Filter):
    """The console already shows errors as `error:`/`hint:` lines; the log file still records them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "reported", False)


class _HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.name}: {record.getMessage()}"
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


def levels_for(verbose: int, quiet: bool) -> tuple[int, int, int]:
    """(stderr level, log file level, third-party driver level) for a verbosity."""
    stderr = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    if quiet:
        stderr = logging.ERROR
    file = logging.DEBUG if verbose >= 2 else logging.INFO
    drivers = logging.DEBUG if verbose >= 3 else logging.WARNING
    return stderr, file, drivers


# Drivers that set their own logger's level when imported (SQLAlchemy: WARNING, unless already set);
# -vvv must reach past that, so the session sets and restores it like the root's.
SELF_LEVELLED_DRIVERS = ("sqlalchemy",)
# Loggers that print data rows at DEBUG (SQLAlchemy echoes every fetched row: the signing secret in
# auth_settings, password hashes). They stop at INFO, the statements, whatever the verbosity.
ROW_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool")


class LogSession:
    """The handlers one samplectl run installed, so that they are removed when it ends.

    In-process test runs start many sessions in one interpreter; each must leave logging as it found it.
    """

    def __init__(self) -> None:
        self.handlers: list[logging.Handler] = []
        self.saved_levels: dict[str, int] = {}

    def start(
        self, *, verbose: int, quiet: bool, stderr: IO[str], log_file: str | None, command: str | None
    ) -> None:
        stderr_level, file_level, driver_level = levels_for(verbose, quiet)
        root = logging.getLogger()
        ours = logging.getLogger(LOGGER_NAME)
        self.saved_levels = {"": root.level, LOGGER_NAME: ours.level}
        self.saved_levels.update({name: logging.getLogger(name).level
                                  for name in SELF_LEVELLED_DRIVERS + ROW_LOGGERS})
        root.setLevel(driver_level)
        for name in SELF_LEVELLED_DRIVERS:
            logging.getLogger(name).setLevel(driver_level)
        for name in ROW_LOGGERS:
            logging.getLogger(name).setLevel(max(driver_level, logging.INFO))
        wanted = [stderr_level] + ([file_level] if log_file else [])
        ours.setLevel(min(wanted))
        _install_silent_fallback(root)
        redactor = RedactSecrets()
        console = logging.StreamHandler(stderr)
        console.setLevel(stderr_level)
        console.setFormatter(_HumanFormatter())
        console.addFilter(redactor)
        console.addFilter(_NotShownYet())
        self._add(root, console)
        if log_file:
            handler = _open_log_file(log_file, stderr)
            handler.setLevel(file_level)
            handler.setFormatter(JsonLinesFormatter(command))
            handler.addFilter(redactor)
            self._add(root, handler)

    def _add(self, logger: logging.Logger, handler: logging.Handler) -> None:
        logger.addHandler(handler)
        self.handlers.append(handler)

    def stop(self) -> None:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            with contextlib.suppress(OSError):  # a log's last flush on a full disk: the outcome stands
                handler.close()
        self.handlers.clear()
        for name, level in self.saved_levels.items():
            logging.getLogger(name or None).setLevel(level)


_SILENT = logging.NullHandler()


def _install_silent_fallback(root: logging.Logger) -> None:
    # With no handler at all, Python's last-resort handler would print a driver's warning (say, from a
    # pymongo monitor thread still running after the command ended) unredacted. This one stays for good.
    if _SILENT not in root.handlers:
        root.addHandler(_SILENT)


class _LogFileHandler(logging.FileHandler):
    """A log file that cannot be written (a full disk) never fails the command: one warning, then silence.

    logging's default prints a traceback per record to stderr; a command that already wrote its
    sample would then look failed, and a retrying script would make duplicates.
    """

    def __init__(self, path: str, stderr: IO[str]) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.stderr = stderr
        self.broken = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.broken:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if self.broken:
            return
        self.broken = True
        problem = sys.exc_info()[1]
        reason = getattr(problem, "strerror", None) or type(problem).__name__
        with contextlib.suppress(OSError, ValueError):
            self.stderr.write(f"warning: cannot write the log file {self.baseFilename}: {reason}; "
                              "logging to it stops here (the command itself goes on)\n")

    def flush(self) -> None:
        try:
            super().flush()
        except OSError:
            self.handleError(logging.makeLogRecord({}))


def _open_log_file(path_text: str, stderr: IO[str]) -> logging.Handler:
    return _LogFileHandler(check_log_file(path_text), stderr)


def check_log_file(path_text: str) -> str:
    """The log file's path, made (0600, its directory 0700) if need be; exit 6 when it cannot be written."""
    from samplectl.domain.errors import ValidationFailed

    path = os.path.expanduser(path_text)
    try:
        parent = os.path.dirname(path)
        if parent:
            from samplectl.private_files import private_dir

            private_dir(parent)
        # Owner-only: a log holds sample ids and user names, if never a secret.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        return path
    except OSError as exc:
        raise ValidationFailed(
            f"cannot write the log file {path_text}: {exc.strerror or exc}",
            hint="give --log-file (or the log_file setting) a writable path",
        ) from None


def describe_argv(argv: Iterable[str], commands: Iterable[str] = ()) -> str:
    """The command line for a debug log: command names and flags as typed, every value as ``?``.

    Values are what people type, and people type passwords where a name was asked (`-u`), paste
    tokens, and put patients' codes in reasons: none of it belongs in a log.
    """
    known = set(commands)
    shown = []
    for word in argv:
        if word.startswith("-") and word != "-":
            shown.append(word.split("=", 1)[0] + ("=?" if "=" in word else ""))
        elif word in known:
            shown.append(word)
            known.discard(word)  # a value that happens to equal a command name is still a value
        else:
            shown.append("?")
    return " ".join(shown)


_current: LogSession | None = None


def start(*, verbose: int, quiet: bool, stderr: IO[str], log_file: str | None, command: str | None,
          settings: Any = None, argv: Iterable[str] = (), commands: Iterable[str] = ()) -> None:
    """Install this run's handlers (replacing any left by an earlier run in this process)."""
    global _current
    stop()
    register_environment(os.environ)
    if settings is not None:
        register_settings(settings)
    session = LogSession()
    session.start(verbose=verbose, quiet=quiet, stderr=stderr, log_file=log_file, command=command)
    _current = session
    log.info("samplectl %s: %s", _version(), command or "-")
    log.debug("argv: %s; python %s; pid %d", describe_argv(argv, commands), sys.version.split()[0], os.getpid())
    if settings is not None:
        log.debug("settings: %s", describe_settings(settings))


def stop() -> None:
    global _current
    if _current is not None:
        _current.stop()
        _current = None


def active() -> bool:
    return _current is not None


def log_reported_error(code: str, exit_code: int, message: str) -> None:
    """Record the error the user was shown (already redacted), so a log file tells how a run ended."""
    if active():
        log.error("%s (exit %d): %s", code, exit_code, message, extra={"reported": True, "exit_code": exit_code})


def describe_settings(settings: Any) -> str:
    """The settings in effect, fit for a log: URIs masked, secrets only said to be set."""
    parts = [f"config file {settings.config_file}"]
    parts.append(f"home {settings.home}")
    databases = [f"samples in MongoDB {mask_uri(settings.mongodb_uri)} database {settings.mongodb_db}"
                 if settings.mongodb_uri else f"samples in the embedded store {settings.samples_path}",
                 f"users in {mask_uri(settings.users_url)}"]
    if getattr(settings, "server", None):
        # Remote mode: commands go through the server; only init and serve open the databases.
        parts.append(f"remote mode: the samplectl server at {mask_uri(settings.server)}")
        databases = [f"for init and serve: {databases[0]}", databases[1]]
    parts.extend(databases)
    parts.append(f"timezone {settings.timezone or 'of this machine'}")
    parts.append("SAMPLECTL_TOKEN given" if settings.token else "no SAMPLECTL_TOKEN")
    return "; ".join(parts)


def _version() -> str:
    from samplectl import __version__

    return __version__
