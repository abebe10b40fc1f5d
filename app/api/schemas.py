"""Request and response models: the HTTP edge. Domain code never imports these."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")

LimitField = Field(50, ge=1, le=200, description="Page size (at most 200)")


class Page(BaseModel, Generic[T]):
    """One page of a list. Pass `next_cursor` back as `cursor` to read the next page."""

    items: list[T]
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null on the last page")


class FeedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="Feed URL, or a site's home page whose feed is discovered")
    title: str | None = Field(None, max_length=1024)
    poll_interval_s: int | None = Field(None, ge=60, le=7 * 86400,
                                        description="Fixed poll interval; overrides the adaptive one")


class FeedUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=1024)
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
    state: Literal["ok", "degraded", "failing", "gone"] = Field(description="Health of the feed")
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


class PollResult(BaseModel):
    feed: FeedOut
    outcome: Literal["ok", "not_modified", "unchanged", "error"]
    entries: int = Field(description="Entries in the feed document")
    articles_created: int
    articles_updated: int
    error: str | None


class OpmlImportResult(BaseModel):
    created: int
    existing: int
    invalid: list[str] = Field(description="Outline URLs that were refused, with the reason")


PipelineStep = Literal["extract", "quotes"]


class SkippedStepOut(BaseModel):
    step: PipelineStep = Field(description=(
        "extract: the page's text could not be extracted in time (the feed's content is kept); "
        "quotes: the text was not searched for quotes"))
    reason: str = Field(description="Why, e.g. the step ran over its time budget")


class ArticleSummary(BaseModel):
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
    extraction: Literal["ok", "feed_only", "retry"] = Field(
        description="ok: main text extracted from the page; feed_only/retry: the feed's content is kept")
    quote_count: int
    skipped: list[SkippedStepOut] = Field(default_factory=list, description=(
        "Steps of the pipeline that did not run to their end for this article, and why; empty when all ran"))
    snippet: str | None = Field(None, description="Search only: HTML-escaped excerpt, matches in <mark>")
    score: float | None = Field(None, description="Search only: relevance (higher is better)")

    @field_validator("skipped", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class ArticleOut(ArticleSummary):
    text: str | None = Field(description="Main text of the article")
    guid: str | None


class QuoteFields(BaseModel):
    """What a quote is, as the API and the webhook payloads both show it."""

    id: int
    text: str
    start: int = Field(description="Offset of the quoted words in the article text")
    end: int
    kind: Literal["direct", "partial", "post"]
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


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=1_000_000)
    title: str | None = Field(None, max_length=2000)


class ExtractedQuote(BaseModel):
    text: str
    start: int
    end: int
    kind: Literal["direct", "partial", "post"]
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
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    database: bool
    migrations_at_head: bool
    detail: str | None = None
