"""/websub/{token}: the callback URL that hubs call (WebSub §5.3 verification, §7 distribution).

No API key: the token in the path is unguessable and per subscription, and pushes must carry
a valid X-Hub-Signature made with that subscription's secret. Hubs only look at status codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import RuntimeDep
from app.api.problems import problem_responses
from app.domain.errors import NotFoundError, PayloadTooLargeError
from app.domain.limits import clean_text
from app.domain.websub import IntentCheck, PushVerdict
from app.services import websub as service

router = APIRouter(prefix="/websub", tags=["websub"], responses=problem_responses(422))

# Unconstrained on purpose: a token we do not know is answered like any other refusal (404/410).
Token = Annotated[str, Path(description="The unguessable token of one subscription's callback URL")]
FEED_MEDIA_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json", "application/xml",
                    "text/xml")
_OPEN: dict[str, Any] = {"security": []}


class PushReceipt(BaseModel):
    """The hub's push was verified and stored; its articles are stored shortly after."""

    status: Literal["accepted"] = "accepted"
    received_at: datetime
    bytes: int = Field(description="Size of the stored body")


@router.get(
    "/{token}", operation_id="verifyWebSubIntent", response_class=PlainTextResponse,
    responses={200: {"description": "The subscription (or unsubscription) is ours: `hub.challenge`, echoed",
                      "content": {"text/plain": {"schema": {"type": "string"}}}},
               **problem_responses(404)},
    openapi_extra=_OPEN,
)
async def verify_intent(
    token: Token, runtime: RuntimeDep,
    mode: Annotated[str | None, Query(alias="hub.mode", description="subscribe, unsubscribe or denied")] = None,
    topic: Annotated[str | None, Query(alias="hub.topic")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    lease_seconds: Annotated[str | None, Query(alias="hub.lease_seconds")] = None,
    reason: Annotated[str | None, Query(alias="hub.reason")] = None,
) -> Response:
    """A hub verifies the intent of a subscription request (WebSub §5.3) or says it denied one
    (§5.2). The challenge is echoed only for a request we made, for that topic and mode;
    anything else is answered 404, as the specification requires."""
    # The reason is stored (last_error): without NUL, which PostgreSQL text refuses (a 500 to the hub).
    check = IntentCheck(mode=mode or "", topic=topic or "", challenge=challenge,
                        lease_s=service.parse_lease(lease_seconds), reason=clean_text(reason))
    if not mode or not topic or not await service.verify_intent(runtime, token, check):
        raise NotFoundError("websub: no such pending subscription for this topic and mode")
    return PlainTextResponse(challenge if mode != "denied" else "", status_code=200)


@router.post(
    "/{token}", operation_id="receiveWebSubContent", status_code=202, response_model=PushReceipt,
    responses=problem_responses(403, 410, 413),
    # One binary body in the document (generated clients skip bodies of XML media types); the
    # hub sends the topic's own media type, and any is read alike.
    openapi_extra={**_OPEN, "requestBody": {
        "required": True, "description": "The topic's full content (or its new entries), sent with the topic's "
                                         f"media type ({', '.join(FEED_MEDIA_TYPES)}): the body is read alike "
                                         "whatever its Content-Type",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def receive_content(token: Token, request: Request, runtime: RuntimeDep) -> PushReceipt:
    """A hub distributes new content (WebSub §7). Accepted only with a valid `X-Hub-Signature`
    (sha256, sha384 or sha512) made with the subscription's secret; sha1, a missing or a wrong
    signature get 403 and are counted. The body is stored before the answer; the articles are
    stored by a worker through the polling pipeline right after."""
    limit = runtime.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        service.count_push(runtime, PushVerdict.TOO_LARGE)
        raise PayloadTooLargeError(f"websub: the body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            service.count_push(runtime, PushVerdict.TOO_LARGE)
            raise PayloadTooLargeError(f"websub: the body exceeds {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    await service.receive_push(runtime, token, body, signature=request.headers.get("x-hub-signature"),
                               content_type=request.headers.get("content-type"))
    return PushReceipt(received_at=runtime.clock(), bytes=len(body))
