"""The FastAPI application: routers, error envelope, middleware, and what the process holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from samplectl import __version__
from samplectl.config import Settings, load_settings
from samplectl.server import admin, auth, errors, health, imports, samples, storage, values
from samplectl.server.middleware import RequestGuard
from samplectl.server.state import ServerState
from samplectl.server.throttle import LoginThrottle

DESCRIPTION = """The samplectl HTTP API: the same samples, rules, roles and audit trail as the command line.

Log in with `POST /token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer TOKEN`. Errors are `{"error": {"code", "message", "details", "hint"}}`.
"""


def create_app(settings: Settings | None = None, *, tls: bool = False, cors_origins: list[str] | None = None) -> FastAPI:
    server = ServerState(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()

    app = FastAPI(title="samplectl", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.samplectl = server
    app.state.throttle = LoginThrottle()
    for module in (auth, samples, values, imports, storage, admin, health):
        app.include_router(module.router)
    errors.install(app)
    if cors_origins:
        # Only when configured: a browser on another origin may then call the API with a token.
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "If-Match"],
                           expose_headers=["ETag", "Link", "Location"])
    app.add_middleware(RequestGuard, tls=tls)
    return app


def app_from_environment() -> FastAPI:
    """What uvicorn's workers build (`--workers N` imports the app by name in each process)."""
    import os

    origins = [o.strip() for o in os.environ.get("SAMPLECTL_CORS_ORIGINS", "").split(",") if o.strip()]
    return create_app(tls=os.environ.get("SAMPLECTL_SERVE_TLS") == "1", cors_origins=origins or None)
