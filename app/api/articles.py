"""/v1/articles: newest first, filtered, one article with its text and quotes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import ReadAccess, RuntimeDep, SessionDep
from app.api.encode import fields, one_json, page_json
from app.api.problems import problem_responses
from app.api.schemas import (
    DEFAULT_PAGE_SIZE,
    ArticleCollapse,
    ArticleOut,
    ArticleSort,
    ArticleSummary,
    CursorIn,
    HostIn,
    IdIn,
    InstantIn,
    LanguageIn,
    LimitQuery,
    NameIn,
    Page,
    QueryIn,
    QuoteOut,
)
from app.domain.query import parse_query
from app.domain.snippets import page_snippets
from app.storage import articles as store
from app.storage import search
from app.storage.search_plan import ArticleSearch

router = APIRouter(prefix="/v1", tags=["articles"], dependencies=[ReadAccess],
                   responses=problem_responses(401, 403, 422))


@router.get("/articles", operation_id="listArticles", response_model=Page[ArticleSummary])
async def list_articles(
    session: SessionDep,
    runtime: RuntimeDep,
    q: Annotated[QueryIn | None, Query(description=(
        'Search: words (all must match), "exact phrase", a OR b, -excluded, prefix*; '
        "case and accents ignored, lower-case words stemmed (English), capitalised words exact"))] = None,
    feed_id: IdIn | None = None,
    source: Annotated[HostIn | None, Query(description="Site domain, e.g. bbc.co.uk")] = None,
    language: Annotated[LanguageIn | None, Query(description="Language code; 'en' also matches en-GB")] = None,
    has_quotes: Annotated[bool | None, Query(description="Only articles with (true) or without quotes")] = None,
    speaker: Annotated[NameIn | None, Query(description="Only articles quoting this person")] = None,
    collapse: Annotated[ArticleCollapse | None, Query(
        description="story: one article per story (its newest match)")] = None,
    sort: Annotated[ArticleSort | None, Query(
        description="relevance (default with q) or published (newest first)")] = None,
    published_after: Annotated[InstantIn | None, Query(description="Inclusive lower bound")] = None,
    published_before: Annotated[InstantIn | None, Query(description="Exclusive upper bound")] = None,
    cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Response:
    """Articles, newest first; with `q`, a full-text search ranked by relevance within recency tiers."""
    searching = any(v is not None for v in (q, source, language, has_quotes, speaker, collapse, sort))
    if not searching:
        rows, next_cursor = await store.list_articles(
            session, feed_id=feed_id, published_after=published_after, published_before=published_before,
            cursor=cursor, limit=limit)
        return page_json(ArticleSummary, rows, next_cursor)
    query = parse_query(q) if q is not None and q.strip() else None
    params = ArticleSearch(query=query, feed_id=feed_id, source=source, language=language, has_quotes=has_quotes,
                           speaker=speaker, published_after=published_after, published_before=published_before,
                           collapse_story=collapse is ArticleCollapse.STORY,
                           sort=(sort or (ArticleSort.RELEVANCE if query else ArticleSort.PUBLISHED)).value)
    hits, next_cursor = await search.search_articles(
        session, params, cursor=cursor, limit=limit,
        snippets=lambda query, texts: runtime.api_cpu.run("snippets", page_snippets, query, texts))
    return page_json(ArticleSummary, [fields(h.article, {"snippet": h.snippet, "score": h.score}) for h in hits],
                     next_cursor)


@router.get("/articles/{article_id}", operation_id="getArticle", response_model=ArticleOut,
            responses=problem_responses(404))
async def get_article(article_id: int, session: SessionDep) -> Response:
    """One article with its main text (its quotes: listArticleQuotes)."""
    return one_json(ArticleOut, await store.get_article(session, article_id))


@router.get("/articles/{article_id}/quotes", operation_id="listArticleQuotes", response_model=Page[QuoteOut],
            tags=["quotes"], responses=problem_responses(404))
async def list_article_quotes(article_id: int, session: SessionDep) -> Response:
    """Every quote found in the article, in text order."""
    return page_json(QuoteOut, await store.article_quotes(session, article_id), None)
