"""Every error leaves the API as RFC 9457 problem details (application/problem+json).

One table maps the domain error tree to HTTP status codes; nothing else in the API builds
error responses.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.domain.errors import (
    AuthError,
    BusyError,
    ConflictError,
    CpuBudgetError,
    CpuStepError,
    DuplicateFeedError,
    FetchError,
    ForbiddenError,
    GoneError,
    InvalidRequestError,
    NewsIngestError,
    NotFoundError,
    PayloadTooLargeError,
    SignatureError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Errors listed in one problem: a body can hold as many invalid values as it has room for, and
# each listed one costs the event loop (200,000 of them held it for 10 s).
MAX_LISTED_ERRORS = 20

STATUS_BY_ERROR: list[tuple[type[NewsIngestError], int, str]] = [
    # Order matters: subclasses before their parents.
    (ForbiddenError, 403, "Forbidden"),
    (AuthError, 401, "Unauthorized"),
    (NotFoundError, 404, "Not Found"),
    (ConflictError, 409, "Conflict"),
    (GoneError, 410, "Gone"),
    (SignatureError, 403, "Forbidden"),
    (PayloadTooLargeError, 413, "Content Too Large"),
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


class FieldError(BaseModel):
    """One invalid part of the request."""

    loc: list[str] = Field(description='Where: e.g. ["query", "limit"] or ["body", "url"]')
    msg: str = Field(description="What is wrong with it")
    type: str = Field(description="A stable token for the kind of error, e.g. `less_than_equal`")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="A URI reference that identifies the problem type")
    title: str = Field(description="Short summary of the problem type")
    status: int = Field(description="HTTP status code")
    detail: str | None = Field(None, description="What went wrong in this occurrence")
    instance: str | None = Field(None, description="The request path")
    errors: list[FieldError] | None = Field(None, description=(
        f"422 only: each invalid part of the request (the first {MAX_LISTED_ERRORS})"))


class FeedRef(BaseModel):
    id: int
    url: str


class DuplicateFeedProblem(Problem):
    """409 from createFeed: the feed is registered already; `existing_feed` names it."""

    existing_feed: FeedRef = Field(description="The registered feed (GET /v1/feeds/{id})")


def _problem_content(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries so generated clients know every error is a Problem."""
    text = {400: "Bad request (e.g. a multipart body that cannot be parsed)", 401: "Missing or invalid API key", 403: "The API key lacks the scope",
            404: "Not found", 409: "Conflict with stored state", 410: "Gone", 413: "Content too large",
            422: "Invalid request",
            429: "Too many requests", 500: "Unexpected error (the service log has the details)",
            503: "Busy: try again after Retry-After seconds"}
    return {s: _problem_content(text.get(s, "Error")) for s in statuses}


def duplicate_feed_response() -> dict[int | str, dict[str, Any]]:
    return {409: {"description": "The feed is registered already (`existing_feed` names it)",
                  "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/DuplicateFeedProblem"}}}}}


def problem(status: int, title: str, detail: str | None, request: Request, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    model = DuplicateFeedProblem if "existing_feed" in extra else Problem
    body = model(title=title, status=status, detail=detail, instance=request.url.path, **extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=headers or None)


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI could not read a JSON body (its 400 "There was an error parsing the body"
    comes from json.loads failing with other than JSONDecodeError: bytes that are not UTF-8,
    nesting too deep), or None for any other 400."""
    cause = exc.__cause__
    if exc.status_code != 400 or not isinstance(cause, (ValueError, RecursionError)):
        return None
    reason = "nested too deeply" if isinstance(cause, RecursionError) else "not UTF-8 text"
    return f"body: not valid JSON ({reason})"


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    cleaned: list[dict[str, Any]] = []
    parts: list[str] = []
    for err in errors[:MAX_LISTED_ERRORS]:
        loc = [str(p) for p in err.get("loc", ())]
        cleaned.append({"loc": loc, "msg": err.get("msg"), "type": err.get("type")})
        if len(parts) < 5:
            parts.append(f"{'.'.join(loc) or 'request'}: {err.get('msg')}")
    if len(errors) > MAX_LISTED_ERRORS:
        parts.append(f"{len(errors)} errors in all, the first {MAX_LISTED_ERRORS} listed")
    return "; ".join(parts), cleaned


def _allow(request: Request) -> str:
    """Every method the path answers, from the OpenAPI document (RFC 9110 §10.2.1): Starlette's
    405 names only the methods of the first route on the path, and POST and GET /v1/feeds are two
    routes. HEAD goes with GET."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in _METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(NewsIngestError)
    async def _domain_error(request: Request, exc: NewsIngestError) -> JSONResponse:
        type_ = next((t for cls, t in TYPE_BY_ERROR if isinstance(exc, cls)), "about:blank")
        headers = {"Retry-After": str(round(exc.retry_after_s))} if isinstance(exc, BusyError) else None
        extra: dict[str, Any] = {}
        if isinstance(exc, DuplicateFeedError):
            extra["existing_feed"] = FeedRef(id=exc.feed_id, url=exc.url)
        for cls, status, title in STATUS_BY_ERROR:
            if isinstance(exc, cls):
                return problem(status, title, str(exc), request, type=type_, headers=headers, **extra)
        return problem(500, "Internal Server Error", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _describe_validation(list(exc.errors()))
        return problem(422, "Unprocessable Content", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:  # the same answer as any malformed JSON body: 422 json_invalid
            return problem(422, "Unprocessable Content", unreadable, request,
                           errors=[{"loc": ["body"], "msg": unreadable, "type": "json_invalid"}])
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Error"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allow(request) or headers.get("Allow", "")  # required (RFC 9110 §15.5.6)
        return problem(exc.status_code, title, str(exc.detail), request, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "Internal Server Error", "an unexpected error occurred; see the service log", request)
