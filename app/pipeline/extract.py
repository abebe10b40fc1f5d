"""Extract: main text and metadata of an article page, with trafilatura. Pure, no I/O.

    extract_page(html, url) -> ExtractedPage | None

Returns None when the page has no extractable main text or cannot be parsed at all; hostile
input (binary garbage, pathological nesting, script-only pages) yields None, never an exception.
Metadata trafilatura does not give in the shape we need (full publication timestamp, language,
canonical URL) is read from the page head first: JSON-LD, Open Graph/article meta, <time>,
<html lang>, <link rel=canonical>; trafilatura/htmldate's own values are the fallback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from copy import copy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import html as lxml_html
from trafilatura.settings import Extractor, use_config

from app.domain.articles import ExtractedPage
from app.domain.limits import MAX_TITLE_CHARS, clean_text, clip, key_fits, language_tag
from app.pipeline.htmlload import load_page

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 10 * 1024 * 1024  # the fetcher's body limit; larger input is cut, not parsed
MAX_TREE_SIZE = 200_000  # elements; beyond this trafilatura refuses rather than crawling for ages



def _config() -> Any:
    config = use_config()  # a fresh ConfigParser with trafilatura's defaults
    config.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # no signal-based timeouts (not main thread)
    return config


_CONFIG = _config()  # read-only after this; trafilatura only reads it


def _options(favor: str) -> Extractor:
    dates: dict[str, Any] = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%d"}
    return Extractor(config=_CONFIG, output_format="python", fast=True, precision=favor == "precision",
                     recall=favor == "recall", comments=False, tables=True, dedup=False, with_metadata=False,
                     date_params=dates)


# bare_extraction's settings for each `favor`, made once: built per page from keyword arguments
# they cost eight ConfigParser reads (~0.035 ms a page). Each page takes a copy with its URL.
_OPTIONS = {favor: _options(favor) for favor in ("recall", "balanced", "precision")}


def _page_options(url: str, favor: str) -> Extractor:
    options = copy(_OPTIONS.get(favor, _OPTIONS["balanced"]))  # neither precision nor recall: balanced
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")  # as Extractor() sets it
    return options


_DATE_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "publishdate", "pubdate", "publication_date", "dc.date.issued", "dc.date", "dcterms.created",
    "date", "sailthru.date", "parsely-pub-date",
)


def _parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (with or without zone; naive taken as UTC) or YYYY-MM-DD, as aware UTC."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    candidate = value.replace("Z", "+00:00").replace("z", "+00:00")
    candidate = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", candidate)  # +0100 -> +01:00
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        match = re.match(r"(\d{4}-\d{2}-\d{2})", value)
        if not match:
            return None
        try:
            parsed = datetime.fromisoformat(match.group(1))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return parsed if 1990 <= parsed.year <= 2100 else None


def _head_elements(tree: Any) -> dict[str, list[Any]]:
    """The elements the metadata is read from, by tag, in document order: one walk of the tree
    in C (`iter` with tags) instead of five XPath queries, each walking all of it (0.11 ms of a
    100 KB corpus page). From the document's root, as the queries' "//" (lxml gives a fragment's
    element, not its document)."""
    root = tree.getroottree().getroot()
    found: dict[str, list[Any]] = {"meta": [], "link": [], "script": [], "time": [], "title": [], "html": []}
    found["html"] = [root] if root.tag == "html" else []  # "/html"
    for el in root.iter("meta", "link", "script", "time", "title"):
        found[el.tag].append(el)
    return found


def _json_ld_objects(elements: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    for script in elements["script"]:
        if script.get("type") != "application/ld+json":
            continue
        try:
            data = json.loads(script.text_content() or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        seen = 0
        while stack and seen < 200:
            item = stack.pop()
            seen += 1
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])


def _head_metadata(tree: Any, url: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    metas: dict[str, str] = {}
    elements = _head_elements(tree)
    for el in elements["meta"]:
        if el.get("content") is None:
            continue
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").lower()
        if key and key not in metas:
            metas[key] = el.get("content", "")

    # Canonical: <link rel=canonical>, then og:url (resolved; only http(s)).
    canonical = None
    for el in elements["link"]:
        if el.get("href") is not None and "canonical" in (el.get("rel") or "").lower().split():
            canonical = el.get("href")
            break
    canonical = canonical or metas.get("og:url")
    if canonical:
        try:
            absolute = urljoin(url, canonical.strip())
        except ValueError:
            absolute = ""
        if urlsplit(absolute).scheme in ("http", "https"):
            meta["canonical_url"] = absolute

    published = None
    for obj in _json_ld_objects(elements):
        published = _parse_datetime(str(obj.get("datePublished") or "")) or published
        if published:
            break
    if published is None:
        for key in _DATE_META:
            published = _parse_datetime(metas.get(key))
            if published:
                break
    if published is None:
        for el in [el for el in elements["time"] if el.get("datetime") is not None][:3]:
            published = _parse_datetime(el.get("datetime"))
            if published:
                break
    meta["published"] = published

    # Title and byline from the head, so trafilatura's metadata pass (about two thirds of its
    # time per page, mostly spent in the author and TLD heuristics) can be skipped.
    titles = [el for el in elements["title"] if (parent := el.getparent()) is not None and parent.tag == "head"]
    meta["title"] = _clean(metas.get("og:title") or (titles[0].text_content() if titles else None))
    byline = metas.get("author") or metas.get("article:author") or metas.get("parsely-author")
    if not byline:
        for obj in _json_ld_objects(elements):
            author = obj.get("author")
            if isinstance(author, list) and author:
                author = author[0]
            if isinstance(author, dict):
                author = author.get("name")
            if isinstance(author, str) and author.strip():
                byline = author
                break
    meta["byline"] = _clean(byline) if byline and not byline.startswith(("http://", "https://")) else None

    lang = None
    roots = elements["html"]
    if roots:
        lang = roots[0].get("lang") or roots[0].get("{http://www.w3.org/XML/1998/namespace}lang")
    lang = lang or metas.get("content-language") or metas.get("og:locale") or metas.get("language")
    meta["language"] = language_tag(lang)
    return meta


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def extract_page(html: bytes | str, url: str, *, favor: str = "recall") -> ExtractedPage | None:
    """Main text and metadata of the page at `url`, or None when there is no article text.

    `favor` is "recall" (default: best F1 on the benchmark in fast mode, 0.964), "balanced" or "precision".
    """
    if not html:
        return None
    if isinstance(html, bytes) and len(html) > MAX_HTML_BYTES:
        html = html[:MAX_HTML_BYTES]
    elif isinstance(html, str) and len(html) > MAX_HTML_BYTES:
        html = html[:MAX_HTML_BYTES]
    try:
        return _extract(html, url, favor)
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError, LookupError,
            UnicodeError, AssertionError) as exc:
        log.warning("extract: failed", extra={"url": url, "error": repr(exc)})
        return None
    except Exception as exc:  # lxml and trafilatura raise a zoo of types on hostile input
        log.warning("extract: failed", extra={"url": url, "error": repr(exc)})
        return None


def _extract(html: bytes | str, url: str, favor: str) -> ExtractedPage | None:
    tree = load_page(html)
    if tree is None or not isinstance(tree, lxml_html.HtmlElement):
        return None
    head = _head_metadata(tree, url)
    doc = trafilatura.bare_extraction(tree, url=url, options=_page_options(url, favor))
    if doc is None:
        return None
    text = clean_text(getattr(doc, "text", None))
    if not text or not text.strip():
        return None
    published = head.get("published") or _parse_datetime(getattr(doc, "date", None))
    canonical = head.get("canonical_url")
    if canonical is None:
        doc_url = getattr(doc, "url", None)
        if doc_url and doc_url != url and urlsplit(doc_url).scheme in ("http", "https"):
            canonical = doc_url
    # Cleaned and bounded here, where page data enters (app.domain.limits): a canonical URL too
    # long to store is no canonical URL.
    return ExtractedPage(
        url=url,
        text=text.strip(),
        title=clip(head.get("title") or _clean(getattr(doc, "title", None)), MAX_TITLE_CHARS),
        byline=clip(head.get("byline") or _clean(getattr(doc, "author", None)), MAX_TITLE_CHARS),
        published=published,
        language=head.get("language") or language_tag(getattr(doc, "language", None)),
        canonical_url=canonical if canonical and key_fits(canonical) and clean_text(canonical) == canonical else None,
    )
