"""Helpers shared by the feed readers: HTML fragments to plain text, links made absolute, dates
as feeds write them. Pure functions, no I/O."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from app.domain.limits import MAX_URL_CHARS, clean_text

_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _TextCollector(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object"})
    _BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                        "table", "blockquote", "pre", "section", "article", "header", "footer", "hr",
                        "figure", "figcaption", "dd", "dt"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str | None) -> str | None:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed
    within lines, blank lines removed, control characters dropped (`clean_text`). None or empty
    in, None out."""
    value = clean_text(value)
    if not value:
        return None
    if "<" not in value:  # no markup: decoding entities is all the parser would do
        text = html.unescape(value) if "&" in value else value
    else:
        collector = _TextCollector()
        try:
            collector.feed(value)
            collector.close()
        except Exception:  # HTMLParser is lenient; never let a hostile fragment escape
            return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html.unescape(value))).strip() or None
        text = "".join(collector.parts)
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    out = "\n".join(line for line in lines if line)
    return out or None


def absolute_url(link: str | None, base: str) -> str | None:
    """`link` resolved against `base`, when that is an http(s) URL without control characters
    and within MAX_URL_CHARS (a longer one cannot be stored, and cut it names nothing)."""
    if not link:
        return None
    link = link.strip()
    try:
        resolved = urljoin(base, link)
    except ValueError:
        return None
    if urlsplit(resolved).scheme not in ("http", "https") or _URL_CONTROL.search(resolved):
        return None
    return resolved if len(resolved) <= MAX_URL_CHARS else None


def parse_date(value: Any) -> datetime | None:
    """An aware UTC datetime from RFC 3339 / W3C Datetime (JSON Feed, sitemaps) or what real
    feeds send instead: a space for the "T", no zone (taken as UTC), a bare date, an RFC 822
    date as RSS has it. Anything else is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the range by its offset
        return None
