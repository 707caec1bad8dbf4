"""Login tokens: JWTs signed with HS256 (PyJWT), naming the user, role, times and a unique id.

The algorithm is pinned when a token is read, so a token claiming another algorithm (or none) is
refused. The audience is the users database's own id, so a token from one users database is
refused by another even when both were given the same SAMPLECTL_JWT_SECRET.

``pwd`` records when the account's password was last changed, as the users table says: a token
whose ``pwd`` no longer matches was issued before a password change. Comparing the stored value
rather than ``iat`` with the change time keeps this exact when the lab's machines' clocks differ
(a PostgreSQL users database is shared by many PCs), and within the same second.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from samplectl.domain.errors import AuthError, ValidationFailed

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "jti", "aud", "pwd"]
# A SAMPLECTL_TOKEN made on another PC may carry an iat a little ahead of this PC's clock. The
# leeway is for that only: an expired token is refused the second it expires.
CLOCK_LEEWAY = timedelta(seconds=60)
MIN_SECRET_BYTES = 32  # RFC 7518: an HS256 key at least as long as the hash


@dataclass(frozen=True)
class SigningKey:
    secret: str
    audience: str


@dataclass(frozen=True)
class Claims:
    sub: str
    role: str
    iat: int
    exp: int
    jti: str
    pwd: int  # the password change time the token was issued under, in microseconds since 1970
    issued_us: int = 0  # when it was issued, in microseconds (iat is whole seconds)

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.exp, UTC)


def signing_key(env_secret: str | None, stored: dict[str, str], where: str) -> SigningKey:
    """SAMPLECTL_JWT_SECRET when set, else the secret `init` generated and stored with the users."""
    from samplectl.stores.userdb import not_set_up

    audience = stored.get("instance_id")
    secret = env_secret or stored.get("jwt_secret")
    if not audience or not secret:
        raise not_set_up(where)
    if env_secret and len(env_secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValidationFailed(
            f"SAMPLECTL_JWT_SECRET is too short (at least {MIN_SECRET_BYTES} bytes)",
            hint="generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    return SigningKey(secret, audience)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _jwt() -> Any:
    """PyJWT, imported when a token is first issued or read, without its RSA and EC algorithms.

    Tokens are HS256 only (pinned when read), which PyJWT computes with the standard library's hmac.
    Its other algorithms need `cryptography`, whose import alone is ~25 ms of every command's CPU
    (docs/benchmarks.md#start-up); PyJWT leaves them out when it cannot import it, as when it is not
    installed. So PyJWT is imported with it hidden (a None entry in sys.modules), and anything imported
    later sees cryptography as usual. Also when something has imported part of cryptography already (the
    Secret Service client, which read the token, imports its ciphers): PyJWT's algorithms would import
    much more of it (x509, the asymmetric keys), ~25 ms.
    """
    import sys

    if "jwt" in sys.modules:
        import jwt

        return jwt
    had, before = "cryptography" in sys.modules, sys.modules.get("cryptography")
    sys.modules["cryptography"] = None  # type: ignore[assignment]
    try:
        import jwt

        return jwt
    except ImportError:  # a PyJWT that needs cryptography after all: imported whole below
        for name in [n for n in sys.modules if n == "jwt" or n.startswith("jwt.")]:
            del sys.modules[name]
    finally:
        # As it was: absent, or cryptography, part of it imported by the keyring's client.
        if had:
            sys.modules["cryptography"] = before  # type: ignore[assignment]
        else:
            del sys.modules["cryptography"]
    import jwt

    return jwt


def password_stamp(password_changed_at: datetime) -> int:
    """The ``pwd`` claim: exact to the microsecond, as both SQLite and PostgreSQL keep it."""
    return (password_changed_at - EPOCH) // timedelta(microseconds=1)


def issue(username: str, role: str, password_changed_at: datetime, key: SigningKey, now: datetime,
          lifetime: timedelta) -> tuple[str, Claims]:
    iat = math.floor(now.timestamp())
    claims = Claims(sub=username, role=role, iat=iat, exp=math.floor(iat + lifetime.total_seconds()),
                    jti=uuid.uuid4().hex, pwd=password_stamp(password_changed_at), issued_us=password_stamp(now))
    payload = {"sub": claims.sub, "role": claims.role, "iat": claims.iat, "exp": claims.exp, "jti": claims.jti,
               "aud": key.audience, "pwd": claims.pwd, "iat_us": claims.issued_us}
    return _jwt().encode(payload, key.secret, algorithm=ALGORITHM), claims


def read(token: str, key: SigningKey) -> Claims:
    """The token's claims, once its signature, algorithm, audience and expiry are checked."""
    jwt = _jwt()
    try:
        # PyJWT would apply the leeway to exp as well: exp is checked here, exactly.
        payload = jwt.decode(token, key.secret, algorithms=[ALGORITHM], audience=key.audience,
                             options={"require": REQUIRED_CLAIMS, "verify_exp": False}, leeway=CLOCK_LEEWAY)
        claims = Claims(sub=str(payload["sub"]), role=str(payload["role"]), iat=int(payload["iat"]),
                        exp=int(payload["exp"]), jti=str(payload["jti"]), pwd=int(payload["pwd"]),
                        issued_us=int(payload.get("iat_us", int(payload["iat"]) * 1_000_000)))
        if claims.exp <= time.time():
            raise jwt.ExpiredSignatureError
        return claims
    except jwt.ExpiredSignatureError:
        raise AuthError("your login has expired") from None
    except jwt.InvalidAudienceError:
        raise AuthError("the token was issued for another users database") from None
    except (jwt.InvalidTokenError, TypeError, ValueError) as exc:
        # PyJWT's messages name the failed check, never the token's content.
        raise AuthError(f"the token is not valid ({str(exc).rstrip('.') or type(exc).__name__})") from None


# No token lives longer than the largest token_lifetime_hours setting allows (config.LIMITS).
LONGEST_LIFETIME = timedelta(days=366)


def sessions_key(username: str) -> str:
    """The revoked_tokens id marking since when a user's logins count (set by `users disable`).

    Not a token id (those are 32 hex digits); hashed, since the column holds 64 characters.
    """
    return "disabled:" + hashlib.sha256(username.lower().encode("utf-8")).hexdigest()[:40]


def new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(48)


def new_instance_id() -> str:
    return uuid.uuid4().hex
