"""Article rows: reading. Writing lives in app/storage/ingest.py (one transaction per batch)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import NotFoundError
from app.storage.models import Article, Quote, can_exist
from app.storage.pagination import (
    bound_page,
    decode_cursor,
    finish_page,
    keyset_after,
    moment,
    page_rows,
    row_id,
)
from app.storage.rows import read_rows

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
    params: dict[str, Any] = {"feed_id": feed_id, "after": _aware(published_after),
                              "before": _aware(published_before), "page_rows": page_rows(limit)}
    if cursor:
        params["key_at"], params["key_id"] = decode_cursor(cursor, moment, row_id)
    stmt = _article_page(feed_id is not None, published_after is not None, published_before is not None,
                         bool(cursor))
    rows = await read_rows(session, stmt, params)
    return finish_page(rows, limit, lambda r: [r.published_at, r.id])


@cache
def _article_page(feed: bool, after: bool, before: bool, cursor: bool) -> Select[Any]:
    """The page's statement for the filters given, built once; their values are bound."""
    stmt = select(*_SUMMARY).order_by(Article.published_at.desc(), Article.id.desc())
    if feed:
        stmt = stmt.where(Article.feed_id == bindparam("feed_id"))
    if after:
        stmt = stmt.where(Article.published_at >= bindparam("after"))
    if before:
        stmt = stmt.where(Article.published_at < bindparam("before"))
    if cursor:
        stmt = stmt.where(keyset_after([Article.published_at, Article.id], [bindparam("key_at"), bindparam("key_id")],
                                       descending=True))
    return bound_page(stmt)


_ONE_ARTICLE = select(*_ARTICLE).where(Article.id == bindparam("article_id"))


async def count_articles(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Article.id))) or 0)


async def get_article(session: AsyncSession, article_id: int) -> Row[Any]:
    article = None
    if can_exist(article_id):
        found = await read_rows(session, _ONE_ARTICLE, {"article_id": article_id})
        article = found[0] if found else None
    if article is None:
        raise NotFoundError(f"articles: no article with id {article_id}")
    return article


async def article_quotes(session: AsyncSession, article_id: int) -> list[Row[Any]]:
    await get_article(session, article_id)
    stmt = select(*Quote.__table__.c).where(Quote.article_id == article_id).order_by(Quote.start)
    return await read_rows(session, stmt)
