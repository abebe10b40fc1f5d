"""Parsed feeds and OPML outlines. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed. `guid` falls back to the link (then title) when the feed has no id.

    `link` is the entry's own web page (its link, else an http(s) GUID), None when it has none;
    `home` is where a reader goes then: the feed's site link, else the feed's URL.
    `summary` and `content` are plain text (HTML stripped); `published` is aware UTC or None;
    `language` is the entry's xml:lang, else the feed's.
    """

    guid: str
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    author: str | None
    published: datetime | None
    language: str | None = None
    home: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document. `warning` records why feedparser found it ill-formed (bozo) but usable,
    and which entries were skipped (links too long to store).

    `ttl_s` is the publisher's hint for how long to wait between polls: RSS <ttl> or
    sy:updatePeriod/sy:updateFrequency, in seconds; None when absent.
    """

    title: str | None
    site_link: str | None
    version: str
    ttl_s: int | None
    entries: tuple[FeedEntry, ...] = field(default_factory=tuple)
    warning: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    url: str
    title: str | None = None
    site_url: str | None = None
    category: str | None = None
