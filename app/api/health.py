"""Liveness, readiness and metrics: open to probes, no API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.api.schemas import Health, HealthStatus, Readiness, ReadinessStatus
from app.storage.migrate import migration_status

router = APIRouter(tags=["health"])

# No API key (security: []): load balancers and Prometheus call these.
_OPEN: dict[str, Any] = {"security": []}
# A probe takes no input, so only the HTTP server itself refuses one (a malformed request line
# or header: 400, plain text, before the application sees it).
_MALFORMED: dict[int | str, dict[str, Any]] = {"4XX": {"description": "Malformed HTTP request"}}


@router.get("/healthz", operation_id="getHealth", response_model=Health, openapi_extra=_OPEN,
            responses=_MALFORMED)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status=HealthStatus.OK)


@router.get("/readyz", operation_id="getReadiness", response_model=Readiness, openapi_extra=_OPEN,
            responses={**_MALFORMED, 503: {"model": Readiness, "description": "Not ready"}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    reachable, at_head, detail = await migration_status(runtime.db)
    ready = reachable and at_head
    body = Readiness(status=ReadinessStatus.READY if ready else ReadinessStatus.NOT_READY, database=reachable,
                     migrations_at_head=at_head, detail=detail)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


@router.get("/metrics", operation_id="getMetrics", response_class=Response, openapi_extra=_OPEN,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}, 404: {"description": "Disabled"}})
async def metrics(runtime: RuntimeDep) -> Response:
    """Counters and histograms in the Prometheus text format; 404 when NEWS_INGEST_METRICS_ENABLED is false."""
    if not runtime.settings.metrics_enabled:
        return Response(status_code=404)
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
