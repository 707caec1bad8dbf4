"""What every request goes through: body limits, security headers, one JSON log line, metrics.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware, so that streamed bodies
(imports in, exports out) pass through untouched and unbuffered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from samplectl.domain.dates import iso_z, utc_now
from samplectl.server import metrics
from samplectl.server.errors import envelope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("samplectl.server.access")

MAX_JSON_BODY = 1024 * 1024  # JSON and form bodies; an import's file is not held in memory and has no limit
STREAMED_BODIES = ("/imports",)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# /docs is Swagger UI, whose script and style FastAPI loads from jsDelivr.
DOCS_CSP = (b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            b"style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            b"connect-src 'self'; frame-ancestors 'none'")


class _TooLarge(StarletteHTTPException):
    # An HTTPException, so that FastAPI's body parsing lets it through to the 413 envelope.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class RequestGuard:
    def __init__(self, app: ASGIApp, *, tls: bool = False, max_body: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.tls = tls
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        state = scope.setdefault("state", {})
        outcome = {"status": 500, "started": False}
        limited = not path.startswith(STREAMED_BODIES)

        declared = _header(scope, b"content-length")
        if limited and declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(send, outcome)
            self._log(scope, state, outcome["status"], started)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if limited and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"], outcome["started"] = message["status"], True
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", DOCS_CSP if path.startswith("/docs") else API_CSP))
                if self.tls:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted_receive if limited else receive, guarded_send)
        except _TooLarge:
            if not outcome["started"]:
                await self._too_large(send, outcome)
        except Exception:
            # Reported once, masked, in the server's log; the client gets the envelope without a traceback.
            logging.getLogger("samplectl.server").exception("unexpected error on %s %s", scope.get("method"), path)
            if not outcome["started"]:
                await _json(send, 500, envelope("unexpected", "unexpected error", hint="the server's log has the details"))
                outcome["status"] = 500
        finally:
            self._log(scope, state, outcome["status"], started)

    async def _too_large(self, send: Send, outcome: dict[str, Any]) -> None:
        await _json(send, 413, envelope("too_large", f"the request body is larger than {self.max_body} bytes",
                                        hint="send less at once; files go to POST /imports as the body"))
        outcome["status"] = 413

    def _log(self, scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or "(unmatched)"
        method = scope.get("method", "")
        metrics.REQUESTS.labels(method, template, str(status)).inc()
        metrics.LATENCY.labels(template).observe(seconds)
        client = scope.get("client")
        # Never the query string (a login-like mistake could put a secret there), a header or a body.
        access_log.info(json.dumps({
            "time": iso_z(utc_now()), "method": method, "route": template, "status": status,
            "duration_ms": round(seconds * 1000, 2), "user": state.get("user"),
            "client": client[0] if client else None,
        }))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += SECURITY_HEADERS + [(b"content-security-policy", API_CSP)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
