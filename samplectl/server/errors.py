"""The contract's error envelope and status codes, for every error a request can meet.

``{"error": {"code", "message", "details", "hint"}}``: the command line's typed errors map to HTTP
statuses here, in one place, as cli/app.py maps them to exit codes. A 500 never carries a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from samplectl.domain.errors import ExitCode, SamplectlError
from samplectl.logs import redact

log = logging.getLogger("samplectl.server")

STATUS_OF_EXIT = {
    ExitCode.USAGE: 400,
    ExitCode.AUTH: 401,
    ExitCode.PERMISSION: 403,
    ExitCode.NOT_FOUND: 404,
    ExitCode.INVALID: 422,
    ExitCode.CONFLICT: 409,
    ExitCode.DATABASE: 503,
    ExitCode.UNEXPECTED: 500,
}


class PreconditionFailed(SamplectlError):
    """A stale `If-Match`: the sample has moved on since the client read it (412)."""

    exit_code = ExitCode.CONFLICT
    code = "precondition_failed"
    status = 412


class BodyTooLarge(SamplectlError):
    exit_code = ExitCode.INVALID
    code = "too_large"
    status = 413


class TooManyAttempts(SamplectlError):
    """Failed logins from one address, throttled before the account lockout has a say (429)."""

    exit_code = ExitCode.AUTH
    code = "too_many_attempts"
    status = 429


def status_of(exc: SamplectlError) -> int:
    return getattr(exc, "status", None) or STATUS_OF_EXIT.get(exc.exit_code, 500)


def envelope(code: str, message: str, *, hint: str | None = None, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or [], "hint": hint}}


UNAVAILABLE = "a database the server uses cannot be reached"


def error_response(exc: SamplectlError, headers: dict[str, str] | None = None) -> JSONResponse:
    status = status_of(exc)
    if status == 503:
        # Which database, where, and why is for the server's log: clients learn nothing of the back end.
        log.warning("503: %s", redact(exc.message, pairs=False))
        body = envelope(exc.code, UNAVAILABLE, hint="try again in a moment; the server's log says which and why")
    else:
        # A driver's message can echo a URI or a token: nothing secret reaches a client either.
        body = envelope(exc.code, redact(exc.message, pairs=False),
                        hint=redact(exc.hint, pairs=False) if exc.hint else None, details=exc.details)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    retry = getattr(exc, "retry_after", None)
    if retry:
        headers["Retry-After"] = str(int(retry))
    return JSONResponse(body, status_code=status, headers=headers)


def _plain_location(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(SamplectlError)
    async def typed(request: Request, exc: SamplectlError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"column": _plain_location(e.get("loc", ())), "value": _short(e.get("input")),
                    "message": e.get("msg", "invalid")} for e in exc.errors()[:20]]
        first = details[0] if details else {"column": "request", "message": "invalid"}
        return JSONResponse(envelope("invalid", f"{first['column']}: {first['message']}", details=details,
                                     hint="see /docs for what this route takes"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "auth", 403: "permission_denied",
                413: "too_large"}.get(exc.status_code, "usage" if exc.status_code < 500 else "unexpected")
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse(envelope(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server's log (masked), never to the client.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path,
                  exc_info=exc)
        return JSONResponse(envelope("unexpected", f"unexpected {type(exc).__name__}",
                                     hint="the server's log has the details"), status_code=500)


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 100:
        return value[:100] + "…"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return None
