"""Parsed feeds and OPML outlines. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file an entry links to (RSS enclosure, JSON Feed attachment): podcast audio, a PDF."""

    url: str
    mime_type: str | None = None
    title: str | None = None
    size_bytes: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed. `guid` falls back to the link (then title) when the feed has no id.

    `link` is the entry's own web page (its link, else an http(s) GUID), None when it has none;
    `home` is where a reader goes then: the feed's site link, else the feed's URL.
    `summary` and `content` are plain text (HTML stripped); `published` and `updated` are aware
    UTC or None. `language` is what the document declares for the entry (xml:lang, else the
    feed's; JSON Feed `language`, news sitemap `<news:language>`); a page's own declaration wins.
    """

    guid: str
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None = None
    language: str | None = None
    home: str | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class SitemapRef:
    """A child sitemap listed by a sitemap index, with its `<lastmod>` when given."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document. `warning` records why feedparser found it ill-formed (bozo) but usable,
    and which entries were skipped (links too long to store).

    `version` names the format: feedparser's ("rss20", "atom10", ...), "json10"/"json11" for
    JSON Feed, "sitemap" and "sitemapindex" for XML sitemaps.
    `ttl_s` is the publisher's hint for how long to wait between polls: RSS <ttl> or
    sy:updatePeriod/sy:updateFrequency, in seconds; None when absent.
    `sitemaps` are the children of a sitemap index, to be fetched and read as sitemaps.
    `hubs` and `self_link` are the WebSub links the document itself carries (`<link rel="hub">`,
    `<atom:link rel="self">`), absolute; the HTTP Link header is read beside it (app.pipeline.websub).
    """

    title: str | None
    site_link: str | None
    version: str
    ttl_s: int | None
    entries: tuple[FeedEntry, ...] = field(default_factory=tuple)
    warning: str | None = None
    sitemaps: tuple[SitemapRef, ...] = ()
    language: str | None = None
    hubs: tuple[str, ...] = ()
    self_link: str | None = None
    omitted: int = 0  # entries of the document left out (beyond the newest that are read)


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    url: str
    title: str | None = None
    site_url: str | None = None
    category: str | None = None


_UNDATED = datetime.min.replace(tzinfo=UTC)


def newest_first(entries: Iterable[FeedEntry]) -> list[FeedEntry]:
    """Entries by publication date, newest first; undated ones last. Ties keep document order
    (feeds without dates list their newest first)."""
    return sorted(entries, key=lambda e: e.published or _UNDATED, reverse=True)
