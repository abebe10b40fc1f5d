"""Entries the database refused: remembered on the feed so they are not fetched, analysed and
refused again on every poll, and named in the feed's warning so a user sees what is missing.

An entry is remembered by its edition (a digest of GUID, title and summary as the feed wrote
them): when the feed edits the entry it is tried again, and so it is after REFUSAL_RETRY_AFTER
(an upgrade may have made its value storable). An entry that leaves the document is forgotten.
No I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft
from app.domain.limits import clip

REFUSAL_RETRY_AFTER = timedelta(days=1)
MAX_REFUSALS = 50  # bounds the feed row; a document rarely holds more entries than this
URL_CHARS = 200  # of a refused entry's URL kept for the warning (the URL may be the odd value)
URLS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class RefusedEntry:
    edition: str
    url: str
    at: datetime


def edition(entry: FeedEntry) -> str:
    digest = hashlib.sha256()
    for part in (entry.guid, entry.title, entry.summary):
        # A length prefix per part: ("ab", "c") and ("a", "bc") differ; None differs from "".
        data = b"" if part is None else part.encode("utf-8", "surrogatepass")
        digest.update(b"-" if part is None else f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def refusal(draft: ArticleDraft, at: datetime) -> RefusedEntry:
    # A draft made elsewhere than from a feed entry has no edition: named, never matched.
    return RefusedEntry(draft.edition or f"draft:{draft.canonical_url}", clip(draft.url, URL_CHARS) or "", at)


def in_force(known: Sequence[RefusedEntry], entries: Iterable[FeedEntry], now: datetime) -> dict[str, RefusedEntry]:
    """The refusals that still hold, by edition: their entry is in the document, unedited, and
    the refusal is recent. Their entries are not fetched again."""
    if not known:
        return {}
    recent = {r.edition: r for r in known if now - r.at < REFUSAL_RETRY_AFTER}
    if not recent:
        return {}
    return {e: recent[e] for e in (edition(entry) for entry in entries) if e in recent}


def merged(kept: Iterable[RefusedEntry], new: Iterable[RefusedEntry]) -> tuple[RefusedEntry, ...]:
    """`kept` with `new` added (a new refusal of an edition replaces its old one), newest last,
    at most MAX_REFUSALS."""
    by_edition = {r.edition: r for r in kept}
    for r in new:
        by_edition.pop(r.edition, None)
        by_edition[r.edition] = r
    return tuple(by_edition.values())[-MAX_REFUSALS:]


def refusal_warning(refusals: Sequence[RefusedEntry]) -> str | None:
    """What the feed's warning says of entries left out."""
    if not refusals:
        return None
    n = len(refusals)
    shown = ", ".join(r.url for r in refusals[:URLS_SHOWN]) + (", ..." if n > URLS_SHOWN else "")
    return (f"store: left out {n} {'entry' if n == 1 else 'entries'} the database refused ({shown}); "
            f"tried again when the feed edits {'it' if n == 1 else 'them'}, or after "
            f"{int(REFUSAL_RETRY_AFTER.total_seconds() // 3600)} h")


def with_refusals(warning: str | None, refusals: Sequence[RefusedEntry]) -> str | None:
    note = refusal_warning(refusals)
    return "; ".join(w for w in (warning, note) if w) or None
