"""A search request compiled once: its filters as SQL for any alias of articles, the FTS5 match
(SQLite) and the tsquery (PostgreSQL). app.storage.search runs it, app.storage.search_sqlite
writes SQLite's statement from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Row,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.fulltext import fts5_string, to_fts5, to_tsquery
from app.domain.names import normalize_name
from app.domain.query import Query
from app.storage.models import Article, Quote, Speaker
from app.storage.search_index import aware, meta_tokens

Sort = Literal["relevance", "published"]


@dataclass(frozen=True, slots=True)
class ArticleSearch:
    query: Query | None = None
    feed_id: int | None = None
    source: str | None = None
    language: str | None = None
    has_quotes: bool | None = None
    speaker: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    collapse_story: bool = False
    sort: Sort = "published"


@dataclass(frozen=True, slots=True)
class Hit:
    article: Row[Any]
    score: float | None
    snippet: str | None


def pg_match(alias: str, tsquery: str) -> ColumnElement[bool]:
    return literal_column(f"{alias}.search_vector").op("@@")(
        cast(bindparam(None, tsquery), TSQUERY))


class SearchPlan:
    """One request's compiled pieces: filters for any alias of articles, the match, the key."""

    def __init__(self, session: AsyncSession, params: ArticleSearch) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.p = params
        self.fts = None
        if params.query:
            meta = meta_tokens(params.source, params.language, params.has_quotes, params.feed_id, document=False)
            self.fts = f"({to_fts5(params.query)})" + "".join(f" AND meta : {fts5_string(t)}" for t in meta)
        self.tsq = None
        if params.query:  # filter values are lexemes of weight C (see IndexDocument.tsvector)
            meta = meta_tokens(params.source, params.language, params.has_quotes, params.feed_id, document=False)
            self.tsq = to_tsquery(params.query) + "".join(f" & '{t}':C" for t in meta)

    def filters(self, a: Any) -> list[ColumnElement[bool]]:
        """Filters as SQL. With a query, source/language/quotes/feed are in the tsquery instead,
        where the planner has statistics for them and the GIN index can intersect them."""
        p = self.p
        out: list[ColumnElement[bool]] = []
        if p.query is not None:
            p = ArticleSearch(query=p.query, speaker=p.speaker, published_after=p.published_after,
                              published_before=p.published_before)
        if p.feed_id is not None:
            out.append(a.feed_id == p.feed_id)
        if p.source:
            out.append(a.source == p.source.strip().lower().removeprefix("www."))
        if p.language:
            lang = p.language.strip().lower()
            out.append(or_(func.lower(a.language) == lang, func.lower(a.language).like(lang + "-%")))
        if p.has_quotes is not None:
            out.append(a.quote_count > 0 if p.has_quotes else a.quote_count == 0)
        if p.speaker:
            speaker_id = select(Speaker.id).where(Speaker.normalized_name == normalize_name(p.speaker))
            out.append(exists(select(Quote.id).where(Quote.article_id == a.id,
                                                     Quote.speaker_id == speaker_id.scalar_subquery())))
        if p.published_after is not None:
            out.append(a.published_at >= aware(p.published_after))
        if p.published_before is not None:
            out.append(a.published_at < aware(p.published_before))
        return out

    def collapse(self, a: Any, snapshot: int) -> list[ColumnElement[bool]]:
        """Keep `a` only if no newer article of its story matches and passes the filters."""
        if not self.p.collapse_story:
            return []
        newer = aliased(Article, name="newer")
        conditions = [newer.story_id == a.story_id, newer.id != a.id, newer.id <= snapshot,
                      *self.filters(newer)]
        if self.p.query is None:
            conditions.append(tuple_(newer.published_at, newer.id) > tuple_(a.published_at, a.id))
        else:  # PostgreSQL; SQLite searches are written out in _sqlite_search
            assert self.tsq is not None
            conditions += [tuple_(newer.published_at, newer.id) > tuple_(a.published_at, a.id),
                           pg_match("newer", self.tsq)]
        return [not_(exists(select(newer.id).where(*conditions)))]
