"""Run samplectl in its own process with a test-only pause or crash point (never in production code).

  python -m tests.support.racing barrier DIR N -- ARGS...   every process waits, after reading the
                                                         sample and before writing, until N are there
  python -m tests.support.racing place-barrier DIR N -- ARGS...  every process waits, after resolving
                                                         its --position (seen free) and before writing
  python -m tests.support.racing crash-before -- ARGS...  die (exit 137) before the audit record
  python -m tests.support.racing crash-after -- ARGS...   die right after the audit record is written
  python -m tests.support.racing append PREFIX COUNT      append COUNT audit records in small batches
  python -m tests.support.racing login-barrier DIR N -- ARGS...  every login waits, after reading the
                                                         account and before anything else, until N are there
  python -m tests.support.racing admins-barrier DIR N -- ARGS... every `users disable/set-role` waits,
                                                         after reading the account, until N are there
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def barrier(directory: str, parties: int) -> None:
    from samplectl.services.samples import SampleService

    real = SampleService.plan_update

    def plan_then_wait(self: SampleService, *args: Any, **kwargs: Any) -> Any:
        change = real(self, *args, **kwargs)
        Path(directory, str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while len(os.listdir(directory)) < parties and time.monotonic() < deadline:
            time.sleep(0.01)
        return change

    SampleService.plan_update = plan_then_wait  # type: ignore[method-assign]


def _wait(directory: str, parties: int) -> None:
    Path(directory, str(os.getpid())).touch()
    deadline = time.monotonic() + 30
    while len(os.listdir(directory)) < parties and time.monotonic() < deadline:
        time.sleep(0.01)


def login_barrier(directory: str, parties: int) -> None:
    from samplectl.stores.users import UserStore

    real = UserStore.get
    waited: list[bool] = []

    def get_then_wait(self: UserStore, username: str) -> Any:
        account = real(self, username)
        if not waited:  # the login's first read of the account: all guesses have read it before any goes on
            waited.append(True)
            _wait(directory, parties)
        return account

    UserStore.get = get_then_wait  # type: ignore[method-assign]


def admins_barrier(directory: str, parties: int) -> None:
    from samplectl.services.accounts import AccountService

    real = AccountService._target

    def target_then_wait(self: AccountService, name: str) -> Any:
        account = real(self, name)
        _wait(directory, parties)
        return account

    AccountService._target = target_then_wait  # type: ignore[method-assign]


def place_barrier(directory: str, parties: int) -> None:
    from samplectl.services.storage import Placer

    real = Placer.resolve

    def resolve_then_wait(self: Placer, *args: Any, **kwargs: Any) -> Any:
        placement = real(self, *args, **kwargs)
        Path(directory, str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while len(os.listdir(directory)) < parties and time.monotonic() < deadline:
            time.sleep(0.01)
        return placement

    Placer.resolve = resolve_then_wait  # type: ignore[method-assign]


def crash(after_writing: bool) -> None:
    from tests.support.rawstore import audit_classes

    for cls in audit_classes():
        def append_then_die(self: Any, entries: Any, real: Any = cls.append_many) -> Any:  # type: ignore[attr-defined]
            if after_writing:
                real(self, entries)
            os._exit(137)

        cls.append_many = append_then_die  # type: ignore[attr-defined]


def append(prefix: str, count: int) -> None:
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_sample_database

    database = open_sample_database(load_settings())
    log = database.audit
    written = 0
    while written < count:
        size = min(1 + written % 7, count - written)  # singles and small batches, as commands write
        log.append_many([{"user": prefix, "action": "login", "reason": f"{prefix}-{written + i}"}
                         for i in range(size)])
        written += size
    database.close()


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "append":
        append(rest[0], int(rest[1]))
        return
    cut = rest.index("--")
    options, args = rest[:cut], rest[cut + 1:]
    if mode == "barrier":
        barrier(options[0], int(options[1]))
    elif mode == "place-barrier":
        place_barrier(options[0], int(options[1]))
    elif mode == "login-barrier":
        login_barrier(options[0], int(options[1]))
    elif mode == "admins-barrier":
        admins_barrier(options[0], int(options[1]))
    elif mode in ("crash-before", "crash-after"):
        crash(after_writing=mode == "crash-after")
    from samplectl.cli.app import app

    sys.argv = ["samplectl", *args]
    app(prog_name="samplectl")


if __name__ == "__main__":
    main(sys.argv[1:])
