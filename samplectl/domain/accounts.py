"""Lab accounts: who may log in, with which role, and the rules for names and passwords.

Pure rules, no database: the users store keeps accounts, the accounts service applies these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

from samplectl.domain import dates
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.text import check_text, shown
from samplectl.domain.vocab import ACCOUNT_FIELDS, ROLES

# Letters, digits and . _ @ - : what lab usernames and e-mail local parts use, and nothing a
# terminal or a log line could misread.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_USERNAME_LENGTH = 64
MIN_PASSWORD_LENGTH = 8
# bcrypt only ever reads 72 bytes; a longer password is refused rather than silently cut.
MAX_PASSWORD_BYTES = 72


def check_username(name: str) -> str:
    """The username as typed, trimmed; refused (6) unless it is a plain lab login name."""
    # The text rule every value follows first (empty, controls, length), then the login-name shape.
    name = check_text(name, name="username", max_length=MAX_USERNAME_LENGTH, word=True)
    if not USERNAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            f"username {shown(name)} is not valid",
            hint="use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
        )
    return name


def check_role(role: str) -> str:
    role = role.strip().lower()
    if role not in ROLES:
        raise ValidationFailed(f"role {role!r} is not a role", hint=f"use one of: {', '.join(ROLES)}")
    return role


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password is too short (at least {MIN_PASSWORD_LENGTH} characters)", hint="choose a longer password"
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(
            f"the password is too long (at most {MAX_PASSWORD_BYTES} bytes)", hint="choose a shorter passphrase"
        )
    return password


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """Stores hand back naive UTC (SQLite) or aware times (PostgreSQL): make both aware UTC."""
    return None if value is None else dates.as_utc(value)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    active: bool
    created_at: datetime
    password_changed_at: datetime
    failed_logins: int = 0
    locked_until: datetime | None = None
    password_hash: str = field(default="", repr=False)

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def public(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in ACCOUNT_FIELDS}
