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
    """Base of every error a user is meant to see (no traceback unless --debug)."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    code: str = "unexpected"

    def __init__(self, message: str, *, hint: str | None = None, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: list[Any] = details or []


class UsageError(SamplectlError):
    exit_code = ExitCode.USAGE
    code = "usage"


class AuthError(SamplectlError):
    exit_code = ExitCode.AUTH
    code = "auth"


class PermissionDenied(SamplectlError):
    exit_code = ExitCode.PERMISSION
    code = "permission_denied"


class NotFound(SamplectlError):
    exit_code = ExitCode.NOT_FOUND
    code = "not_found"


class ValidationFailed(SamplectlError):
    exit_code = ExitCode.INVALID
    code = "invalid"


class Conflict(SamplectlError):
    exit_code = ExitCode.CONFLICT
    code = "conflict"


class DatabaseUnavailable(SamplectlError):
    exit_code = ExitCode.DATABASE
    code = "database_unavailable"
