"""/v1/articles: newest first, filtered, one article with its text and quotes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ReadAccess, SessionDep
from app.api.problems import problem_responses
from app.api.schemas import ArticleOut, ArticleSummary, LimitField, Page, QuoteOut
from app.storage import articles as store

router = APIRouter(prefix="/v1", tags=["articles"], dependencies=[ReadAccess],
                   responses=problem_responses(401, 403, 422))


@router.get("/articles", operation_id="listArticles", response_model=Page[ArticleSummary])
async def list_articles(
    session: SessionDep,
    feed_id: int | None = None,
    published_after: Annotated[datetime | None, Query(description="Inclusive lower bound")] = None,
    published_before: Annotated[datetime | None, Query(description="Exclusive upper bound")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = LimitField.default,
) -> Page[ArticleSummary]:
    """Articles, newest first."""
    rows, next_cursor = await store.list_articles(
        session, feed_id=feed_id, published_after=published_after, published_before=published_before,
        cursor=cursor, limit=limit)
    return Page[ArticleSummary](items=[ArticleSummary.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/articles/{article_id}", operation_id="getArticle", response_model=ArticleOut,
            responses=problem_responses(404))
async def get_article(article_id: int, session: SessionDep) -> ArticleOut:
    return ArticleOut.model_validate(await store.get_article(session, article_id))


@router.get("/articles/{article_id}/quotes", operation_id="listArticleQuotes", response_model=Page[QuoteOut],
            tags=["quotes"], responses=problem_responses(404))
async def list_article_quotes(article_id: int, session: SessionDep) -> Page[QuoteOut]:
    """Every quote found in the article, in text order."""
    quotes = await store.article_quotes(session, article_id)
    return Page[QuoteOut](items=[QuoteOut.model_validate(q) for q in quotes], next_cursor=None)
