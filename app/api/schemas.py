"""Request and response models: the HTTP edge. Domain code never imports these."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    field_validator,
    model_validator,
)

from app.domain.limits import DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE
from app.domain.limits import (
    MAX_HOST_CHARS,
    MAX_LANGUAGE_CHARS,
    MAX_NAME_CHARS,
    MAX_PAGE_SIZE,
    MAX_ROW_ID,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    has_control_characters,
)
from app.domain.query import MAX_QUERY_CHARS

T = TypeVar("T")

# The page-size query parameter of every list operation, bounded in one place (app.domain.limits;
# DEFAULT_PAGE_SIZE is imported from here by the routers).
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size (at most {MAX_PAGE_SIZE})")]

# ---------------------------------------------------------------- input values
# Every string the API takes is bounded by the column it goes to (app.domain.limits), and text
# holding NUL or other control characters is refused: PostgreSQL cannot store NUL, and none of it
# belongs in a title, a name or a filter. Either is a 422 naming the limit, never a 500.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    return value


def _url_fits(url: AnyHttpUrl) -> AnyHttpUrl:
    if len(str(url)) > MAX_URL_CHARS:  # normalising can lengthen it (IDN, percent-escapes)
        raise ValueError(f"URL should have at most {MAX_URL_CHARS} characters once normalised")
    return url


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> Any:
    """Only what the document says (format date-time, RFC 3339): pydantic alone would also take
    a number of seconds or a time without its offset."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("expected an RFC 3339 date-time with its offset, e.g. 2026-11-27T08:00:00Z "
                         "(in a URL, + is written %2B)")
    return value


def _utc(value: datetime) -> datetime:
    """An instant as aware UTC. One that UTC cannot hold (0001-01-01T00:00:00+01:00) is out of
    range."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


_Plain = AfterValidator(_no_control_characters)
_PlainSchema = Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})
HttpUrlIn = Annotated[AnyHttpUrl, UrlConstraints(max_length=MAX_URL_CHARS), AfterValidator(_url_fits)]
TitleIn = Annotated[str, StringConstraints(max_length=MAX_TITLE_CHARS), _Plain, _PlainSchema]
DescriptionIn = Annotated[str, StringConstraints(max_length=1000), _Plain, _PlainSchema]
NameIn = Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS), _Plain, _PlainSchema]
HostIn = Annotated[str, StringConstraints(max_length=MAX_HOST_CHARS), _Plain, _PlainSchema]
LanguageIn = Annotated[str, StringConstraints(max_length=MAX_LANGUAGE_CHARS), _Plain, _PlainSchema]
CursorIn = Annotated[str, StringConstraints(max_length=1000), _Plain, _PlainSchema]
InstantIn = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_utc)]
IdIn = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
QueryIn = Annotated[str, StringConstraints(max_length=MAX_QUERY_CHARS)]  # parse_query says what else is wrong


# ---------------------------------------------------------------- request bodies
# Largest JSON body of any operation but POST /v1/quotes:extract (its own limit) and the two that
# read a document (OPML import, WebSub push: NEWS_INGEST_MAX_BODY_BYTES). FastAPI parses a body on
# the event loop, before the API key is checked, at up to 160 ms per MB of `[[],[],...]`: 128 KiB
# is at most ~20 ms, and holds the largest subscription filter (200 speakers of 255 characters).
MAX_JSON_BODY_BYTES = 128 * 1024
MAX_BODY_FIELDS = 16  # more than any body has
# POST /v1/quotes:extract: a text of 1,000,000 characters even written as \uXXXX escapes (Python's
# json.dumps writes every non-ASCII character so). Read in the API's CPU pool, not on the loop.
MAX_EXTRACT_BODY_BYTES = 8 * 1024 * 1024


class RequestBody(BaseModel):
    """A JSON request body: unknown fields are refused, and a body of many fields as one error:
    pydantic reports each unknown field, and 200,000 of them held the event loop for 10 s."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _few_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) > MAX_BODY_FIELDS:
            raise ValueError(f"a body has at most {MAX_BODY_FIELDS} fields ({len(data)} given)")
        return data


# ---------------------------------------------------------------- named enumerations
# Enum classes, not Literal: each becomes one named schema in the OpenAPI document, so generated
# clients get `FeedState`, not `ListFeedsStateType0` and `FeedOutState` for the same values.


class FeedState(StrEnum):
    """Health of a feed. pending: registered, not polled yet; ok: the last poll succeeded;
    degraded, failing: that many polls in a row failed; gone: the server answered 410."""

    PENDING = "pending"
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"
    GONE = "gone"


class PollOutcome(StrEnum):
    """ok: the feed was read; not_modified: the server answered 304; unchanged: the same bytes
    as last time; error: the poll failed (see `error`)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged"
    ERROR = "error"


class Extraction(StrEnum):
    """ok: main text extracted from the page; feed_only/retry/blocked: the feed's content is
    kept (blocked: the site's robots.txt disallows fetching the page)."""

    OK = "ok"
    FEED_ONLY = "feed_only"
    RETRY = "retry"
    BLOCKED = "blocked"


class PipelineStep(StrEnum):
    """extract: the page's text could not be extracted in time (the feed's content is kept);
    quotes: the text was not searched for quotes."""

    EXTRACT = "extract"
    QUOTES = "quotes"


class ArticleSort(StrEnum):
    """relevance: best match first, within recency tiers (needs `q`); published: newest first."""

    RELEVANCE = "relevance"
    PUBLISHED = "published"


class ArticleCollapse(StrEnum):
    """story: one article per story cluster (its newest match)."""

    STORY = "story"


class QuoteKind(StrEnum):
    """direct: a quotation; partial: words quoted inside reported speech; post: an embedded
    social post followed by its author."""

    DIRECT = "direct"
    PARTIAL = "partial"
    POST = "post"


class WebSubState(StrEnum):
    """subscribing: asked the hub, awaiting its verification; active: the hub pushes; failed,
    denied: the hub refused or never verified; disabled: no subscription is wanted."""

    SUBSCRIBING = "subscribing"
    ACTIVE = "active"
    FAILED = "failed"
    DENIED = "denied"
    DISABLED = "disabled"


class HealthStatus(StrEnum):
    OK = "ok"


class ReadinessStatus(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"


class Page(BaseModel, Generic[T]):
    """One page of a list. Pass `next_cursor` back as `cursor` to read the next page."""

    items: list[T]
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null on the last page")


class FeedCreate(RequestBody):
    url: HttpUrlIn = Field(description="Feed URL, or a site's home page whose feed is discovered")
    title: TitleIn | None = None
    poll_interval_s: int | None = Field(None, ge=60, le=7 * 86400,
                                        description="Fixed poll interval; overrides the adaptive one")


class FeedUpdate(RequestBody):
    title: TitleIn | None = None
    paused: bool | None = Field(None, description="Pause or resume polling")
    poll_interval_s: int | None = Field(None, ge=60, le=7 * 86400,
                                        description="Fixed poll interval; null returns to adaptive")


class FeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    title: str | None
    site_url: str | None
    paused: bool
    state: FeedState
    poll_interval_override_s: int | None
    interval_s: int = Field(description="Current poll interval (adaptive unless overridden)")
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    parse_warning: str | None
    created_at: datetime
    updated_at: datetime


class WebSubStateOut(BaseModel):
    """The feed's WebSub subscription. `disabled`: the feed advertises a hub but no subscription
    is wanted (NEWS_INGEST_PUBLIC_URL is not set, or the feed is paused or gone)."""

    hub: str = Field(description="The hub the feed advertises (or, once subscribed, the hub we subscribed at)")
    topic: str = Field(description="The topic (the feed's rel=self URL)")
    state: WebSubState
    lease_expires_at: datetime | None = Field(description="End of the hub's lease; renewed before it")
    last_push_at: datetime | None
    pushes: int = Field(description="Content distributions accepted")
    last_error: str | None = Field(description="Why the last subscription request or push was refused")
    last_error_at: datetime | None


class FeedDetail(FeedOut):
    websub: WebSubStateOut | None = Field(description="WebSub push, when the feed advertises a hub")
    median_lag_s: float | None = Field(description=(
        "Median seconds from an article's publication (the feed's date) to when it was first seen, "
        "over the newest articles that carry a date"))
    lag_sample: int = Field(description="How many articles median_lag_s is taken over")


class PollResult(BaseModel):
    feed: FeedOut
    outcome: PollOutcome
    entries: int = Field(description="Entries in the feed document")
    articles_created: int
    articles_updated: int
    error: str | None


class OpmlDocument(RequestBody):
    """An OPML document sent as JSON."""

    document: str = Field(description="The OPML 2.0 document (XML text)")


class OpmlUpload(BaseModel):
    """An OPML file uploaded as multipart/form-data."""

    file: bytes = Field(description="The OPML 2.0 file", json_schema_extra={"format": "binary"})


class OpmlImportResult(BaseModel):
    created: int
    existing: int
    invalid: list[str] = Field(description="Outline URLs that were refused, with the reason")


class SkippedStepOut(BaseModel):
    step: PipelineStep
    reason: str = Field(description="Why, e.g. the step ran over its time budget")


class ArticleFields(BaseModel):
    """What every view of an article shows."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    feed_id: int | None
    url: str
    canonical_url: str
    source: str | None
    title: str | None
    summary: str | None
    byline: str | None
    language: str | None
    published_at: datetime
    created_at: datetime
    updated_at: datetime
    story_id: int | None = Field(description="Story cluster: near-duplicates share it")
    duplicate_of: int | None
    revision: int
    extraction: Extraction
    extraction_reason: str | None = Field(
        None, description='Why the feed\'s content is kept: "blocked by robots.txt", or the page fetch error')
    quote_count: int
    first_seen_at: datetime | None = Field(None, description=(
        "When the feed document (or hub push) that first carried the article arrived"))
    skipped: list[SkippedStepOut] = Field(default_factory=list, description=(
        "Steps of the pipeline that did not run to their end for this article, and why; empty when all ran"))

    @field_validator("skipped", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class ArticleSummary(ArticleFields):
    """An article in a list; with a search (`q`), also its snippet and score."""

    snippet: str | None = Field(None, description="Search only: HTML-escaped excerpt, matches in <mark>")
    score: float | None = Field(None, description="Search only: relevance (higher is better)")


class ArticleOut(ArticleFields):
    """One article with its main text."""

    # Null only for an article stored bare (title and link) because even the feed's own content
    # could not be analysed within its time budget; `skipped` then names the step.
    text: str | None = Field(description="Main text of the article; null only for an article stored bare "
                                         "(see `skipped`)")
    guid: str | None


class QuoteFields(BaseModel):
    """What a quote is, as the API and the webhook payloads both show it."""

    id: int
    text: str
    start: int = Field(description="Offset of the quoted words in the article text")
    end: int
    kind: QuoteKind
    speaker_id: int | None
    speaker_title: str | None
    speaker_type: str | None
    verb: str | None
    channel: str | None
    confidence: float


class QuoteOut(QuoteFields):
    model_config = ConfigDict(from_attributes=True)

    article_id: int
    speaker: str | None = Field(validation_alias="speaker_name")
    published_at: datetime


class ExtractRequest(RequestBody):
    text: str = Field(max_length=1_000_000)
    title: str | None = Field(None, max_length=2000)


class ExtractedQuote(BaseModel):
    text: str
    start: int
    end: int
    kind: QuoteKind
    speaker: str | None
    speaker_title: str | None
    speaker_type: str | None
    verb: str | None
    channel: str | None
    confidence: float


class ExtractResponse(BaseModel):
    quotes: list[ExtractedQuote]


class SpeakerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    speaker_type: str
    titles: list[str]
    quote_count: int
    last_quoted_at: datetime | None


class Health(BaseModel):
    status: HealthStatus


class Readiness(BaseModel):
    status: ReadinessStatus
    database: bool
    migrations_at_head: bool
    detail: str | None = None
