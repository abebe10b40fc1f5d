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

from app.domain.limits import clean_text, key_fits

# Control characters, and lone surrogates: no UTF-8 encoder takes them, so percent-encoding
# the URL (canonical_url, the request line) raised and the whole feed failed with it.
_URL_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


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


# C0 control bytes XML 1.0 forbids (tab, LF and CR are allowed); ESC is left alone, see below.
_XML_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
# Numeric character references that may name no XML character: C0 controls (0-31), four hex
# digits from D or F (surrogates, U+FFFE/U+FFFF), five digits or more (past U+10FFFF). "&#39;"
# and "&#8217;" do not match: feeds are full of them.
_SUSPECT_REF = re.compile(rb"&#(?:[xX]0*(1?[0-9a-fA-F]|[dDfF][0-9a-fA-F]{3}|[0-9a-fA-F]{5,})"
                          rb"|0*([0-9]|[12][0-9]|3[01]|[0-9]{5,}));")


def _char_ref(match: re.Match[bytes]) -> bytes:
    hex_digits, digits = match.group(1), match.group(2)
    code = int(hex_digits, 16) if hex_digits is not None else int(digits)
    if code < 0x20:
        return match.group() if code in (9, 10, 13) else b""
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF) or code > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group()


def repair_xml(body: bytes) -> bytes:
    """An XML document without what XML 1.0 forbids and one field of a feed often holds: raw C0
    control bytes are dropped, references to them too, and references to no character (lone
    surrogates, past U+10FFFF) become U+FFFD, as `clean_text` does for text. feedparser raised
    on "&#xD800;" anywhere in a document, and expat stops a sitemap at the first of any of them:
    one field lost the whole feed. UTF-16/32 documents (NUL bytes in their first four) and ones
    holding ESC (ISO-2022 encodings shift with ESC, SO and SI) keep their bytes."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
        return body
    if b"\x1b" not in body:
        body = body.translate(None, _XML_CONTROL_BYTES)
    return _SUSPECT_REF.sub(_char_ref, body) if b"&#" in body else body


def absolute_url(link: str | None, base: str) -> str | None:
    """`link` resolved against `base`, when that is an http(s) URL without control characters or
    lone surrogates that fits an indexed column (`key_fits`: a longer one cannot be stored, and cut
    it names nothing)."""
    if not link:
        return None
    link = link.strip()
    try:
        resolved = urljoin(base, link)
    except ValueError:
        return None
    if urlsplit(resolved).scheme not in ("http", "https") or _URL_CONTROL.search(resolved):
        return None
    return resolved if key_fits(resolved) else None


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
