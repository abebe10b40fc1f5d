"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) read into the entries RSS and
Atom give. Pure: bytes + headers + URL in, ParsedFeed out, so it can run in the CPU pool.

    looks_like_json(body, headers) -> bool        declared as JSON, or the body opens with "{"
    parse_json_feed(body, headers, url) -> ParsedFeed     raises FeedParseError

The stdlib `json` module does the parsing; what is left is a mapping of named fields, written
here because the JSON Feed packages on PyPI are unmaintained or generate feeds rather than read
them. Every field is checked for its type: a feed is input from anyone.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.domain.errors import FeedParseError
from app.domain.feeds import Attachment, FeedEntry, ParsedFeed
from app.pipeline.markup import absolute_url, html_to_text, parse_date

VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")
_VERSIONS = {"1": "json10", "1.1": "json11"}
_BOM = b"\xef\xbb\xbf"


def looks_like_json(body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the body opens with "{" (servers send JSON Feeds as text/plain or
    octet-stream too), or when the server declares JSON (application/feed+json,
    application/json, ...) and the body does not open with "<" (XML under a wrong type)."""
    head = body[:64].removeprefix(_BOM).lstrip()[:1]
    if head == b"{":
        return True
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return "json" in content_type.split(";", 1)[0].lower() and head != b"<"


def _text(value: Any) -> str | None:
    """A string field, stripped; anything else (numbers, lists, null) counts as absent."""
    return (value.strip() or None) if isinstance(value, str) else None


def _plain(value: Any) -> str | None:
    """A plain-text field, whitespace normalised as html_to_text does for HTML fields."""
    text = _text(value)
    return html_to_text(html.escape(text, quote=False)) if text else None


def _author_names(holder: Mapping[str, Any]) -> list[str] | None:
    """Names from 1.1's `authors` list, else 1.0's `author` object (deprecated in 1.1); None
    when the object names no authors at all (an author given only by URL has no name)."""
    authors = holder.get("authors")
    if not isinstance(authors, list) or not authors:
        authors = [holder.get("author")]
    objects = [a for a in authors if isinstance(a, dict)]
    if not objects:
        return None
    names = (_plain(a.get("name")) for a in objects)
    return list(dict.fromkeys(n for n in names if n))


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(t for t in (_plain(v) for v in value) if t))


def _number(value: Any) -> float | None:
    # bool is an int in Python; a JSON true is not a size.
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def _attachments(value: Any, base: str) -> tuple[Attachment, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if not isinstance(item, dict):
            continue
        url = absolute_url(_text(item.get("url")), base)
        if not url:
            continue  # url is the one required member
        size = _number(item.get("size_in_bytes"))
        out.append(Attachment(url=url, mime_type=_text(item.get("mime_type")), title=_plain(item.get("title")),
                              size_bytes=int(size) if size is not None else None,
                              duration_s=_number(item.get("duration_in_seconds"))))
    return tuple(out)


def _item_id(item: Mapping[str, Any], link: str | None, title: str | None, published: datetime | None) -> str:
    raw = item.get("id")
    # 1.1: an id given as a number (or other type) is coerced to a string; 1.0 feeds often do that.
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = str(raw)
    guid = _text(raw) or link
    if guid:
        return guid
    seed = "\x1f".join((title or "", published.isoformat() if published else ""))
    return "sha256:" + hashlib.sha256(seed.encode("utf-8", "replace")).hexdigest()


def _entry(item: Mapping[str, Any], base: str, feed_authors: list[str], feed_language: str | None) -> FeedEntry:
    # `url` is the item's own page; `external_url` is what a link blog points at. The page we
    # want to read is the item's own, and the other one only when there is nothing else.
    link = absolute_url(_text(item.get("url")), base) or absolute_url(_text(item.get("external_url")), base)
    title = _plain(item.get("title"))
    published = parse_date(item.get("date_published"))
    updated = parse_date(item.get("date_modified"))
    content = html_to_text(_text(item.get("content_html"))) or _plain(item.get("content_text"))
    # Items without authors have the feed's (1.1 §authors).
    authors = _author_names(item)
    if authors is None:
        authors = feed_authors
    return FeedEntry(
        guid=_item_id(item, link, title, published), link=link, title=title, summary=_plain(item.get("summary")),
        content=content, author=", ".join(authors) or None, published=published or updated, updated=updated,
        language=_text(item.get("language")) or feed_language, tags=_tags(item.get("tags")),
        attachments=_attachments(item.get("attachments"), base),
    )


def parse_json_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """A JSON Feed document. Not JSON, not an object, no jsonfeed.org version or no `items`
    list: FeedParseError, as for an XML document that is not a feed. Items that are not
    objects are skipped and counted in `warning`, as feedparser keeps what it could read."""
    try:
        # bytes: UTF-8/16/32 detected, a UTF-8 BOM allowed (RFC 8259 §8.1). strict=False takes raw
        # control characters inside strings (clean_text drops them later): one in one title had
        # made the whole document "invalid JSON".
        doc = json.loads(body, strict=False)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than json allows
        raise FeedParseError(f"poll: {url} is not a feed: invalid JSON: {str(exc)[:200]}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIXES):
        raise FeedParseError(f"poll: {url} is not a feed: JSON without a jsonfeed.org version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError(f"poll: {url} is not a feed: JSON Feed without an items list")
    feed_authors = _author_names(doc) or []
    feed_language = _text(doc.get("language"))
    entries = tuple(_entry(i, url, feed_authors, feed_language) for i in items if isinstance(i, dict))
    skipped = len(items) - len(entries)
    return ParsedFeed(
        title=_plain(doc.get("title")), site_link=absolute_url(_text(doc.get("home_page_url")), url),
        version=_VERSIONS.get(version.rsplit("/", 1)[-1], "json"), ttl_s=None, entries=entries,
        warning=f"{skipped} items are not JSON objects and were skipped" if skipped else None,
    )
