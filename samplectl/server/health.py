"""GET /healthz (the process answers), GET /readyz (the stores answer), GET /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from samplectl.domain.errors import DatabaseUnavailable
from samplectl.server import metrics
from samplectl.server.deps import State
from samplectl.server.schemas import ERRORS, Status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status, summary="The server is up (no login)")
def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: ERRORS[503]},
            summary="Both stores answer (no login)")
def readyz(server: State) -> Status:
    """For a load balancer: 503 while the sample store or the users database cannot be reached."""
    store = server.sample_store()
    try:
        store.get("\x00readyz")  # one indexed look-up answers whether the sample store is there
        server.lookup().settings()
    except DatabaseUnavailable:
        server.forget_lookup()
        raise
    except Exception as exc:  # noqa: BLE001 - anything else (a users database not set up...) is "not ready" too
        server.forget_lookup()
        reason = getattr(exc, "message", None) or type(exc).__name__
        raise DatabaseUnavailable(f"not ready: {reason}", hint=getattr(exc, "hint", None)) from None
    return Status(status="ok")


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (no login)",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def prometheus() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
