"""Webhook subscriptions, deliveries and the event payloads, at the HTTP edge.

The event models describe exactly what app.storage.outbox writes and app.pipeline.notify
sends; they appear in the OpenAPI document's `webhooks` section so generated clients get
typed events.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.json_schema import SkipJsonSchema

from app.api.schemas import (
    DescriptionIn,
    HttpUrlIn,
    IdIn,
    LanguageIn,
    NameIn,
    QueryIn,
    QuoteFields,
    RequestBody,
)


class EventType(StrEnum):
    """An event a subscription can receive (`ping` comes only from POST .../test)."""

    ARTICLE_CREATED = "article.created"
    ARTICLE_UPDATED = "article.updated"
    QUOTE_CREATED = "quote.created"
    FEED_FAILING = "feed.failing"
    FEED_RECOVERED = "feed.recovered"


class DeliveryState(StrEnum):
    """pending: an attempt is due; delivered: the receiver answered 2xx; failed: refused for
    good (a 4xx other than 408 and 429, or a receiver URL that is not allowed); dead: the
    retries ran out."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


class SubscriptionFilter(RequestBody):
    """All given conditions must hold. `feed_ids` applies to every event; `q`, `speakers` and
    `languages` to article and quote events (an article matches `speakers` when it quotes one);
    `min_confidence` to quote events only."""

    q: QueryIn | None = Field(None, description="A search query, in the query language of /v1/search")
    feed_ids: list[IdIn] | None = Field(None, max_length=1000, description="Only events of these feeds")
    speakers: list[NameIn] | None = Field(None, max_length=200,
                                          description="Only quotes by (articles quoting) these people")
    languages: list[LanguageIn] | None = Field(None, max_length=50, description="ISO 639-1 codes, e.g. `en`")
    # strict: a number, as the document says; not "0.9" or true
    min_confidence: float | None = Field(None, ge=0.0, le=1.0, strict=True, description=(
        "Only `quote.created` events whose quote has at least this `confidence` (0..1, the estimated "
        "probability that the speaker is right), as GET /v1/quotes?min_confidence=. Article events "
        "are not filtered by it, not even together with `speakers`"))


class SubscriptionCreate(RequestBody):
    url: HttpUrlIn = Field(description="Receiver URL; https unless the server allows http")
    # Bounded as every list of a body is: each invalid item is an error of its own.
    events: list[EventType] = Field(min_length=1, max_length=50, description="Event types to receive")
    filter: SubscriptionFilter | None = None
    description: DescriptionIn | None = None
    include_text: bool = Field(False, description="Add the article's full text to article payloads")


class SubscriptionUpdate(RequestBody):
    # Left out means unchanged. url, events and paused cannot be null, and the document says so
    # (SkipJsonSchema); filter and description null clear them, include_text null is the default.
    url: HttpUrlIn | SkipJsonSchema[None] = None
    events: Annotated[list[EventType], Field(min_length=1, max_length=50)] | SkipJsonSchema[None] = None
    filter: SubscriptionFilter | None = None
    description: DescriptionIn | None = None
    include_text: bool | None = Field(None, description="Add the article's full text to article payloads; "
                                                        "null: back to the default, false")
    paused: bool | SkipJsonSchema[None] = Field(None, description="Pause (deliveries wait) or resume; resuming "
                                                                  "re-enables a subscription disabled for failing")


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[EventType]
    filter: SubscriptionFilter
    description: str | None
    include_text: bool
    paused: bool
    disabled_reason: str | None = Field(description="Why deliveries stopped (failing for days); null when active")
    failing_since: datetime | None = Field(description="Start of the current run of failed attempts")
    previous_secret_expires_at: datetime | None = Field(description="Until when the rotated-out secret also signs")
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="Signing secret (`whsec_...`); shown only now. Verify `webhook-signature`")


class SecretRotation(BaseModel):
    secret: str = Field(description="The new signing secret; shown only now")
    previous_secret_expires_at: datetime = Field(description="The old secret keeps signing alongside until then")


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None = Field(description="HTTP status; null when no answer (timeout, connection error)")
    latency_ms: float | None
    response_excerpt: str | None = Field(description="First bytes of the receiver's answer")
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    event_id: str = Field(description="The `webhook-id`: the same for every attempt")
    event_type: str
    event_created_at: datetime
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (pending only)")
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    attempt_log: list[AttemptOut]


# --------------------------------------------------------------------------- event payloads


class ArticleData(BaseModel):
    id: int
    feed_id: int | None
    url: str
    canonical_url: str
    title: str | None
    source: str | None
    published_at: datetime | None
    language: str | None
    story_id: int | None
    summary: str | None
    revision: int
    quote_count: int
    text: str | None = Field(None, description="Full text; only for subscriptions with include_text")


class QuoteData(QuoteFields):
    speaker: str | None


class FeedData(BaseModel):
    id: int
    url: str
    state: str | None = Field(None, description="feed.failing only: failing or gone")
    error: str | None = Field(None, description="feed.failing only: the last error")


class ArticlePayload(BaseModel):
    article: ArticleData


class QuotePayload(BaseModel):
    quote: QuoteData
    article: ArticleData


class FeedPayload(BaseModel):
    feed: FeedData


class PingPayload(BaseModel):
    subscription_id: int
    message: str


class _Envelope(BaseModel):
    timestamp: datetime = Field(description="When the event happened (RFC 3339, UTC)")


class ArticleCreatedEvent(_Envelope):
    type: Literal["article.created"]
    data: ArticlePayload


class ArticleUpdatedEvent(_Envelope):
    type: Literal["article.updated"]
    data: ArticlePayload


class QuoteCreatedEvent(_Envelope):
    type: Literal["quote.created"]
    data: QuotePayload


class FeedFailingEvent(_Envelope):
    type: Literal["feed.failing"]
    data: FeedPayload


class FeedRecoveredEvent(_Envelope):
    type: Literal["feed.recovered"]
    data: FeedPayload


class PingEvent(_Envelope):
    type: Literal["ping"]
    data: PingPayload


WebhookEvent = Annotated[
    ArticleCreatedEvent | ArticleUpdatedEvent | QuoteCreatedEvent | FeedFailingEvent | FeedRecoveredEvent
    | PingEvent,
    Field(discriminator="type"),
]
"""Any event a receiver can get, told apart by `type`: parse a body into this, then match."""

WEBHOOK_EVENT = TypeAdapter[WebhookEvent](WebhookEvent)
