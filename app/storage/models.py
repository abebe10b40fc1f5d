"""ORM tables. One schema for SQLite and PostgreSQL; migrations in ``migrations/`` mirror it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.domain.limits import (
    MAX_CHANNEL_CHARS,
    MAX_ETAG_CHARS,
    MAX_HOST_CHARS,
    MAX_HTTP_DATE_CHARS,
    MAX_LANGUAGE_CHARS,
    MAX_NAME_CHARS,
    MAX_ROW_ID,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    MAX_VERB_CHARS,
)
from app.domain.refusals import RefusedEntry

# Alembic names constraints after this convention, so both dialects get the same names and
# batch migrations on SQLite can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both databases (SQLite stores naive values: we mean UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to the database; use an aware UTC datetime")
        if dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Any) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite: straight to the text SQLAlchemy's DATETIME stores ("YYYY-MM-DD HH:MM:SS.ffffff",
        # microseconds always written), in one call instead of this type's conversion and then
        # DATETIME's %-formatting of a dict: storing an article binds about fifteen datetimes.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime passed to the database; use an aware UTC datetime")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RefusalsJSON(TypeDecorator[tuple[RefusedEntry, ...]]):
    """A feed's refused entries (app.domain.refusals) as a JSON array; none is SQL NULL."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: tuple[RefusedEntry, ...] | None, dialect: Any) -> Any:
        if not value:
            return None
        return [{"edition": r.edition, "url": r.url, "at": r.at.isoformat()} for r in value]

    def process_result_value(self, value: Any, dialect: Any) -> tuple[RefusedEntry, ...]:
        return tuple(RefusedEntry(r["edition"], r["url"], datetime.fromisoformat(r["at"])) for r in value or ())


def can_exist(row_id: int) -> bool:
    """Whether some row could have this id: one past MAX_ROW_ID cannot even be sent to
    PostgreSQL (32-bit INTEGER keys) or SQLite (64 bits), so lookups answer "not found"."""
    return 1 <= row_id <= MAX_ROW_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model here maps one Table (no joined or select-based mappings), so Core statements
    # can take `Model.__table__` as the Table it is.
    __table__: ClassVar[Table]


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_CHARS), unique=True)
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE_CHARS))
    site_url: Mapped[str | None] = mapped_column(String(MAX_URL_CHARS))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="ok")  # ok|degraded|failing|gone
    poll_interval_override_s: Mapped[int | None] = mapped_column(Integer)
    interval_s: Mapped[int] = mapped_column(Integer, default=1800)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(MAX_ETAG_CHARS))
    last_modified: Mapped[str | None] = mapped_column(String(MAX_HTTP_DATE_CHARS))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parse_warning: Mapped[str | None] = mapped_column(Text)
    redirect_candidate: Mapped[str | None] = mapped_column(String(MAX_URL_CHARS))
    polls: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # WebSub: the hub and topic the feed advertised at its last parse, and until when a verified
    # subscription has a hub pushing it (polling is relaxed until then; app.storage.websub).
    websub_hub: Mapped[str | None] = mapped_column(String(2048))
    websub_topic: Mapped[str | None] = mapped_column(String(2048))
    push_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Entries the database refused lately: not fetched again until edited or a day has passed.
    refused_entries: Mapped[tuple[RefusedEntry, ...]] = mapped_column(RefusalsJSON, nullable=True)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("canonical_url"),
        Index("ix_articles_feed_guid", "feed_id", "guid"),
        Index("ix_articles_published", "published_at", "id"),
        Index("ix_articles_feed_published", "feed_id", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    guid: Mapped[str | None] = mapped_column(String(MAX_URL_CHARS))
    url: Mapped[str] = mapped_column(String(MAX_URL_CHARS))
    canonical_url: Mapped[str] = mapped_column(String(MAX_URL_CHARS))
    source: Mapped[str | None] = mapped_column(String(MAX_HOST_CHARS), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(String(MAX_TITLE_CHARS))
    language: Mapped[str | None] = mapped_column(String(MAX_LANGUAGE_CHARS))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    # Four 16-bit bands of the SimHash: two texts within 3 bits share at least one band exactly.
    simhash_b0: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b1: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b2: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b3: Mapped[int | None] = mapped_column(Integer, index=True)
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    extraction: Mapped[str] = mapped_column(String(16), default="ok")  # ok|feed_only|retry|blocked
    # Why the feed's content is kept: "blocked by robots.txt", or the error of the page fetch.
    extraction_reason: Mapped[str | None] = mapped_column(String(500))
    extraction_attempts: Mapped[int] = mapped_column(Integer, default=0)
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the document carrying the entry reached us (poll answer or hub push); null for
    # articles stored before migration 0008 (their created_at is the closest figure).
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Steps that did not run to their end, e.g. [{"step": "quotes", "reason": "quotes: stopped
    # after its time budget of 5 s"}]; null when every step ran.
    skipped: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class Speaker(Base):
    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    normalized_name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), unique=True)
    speaker_type: Mapped[str] = mapped_column(String(16), default="person")
    titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    last_quoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (
        Index("ix_quotes_published", "published_at", "id"),
        Index("ix_quotes_speaker_published", "speaker_id", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"))
    feed_id: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    speaker_name: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    speaker_title: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    speaker_type: Mapped[str | None] = mapped_column(String(16))
    verb: Mapped[str | None] = mapped_column(String(MAX_VERB_CHARS))
    channel: Mapped[str | None] = mapped_column(String(MAX_CHANNEL_CHARS))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # read|admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_CHARS))
    events: Mapped[list[str]] = mapped_column(JSON)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    include_text: Mapped[bool] = mapped_column(Boolean, default=False)
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every change; (count, max id, sum of versions) stamps the workers' in-memory
    # matching index, so a change made through any process invalidates every cache.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Event(Base):
    """The outbox: written in the same transaction as the change it announces."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_undispatched", "dispatched_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # msg_<ulid-ish>, the webhook-id
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Fan-out into deliveries: a dispatcher claims undispatched events with a lease and sets
    # dispatched_at in the transaction that inserts their Delivery rows.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_subscription", "subscription_id", "id"),
        # One delivery per (event, subscription): a second dispatcher of the same event inserts nothing.
        UniqueConstraint("event_id", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class WebSubSubscription(Base):
    """One subscription at a hub (app.domain.websub has the states). `token` is the unguessable
    last segment of the callback URL; `secret` is the hub.secret that signs pushes. A row whose
    feed was deleted keeps its data (feed_id null) until the hub has been told to stop."""

    __tablename__ = "websub_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    hub_url: Mapped[str] = mapped_column(String(2048))
    topic_url: Mapped[str] = mapped_column(String(2048))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the outstanding request, if any
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the hub's lease
    next_action_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker's claim on the row
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSubPush(Base):
    """A content distribution a hub sent, stored before we answer it and processed by a worker
    through the polling pipeline; deleted in the transaction that stores its articles."""

    __tablename__ = "websub_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("websub_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
