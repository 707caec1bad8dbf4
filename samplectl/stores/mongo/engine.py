"""MongoDB's quirks: how dates are stored, which errors mean what, and opening a client."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from samplectl.config import mask_uri
from samplectl.domain.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


def encode_date(value: datetime) -> Any:
    # BSON dates are UTC milliseconds; pymongo hands back naive UTC.
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=value.microsecond // 1000 * 1000)


def decode_date(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value  # type: ignore[no-any-return]  # not samplectl's writing: left as found


def is_duplicate_key(exc: BaseException) -> bool:
    from pymongo.errors import BulkWriteError, DuplicateKeyError

    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        return any(e.get("code") == 11000 for e in exc.details.get("writeErrors", []))
    return False


def translate(exc: BaseException, where: str) -> BaseException | None:
    from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure, ServerSelectionTimeoutError

    if isinstance(exc, ServerSelectionTimeoutError | ConnectionFailure):
        return DatabaseUnavailable(
            f"cannot reach MongoDB at {where}",
            hint="check SAMPLECTL_MONGODB_URI and that the server is running (`docker compose up -d mongo`)",
        )
    if isinstance(exc, ConfigurationError):
        return DatabaseUnavailable(f"MongoDB configuration problem for {where}: {exc}")
    if isinstance(exc, OperationFailure) and exc.code in (13, 18):
        return DatabaseUnavailable(
            f"MongoDB at {where} refused the credentials or the operation",
            hint="check the user name and password in SAMPLECTL_MONGODB_URI",
        )
    return None


def guard(call: Any, where: str) -> Any:
    """Run ``call``; a driver error that means "the database is unavailable" becomes exit 8."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - every engine error is translated or re-raised
        translated = translate(exc, where)
        if translated is None:
            raise
        raise translated from exc


def connect(uri: str, db_name: str, timeout_ms: int) -> tuple[Any, Any, str]:
    """(client, database, the URI as shown) for a MongoDB URI; DatabaseUnavailable when unusable."""
    from pymongo import MongoClient
    from pymongo.errors import ConfigurationError, InvalidURI

    where = mask_uri(uri)
    log.info("connecting to MongoDB at %s, database %s (timeout %d ms)", where, db_name, timeout_ms)
    try:
        client: Any = MongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 10, 30000),
            appname="samplectl",
        )
    except (ConfigurationError, InvalidURI, ValueError) as exc:
        # pymongo may echo the URI in its message: never print it, it can hold a password.
        kind = type(exc).__name__
        raise DatabaseUnavailable(
            f"SAMPLECTL_MONGODB_URI {where} is not usable ({kind})",
            hint="a URI looks like mongodb://user:password@host:27017/?authSource=admin",
        ) from None
    return client, client[db_name], where
