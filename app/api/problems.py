"""Every error leaves the API as RFC 9457 problem details (application/problem+json).

One table maps the domain error tree to HTTP status codes; nothing else in the API builds
error responses.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import (
    AuthError,
    BusyError,
    ConflictError,
    CpuBudgetError,
    CpuStepError,
    FetchError,
    ForbiddenError,
    InvalidRequestError,
    NewsIngestError,
    NotFoundError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[NewsIngestError], int, str]] = [
    # Order matters: subclasses before their parents.
    (ForbiddenError, 403, "Forbidden"),
    (AuthError, 401, "Unauthorized"),
    (NotFoundError, 404, "Not Found"),
    (ConflictError, 409, "Conflict"),
    (InvalidRequestError, 422, "Unprocessable Content"),
    (FetchError, 422, "Unprocessable Content"),
    (CpuBudgetError, 422, "Too Costly To Process"),
    (CpuStepError, 422, "Could Not Be Processed"),
    (BusyError, 503, "Service Busy"),
]

# Problem types of our own (RFC 9457 §3.1.1), documented in the README under "Problem types".
PROBLEM_DOCS = "https://github.com/news-ingest/news-ingest#problem-types"
TYPE_BY_ERROR: list[tuple[type[NewsIngestError], str]] = [
    (CpuBudgetError, f"{PROBLEM_DOCS}-cpu-budget-exceeded"),
    (CpuStepError, f"{PROBLEM_DOCS}-cpu-step-failed"),
    (BusyError, f"{PROBLEM_DOCS}-busy"),
]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="A URI reference that identifies the problem type")
    title: str = Field(description="Short summary of the problem type")
    status: int = Field(description="HTTP status code")
    detail: str | None = Field(None, description="What went wrong in this occurrence")
    instance: str | None = Field(None, description="The request path")
    errors: list[dict[str, Any]] | None = Field(None, description="Per-field validation errors")


def _problem_content(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries so generated clients know every error is a Problem."""
    text = {400: "Bad request", 401: "Missing or invalid API key", 403: "The API key lacks the scope",
            404: "Not found", 409: "Conflict with stored state", 422: "Invalid request",
            429: "Too many requests", 503: "Busy: try again after Retry-After seconds"}
    return {s: _problem_content(text.get(s, "Error")) for s in statuses}


def problem(status: int, title: str, detail: str | None, request: Request, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, instance=request.url.path, **extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=headers or None)


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    cleaned = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        cleaned.append({"loc": loc, "msg": err.get("msg"), "type": err.get("type")})
    parts = [f"{'.'.join(e['loc']) or 'request'}: {e['msg']}" for e in cleaned[:5]]
    return "; ".join(parts), cleaned


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(NewsIngestError)
    async def _domain_error(request: Request, exc: NewsIngestError) -> JSONResponse:
        type_ = next((t for cls, t in TYPE_BY_ERROR if isinstance(exc, cls)), "about:blank")
        headers = {"Retry-After": str(round(exc.retry_after_s))} if isinstance(exc, BusyError) else None
        for cls, status, title in STATUS_BY_ERROR:
            if isinstance(exc, cls):
                return problem(status, title, str(exc), request, type=type_, headers=headers)
        return problem(500, "Internal Server Error", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _describe_validation(list(exc.errors()))
        return problem(422, "Unprocessable Content", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized", 403: "Forbidden"}
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "Internal Server Error", "an unexpected error occurred; see the service log", request)
