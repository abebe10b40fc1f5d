"""/v1/feeds: register, list, inspect, pause/resume, poll now, OPML in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from python_multipart.exceptions import FormParserError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from app.api.bodies import body_errors
from app.api.deps import AdminAccess, ReadAccess, RuntimeDep, SessionDep
from app.api.encode import page_json
from app.api.problems import duplicate_feed_response, problem_responses
from app.api.schemas import (
    DEFAULT_PAGE_SIZE,
    CursorIn,
    FeedCreate,
    FeedDetail,
    FeedOut,
    FeedState,
    FeedUpdate,
    LimitQuery,
    OpmlDocument,
    OpmlImportResult,
    Page,
    PollOutcome,
    PollResult,
    WebSubState,
    WebSubStateOut,
)
from app.domain.errors import InvalidRequestError, PayloadTooLargeError
from app.runtime import Runtime
from app.services import feeds as service
from app.storage import feeds as store
from app.storage.models import Feed, WebSubSubscription

router = APIRouter(prefix="/v1", tags=["feeds"], responses=problem_responses(401, 403, 422))


@router.post("/feeds", operation_id="createFeed", status_code=201, response_model=FeedOut,
             dependencies=[AdminAccess], responses={**duplicate_feed_response(), **problem_responses(413)})
async def create_feed(body: FeedCreate, runtime: RuntimeDep) -> FeedOut:
    """Register a feed. A site's home page is accepted too: its feed is discovered (a few
    candidate URLs, within `NEWS_INGEST_DISCOVERY_DEADLINE_S`)."""
    # No SessionDep: the service writes only after the network work (see register_feed).
    feed = await service.register_feed(runtime, url=str(body.url), title=body.title,
                                       interval_override_s=body.poll_interval_s)
    return FeedOut.model_validate(feed)


@router.get("/feeds", operation_id="listFeeds", response_model=Page[FeedOut], dependencies=[ReadAccess])
async def list_feeds(
    session: SessionDep,
    state: FeedState | None = None,
    paused: bool | None = None,
    cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Response:
    """Every registered feed, oldest first, optionally only those in one state or paused."""
    rows, next_cursor = await store.list_feeds(session, state=state.value if state else None, paused=paused,
                                               cursor=cursor, limit=limit)
    return page_json(FeedOut, rows, next_cursor)


@router.get("/feeds.opml", operation_id="exportFeedsOpml", dependencies=[ReadAccess],
            response_class=Response,
            responses={200: {"content": {"text/x-opml": {"schema": {"type": "string"}}},
                             "description": "OPML 2.0 document of every feed"}})
async def export_opml(runtime: RuntimeDep, session: SessionDep) -> Response:
    """Every feed as an OPML 2.0 document, for another reader or a later import."""
    return Response(await service.export_opml(runtime, session), media_type="text/x-opml")


# `required` is left out, though a request without a document is refused (422): with it,
# openapi-python-client (0.29) emits a type it does not import for a body of several media types,
# and the generated module fails to import (openapi-generators/openapi-python-client#1451).
_OPML_BODY: dict[str, Any] = {"requestBody": {
    "description": "The OPML document: uploaded as the `file` part of multipart/form-data, as JSON "
                   "(`{\"document\": \"<opml ...>\"}`), or as the raw bytes (text/x-opml, application/xml, "
                   "text/xml and application/octet-stream are all read so)",
    "content": {
        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/OpmlUpload"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/OpmlDocument"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    }}}


@router.post("/feeds:import", operation_id="importFeedsOpml", response_model=OpmlImportResult,
             dependencies=[AdminAccess], responses=problem_responses(400, 413), openapi_extra=_OPML_BODY)
async def import_opml(request: Request, runtime: RuntimeDep) -> OpmlImportResult:
    """Register every feed of an OPML document (as a file upload, JSON or the raw document).
    Listed URLs are trusted as feeds, without discovery; blocked addresses are refused and
    listed in `invalid`; feeds registered already are counted in `existing`."""
    document, read = await _opml_of(request, runtime.settings.max_body_bytes)
    created, existing, invalid = await service.import_opml(runtime, document, read=read)
    return OpmlImportResult(created=created, existing=existing, invalid=invalid)


def read_opml_json(body: bytes) -> bytes:
    """The OPML document of an import sent as JSON, or its 422. Run in the API's CPU pool with
    the parsing of the document: 9 MB of `[[],[],...]` held the event loop 2 s."""
    try:
        return OpmlDocument.model_validate_json(body).document.encode()
    except ValidationError as exc:
        raise body_errors(exc) from None


async def _opml_of(request: Request, limit: int) -> tuple[bytes, Callable[[bytes], bytes] | None]:
    """The body of an import request, whichever of the three forms it came in, and what reads
    the OPML document out of it (None: the body is the document)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"feeds: the OPML document exceeds {limit} bytes")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        try:
            async with request.form(max_files=1, max_fields=10) as form:
                upload = form.get("file")
                if isinstance(upload, UploadFile):
                    data = await upload.read(limit + 1)
                elif isinstance(upload, str):
                    data = upload.encode()
                else:
                    raise InvalidRequestError("feeds: a multipart import needs the OPML document in a part named `file`")
        except (MultiPartException, FormParserError) as exc:  # Starlette before 0.50 lets the parser's error through
            raise HTTPException(400, f"feeds: the multipart body cannot be read ({exc})") from None
    else:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
    if len(data) > limit:
        raise PayloadTooLargeError(f"feeds: the OPML document exceeds {limit} bytes")
    if media_type == "application/json" or media_type.endswith("+json"):
        return data, read_opml_json
    return data, None


def _websub_out(runtime: Runtime, feed: Feed, sub: WebSubSubscription | None) -> WebSubStateOut | None:
    if sub is not None:
        return WebSubStateOut(hub=sub.hub_url, topic=sub.topic_url, state=sub.state,  # type: ignore[arg-type]
                              lease_expires_at=sub.expires_at, last_push_at=sub.last_push_at, pushes=sub.pushes,
                              last_error=sub.last_error, last_error_at=sub.last_error_at)
    if feed.websub_hub is None:
        return None
    wanted = runtime.settings.public_url is not None and not feed.paused and feed.state != "gone"
    return WebSubStateOut(hub=feed.websub_hub, topic=feed.websub_topic or feed.url,
                          state=WebSubState.SUBSCRIBING if wanted else WebSubState.DISABLED, lease_expires_at=None, last_push_at=None,
                          pushes=0, last_error=None, last_error_at=None)


@router.get("/feeds/{feed_id}", operation_id="getFeed", response_model=FeedDetail, dependencies=[ReadAccess],
            responses=problem_responses(404))
async def get_feed(feed_id: int, runtime: RuntimeDep, session: SessionDep) -> FeedDetail:
    """The feed with its health, its WebSub state and how late its articles reach us."""
    feed, sub, lag, sample = await service.feed_detail(runtime, session, feed_id)
    return FeedDetail(**FeedOut.model_validate(feed).model_dump(), websub=_websub_out(runtime, feed, sub),
                      median_lag_s=lag, lag_sample=sample)


@router.patch("/feeds/{feed_id}", operation_id="updateFeed", response_model=FeedOut, dependencies=[AdminAccess],
              responses=problem_responses(404, 413))
async def update_feed(feed_id: int, body: FeedUpdate, runtime: RuntimeDep, session: SessionDep) -> FeedOut:
    """Change the title, pause or resume, or set/clear the fixed poll interval."""
    feed = await service.update_feed(runtime, session, feed_id, body.model_dump(exclude_unset=True))
    return FeedOut.model_validate(feed)


@router.delete("/feeds/{feed_id}", operation_id="deleteFeed", status_code=204, response_class=Response,
               dependencies=[AdminAccess], responses=problem_responses(404))
async def delete_feed(feed_id: int, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Stop polling and forget the feed (unsubscribing from its WebSub hub); its stored articles stay."""
    await service.delete_feed(runtime, session, feed_id)
    return Response(status_code=204)


@router.post("/feeds/{feed_id}/poll", operation_id="pollFeed", response_model=PollResult,
             dependencies=[AdminAccess], responses=problem_responses(404, 409))
async def poll_feed(feed_id: int, runtime: RuntimeDep) -> PollResult:
    """Poll the feed now, whatever its schedule, and report what the poll found."""
    report, feed = await service.poll_now(runtime, feed_id)
    return PollResult(feed=FeedOut.model_validate(feed), outcome=PollOutcome(report.outcome), entries=report.entries,
                      articles_created=report.created, articles_updated=report.updated, error=report.error)
