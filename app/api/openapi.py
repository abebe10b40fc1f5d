"""The OpenAPI document as generated clients and linters want it (redocly, Spectral's
`spectral:oas`, openapi-python-client, @hey-api/openapi-ts: no errors, no warnings).

FastAPI builds the paths from the routers; this adds what it cannot know: the servers, the
licence, the error schemas every operation references, 500 on every operation, the
`WebhookEvent` union a receiver parses any event into.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.problems import DuplicateFeedProblem, Problem, problem_responses
from app.api.schemas import ExtractRequest, OpmlDocument, OpmlUpload
from app.api.webhook_schemas import WEBHOOK_EVENT
from app.config import Settings

COMPONENTS = "#/components/schemas/"
REF_TEMPLATE = COMPONENTS + "{model}"
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
CONTACT = {"name": "news-ingest maintainers", "url": "https://github.com/news-ingest/news-ingest"}
# FastAPI documents a 422 of its own shape; every error here is a Problem instead.
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def server_url(settings: Settings) -> str:
    """Where this service answers: its public URL, else the address it binds."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def _schemas_of(models: list[type[BaseModel]]) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    defs: dict[str, Any] = top.get("$defs", {})
    return defs


def finish(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Complete FastAPI's document in place and return it."""
    schema["servers"] = [{"url": server_url(settings), "description": "This service"}]
    schema["info"]["license"] = LICENSE
    schema["info"]["contact"] = CONTACT
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # Bodies and errors that no route declares as a model (a route reads them from the request).
    components.update(_schemas_of([Problem, DuplicateFeedProblem, ExtractRequest, OpmlDocument, OpmlUpload]))
    event = WEBHOOK_EVENT.json_schema(ref_template=REF_TEMPLATE)
    components.update(event.pop("$defs", {}))
    components["WebhookEvent"] = {**event, "title": "WebhookEvent",
                                  "description": "Any event a receiver can get, told apart by `type`"}
    for name in _FASTAPI_ERROR_SCHEMAS:
        components.pop(name, None)
    _rename_pages(schema)
    _add_any_event_webhook(schema.setdefault("webhooks", {}))

    unexpected = problem_responses(500)[500]
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            operation["responses"].setdefault("500", unexpected)
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():
            # The receiver's answer: 2xx or a retry; FastAPI's 422 describes a server that
            # validates, which a receiver need not be.
            operation["responses"].pop("422", None)
    return schema


_PAGE = re.compile(r"Page_(\w+)_")


def _rename_pages(schema: dict[str, Any]) -> None:
    """`Page_FeedOut_` (pydantic's name for Page[FeedOut]) becomes `FeedOutPage`, the name
    generated clients then give the type."""
    components = schema["components"]["schemas"]
    renames = {name: f"{m.group(1)}Page" for name in components if (m := _PAGE.fullmatch(name))}
    for old, new in renames.items():
        components[new] = components.pop(old)
        components[new]["title"] = new
    refs = {f"{COMPONENTS}{old}": f"{COMPONENTS}{new}" for old, new in renames.items()}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(ref := node.get("$ref"), str) and ref in refs:
                node["$ref"] = refs[ref]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)


def _add_any_event_webhook(hooks: dict[str, Any]) -> None:
    """One receiver URL gets every event its subscription names: `event` documents that request
    with the `WebhookEvent` union, beside one entry per event type."""
    if "ping" not in hooks:
        return
    operation = copy.deepcopy(hooks["ping"]["post"])
    operation.update(operationId="onEvent", summary="Any event of the subscription (parse into WebhookEvent)")
    operation["requestBody"]["content"] = {"application/json": {"schema": {"$ref": f"{COMPONENTS}WebhookEvent"}}}
    hooks["event"] = {"post": operation}


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the finished document at /openapi.json (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = finish(generate(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
