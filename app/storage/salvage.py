"""The safety net under store_drafts: when the database refuses a poll's batch because of a value
in it (`refused_value`), the drafts are stored again one by one, each in a SAVEPOINT with its
quotes, speakers, index rows and events, and a draft still refused is left out. One refused
article then costs the feed that article, not the poll (nor, since the entry returns on every
poll, every poll after it).

Only run after the batch failed: statements per draft are what store_drafts avoids (on SQLite
every round trip holds the one write lock). Within the batch, a draft repeated or nearly copied
is then matched against the stored copy instead of the batch's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.ingest import ArticleDraft, StoredBatch
from app.storage.dialects import refused_value, storage_failure
from app.storage.ingest import store_drafts

REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class Refused:
    """A draft the database refused; `error` is short (no SQL or values), `reason` the database's
    own words, for the log."""

    draft: ArticleDraft
    error: str
    reason: str


async def store_each(session: AsyncSession, feed_id: int | None, drafts: Sequence[ArticleDraft], now: datetime,
                     *, feed_url: str | None = None,
                     seen_at: datetime | None = None) -> tuple[StoredBatch, list[Refused]]:
    """store_drafts for each draft in a SAVEPOINT of the caller's transaction; what was stored,
    and the drafts the database refused. Any other error is raised (the caller's transaction
    then stores nothing, as before)."""
    created: list[int] = []
    updated: list[int] = []
    published: list[datetime] = []
    quotes = 0
    refused: list[Refused] = []
    for draft in drafts:
        try:
            async with session.begin_nested():
                one = await store_drafts(session, feed_id, [draft], now, feed_url=feed_url, seen_at=seen_at)
        except DBAPIError as exc:
            if not refused_value(exc):
                raise
            reason = (str(exc.orig if exc.orig is not None else exc).splitlines() or [""])[0][:REASON_CHARS]
            refused.append(Refused(draft, storage_failure(exc) or type(exc).__name__, reason))
            continue
        created += one.created
        updated += one.updated
        published += one.published
        quotes += one.quotes
    return StoredBatch(tuple(created), tuple(updated), quotes, tuple(published)), refused
