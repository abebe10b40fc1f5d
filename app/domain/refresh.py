"""One refresh of a feed, as data: what it knows of the feed before it starts (`FeedView`), the
stored entries it compares against (`KnownEntry`), and the feed's columns afterwards
(`FeedUpdate`). app.pipeline.refresh decides, app.storage writes, app.workers.ingest claims and
stores. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypedDict, get_args

from app.domain.refusals import RefusedEntry

# pending: registered, not polled yet (app.storage.feeds.create_feed).
FeedHealth = Literal["pending", "ok", "degraded", "failing", "gone"]
FEED_STATES: tuple[FeedHealth, ...] = get_args(FeedHealth)
# A feed in these states has had feed.failing sent; its next good poll sends feed.recovered.
ALARMED_STATES: tuple[FeedHealth, ...] = ("failing", "gone")


@dataclass(frozen=True, slots=True)
class FeedView:
    """The fields of a stored feed that a refresh reads."""

    id: int
    url: str
    title: str | None = None
    site_url: str | None = None
    state: FeedHealth = "ok"
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    interval_s: int = 0
    poll_interval_override_s: int | None = None
    push_until: datetime | None = None
    redirect_candidate: str | None = None
    websub_hub: str | None = None
    websub_topic: str | None = None
    polls: int = 0
    consecutive_failures: int = 0
    refused: tuple[RefusedEntry, ...] = ()  # entries the database refused (app.domain.refusals)


@dataclass(frozen=True, slots=True)
class KnownEntry:
    """An entry of the feed already stored: it needs no page fetch unless edited."""

    article_id: int
    title: str | None
    summary: str | None
    extraction: str
    extraction_attempts: int


class FeedUpdate(TypedDict, total=False):
    """The feed's columns a refresh changes; a column not named is left as it is. Storing it
    releases the lease."""

    state: FeedHealth
    next_poll_at: datetime
    interval_s: int
    polls: int
    consecutive_failures: int
    last_polled_at: datetime
    last_success_at: datetime
    last_error: str
    last_error_at: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    parse_warning: str | None
    title: str
    site_url: str
    url: str
    redirect_candidate: str | None
    websub_hub: str | None
    websub_topic: str | None
    refused_entries: tuple[RefusedEntry, ...]
