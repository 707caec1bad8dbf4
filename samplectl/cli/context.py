"""What every command needs, built lazily: settings, streams, identity, and the service factory.

Commands ask this object for what they use, so heavy drivers are imported only by the commands
that touch a database. Stores and services come from `services.factory.ServiceFactory`, the one
place they are built (the HTTP server builds them there too).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from samplectl.domain.errors import SamplectlError, UsageError

if TYPE_CHECKING:
    from samplectl.config import Settings
    from samplectl.domain.identity import Identity, Session
    from samplectl.services.factory import ServiceFactory
    from samplectl.stores.tokens import TokenCache


def _forced_tty() -> set[str]:
    # Like gh's GH_FORCE_TTY: lets tests and pagers ask for terminal behaviour on a pipe.
    return {s.strip() for s in os.environ.get("SAMPLECTL_FORCE_TTY", "").split(",") if s.strip()}


class MessageStream:
    """stderr, whose reader may go away (`samplectl import f.csv 2>&1 | head -1`) without stopping the command.

    Messages, warnings and progress are for a person; once nobody reads them they are dropped. The
    command carries on, so its data still reaches stdout and its exit code still says what happened
    (a BrokenPipeError would end it as if stdout's reader had gone: exit 0, or 1 while reporting an error).
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self.gone = True
        # What the stream still buffers would fail again at exit ("Exception ignored ..."): point it nowhere.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding... as the stream has them
        return getattr(self.stream, name)


@dataclass
class IOStreams:
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: cast(IO[str], MessageStream(sys.stderr)))

    def _isatty(self, name: str, stream: IO[str]) -> bool:
        if name in _forced_tty():
            return True
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_is_tty(self) -> bool:
        return self._isatty("stdin", self.stdin)

    @property
    def stdout_is_tty(self) -> bool:
        return self._isatty("stdout", self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return self._isatty("stderr", self.stderr)


@dataclass
class AppContext:
    debug: bool = False
    verbose: int = 0
    quiet: bool = False
    no_color: bool = False
    io: IOStreams = field(default_factory=IOStreams)
    no_pager: bool = False
    output: str | None = None  # the format the running command prints in, once chosen
    output_requested: str | None = None  # the format -o asked for (None: chosen for the terminal)
    _settings: Settings | None = None
    _session: Session | None = None
    _services: ServiceFactory | None = None
    local_only: bool = False  # init: the databases themselves, even in remote mode
    # The error a command raises once its report is printed (rows rejected, an audit trail tampered):
    # its exit code stands even when stdout's reader goes away during the report (`| head -1`).
    pending_error: SamplectlError | None = None

    # -- presentation ---------------------------------------------------------------------
    def color(self, stream: str = "stdout") -> bool:
        if self.no_color or os.environ.get("NO_COLOR"):
            return False
        return self.io.stdout_is_tty if stream == "stdout" else self.io.stderr_is_tty

    def choose_output(self, requested: str | None, allowed: Sequence[str] | None = None) -> str:
        """-o (any case) wins; otherwise a table for a terminal and JSON for a pipe."""
        from samplectl.domain.vocab import OUTPUT_FORMATS
        from samplectl.output.formats import parse_format

        fmt = parse_format(requested, allowed or OUTPUT_FORMATS)
        self.output_requested = fmt
        self.output = fmt or ("table" if self.io.stdout_is_tty else "json")
        return self.output

    @property
    def wants_json_errors(self) -> bool:
        """The contract's Errors section: the envelope too with -o json/jsonl, or when stderr is not a terminal.

        A person at a terminal reads the two lines only, also when stdout goes into a pipe.
        """
        return self.output_requested in ("json", "jsonl") or not self.io.stderr_is_tty

    def say(self, message: str) -> None:
        """A message for the person at the terminal (stderr), unless --quiet."""
        if not self.quiet:
            self.io.stderr.write(message + "\n")

    def warn(self, message: str) -> None:
        self.io.stderr.write(("\x1b[33mwarning:\x1b[0m " if self.color("stderr") else "warning: ") + message + "\n")

    def require_terminal_or(self, flag: str, action: str) -> None:
        if not self.io.stdin_is_tty:
            raise UsageError(f"{action} needs {flag} when stdin is not a terminal", hint=f"add {flag}")

    # -- configuration, identity and services ---------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from samplectl.config import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def services(self) -> ServiceFactory:
        """Every store and service this command uses, built in the one place they are built.

        With ``server`` set (remote mode) they are the server's, over HTTP, unless the command
        runs where the databases are (``local_only``: init).
        """
        if self._services is None:
            from samplectl.services.factory import open_services

            self._services = open_services(self.settings, identity_source=self.identity,
                                           token_source=lambda: self.token_cache().load(), local=self.local_only)
        return self._services

    @property
    def remote(self) -> bool:
        """True when this command goes through a samplectl server (SAMPLECTL_SERVER)."""
        return self.settings.remote and not self.local_only

    def identity(self) -> Identity:
        """Who runs this command. The one place identity is resolved: see session()."""
        return self.session().identity

    def session(self) -> Session:
        """The login token checked now: signature, expiry, algorithm, revocation, account (else exit 3)."""
        if self._session is None:
            from samplectl.domain.identity import not_logged_in

            cache = self.token_cache()
            cached = cache.load()
            if cached is None:
                self._refuse_if_not_set_up()
                raise not_logged_in(None if cache.no_keyring else cache.problem)
            self._session = self.services.check_token(cached)
        return self._session

    def _refuse_if_not_set_up(self) -> None:
        """On a fresh machine the next step is `init`, not `login` (which would only say so)."""
        database = self.services.users_database
        if database.kind == "sqlite" and database.path is not None and not database.path.exists():
            from samplectl.domain.errors import AuthError

            raise AuthError("not logged in: samplectl is not set up on this machine yet",
                            hint="run samplectl init --admin NAME, then samplectl login")

    def token_cache(self) -> TokenCache:
        from samplectl.stores.tokens import TokenCache

        return TokenCache(self.services.users_database.key, self.settings.home, env_token=self.settings.token)

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
