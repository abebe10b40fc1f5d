"""Liveness, readiness and metrics: open to probes, no API key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.api.schemas import Health, Readiness
from app.storage.migrate import migration_status

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="getHealth", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", operation_id="getReadiness", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "Not ready"}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    reachable, at_head, detail = await migration_status(runtime.db)
    body = Readiness(status="ready" if reachable and at_head else "not_ready", database=reachable,
                     migrations_at_head=at_head, detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ready" else 503)


@router.get("/metrics", operation_id="getMetrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}, 404: {"description": "Disabled"}})
async def metrics(runtime: RuntimeDep) -> Response:
    if not runtime.settings.metrics_enabled:
        return Response(status_code=404)
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
