"""Article rows: reading. Writing lives in app/storage/ingest.py (one transaction per batch)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.storage.models import Article, Quote, can_exist
from app.storage.pagination import decode_cursor, finish_page, keyset_after, moment, page_of, row_id

# Reads for the API return plain rows (attribute access like the model's), not ORM objects:
# no identity map or instance state is built for what is only serialised.
_ARTICLE = Article.__table__.c
_SUMMARY = [c for c in _ARTICLE if c.name != "text"]  # a listing does not carry the article's text


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def list_articles(
    session: AsyncSession, *, feed_id: int | None, published_after: datetime | None,
    published_before: datetime | None, cursor: str | None, limit: int,
) -> tuple[list[Row[Any]], str | None]:
    stmt = select(*_SUMMARY).order_by(Article.published_at.desc(), Article.id.desc())
    if feed_id is not None:
        stmt = stmt.where(Article.feed_id == feed_id)
    if published_after is not None:
        stmt = stmt.where(Article.published_at >= _aware(published_after))
    if published_before is not None:
        stmt = stmt.where(Article.published_at < _aware(published_before))
    if cursor:
        after, article_id = decode_cursor(cursor, moment, row_id)
        stmt = stmt.where(keyset_after([Article.published_at, Article.id], [after, article_id], descending=True))
    rows = list((await session.execute(page_of(stmt, limit))).all())
    return finish_page(rows, limit, lambda r: [r.published_at, r.id])


async def count_articles(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Article.id))) or 0)


async def get_article(session: AsyncSession, article_id: int) -> Row[Any]:
    article = None
    if can_exist(article_id):
        article = (await session.execute(select(*_ARTICLE).where(Article.id == article_id))).one_or_none()
    if article is None:
        raise NotFoundError(f"articles: no article with id {article_id}")
    return article


async def article_quotes(session: AsyncSession, article_id: int) -> list[Row[Any]]:
    await get_article(session, article_id)
    stmt = select(*Quote.__table__.c).where(Quote.article_id == article_id).order_by(Quote.start)
    return list((await session.execute(stmt)).all())
