"""Typed errors. Each carries its exit code; the CLI turns them into output in one place."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    AUTH = 3
    PERMISSION = 4
    NOT_FOUND = 5
    INVALID = 6
    CONFLICT = 7
    DATABASE = 8


class SamplectlError(Exception):
    """Base of every error a user is meant to see (no traceback unless --debug).

    Each kind names its exit code and its code in the JSON envelope where it is declared:
    `class NotFound(SamplectlError, exit_code=ExitCode.NOT_FOUND, code="not_found")`.
    """

    exit_code: ExitCode = ExitCode.UNEXPECTED
    code: str = "unexpected"

    def __init_subclass__(cls, *, exit_code: ExitCode | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, hint: str | None = None, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: list[Any] = details or []


class UsageError(SamplectlError, exit_code=ExitCode.USAGE, code="usage"):
    """The shape of the command line: an unknown flag, flags that cannot go together."""


class AuthError(SamplectlError, exit_code=ExitCode.AUTH, code="auth"):
    """Not logged in, a token expired or invalid, wrong credentials, an account locked."""


class PermissionDenied(SamplectlError, exit_code=ExitCode.PERMISSION, code="permission_denied"):
    """Logged in, but the role does not allow it."""


class NotFound(SamplectlError, exit_code=ExitCode.NOT_FOUND, code="not_found"):
    """A sample, account or container that does not exist."""


class ValidationFailed(SamplectlError, exit_code=ExitCode.INVALID, code="invalid"):
    """A value that fails validation, an unknown choice, a bad file."""


class Conflict(SamplectlError, exit_code=ExitCode.CONFLICT, code="conflict"):
    """A clash with what is stored: a duplicate id, a stale version, a refused status change."""


class DatabaseUnavailable(SamplectlError, exit_code=ExitCode.DATABASE, code="database_unavailable"):
    """A database that cannot be reached or timed out."""


def disk_full() -> DatabaseUnavailable:
    """A database or file that could not be written for want of space, however its driver said so."""
    return DatabaseUnavailable(
        "there is no space left on the disk (a database or file could not be written)",
        hint="free some space (df -h shows where), then run the command again",
    )


def samples_not_found(missing: list[str], *, several: bool) -> NotFound:
    """The error for ids that name no sample (the local service and remote mode say it alike): the
    first five named, the rest counted; ``several``: the command named more ids, none was changed."""
    from samplectl.domain.text import shorten, shown  # domain.text imports this module

    named = ", ".join(shown(m) for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return NotFound(
        f"no sample with id {named}" + (" (nothing was changed)" if several else ""),
        hint="`samplectl list` shows existing ids",
        details=[{"column": "sample_id", "value": shorten(m), "message": "not found"} for m in missing[:20]],
    )
