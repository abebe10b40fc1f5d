"""Poll: read feed documents (when to read them again is app.pipeline.schedule's). Pure
functions, no I/O.

    parse_feed(body, headers, url) -> ParsedFeed          RSS, Atom, JSON Feed, sitemaps; FeedParseError
                                                          for anything else
    discover_feed_urls(html, base_url) -> list[str]       <link rel=alternate> feeds of a page
    candidate_feed_urls(base_url) -> list[str]            common feed paths to try
    parse_opml(data) -> list[OpmlOutline]; render_opml(feeds) -> bytes
    render_feed_rows(rows) -> bytes; opml_document(outlines) -> bytes   an export, a slice at a time
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import xml.parsers.expat
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import quoteattr

import feedparser

from app.domain.errors import FeedParseError
from app.domain.feeds import FeedEntry, OpmlOutline, ParsedFeed
from app.domain.limits import MAX_KEY_BYTES, MAX_TITLE_CHARS, clean_text, clip, key_fits, language_tag
from app.pipeline.dedup import canonical_url
from app.pipeline.jsonfeed import looks_like_json, parse_json_feed
from app.pipeline.markup import absolute_url as _absolute
from app.pipeline.markup import html_to_text, repair_xml
from app.pipeline.sitemap import gunzip, looks_like_sitemap, parse_sitemap

COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/feed+json", "application/json+feed", "application/json",  # JSON Feed 1.0 said application/json
    "application/x.atom+xml", "text/xml",
    "application/xml",
})
_SY_PERIOD_S = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
                "yearly": 365 * 86400}


# --------------------------------------------------------------------------- feeds


def _utc(parsed: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _ttl_hint_s(feed: Mapping[str, Any]) -> int | None:
    """RSS <ttl> (minutes) or sy:updatePeriod / sy:updateFrequency, whichever is longer."""
    hints: list[int] = []
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        hints.append(int(ttl) * 60)
    period = str(feed.get("sy_updateperiod") or "").strip().lower()
    if period in _SY_PERIOD_S:
        freq_text = str(feed.get("sy_updatefrequency") or "1").strip()
        freq = int(freq_text) if freq_text.isdigit() and int(freq_text) > 0 else 1
        hints.append(_SY_PERIOD_S[period] // freq)
    return max(hints) if hints else None


def _entry_language(e: dict[str, Any], feed_language: str | None) -> str | None:
    """The xml:lang an Atom entry's text carries, else the feed's <language> / xml:lang."""
    details = [*(e.get("content") or ()), e.get("summary_detail") or {}, e.get("title_detail") or {}]
    declared = next((d.get("language") for d in details if d.get("language")), None)
    return language_tag(declared) or feed_language


def _entry(e: dict[str, Any], base: str, home: str | None, feed_language: str | None) -> FeedEntry | str:
    """The entry, or why it is skipped (a link too long to store)."""
    hrefs = [e.get("link"), *(alt.get("href") for alt in e.get("links") or ()
                              if alt.get("rel", "alternate") == "alternate")]
    link = next((u for u in (_absolute(h, base) for h in hrefs) if u), None)
    guid = clean_text(str(e.get("id") or "")).strip()
    if link is None and guid:
        # A link that is no web page (javascript:, mailto:) or none at all: an http(s) GUID is
        # the entry's permalink (RSS 2.0 guid), anything else ("tag:...") names no page.
        link = _absolute(guid, guid) if urlsplit(guid).scheme in ("http", "https") else None
    if link is None and any(h and not key_fits(h.strip()) for h in hrefs):
        return f"link longer than {MAX_KEY_BYTES} bytes"
    if link is not None and not _fits_once_normalised(link):
        return _TOO_LONG_ONCE_NORMALISED
    title = clip(html_to_text(e.get("title")), MAX_TITLE_CHARS)
    summary = html_to_text(e.get("summary"))
    content = None
    for part in e.get("content") or ():
        content = html_to_text(part.get("value"))
        if content:
            break
    # dict.get skips FeedParserDict's deprecated updated->published fallback (and its warning).
    published = (_utc(dict.get(e, "published_parsed")) or _utc(dict.get(e, "updated_parsed"))
                 or _utc(dict.get(e, "created_parsed")))
    guid = _bounded_guid(guid or link or "")
    if not guid:
        # No id and no link: derive a stable one from what the item says.
        seed = "\x1f".join(str(x) for x in (title, summary, published.isoformat() if published else ""))
        guid = "sha256:" + hashlib.sha256(seed.encode("utf-8", "replace")).hexdigest()
    author = clip(html_to_text(e.get("author")), MAX_TITLE_CHARS) if e.get("author") else None
    return FeedEntry(guid=guid, link=link, title=title, summary=summary, content=content, author=author,
                     published=published, language=_entry_language(e, feed_language), home=home)


_TOO_LONG_ONCE_NORMALISED = f"link longer than {MAX_KEY_BYTES} bytes once normalised"


def _fits_once_normalised(link: str) -> bool:
    """Whether the canonical form of `link` (what articles.canonical_url holds) fits its index.
    Percent-encoding at most triples an ASCII character, so a short ASCII link needs no look."""
    if link.isascii() and len(link) * 3 < MAX_KEY_BYTES:
        return True
    return key_fits(canonical_url(link))


def _bounded_guid(guid: str) -> str:
    if not key_fits(guid):
        # An identifier, not text: cut it could merge entries; its hash keeps it one of a kind.
        return "sha256:" + hashlib.sha256(guid.encode("utf-8", "replace")).hexdigest()
    return guid


def _bounded(parsed: ParsedFeed) -> ParsedFeed:
    """Titles, authors and identifiers of the other readers cut to what storage holds, and entries
    whose link does not fit once normalised skipped, as `_entry` does for feedparser's (their links
    are bounded by `absolute_url` already, but 600 CJK characters are 5 KB percent-encoded)."""
    entries = tuple(replace(e, guid=_bounded_guid(clean_text(e.guid)), title=clip(e.title, MAX_TITLE_CHARS),
                            author=clip(clean_text(e.author), MAX_TITLE_CHARS))
                    for e in parsed.entries if e.link is None or _fits_once_normalised(e.link))
    warning = parsed.warning
    if skipped := len(parsed.entries) - len(entries):
        note = f"poll: skipped {skipped} {'entry' if skipped == 1 else 'entries'}: {_TOO_LONG_ONCE_NORMALISED}"
        warning = f"{warning}; {note}" if warning else note
    return replace(parsed, title=clip(clean_text(parsed.title), MAX_TITLE_CHARS), entries=entries, warning=warning)


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a feed document of any format we read: XML sitemaps and sitemap indexes
    (app.pipeline.sitemap), JSON Feed (app.pipeline.jsonfeed), else RSS and Atom with
    feedparser, honouring the charset the server declared in `headers`.

    Ill-formed (bozo) feeds keep whatever entries feedparser recovered, with `warning` set.
    A document with neither a recognised version nor entries raises FeedParseError.
    """
    body = repair_xml(gunzip(body))  # a .xml.gz file, served compressed as a file rather than as an encoding
    if looks_like_sitemap(body):
        return _bounded(parse_sitemap(body, headers, url))
    if looks_like_json(body, headers):
        return _bounded(parse_json_feed(body, headers, url))
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        d = feedparser.parse(body, response_headers=lowered)
    except Exception as exc:  # feedparser is defensive, but a parser bug must not kill a worker
        raise FeedParseError(f"poll: cannot parse {url}: {exc}") from exc
    if not d.get("version") and not d.entries:
        reason = f": {d.get('bozo_exception')}" if d.get("bozo") else ""
        raise FeedParseError(f"poll: {url} is not a feed{reason}")
    feed = d.feed
    base = url
    site = _absolute(feed.get("link"), base)
    language = language_tag(feed.get("language"))
    found = [_entry(e, base, site or url, language) for e in d.entries]
    entries = tuple(e for e in found if isinstance(e, FeedEntry))
    warnings = []
    if d.get("bozo"):
        problem = d.get("bozo_exception")
        warnings.append(clean_text(f"{type(problem).__name__}: {problem}") if problem is not None
                        else "ill-formed feed")
    for reason, count in Counter(e for e in found if isinstance(e, str)).items():
        warnings.append(f"poll: skipped {count} {'entry' if count == 1 else 'entries'}: {reason}")
    hubs, self_link = _websub_links(feed, base)
    return ParsedFeed(title=clip(html_to_text(feed.get("title")), MAX_TITLE_CHARS), site_link=site,
                      version=d.get("version") or "", ttl_s=_ttl_hint_s(feed), entries=entries,
                      warning="; ".join(w for w in warnings if w) or None, language=language,
                      hubs=hubs, self_link=self_link)


def _websub_links(feed: Mapping[str, Any], base: str) -> tuple[tuple[str, ...], str | None]:
    """`<link rel="hub">` / `<atom:link rel="hub">` and the first rel="self" of the document (WebSub §4)."""
    hubs: list[str] = []
    self_link = None
    for link in feed.get("links") or ():
        rels = str(link.get("rel") or "").lower().split()
        href = _absolute(link.get("href"), base)
        if href and "hub" in rels and href not in hubs:
            hubs.append(href)
        if href and "self" in rels and self_link is None:
            self_link = href
    return tuple(hubs), self_link


# --------------------------------------------------------------------------- discovery


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"].strip()
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            mime = a.get("type", "").split(";")[0].strip().lower()
            if "alternate" in rels and mime in FEED_TYPES and a.get("href", "").strip():
                self.links.append(a["href"].strip())

    handle_startendtag = handle_starttag


def discover_feed_urls(page: bytes | str, base_url: str) -> list[str]:
    """Feed URLs a page advertises with <link rel="alternate" type="application/rss+xml|atom+xml|...">,
    absolute and in page order, without duplicates. Never raises on bad HTML."""
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    collector = _LinkCollector()
    try:
        collector.feed(text)
        collector.close()
    except Exception:
        pass
    base = urljoin(base_url, collector.base) if collector.base else base_url
    found = (_absolute(href, base) for href in collector.links)
    return list(dict.fromkeys(u for u in found if u))


def candidate_feed_urls(base_url: str) -> list[str]:
    """Common feed locations on the site of `base_url`, for when a page advertises none."""
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    return [root + path for path in COMMON_FEED_PATHS]


# --------------------------------------------------------------------------- OPML


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused("DTDs and entity declarations are not allowed in OPML")


def _outline_from(attrs: Mapping[str, str], category: str | None) -> OpmlOutline | None:
    a = {k.lower(): v for k, v in attrs.items()}
    url = (a.get("xmlurl") or "").strip()
    if not url:
        return None
    title = clip((a.get("title") or a.get("text") or "").strip(), MAX_TITLE_CHARS)
    site = _absolute(a.get("htmlurl"), url)
    return OpmlOutline(url=url, title=title, site_url=site, category=category)


def _parse_opml_strict(data: bytes) -> list[OpmlOutline]:
    out: list[OpmlOutline] = []
    stack: list[str | None] = []  # folder titles of open outlines (None for feed outlines)
    parser = xml.parsers.expat.ParserCreate()
    # The defusedxml stance: any DTD, entity declaration or external reference is refused.
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.lower() != "outline":
            return
        category = next((c for c in reversed(stack) if c), None)
        item = _outline_from(attrs, category)
        if item is not None:
            out.append(item)
            stack.append(None)
        else:
            a = {k.lower(): v for k, v in attrs.items()}
            stack.append(clip((a.get("title") or a.get("text") or "").strip(), MAX_TITLE_CHARS))

    def end(name: str) -> None:
        if name.lower() == "outline" and stack:
            stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    return out


_OUTLINE_TAG = re.compile(rb"<outline\b([^>]*)>", re.I)
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _parse_opml_lenient(data: bytes) -> list[OpmlOutline]:
    """For OPML that is not well-formed XML (unescaped & in titles is common): scan the
    outline tags. No nesting/category information."""
    out = []
    for match in _OUTLINE_TAG.finditer(data):
        attrs = {}
        for m in _ATTR.finditer(match.group(1)):
            raw = m.group(2) if m.group(2) is not None else m.group(3)
            attrs[m.group(1).decode("ascii", "replace")] = html.unescape(raw.decode("utf-8", "replace"))
        item = _outline_from(attrs, None)
        if item is not None:
            out.append(item)
    return out


def parse_opml(data: bytes) -> list[OpmlOutline]:
    """Feed outlines (those with xmlUrl) of an OPML document, nested folders included; the
    nearest enclosing folder's title becomes `category`. Duplicated URLs are kept once.

    Documents with a DTD or entity declarations raise FeedParseError; otherwise malformed XML
    is scanned leniently. A document without any feed outline raises FeedParseError.
    """
    head = data[:4096].lstrip().lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise FeedParseError("opml: DTDs and entity declarations are not allowed")
    try:
        outlines = _parse_opml_strict(data)
    except _Refused as exc:
        raise FeedParseError(f"opml: {exc}") from exc
    except xml.parsers.expat.ExpatError:
        outlines = _parse_opml_lenient(data)
    unique: dict[str, OpmlOutline] = {}
    for o in outlines:
        if _absolute(o.url, o.url) is None:  # only http(s) feeds
            continue
        unique.setdefault(o.url, o)
    if not unique and b"<opml" not in data[:4096].lower():
        raise FeedParseError("opml: not an OPML document")
    return list(unique.values())


def parse_opml_of(read: Callable[[bytes], bytes] | None, body: bytes) -> list[OpmlOutline]:
    """`parse_opml` of the document `read` takes out of a request body (None: the body is it), in
    the worker: the body is an outsider's, and as costly to read as its author makes it."""
    return parse_opml(read(body) if read is not None else body)


def _feed_line(o: OpmlOutline, indent: str) -> str:
    name = o.title or o.url
    attrs = f'type="rss" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(o.url)}'
    if o.site_url:
        attrs += f" htmlUrl={quoteattr(o.site_url)}"
    return f"{indent}<outline {attrs}/>"


def _opml_head(title: str, now: datetime | None) -> list[str]:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">', "  <head>",
             f"    <title>{html.escape(title, quote=False)}</title>"]
    if now is not None:
        lines.append(f"    <dateCreated>{now.strftime('%a, %d %b %Y %H:%M:%S GMT')}</dateCreated>")
    return [*lines, "  </head>", "  <body>"]


_OPML_TAIL = ["  </body>", "</opml>", ""]


def render_opml(feeds: Sequence[OpmlOutline] | Iterable[OpmlOutline], title: str = "news-ingest feeds",
                now: datetime | None = None) -> bytes:
    """OPML 2.0 with one folder outline per category (uncategorised feeds at top level)."""
    groups: dict[str | None, list[OpmlOutline]] = {}
    for o in feeds:
        groups.setdefault(o.category, []).append(o)
    lines = _opml_head(title, now)
    for o in groups.pop(None, []):
        lines.append(_feed_line(o, "    "))
    for category, items in groups.items():
        assert category is not None
        lines.append(f"    <outline text={quoteattr(category)} title={quoteattr(category)}>")
        lines += [_feed_line(o, "      ") for o in items]
        lines.append("    </outline>")
    lines += _OPML_TAIL
    return "\n".join(lines).encode("utf-8")


def render_feed_rows(rows: Sequence[tuple[str, str | None, str | None]]) -> bytes:
    """Top-level outlines, a line each, of (url, title, site_url) rows: a slice of an export,
    rendered in a worker; `opml_document` puts the slices in their document."""
    return "".join(_feed_line(OpmlOutline(url=url, title=title, site_url=site_url), "    ") + "\n"
                   for url, title, site_url in rows).encode("utf-8")


def opml_document(outlines: bytes, title: str = "news-ingest feeds", now: datetime | None = None) -> bytes:
    """The OPML 2.0 document around `outlines` (what render_feed_rows made): the same bytes as
    render_opml of those feeds."""
    return ("\n".join(_opml_head(title, now)) + "\n").encode("utf-8") + outlines + "\n".join(_OPML_TAIL).encode()
