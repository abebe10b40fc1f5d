"""Parsed feeds and OPML outlines. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed. `guid` falls back to the link (then title) when the feed has no id.

    `summary` and `content` are plain text (HTML stripped); `published` is aware UTC or None.
    """

    guid: str
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    author: str | None
    published: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document. `warning` records why feedparser found it ill-formed (bozo) but usable.

    `ttl_s` is the publisher's hint for how long to wait between polls: RSS <ttl> or
    sy:updatePeriod/sy:updateFrequency, in seconds; None when absent.
    """

    title: str | None
    site_link: str | None
    version: str
    ttl_s: int | None
    entries: tuple[FeedEntry, ...] = field(default_factory=tuple)
    warning: str | None = None
    omitted: int = 0  # entries of the document left out (beyond the newest that are read)


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    url: str
    title: str | None = None
    site_url: str | None = None
    category: str | None = None
