"""Who runs this command: the token checked against the users database, every time.

A disabled account, a changed password or a logout ends a login at once, because each command
looks them up (a few milliseconds, see docs/benchmarks.md) instead of trusting the token alone.
"""

from __future__ import annotations

from samplectl.domain.errors import AuthError
from samplectl.domain.identity import ENV_HINT, LOGIN_HINT, Identity, Session
from samplectl.services import tokens
from samplectl.stores.tokens import CachedToken
from samplectl.stores.user_lookup import IdentityLookup


def _refuse(message: str, cached: CachedToken, hint: str = LOGIN_HINT) -> AuthError:
    if cached.source == "environment":
        # Never fall back to a cached login: a script must learn its token is bad.
        return AuthError(f"SAMPLECTL_TOKEN: {message}", hint=ENV_HINT)
    return AuthError(message, hint=hint)


def check_session(cached: CachedToken, lookup: IdentityLookup, env_secret: str | None) -> Session:
    cached.refuse_if_empty()
    key = tokens.signing_key(env_secret, lookup.settings(), lookup.database.shown)
    try:
        claims = tokens.read(cached.token, key)
    except AuthError as exc:
        raise _refuse(exc.message, cached) from None
    if lookup.is_revoked(claims.jti):
        raise _refuse("this login has ended (logged out)", cached)
    account = lookup.account(claims.sub)
    if account is None:
        raise _refuse(f"user {claims.sub!r} no longer exists", cached)
    if not account.active:
        raise _refuse(f"account {account.username!r} is disabled", cached,
                      hint=f"ask a lab admin: samplectl users enable {account.username}")
    if claims.pwd != tokens.password_stamp(account.password_changed_at):
        raise _refuse(f"the password of {account.username!r} was changed after this login", cached)
    ended = lookup.sessions_ended(tokens.sessions_key(account.username))
    if ended is not None and claims.issued_us < tokens.password_stamp(ended):
        # `users disable` ends every login made before it; `users enable` does not bring them back.
        raise _refuse(f"this login was made before account {account.username!r} was disabled", cached)
    # The role is read now, not from the token: a changed role takes effect on the next command.
    return Session(Identity(account.username, account.role), claims, cached.where)
