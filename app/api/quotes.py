"""/v1/quotes and /v1/speakers: who said what."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from app.api.bodies import body_errors, json_body
from app.api.deps import ReadAccess, RuntimeDep, SessionDep
from app.api.encode import one_json, page_json
from app.api.problems import problem_responses
from app.api.schemas import (
    DEFAULT_PAGE_SIZE,
    CursorIn,
    ExtractRequest,
    ExtractResponse,
    IdIn,
    InstantIn,
    LimitQuery,
    NameIn,
    Page,
    QueryIn,
    QuoteOut,
    SpeakerOut,
)
from app.domain.errors import InvalidRequestError
from app.domain.names import normalize_name
from app.services import quotes as service
from app.storage import quotes as store

router = APIRouter(prefix="/v1", tags=["quotes"], dependencies=[ReadAccess],
                   responses=problem_responses(401, 403, 422))


@router.get("/quotes", operation_id="listQuotes", response_model=Page[QuoteOut])
async def list_quotes(
    session: SessionDep,
    speaker: Annotated[NameIn | None, Query(description="Speaker name (any case, accents ignored)")] = None,
    q: Annotated[QueryIn | None, Query(description=(
        "Search inside quote texts, same language as /v1/articles?q= (newest first)"))] = None,
    since: InstantIn | None = None,
    until: InstantIn | None = None,
    feed_id: IdIn | None = None,
    min_confidence: Annotated[float | None, Query(ge=0.0, le=1.0, description=(
        "Only quotes whose speaker attribution has at least this confidence (0..1): the estimated "
        "probability that the speaker is right (README, Quoted statements, for how it is calibrated)"))] = None,
    cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Response:
    """Quotes, newest article first."""
    rows, next_cursor = await store.list_quotes(session, speaker=speaker, q=q, since=since, until=until,
                                                feed_id=feed_id, speaker_id=None, cursor=cursor, limit=limit,
                                                min_confidence=min_confidence)
    return page_json(QuoteOut, rows, next_cursor)


_EXTRACT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ExtractRequest"}}}}}


def read_extract_request(body: bytes) -> tuple[str, str | None]:
    """The text and title of an extractQuotes body, or its 422. Run in the API's CPU pool: the
    body may be megabytes of an outsider's JSON, and parsing 6 MB of `[[],[],...]` on the event
    loop held it 1.5 s."""
    try:
        request = ExtractRequest.model_validate_json(body)
    except ValidationError as exc:
        raise body_errors(exc) from None
    return request.text, request.title


@router.post("/quotes:extract", operation_id="extractQuotes", response_model=ExtractResponse,
             responses=problem_responses(413, 503), openapi_extra=_EXTRACT_BODY)
async def extract_quotes(request: Request, runtime: RuntimeDep) -> Response:
    """Find the quotes in a text without storing anything.

    Runs in a worker of its own within the quotes budget (`NEWS_INGEST_QUOTES_BUDGET_S`), the
    reading of the body included: a text that takes longer is refused with 422 (type
    `...#problem-types-cpu-budget-exceeded`); when every worker stays busy that long, 503 with
    Retry-After. A body over 8 MiB: 413."""
    # The body is read after the API key is checked, and parsed in the worker.
    quotes = await service.extract_json(runtime, await json_body(request), read_extract_request)
    # Encoded in the worker as ExtractedQuote objects (tests/test_quotes_api.py checks the shape
    # against the schema): re-validating tens of thousands of them here would hold the event loop.
    return Response(content=b'{"quotes":' + quotes + b"}", media_type="application/json")


@router.get("/speakers", operation_id="listSpeakers", response_model=Page[SpeakerOut])
async def list_speakers(
    session: SessionDep,
    q: Annotated[NameIn | None, Query(description=(
        "Part of a name: any case, accents, punctuation and honorifics ignored (`vik` finds "
        "\"Dr. Viktor Lind\"); it needs a letter or digit"))] = None,
    name: Annotated[NameIn | None, Query(deprecated=True, description="The same as q (its former name)")] = None,
    cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Response:
    """Speakers, most quoted first; with `q`, those whose name holds it."""
    if q is not None and name is not None:
        raise InvalidRequestError("speakers: give q or name, not both")
    part = q if q is not None else name
    if part is not None and part.strip() and not normalize_name(part):
        raise InvalidRequestError("speakers: q needs a letter or digit of a name")
    rows, next_cursor = await store.list_speakers(session, name=part, cursor=cursor, limit=limit)
    return page_json(SpeakerOut, rows, next_cursor)


@router.get("/speakers/{speaker_id}", operation_id="getSpeaker", response_model=SpeakerOut,
            responses=problem_responses(404))
async def get_speaker(speaker_id: int, session: SessionDep) -> Response:
    """One speaker: the name, the titles the articles give, how often and when last quoted."""
    return one_json(SpeakerOut, await store.get_speaker(session, speaker_id))


@router.get("/speakers/{speaker_id}/quotes", operation_id="listSpeakerQuotes", response_model=Page[QuoteOut],
            responses=problem_responses(404))
async def list_speaker_quotes(
    speaker_id: int, session: SessionDep, cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Response:
    """The speaker's quotes, newest article first."""
    await store.get_speaker(session, speaker_id)
    rows, next_cursor = await store.list_quotes(session, speaker=None, q=None, since=None, until=None,
                                                feed_id=None, speaker_id=speaker_id, cursor=cursor, limit=limit)
    return page_json(QuoteOut, rows, next_cursor)
