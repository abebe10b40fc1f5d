"""Request bodies. FastAPI parses a JSON body on the event loop before anything else (the API
key included), at up to 160 ms per MB of `[[],[],...]`; so every body is bounded before it is
read, and the operations whose bodies are measured in megabytes read them themselves, in the
API's CPU pool.

    BodyLimitMiddleware                  413 problem+json past an operation's limit (body_limit)
    body = await json_body(request)      the bytes, or the 422 FastAPI would give
    errors = body_errors(exc)            a pydantic ValidationError as FastAPI's 422, picklable
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import MAX_LISTED_ERRORS, problem
from app.api.schemas import MAX_EXTRACT_BODY_BYTES, MAX_JSON_BODY_BYTES


def body_limit(path: str) -> int | None:
    """The largest body the operation at `path` takes; None: the operation bounds its body itself
    (the OPML import and WebSub pushes stream theirs against NEWS_INGEST_MAX_BODY_BYTES)."""
    if path == "/v1/quotes:extract":
        return MAX_EXTRACT_BODY_BYTES
    if path == "/v1/feeds:import" or path.startswith("/websub/"):
        return None
    return MAX_JSON_BODY_BYTES


class BodyLimitMiddleware:
    """Answers 413 for a body over its operation's limit: at once when Content-Length says so,
    else as soon as the bytes received pass it (chunked), before anything parses them.
    (FastAPI's own max_body_size answers a declared length with a plain-text 413.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        detail = f"request: the body exceeds {limit} bytes"
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > limit:
            await problem(413, "Content Too Large", detail, Request(scope))(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, detail)  # FastAPI passes it on to the problem handler
            return message

        await self.app(scope, bounded, send)


def body_errors(exc: ValidationError) -> RequestValidationError:
    """FastAPI's 422 for a body that failed `exc`'s model: the first errors, located in the body,
    without the input (the caller may be a pool worker: the error travels back pickled)."""
    errors = exc.errors(include_url=False, include_input=False)[:MAX_LISTED_ERRORS]
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


async def json_body(request: Request) -> bytes:
    """The body of a JSON request, not parsed: what FastAPI answers for a body it cannot take
    (none, or not JSON by its media type) is raised here alike."""
    body = await request.body()
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Input should be a JSON object (Content-Type: application/json)"}])
    return body
