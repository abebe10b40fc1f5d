"""How late a feed's articles reach us: publication (the feed's date) to first seen."""

from __future__ import annotations

import statistics

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.storage.models import Article

LAG_SAMPLE = 100


async def median_lag(session: AsyncSession, feed_id: int, *, sample: int = LAG_SAMPLE) -> tuple[float | None, int]:
    """Median seconds from publication to first seen over the feed's newest `sample` articles,
    and how many articles it is taken over. Articles without a date of their own (dated when
    seen) say nothing and are left out; one dated after it was seen (a publisher's clock ahead
    of ours) counts as 0. Articles stored before first_seen_at existed use created_at."""
    seen = func.coalesce(Article.first_seen_at, Article.created_at)
    stmt = (select(Article.published_at, seen).where(Article.feed_id == feed_id)
            .order_by(Article.id.desc()).limit(sample))
    lags = [max(0.0, (first - published).total_seconds())
            for published, first in (await session.execute(stmt)).all()
            if first is not None and published != first]
    return (statistics.median(lags) if lags else None), len(lags)
