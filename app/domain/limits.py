"""What a stored string may hold and how long it may be: one table for the column definitions
(app/storage/models.py) and for every place data enters (feed parsing, page extraction, HTTP
headers, the API).

PostgreSQL refuses a string longer than its VARCHAR column and any text holding NUL, and one such
value failed the whole transaction of a feed's poll, every poll; SQLite stores both. So values
are cleaned and bounded where they enter, never at the database: text loses NUL and the other C0
control characters (tab and newline stay; CR ends a line), lone surrogates become U+FFFD (no
UTF-8 encoder takes them); free text is cut at its limit; identifiers that cannot be cut
meaningfully (URLs, ETags) are dropped or refused by the caller.

Indexed identifiers (URLs, GUIDs) are bounded in UTF-8 bytes as well as characters: a PostgreSQL
btree entry holds at most 2704 bytes, and 2048 characters of CJK text are 6 KB, so one such GUID
failed a feed's every poll although it "fit" its VARCHAR(2048) (`key_fits`).
"""

from __future__ import annotations

import re
from typing import overload

MAX_ROW_ID = 2**31 - 1  # ids are INTEGER: 32 bits on PostgreSQL; a larger one names no row
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 200, 50  # rows of a listing page (`limit`)
MAX_URL_CHARS = 2048  # every URL and GUID column
# UTF-8 bytes of an indexed URL or GUID: with the row's other key columns it stays under the 2704
# bytes of a PostgreSQL btree entry (uq_feeds_url, uq_articles_canonical_url, ix_articles_feed_guid).
MAX_KEY_BYTES = 2048
MAX_TITLE_CHARS = 1024  # titles of feeds and articles, bylines
MAX_ETAG_CHARS = 512
MAX_HTTP_DATE_CHARS = 128  # Last-Modified as the server sent it
MAX_LANGUAGE_CHARS = 16  # a BCP 47 tag
MAX_HOST_CHARS = 255  # articles.source (DNS names stop at 253)
MAX_NAME_CHARS = 255  # speakers and their titles
MAX_VERB_CHARS = 64
MAX_CHANNEL_CHARS = 128
# What one article stores. Each quote is announced by an event that carries the article (its
# summary too), so events cost quotes x summary: an entry of 200 KB of alternating quote marks
# (34,000 quotes, each event repeating the 200 KB summary) held the event loop 27 s while they
# were encoded. Real articles have a few dozen quotes, and a summary says little; its text is whole.
MAX_QUOTES_PER_ARTICLE = 1000  # the first ones, in text order
MAX_SUMMARY_CHARS = 4000

# C0 controls but tab (09) and newline (0A), CR handled apart; lone UTF-16 surrogates.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if char >= "\ud800" else ""


@overload
def clean_text(value: str) -> str: ...
@overload
def clean_text(value: None) -> None: ...
def clean_text(value: str | None) -> str | None:
    """`value` without NUL and the other C0 control characters but tab and newline ("\\r\\n" and
    "\\r" become "\\n"), lone surrogates replaced by U+FFFD. None stays None."""
    if value is None or _UNWANTED.search(value) is None:
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub(_replace, value)


def key_fits(value: str) -> bool:
    """Whether a URL or GUID fits an indexed column: at most MAX_URL_CHARS characters and
    MAX_KEY_BYTES bytes of UTF-8 (see the module docstring). Cut, an identifier would name
    something else, so callers drop or hash what does not fit."""
    if len(value) > MAX_KEY_BYTES:
        return False
    return value.isascii() or len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES


def has_control_characters(value: str) -> bool:
    """True when `clean_text` would change `value` (except for a CR): API input is refused then."""
    return _UNWANTED.search(value.replace("\r", "")) is not None


def clip(value: str | None, limit: int) -> str | None:
    """Free text cleaned and cut to at most `limit` characters (trailing space dropped); empty
    becomes None."""
    text = clean_text(value)
    if text is None:
        return None
    if len(text) > limit:
        text = text[:limit].rstrip()
    return text or None


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def language_tag(value: str | None) -> str | None:
    """A language tag as a page or feed declares it ("en_GB", "en-gb, fr"), as BCP 47-ish text
    ("en-GB", "en-gb"), or None when it is not one. Subtags that would pass MAX_LANGUAGE_CHARS are
    dropped: "en" of an over-long "en-x-..." still filters and stems as English."""
    if not value:
        return None
    tag = value.strip().split(",")[0].strip().replace("_", "-")
    if not _LANGUAGE_TAG.match(tag):
        return None
    kept, *subtags = tag.split("-")
    for subtag in subtags:
        if len(kept) + 1 + len(subtag) > MAX_LANGUAGE_CHARS:
            break
        kept += "-" + subtag
    while len(kept) > 2 and kept[-2] == "-":  # a singleton ("-x") names nothing without what follows
        kept = kept[:-2]
    return kept
