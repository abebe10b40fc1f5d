"""What the pipeline hands to storage: an article ready to store, with its quotes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.query import IndexText
from app.domain.quotes import Quote


@dataclass(frozen=True, slots=True)
class SkippedStep:
    """A step of the pipeline that did not run to its end for an article, and why (e.g. quotes
    not searched because the step ran over its time budget). Shown to API users."""

    step: str  # "extract" | "quotes"
    reason: str


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """A feed entry after fetch, extraction, fingerprinting and quote finding.

    `extraction` is "ok" when the page's main text was extracted, "retry" when the page could
    not be fetched (the feed's own content is kept and a later pass may try again), "feed_only"
    when the page yielded no text, and "blocked" when the site's robots.txt disallows the page.
    `extraction_reason` says why, for "blocked" and "retry".
    """

    guid: str | None
    url: str
    canonical_url: str
    source: str | None
    title: str | None
    summary: str | None
    text: str | None
    byline: str | None
    language: str | None
    published_at: datetime
    body_hash: str | None
    simhash: int | None
    extraction: str
    quotes: tuple[Quote, ...] = field(default_factory=tuple)
    # Title and text as the search index writes them, made with the rest of the CPU work (in
    # the pool), so the storing transaction only writes them.
    search: IndexText | None = None
    extraction_reason: str | None = None
    skipped: tuple[SkippedStep, ...] = ()
    # The feed entry's edition (app.domain.refusals.edition): remembered if the database refuses it.
    edition: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBatch:
    created: tuple[int, ...]
    updated: tuple[int, ...]
    quotes: int
    published: tuple[datetime, ...] = ()  # published_at of each created article, for freshness metrics
