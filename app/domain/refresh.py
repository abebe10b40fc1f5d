"""One refresh of a feed, as data: what it knows of the feed before it starts (`FeedView`), the
stored entries it compares against (`KnownEntry`), and the feed's columns afterwards
(`FeedUpdate`). app.pipeline.refresh decides, app.storage writes, app.workers.ingest claims and
stores. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Literal

FeedHealth = Literal["ok", "degraded", "failing", "gone"]
# A feed in these states has had feed.failing sent; its next good poll sends feed.recovered.
ALARMED_STATES: tuple[FeedHealth, ...] = ("failing", "gone")


class Keep(Enum):
    """A column a refresh leaves as it is (None would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


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


@dataclass(frozen=True, slots=True)
class KnownEntry:
    """An entry of the feed already stored: it needs no page fetch unless edited."""

    article_id: int
    title: str | None
    summary: str | None
    extraction: str
    extraction_attempts: int


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """The feed's columns after a refresh; KEEP leaves one as it is. Storing it releases the lease."""

    state: FeedHealth | Keep = KEEP
    next_poll_at: datetime | Keep = KEEP
    interval_s: int | Keep = KEEP
    polls: int | Keep = KEEP
    consecutive_failures: int | Keep = KEEP
    last_polled_at: datetime | Keep = KEEP
    last_success_at: datetime | Keep = KEEP
    last_error: str | Keep = KEEP
    last_error_at: datetime | Keep = KEEP
    etag: str | None | Keep = KEEP
    last_modified: str | None | Keep = KEEP
    body_hash: str | None | Keep = KEEP
    parse_warning: str | None | Keep = KEEP
    title: str | Keep = KEEP
    site_url: str | Keep = KEEP
    url: str | Keep = KEEP
    redirect_candidate: str | None | Keep = KEEP
    websub_hub: str | None | Keep = KEEP
    websub_topic: str | None | Keep = KEEP

    def columns(self) -> dict[str, object]:
        """The changed columns by name."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not KEEP}
