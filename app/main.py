"""create_app(settings): the FastAPI application. In embedded mode its lifespan runs the workers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app import __version__
from app.api import articles, feeds, health, openapi, quotes, subscriptions, websub
from app.api.bodies import BodyLimitMiddleware
from app.api.problems import install_problem_handlers
from app.api.read_cache import ReadCacheMiddleware
from app.config import Settings
from app.heap import freeze_startup_objects
from app.logging import configure_logging
from app.runtime import Runtime

DESCRIPTION = """\
Polls RSS/Atom feeds, fetches and extracts each article's main text, deduplicates articles
into story clusters, extracts quoted statements (who said what, with full names and titles),
and exposes them over a JSON API. Errors are RFC 9457 problem details.

Authenticate with `Authorization: Bearer <key>`; create keys with `news-ingest keys create`.
"""


class MetricsMiddleware:
    """Counts requests and latencies by route template (not raw path, to bound label cardinality)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            metrics = self.runtime.metrics
            metrics.http_requests.labels(scope["method"], route, str(status)).inc()
            metrics.http_latency.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    # The router records the matched route in the scope; its template keeps labels bounded.
    route = scope.get("route")
    return str(getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               run_workers: bool = False) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or Runtime.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        supervisor = None
        if run_workers:
            from app.workers.supervisor import Supervisor

            supervisor = Supervisor(runtime)
            await supervisor.start()
        try:
            yield
        finally:
            if supervisor is not None:
                await supervisor.stop()
            await runtime.close()

    app = FastAPI(
        title="news-ingest", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        openapi_tags=[
            {"name": "feeds", "description": "Feeds to poll, their health and schedule"},
            {"name": "articles", "description": "Stored articles, newest first or by search"},
            {"name": "quotes", "description": "Quoted statements and their speakers"},
            {"name": "health", "description": "Probes and metrics"},
            {"name": "subscriptions", "description": "Webhook subscriptions (Standard Webhooks), deliveries"},
            {"name": "websub", "description": "WebSub callbacks that hubs call: verification of intent and "
                                              "content distribution (no API key: unguessable URL, signed bodies)"},
        ],
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    for module in (feeds, articles, quotes, health, subscriptions, websub):
        app.include_router(module.router)
    app.webhooks.include_router(subscriptions.webhooks)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(ReadCacheMiddleware, runtime=runtime)  # inside the metrics: hits are counted too
    app.add_middleware(MetricsMiddleware, runtime=runtime)

    openapi.install(app, settings)
    return app


def app_from_environment() -> FastAPI:
    """The API alone, settings from the environment: what each `news-ingest api --processes N`
    process builds (uvicorn starts them from an import string)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    freeze_startup_objects()
    return app
