"""Articles extracted from pages. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """Main text and metadata of one article page.

    `canonical_url` comes from <link rel=canonical> or og:url, resolved against the page URL;
    `published` is aware (UTC) or None; `language` is a BCP 47-ish tag from the page or None.
    """

    url: str
    text: str
    title: str | None
    byline: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None
