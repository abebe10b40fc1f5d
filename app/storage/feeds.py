"""Feed rows: registration, listing, leasing due feeds, recording poll outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Row, Select, and_, bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import ConflictError, DuplicateFeedError, NotFoundError
from app.domain.refresh import FeedHealth, FeedView
from app.storage.dialects import claim_rows, insert_new
from app.storage.models import Feed, can_exist
from app.storage.pagination import bound_page, decode_cursor, finish_page, page_rows, row_id
from app.storage.rows import read_rows


def new_feed(url: str, title: str | None, interval_override_s: int | None, now: datetime) -> dict[str, Any]:
    """The columns of a feed just registered: due at once, pending until its first poll says how
    it is (the poll sets ok or a failure state)."""
    return {"url": url, "title": title, "poll_interval_override_s": interval_override_s,
            "interval_s": interval_override_s or 1800, "next_poll_at": now, "created_at": now, "updated_at": now,
            "paused": False, "state": "pending", "consecutive_failures": 0, "polls": 0}


async def create_feed(
    session: AsyncSession, *, url: str, title: str | None, interval_override_s: int | None, now: datetime
) -> Feed:
    existing = (await session.execute(select(Feed.id).where(Feed.url == url))).scalar_one_or_none()
    if existing is not None:
        raise DuplicateFeedError(existing, url)
    feed = Feed(**new_feed(url, title, interval_override_s, now))
    session.add(feed)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same URL
        raise ConflictError(f"feeds: {url} is already registered") from exc
    return feed


async def insert_new_feeds(session: AsyncSession, feeds: Sequence[tuple[str, str | None]], *, now: datetime) -> int:
    """Register (url, title) feeds in one multi-row INSERT, leaving out URLs registered already
    (by a request meanwhile); how many were registered."""
    rows = [new_feed(url, title, None, now) for url, title in feeds]
    return len(await insert_new(session, Feed.__table__, rows, unique=("url",), returning=("id",)))


async def get_feed(session: AsyncSession, feed_id: int) -> Feed:
    feed = await session.get(Feed, feed_id) if can_exist(feed_id) else None
    if feed is None:
        raise NotFoundError(f"feeds: no feed with id {feed_id}")
    return feed


async def find_feed_by_url(session: AsyncSession, url: str) -> Feed | None:
    return (await session.execute(select(Feed).where(Feed.url == url))).scalar_one_or_none()


async def registered_urls(session: AsyncSession, urls: list[str]) -> set[str]:
    """Those of `urls` that are registered feeds."""
    found: set[str] = set()
    distinct = list(dict.fromkeys(urls))
    for start in range(0, len(distinct), 500):
        chunk = distinct[start:start + 500]
        found.update((await session.execute(select(Feed.url).where(Feed.url.in_(chunk)))).scalars())
    return found


@cache
def _feed_page(state: bool, paused: bool, cursor: bool) -> Select[Any]:
    """The page's statement for the filters given, built once; their values are bound."""
    stmt = select(*Feed.__table__.c).order_by(Feed.id)  # plain rows: the API only serialises them
    if state:
        stmt = stmt.where(Feed.state == bindparam("state"))
    if paused:
        stmt = stmt.where(Feed.paused == bindparam("paused"))
    if cursor:
        stmt = stmt.where(Feed.id > bindparam("after_id"))
    return bound_page(stmt)


async def list_feeds(
    session: AsyncSession, *, state: str | None, paused: bool | None, cursor: str | None, limit: int
) -> tuple[list[Row[Any]], str | None]:
    params: dict[str, Any] = {"state": state, "paused": paused, "page_rows": page_rows(limit)}
    if cursor:
        (params["after_id"],) = decode_cursor(cursor, row_id)
    stmt = _feed_page(state is not None, paused is not None, bool(cursor))
    rows = await read_rows(session, stmt, params)
    return finish_page(rows, limit, lambda r: [r.id])


def feed_view(feed: Feed) -> FeedView:
    """What a refresh reads of a stored feed."""
    return FeedView(id=feed.id, url=feed.url, title=feed.title, site_url=feed.site_url,
                    state=cast(FeedHealth, feed.state), etag=feed.etag, last_modified=feed.last_modified,
                    body_hash=feed.body_hash, interval_s=feed.interval_s,
                    poll_interval_override_s=feed.poll_interval_override_s, push_until=feed.push_until,
                    redirect_candidate=feed.redirect_candidate, websub_hub=feed.websub_hub,
                    websub_topic=feed.websub_topic, polls=feed.polls, consecutive_failures=feed.consecutive_failures,
                    refused=feed.refused_entries or ())


async def count_feeds(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Feed.id))) or 0)


OUTLINES_PER_READ = 2000
FeedOutline = tuple[str, str | None, str | None]  # url, title, site_url


async def feed_outlines(session: AsyncSession) -> AsyncIterator[list[FeedOutline]]:
    """(url, title, site_url) of every feed, oldest first, OUTLINES_PER_READ at a time: plain
    rows, a page per statement, so that the event loop is free between pages (an import can
    register 200,000 feeds) and each page can be handed on (to a worker) as it comes."""
    after = 0
    while True:
        page = (await session.execute(select(Feed.id, Feed.url, Feed.title, Feed.site_url).where(Feed.id > after)
                                      .order_by(Feed.id).limit(OUTLINES_PER_READ))).all()
        if page:
            yield [(url, title, site_url) for _, url, title, site_url in page]
        if len(page) < OUTLINES_PER_READ:
            return
        after = page[-1][0]


async def update_feed(session: AsyncSession, feed_id: int, changes: dict[str, Any], *, now: datetime) -> Feed:
    feed = await get_feed(session, feed_id)
    if "title" in changes:
        feed.title = changes["title"]
    if "poll_interval_s" in changes:
        feed.poll_interval_override_s = changes["poll_interval_s"]
        if feed.poll_interval_override_s:
            feed.interval_s = feed.poll_interval_override_s
            feed.next_poll_at = min(feed.next_poll_at, now + timedelta(seconds=feed.interval_s))
    if "paused" in changes and changes["paused"] is not None:
        feed.paused = bool(changes["paused"])
        if not feed.paused:
            feed.next_poll_at = min(feed.next_poll_at, now)
    feed.updated_at = now
    await session.flush()
    return feed


async def delete_feed(session: AsyncSession, feed_id: int) -> None:
    await get_feed(session, feed_id)
    result = await session.execute(delete(Feed).where(Feed.id == feed_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"feeds: no feed with id {feed_id}")


async def claim_due_feeds(
    session: AsyncSession, *, now: datetime, limit: int, owner: str, lease_s: int
) -> list[Feed]:
    """Lease feeds that are due and not held by a live lease (an expired lease counts as free)."""
    due = and_(
        Feed.paused.is_(False),
        Feed.state != "gone",
        Feed.next_poll_at <= now,
        or_(Feed.lease_until.is_(None), Feed.lease_until < now),
    )
    ids = await claim_rows(
        session, Feed, due=due, order_by=Feed.next_poll_at, limit=limit, owner=owner,
        lease_until=now + timedelta(seconds=lease_s),
    )
    if not ids:
        return []
    return list((await session.execute(select(Feed).where(Feed.id.in_(ids)).order_by(Feed.id))).scalars())


async def claim_feed(session: AsyncSession, feed_id: int, *, now: datetime, owner: str, lease_s: int) -> Feed:
    """Lease one feed for an on-demand poll; 409 when another worker holds it right now."""
    await get_feed(session, feed_id)
    free = and_(Feed.id == feed_id, or_(Feed.lease_until.is_(None), Feed.lease_until < now))
    ids = await claim_rows(session, Feed, due=free, order_by=Feed.id, limit=1, owner=owner,
                           lease_until=now + timedelta(seconds=lease_s))
    if not ids:
        raise ConflictError(f"feeds: feed {feed_id} is being polled right now")
    return await get_feed(session, feed_id)
