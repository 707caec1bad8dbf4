"""Password hashing with bcrypt: one place decides the cost and how a check is timed."""

from __future__ import annotations

import bcrypt

from samplectl.domain.errors import ValidationFailed

DEFAULT_ROUNDS = 12  # ~0.25 s per hash on a lab PC: slow for a guesser, fine for a login
# bcrypt's own minimum. Test suites use it (SAMPLECTL_BCRYPT_ROUNDS=4); real accounts should not.
MIN_ROUNDS = 4
MAX_ROUNDS = 16  # above this one login takes several seconds


def check_rounds(rounds: int) -> int:
    if not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        raise ValidationFailed(
            f"SAMPLECTL_BCRYPT_ROUNDS = {rounds} is out of range ({MIN_ROUNDS}-{MAX_ROUNDS})",
            hint=f"leave it unset for the default of {DEFAULT_ROUNDS}",
        )
    return rounds


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(check_rounds(rounds))).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    secret = password.encode("utf-8")
    if len(secret) > 72:
        # No stored password is that long (they are refused when set): spend the time, then say no.
        spend_time(password, rounds_of(hashed))
        return False
    try:
        return bcrypt.checkpw(secret, hashed.encode("ascii"))
    except ValueError:  # a damaged hash in the table: nobody can log in with it
        return False


def spend_time(password: str, rounds: int) -> None:
    """Cost what a real check costs, so an unknown username answers as slowly as a wrong password."""
    bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(max(MIN_ROUNDS, min(rounds, MAX_ROUNDS))))


def rounds_of(hashed: str) -> int:
    """The cost a hash was made with ("$2b$12$..." -> 12)."""
    try:
        return int(hashed.split("$")[2])
    except (IndexError, ValueError):
        return DEFAULT_ROUNDS
