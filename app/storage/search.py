"""Full-text search over articles: the index (kept in the article's own transaction) and the query.

Both databases store the tokens of app.domain.query.analyze verbatim, so they agree on what
matches. The differences live here:

* SQLite: FTS5 table ``articles_fts(title, body, stems, meta)``. Its rowid is the *search key*
  ``((2^32 - unix seconds of published_at) << 30) | (2^30 - 1 - article id)``: FTS5 walks a
  term's matches in rowid order, so "newest first" is an index walk that stops after one page,
  and a date window is a rowid range. ``meta`` holds the filter values as tokens (source, language, quotes, feed), so a
  filter is one more doclist intersected inside FTS5. Score: BM25 computed here (`_scores`) from
  per-term counts in title (x4), body and stem keys (x0.5) that SQL counts with replace(), and
  an IDF estimated from a bounded sample (`_idf`): FTS5's own bm25() counts every match of
  every term on each query, which costs ~100 ms for a common word at a million articles.
* PostgreSQL: ``articles.search_vector`` (A title, B body, D stem keys) with a GIN index;
  newest first walks ``ix_articles_published``; filter values are lexemes of weight C. Score:
  ``ts_rank`` with weights A 1, B 0.4, D 0.1,
  computed on the tier only.

Relevance without scoring every match: ranking all 300,000 articles that contain "said" is what
makes a naive top-20 slow. Matches are ranked in *recency tiers* instead: the newest
``TIER_SIZE`` matches (after filters) are scored and sorted; the next page continues in the same
tier, and only when a tier is used up does the search widen to the next-older tier. Every match
stays reachable; within a tier the order is by score. Pages are pinned to a snapshot (the highest
article id when the first page was read), so articles stored while a client pages never shift
what it sees.

Story collapsing keeps, for each story, its newest article that matches and passes the filters
(``NOT EXISTS`` a newer one), which is the same answer on every page.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    TypeDecorator,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import TableClause

from app.domain.errors import InvalidQueryError, InvalidRequestError
from app.domain.names import normalize_name
from app.domain.query import (
    IndexText,
    Query,
    Term,
    fts5_string,
    fts5_term,
    index_text,
    is_english,
    snippet,
    to_fts5,
    to_tsquery,
    tokens,
)
from app.storage.models import Article, Quote, Speaker
from app.storage.pagination import (
    MAX_LIMIT,
    anything,
    decode_cursor,
    encode_cursor,
    integer,
    moment,
    row_id,
    tag,
)

ID_BITS = 30
ID_MASK = (1 << ID_BITS) - 1
MAX_SECONDS = 1 << 32
TIER_SIZE = 300
PG_PROBE_ROWS = 1_000  # see _pg_tier
PG_WALK_ROWS = 40_000
PG_RANK_WEIGHTS = "'{0.1, 0.0, 0.4, 1.0}'::float4[]"  # D stems, C filters (unranked), B body, A title
IDF_SAMPLE = 2000
BM25_K1, BM25_B = 1.2, 0.75

Sort = Literal["relevance", "published"]
T = TypeVar("T")


# ---------------------------------------------------------------- the index
def search_key(article_id: int, published_at: datetime) -> int:
    """The FTS5 rowid, newest first in ascending order: ``((2^32 - unix seconds) << 30) | (2^30 - 1 -
    id)``. Ascending because FTS5 walks a large doclist backwards by loading all of it: a query
    that ANDs a rare word with one that every article has took 30 ms descending, 0.4 ms ascending."""
    if not 0 <= article_id <= ID_MASK:
        raise ValueError(f"search: article id {article_id} does not fit the search key")
    return (_second_key(published_at) << ID_BITS) | (ID_MASK - article_id)


def article_id_of(key: int) -> int:
    return ID_MASK - (key & ID_MASK)


def _second_key(moment: datetime) -> int:
    seconds = min(MAX_SECONDS, max(0, int(moment.astimezone(UTC).timestamp())))
    return MAX_SECONDS - seconds


def _meta(source: str | None, language: str | None, has_quotes: bool | None, feed_id: int | None, *,
          document: bool) -> list[str]:
    """Filter values as single FTS5 tokens: an intersection with one rare token is cheap, where
    a phrase over tokens that every article has ("src", "example", "com") is not. A document
    stores "len" and "lengb" for en-GB, so a filter on "en" or on "en-gb" both find it."""
    out = []
    if source:
        normalized = source.strip().lower().removeprefix("www.")
        out.append("s" + hashlib.sha1(normalized.encode()).hexdigest()[:16])
    if language:
        parts = tokens(language)
        if parts:
            out += (["l" + parts[0], "l" + "".join(parts)] if document else ["l" + "".join(parts)])
    if has_quotes is not None:
        out.append("qyes" if has_quotes else "qno")
    if feed_id is not None:
        out.append(f"f{feed_id}")
    return list(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class IndexDocument:
    """One article as the index stores it; build with `index_document`."""

    article_id: int
    published_at: datetime
    text: IndexText  # in the form of the database it goes to
    meta: str

    def fts5_row(self) -> tuple[int, str, str, str, str]:
        """The FTS5 row: (search key, title, body, stems, meta)."""
        assert self.text.fts5 is not None
        return (search_key(self.article_id, self.published_at), *self.text.fts5, self.meta)

    def tsvector(self) -> str:
        """The PostgreSQL tsvector literal: positions and weights, filter values as C lexemes."""
        assert self.text.tsvector is not None
        return " ".join([self.text.tsvector, *(f"'{t}':1C" for t in self.meta.split())])


def index_document(*, article_id: int, published_at: datetime, title: str | None, body: str | None,
                   source: str | None, language: str | None, quote_count: int, feed_id: int | None,
                   postgres: bool, text: IndexText | None = None) -> IndexDocument:
    """What the index of one database (`postgres` or SQLite) stores for one article. `text` is
    the title/body analysis when the caller has it already (ingestion makes it in the extraction
    pool); it is made here when missing or in the other database's form."""
    if text is None or (text.tsvector if postgres else text.fts5) is None:
        text = index_text(title, body, english=is_english(language), fts5=not postgres, tsvector=postgres)
    meta = _meta(source, language, bool(quote_count), feed_id, document=True)
    return IndexDocument(article_id, published_at, text, " ".join(meta))


def article_document(article: Article, text: IndexText | None, *, postgres: bool) -> IndexDocument:
    return index_document(article_id=article.id, published_at=article.published_at, title=article.title,
                          body=article.text or article.summary, source=article.source, language=article.language,
                          quote_count=article.quote_count, feed_id=article.feed_id, postgres=postgres, text=text)


class _TsvectorLiteral(TypeDecorator[str]):
    """A tsvector written as its literal text and cast by the server."""

    impl = String
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return cast(bindvalue, TSVECTOR)


def uses_tsvector(dialect: str) -> bool:
    """Which form the index text takes (`IndexText`) for a database: PostgreSQL's tsvector, else
    SQLite's FTS5 columns."""
    return dialect == "postgresql"


def indexed_on_insert(session: AsyncSession) -> bool:
    """PostgreSQL keeps the index in a column of the article row: a new article's vector goes
    in its INSERT (see `insert_target`); an UPDATE afterwards would write the row and every one
    of its index entries twice. SQLite's FTS5 table is written after the insert."""
    return uses_tsvector(session.get_bind().dialect.name)


def insert_target(session: AsyncSession, articles: Table) -> Table | TableClause:
    """The table new article rows are inserted into: on PostgreSQL with its `search_vector`
    column (rows then carry `search_vector=IndexDocument.tsvector()`)."""
    if not indexed_on_insert(session):
        return articles
    return table(articles.name, *(column(c.name, c.type) for c in articles.columns),
                 column("search_vector", _TsvectorLiteral()))


async def write_index(session: AsyncSession, docs: Sequence[IndexDocument], *, replace: bool = True,
                      alongside: Awaitable[T] | None = None) -> T | None:
    """(Re)index stored articles, in the same transaction as their rows, with one statement per
    kind (executemany): a storing transaction holds SQLite's single write lock, so every round
    trip saved there is throughput. `replace=False` skips the delete (new articles, reindex).

    `alongside` is another write of the same transaction (its result is returned). On SQLite the
    new rows go to the database thread right beside it, so the lock waits for one round trip
    instead of two: each round trip also waits for the busy event loop to resume the writer."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and docs:
        await session.execute(text("UPDATE articles SET search_vector = CAST(:vector AS tsvector) WHERE id = :id"),
                              [{"vector": d.tsvector(), "id": d.article_id} for d in docs])
    if postgres or not docs:
        return None if alongside is None else await alongside
    rows = [d.fts5_row() for d in docs]
    if replace:
        await session.execute(text("DELETE FROM articles_fts WHERE rowid = :key"), [{"key": r[0]} for r in rows])
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    if alongside is None:
        await _fts_insert(driver, rows)
        return None
    inserting = asyncio.ensure_future(_fts_insert(driver, rows))
    try:
        result = await alongside
    except BaseException:
        await asyncio.wait([inserting])  # done before a rollback can reach the connection
        raise
    await inserting
    return result


async def _fts_insert(driver: Any, rows: list[tuple[Any, ...]]) -> None:
    """The FTS5 rows through the aiosqlite connection itself, inside the session's transaction."""
    cursor = await driver.executemany("INSERT INTO articles_fts (rowid, title, body, stems, meta) "
                                      "VALUES (?, ?, ?, ?, ?)", rows)
    await cursor.close()


# ---------------------------------------------------------------- the query
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
    article: Article
    score: float | None
    snippet: str | None


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _pg_match(alias: str, tsquery: str) -> ColumnElement[bool]:
    return literal_column(f"{alias}.search_vector").op("@@")(
        cast(bindparam(None, tsquery), TSQUERY))


class _Search:
    """One request's compiled pieces: filters for any alias of articles, the match, the key."""

    def __init__(self, session: AsyncSession, params: ArticleSearch) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.p = params
        self.fts = None
        if params.query:
            meta = _meta(params.source, params.language, params.has_quotes, params.feed_id, document=False)
            self.fts = f"({to_fts5(params.query)})" + "".join(f" AND meta : {fts5_string(t)}" for t in meta)
        self.tsq = None
        if params.query:  # filter values are lexemes of weight C (see IndexDocument.tsvector)
            meta = _meta(params.source, params.language, params.has_quotes, params.feed_id, document=False)
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
            out.append(a.published_at >= _aware(p.published_after))
        if p.published_before is not None:
            out.append(a.published_at < _aware(p.published_before))
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
                           _pg_match("newer", self.tsq)]
        return [not_(exists(select(newer.id).where(*conditions)))]


async def _snapshot(session: AsyncSession) -> int:
    return int((await session.execute(select(func.coalesce(func.max(Article.id), 0)))).scalar_one())


def _bad_cursor() -> InvalidRequestError:
    return InvalidRequestError("pagination: the cursor is not one this service issued")


async def search_articles(session: AsyncSession, params: ArticleSearch, *, cursor: str | None,
                          limit: int) -> tuple[list[Hit], str | None]:
    """One page of articles matching `params`, and the cursor of the next page."""
    limit = min(limit, MAX_LIMIT)
    if params.query is None and params.sort == "relevance":
        raise InvalidQueryError("search: sort=relevance needs a query (q)")
    s = _Search(session, params)
    if s.postgres and params.query is not None:
        # asyncpg prepares statements, and after five runs PostgreSQL may keep a generic plan that
        # ignores which words are searched: rare and common words need different plans.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    mode = "r" if params.sort == "relevance" else ("p" if params.query else "l")
    if cursor:
        kind, snapshot, a, b = decode_cursor(cursor, tag, row_id, anything, anything)
        if kind != mode:
            raise _bad_cursor()
        a, b = _position(mode, s.postgres, a, b)
    else:
        snapshot, a, b = await _snapshot(session), None, None
    if mode == "r":
        return await _relevance(session, s, snapshot, a, int(b or 0), limit)
    return await _newest(session, s, snapshot, a, b, limit, mode)


_search_key = integer(0, (MAX_SECONDS + 1) << ID_BITS)
_offset = integer(0, TIER_SIZE)


def _time_text(value: Any) -> str:
    return moment(value).isoformat()


def _position(mode: str, postgres: bool, a: Any, b: Any) -> tuple[Any, Any]:
    """A search cursor's position, checked for its mode (the shapes encode_cursor writes below):
    "p" on SQLite a search key; "r" a tier bound (a search key on SQLite, [time, id] on
    PostgreSQL, or null) and an offset in the tier; else [time, id]."""
    upper: Any
    try:
        if mode == "r":
            if a is None:
                upper = None
            elif postgres:
                if not isinstance(a, list) or len(a) != 2:
                    raise ValueError
                upper = [_time_text(a[0]), row_id(a[1])]
            else:
                upper = _search_key(a)
            return upper, _offset(b)
        if mode == "p" and not postgres:
            if b is not None:
                raise ValueError
            return _search_key(a), None
        return _time_text(a), row_id(b)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _bad_cursor() from exc


def _hits(params: ArticleSearch, articles: Sequence[Article], scores: Sequence[float | None]) -> list[Hit]:
    q = params.query
    return [Hit(a, None if score is None else float(score),
                snippet(q, a.title, a.text or a.summary) if q else None)
            for a, score in zip(articles, scores, strict=True)]


async def _newest(session: AsyncSession, s: _Search, snapshot: int, a: Any, b: Any, limit: int,
                  mode: str) -> tuple[list[Hit], str | None]:
    if mode == "p" and not s.postgres:
        # Walk the FTS5 index by rowid (publication second, id) downwards; stops after one page.
        sql, params = _sqlite_search(s, snapshot, None if a is None else int(a), limit + 1, None)
        keys = [row[0] for row in (await session.execute(text(sql), params)).all()]
        more = len(keys) > limit
        keys = keys[:limit]
        articles = await _articles(session, [article_id_of(k) for k in keys])
        nxt = encode_cursor(["p", snapshot, keys[-1], None]) if more else None
        return _hits(s.p, articles, [None] * len(articles)), nxt
    columns: list[Any] = [Article]
    where = [Article.id <= snapshot, *s.filters(Article), *s.collapse(Article, snapshot)]
    if mode == "p":
        assert s.tsq is not None
        where.append(_pg_match("articles", s.tsq))
    if a is not None:
        where.append(tuple_(Article.published_at, Article.id) < tuple_(
            bindparam(None, datetime.fromisoformat(a), type_=Article.published_at.type), int(b)))
    stmt = (select(*columns).where(*where).order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit + 1))
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([mode, snapshot, rows[-1][0].published_at, rows[-1][0].id]) if more else None
    return _hits(s.p, [r[0] for r in rows], [None] * len(rows)), nxt


async def _tier(session: AsyncSession, s: _Search, snapshot: int, upper: Any, offset: int, need: int,
                loaded: dict[int, Article]) -> tuple[list[tuple[int, float]], int, Any]:
    """Rows offset..offset+need of one tier ranked by score; the tier's size and lower bound.
    Articles read on the way go into `loaded`."""
    if s.postgres:
        return await _pg_tier(session, s, snapshot, upper, offset, need, loaded)
    assert s.p.query is not None
    terms = list(dict.fromkeys(s.p.query.positive_terms))
    sql, params = _sqlite_search(s, snapshot, None if upper is None else int(upper), TIER_SIZE, terms)
    rows = (await session.execute(text(sql), params)).all()
    low = rows[-1][0] if rows else None  # the oldest row of the tier: the next tier starts after it
    idf = await _idf(session, terms, snapshot)
    scored = sorted(zip(_scores(rows, terms, idf), (r[0] for r in rows), strict=True),
                    key=lambda sk: (-sk[0], sk[1]))
    return [(article_id_of(k), sc) for sc, k in scored[offset:offset + need]], len(rows), low


async def _pg_tier(session: AsyncSession, s: _Search, snapshot: int, upper: Any, offset: int, need: int,
                   loaded: dict[int, Article]) -> tuple[list[tuple[int, float]], int, Any]:
    """_tier on PostgreSQL: the newest TIER_SIZE matches under the bound, ranked, in one round trip
    whose plan does not rest on the planner's guess of how many articles match (for two ANDed
    words it multiplies their frequencies, and a wrong guess walked ix_articles_published through
    100,000+ rows). Each way below finds the same rows, so it is one answer whichever runs:

    * ``probe``: the match tested on the newest PG_PROBE_ROWS candidates (articles under the bound
      that pass the filters, newest first by ix_articles_published; a LIMIT-ed subquery, so no
      plan walks further). TIER_SIZE matches there are the tier (words in a third of the articles).
    * ``walk``: the same on up to PG_WALK_ROWS candidates, stopping at TIER_SIZE matches; only
      when the probe found at least `_walk_threshold` matches (dense enough for walking to cost
      less than reading every match); else never executed (a one-time filter on the probe's count).
    * ``hits``: every match under the bound, with no order asked of it, so the plan is the GIN
      bitmap; only when neither walk filled the tier, i.e. when the matches are sparse.

    ts_rank then runs on the tier only. Written out, as _sqlite_search is: building this many
    subqueries with SQLAlchemy cost more than running them."""
    assert s.tsq is not None
    sql, params = _pg_tier_sql(s, snapshot, upper)
    params.update({"offset": offset, "need": need})
    rows = (await session.execute(text(sql), params)).all()
    if not rows:
        return [], 0, None
    return [(r[0], r[1]) for r in rows], int(rows[0][2]), [rows[0][3].isoformat(), rows[0][4]]


def _pg_tier_sql(s: _Search, snapshot: int, upper: Any) -> tuple[str, dict[str, Any]]:
    p = s.p
    params: dict[str, Any] = {"tsq": s.tsq, "snap": snapshot, "tier": TIER_SIZE, "probe_rows": PG_PROBE_ROWS,
                              "walk_rows": PG_WALK_ROWS, "threshold": _walk_threshold(snapshot)}
    exact: list[str] = []  # conditions on an article row {0}: a candidate, or a newer one of its story
    if p.speaker:
        params["speaker"] = normalize_name(p.speaker)
        exact.append("EXISTS (SELECT 1 FROM quotes WHERE quotes.article_id = {0}.id AND quotes.speaker_id = "
                     "(SELECT id FROM speakers WHERE normalized_name = :speaker))")
    if p.published_after is not None:
        params["after"] = _aware(p.published_after)
        exact.append("{0}.published_at >= :after")
    if p.published_before is not None:
        params["before"] = _aware(p.published_before)
        exact.append("{0}.published_at < :before")
    match = "{0}.search_vector @@ CAST(:tsq AS tsquery)"
    where = ["{0}.id <= :snap", *exact]
    if upper is not None:
        params["upper_p"] = datetime.fromisoformat(upper[0])
        params["upper_id"] = int(upper[1])
        where.append("({0}.published_at, {0}.id) < (CAST(:upper_p AS timestamptz), CAST(:upper_id AS integer))")
    collapse = ""
    if p.collapse_story:  # no newer article of the story matches and passes the filters
        newer = " AND ".join(["n.story_id = {0}.story_id", "n.id != {0}.id", "n.id <= :snap",
                              "(n.published_at, n.id) > ({0}.published_at, {0}.id)",
                              *[c.format("n") for c in exact], match.format("n")])
        collapse = f" AND NOT EXISTS (SELECT 1 FROM articles AS n WHERE {newer})"

    def newest(rows: str, gate: str) -> str:
        return ("SELECT c.id, c.published_at AS p FROM (SELECT a.id, a.published_at, a.story_id, a.search_vector "
                f"FROM articles AS a WHERE {' AND '.join(w.format('a') for w in where)} "
                f"ORDER BY a.published_at DESC, a.id DESC LIMIT :{rows}) AS c "
                f"WHERE {match.format('c')}{collapse.format('c')}{gate} ORDER BY c.published_at DESC, c.id DESC "
                "LIMIT :tier")

    probed, walked = "(SELECT count(*) FROM probe)", "(SELECT count(*) FROM walk)"
    sql = (
        f"WITH probe AS MATERIALIZED ({newest('probe_rows', '')}), "
        f"walk AS MATERIALIZED ({newest('walk_rows', f' AND {probed} < :tier AND {probed} >= :threshold')}), "
        "hits AS MATERIALIZED (SELECT a.id, a.published_at AS p FROM articles AS a "
        f"WHERE {match.format('a')} AND {' AND '.join(w.format('a') for w in where)}{collapse.format('a')} "
        f"AND {probed} < :tier AND {walked} < :tier), "
        f"tier AS (SELECT id, p FROM probe WHERE {probed} >= :tier "
        f"UNION ALL SELECT id, p FROM walk WHERE {walked} >= :tier "
        "UNION ALL (SELECT id, p FROM hits ORDER BY p DESC, id DESC LIMIT :tier)), "
        f"ranked AS (SELECT t.id, t.p, ts_rank({PG_RANK_WEIGHTS}, r.search_vector, CAST(:tsq AS tsquery)) AS score, "
        "count(*) OVER () AS n FROM tier AS t JOIN articles AS r ON r.id = t.id "
        "ORDER BY score DESC, t.p DESC, t.id DESC OFFSET :offset LIMIT :need) "
        "SELECT ranked.id, ranked.score, ranked.n, lowest.p, lowest.id FROM ranked, "
        "(SELECT p, id FROM tier ORDER BY p, id LIMIT 1) AS lowest ORDER BY ranked.score DESC, ranked.p DESC, "
        "ranked.id DESC")
    return sql, params


def _walk_threshold(snapshot: int) -> int:
    """Matches among the PG_PROBE_ROWS probed candidates from which walking on costs less than the
    bitmap. At match density d over about `snapshot` articles, the walk reads TIER_SIZE / d rows
    and the bitmap d * snapshot, each bitmap row costing about four walked rows (measured: 0.25 to
    0.6 against 1.5 microseconds, the bitmap rechecks each match on the heap). So walk when
    d > sqrt(TIER_SIZE / (4 * snapshot)): 20 of 1,000 at 200,000 articles, 9 at a million."""
    return max(1, math.ceil(PG_PROBE_ROWS * math.sqrt(TIER_SIZE / (4 * max(snapshot, TIER_SIZE)))))


# search_key in SQL, clamped to 1970..2106 as _second_key is (as the triggers of migration 0004 are):
# unclamped, an article dated 2200 had a key no index row has, and collapse=story kept its older
# story-mates. PostgreSQL has no key: its index is a column of the article row.
_SQLITE_KEY = ("(((4294967296 - MIN(4294967296, MAX(0, CAST(strftime('%s', {0}.published_at) AS INTEGER)))) << 30) "
               "| (1073741823 - {0}.id))")


def _sqlite_time(value: datetime) -> str:
    return _aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as UTCDateTime stores it


def _sqlite_search(s: _Search, snapshot: int, upper: int | None, limit: int,
                   terms: Sequence[Term] | None) -> tuple[str, dict[str, Any]]:
    """One walk down the FTS5 index, newest first, written out: SQLAlchemy would compile a new
    statement for each query shape, which costs more than the search. Every value is bound.

    Source, language, has-quotes and feed are in the MATCH (the meta column); whole-second date
    bounds are rowid bounds. Articles are joined only for what the index cannot answer: speaker,
    story collapsing, sub-second date bounds. With `terms`, the columns _scores needs are added.
    """
    p = s.p
    params: dict[str, Any] = {"m": s.fts, "mask": ID_MASK, "snap": snapshot, "limit": limit}
    columns = ["f.rowid"]
    if terms is not None:
        columns += ["length(f.title)", "length(f.body)"]
        for j, term in enumerate(terms):
            params[f"n{j}"] = " " + "  ".join(term.tokens) + ("" if term.prefix else " ")
            columns += [_occurrences_sql("f.title", f"n{j}"), _occurrences_sql("f.body", f"n{j}")]
            if term.stemmed:
                params[f"s{j}"] = f" {term.key} "
                columns.append(_occurrences_sql("f.stems", f"s{j}"))
    params["lowest_low_bits"] = ID_MASK - snapshot  # article id <= snapshot
    where = ["f.articles_fts MATCH :m", "(f.rowid & :mask) >= :lowest_low_bits"]
    exact: list[str] = []  # conditions on an article row {0}: the hit, or a newer one of its story
    if upper is not None:
        where.append("f.rowid > :upper")
        params["upper"] = upper
    if p.published_after is not None:
        after = _aware(p.published_after)
        params["khi"] = (_second_key(after) + 1) << ID_BITS  # seconds >= after's
        where.append("f.rowid < :khi")
        if after.microsecond:
            params["after"] = _sqlite_time(after)
            exact.append("{0}.published_at >= :after")
    if p.published_before is not None:
        before = _aware(p.published_before)
        # seconds < before's, or <= when before has a fraction (then checked exactly)
        params["klo"] = (_second_key(before) + (0 if before.microsecond else 1)) << ID_BITS
        where.append("f.rowid >= :klo")
        if before.microsecond:
            params["before"] = _sqlite_time(before)
            exact.append("{0}.published_at < :before")
    if p.speaker:
        params["speaker"] = normalize_name(p.speaker)
        exact.append("EXISTS (SELECT 1 FROM quotes WHERE quotes.article_id = {0}.id AND quotes.speaker_id = "
                     "(SELECT id FROM speakers WHERE normalized_name = :speaker))")
    conditions = [c.format("a") for c in exact]
    if p.collapse_story:
        newer_key = _SQLITE_KEY.format("b")
        newer = " AND ".join([
            "b.story_id = a.story_id", "b.id != a.id", "b.id <= :snap", f"{newer_key} < f.rowid",
            *[c.format("b") for c in exact],
            f"EXISTS (SELECT 1 FROM articles_fts AS g WHERE g.articles_fts MATCH :m AND g.rowid = {newer_key})"])
        conditions.append(f"NOT EXISTS (SELECT 1 FROM articles AS b WHERE {newer})")
    source = "articles_fts AS f"
    if conditions:
        source += " JOIN articles AS a ON a.id = (:mask - (f.rowid & :mask))"
        where += conditions
    sql = (f"SELECT {', '.join(columns)} FROM {source} WHERE {' AND '.join(where)} "
           "ORDER BY f.rowid LIMIT :limit")
    return sql, params


def _occurrences_sql(column: str, needle: str) -> str:
    """Characters removed by deleting the needle from the space-padded column: occurrences x len."""
    padded = f"(' ' || {column} || ' ')"
    return f"length({padded}) - length(replace({padded}, :{needle}, ''))"


async def _articles(session: AsyncSession, ids: Sequence[int]) -> list[Article]:
    """Articles by id, in the order given."""
    if not ids:
        return []
    by_id = {a.id: a for a in (await session.execute(select(Article).where(Article.id.in_(ids)))).scalars()}
    return [by_id[i] for i in ids if i in by_id]


async def _idf(session: AsyncSession, terms: Sequence[Term], snapshot: int) -> list[float]:
    """Inverse document frequency per term, estimated from at most IDF_SAMPLE newest matches.

    FTS5 keeps no document frequencies: its bm25() counts every match of every phrase on each
    query, which is what makes a common word slow on a large index. A term with fewer matches
    than the sample is counted exactly; for a common one, the id range the sample spans says
    what share of the articles it is in.
    """
    if len(terms) < 2:
        return [1.0] * len(terms)
    parts = []
    params: dict[str, Any] = {}
    for j, term in enumerate(terms):
        parts.append(f"SELECT {j} AS j, count(*) AS n, min(k) AS lo, max(k) AS hi FROM (SELECT rowid & {ID_MASK} AS k "
                     f"FROM articles_fts WHERE articles_fts MATCH :m{j} ORDER BY rowid LIMIT {IDF_SAMPLE})")
        params[f"m{j}"] = fts5_term(term)
    total = max(snapshot, 1)
    out = [1.0] * len(terms)
    for j, n, lo, hi in (await session.execute(text(" UNION ALL ".join(parts)), params)).all():
        df = float(n) if n < IDF_SAMPLE else min(total, n * total / max(1, (hi or 0) - (lo or 0) + 1))
        out[j] = math.log(1 + (total - df + 0.5) / (df + 0.5))
    return out


def _scores(rows: Sequence[Any], terms: Sequence[Term], idf: Sequence[float]) -> list[float]:
    """BM25 over weighted term counts (title 4, body 1, stem keys 0.5), document length in
    characters. Rows are (key, title length, body length, then per term: title, body[, stems]
    characters removed by _occurrences)."""
    plan = []
    column = 3
    for term, weight in zip(terms, idf, strict=True):
        width = len("  ".join(term.tokens)) + (1 if term.prefix else 2)
        stem_at = column + 2 if term.stemmed else None
        plan.append((column, stem_at, width, len(term.key) + 2, weight))
        column += 3 if term.stemmed else 2
    average = sum((r[1] or 0) + (r[2] or 0) for r in rows) / max(1, len(rows)) or 1.0
    k1, b = BM25_K1, BM25_B
    out = []
    for r in rows:
        norm = k1 * (1 - b + b * ((r[1] or 0) + (r[2] or 0)) / average)
        score = 0.0
        for at, stem_at, width, stem_width, weight in plan:
            tf = (4 * (r[at] or 0) + (r[at + 1] or 0)) / width
            if stem_at is not None:
                tf += 0.5 * (r[stem_at] or 0) / stem_width
            if tf:
                score += weight * tf * (k1 + 1) / (tf + norm)
        out.append(round(score, 6))
    return out


async def _relevance(session: AsyncSession, s: _Search, snapshot: int, upper: Any, offset: int,
                     limit: int) -> tuple[list[Hit], str | None]:
    found: list[tuple[int, float]] = []
    loaded: dict[int, Article] = {}
    nxt: str | None = None
    while True:
        need = limit + 1 - len(found)
        rows, size, low = await _tier(session, s, snapshot, upper, offset, need, loaded)
        if len(rows) == need:  # the page ends inside this tier
            found += rows[:-1]
            nxt = encode_cursor(["r", snapshot, upper, offset + need - 1])
            break
        found += rows
        if size < TIER_SIZE or low is None:
            break  # the oldest tier: every match has been seen
        upper, offset = low, 0  # widen to the next-older tier
        if len(found) == limit:
            nxt = encode_cursor(["r", snapshot, upper, 0])
            break
    if not found:
        return [], nxt
    missing = await _articles(session, [i for i, _ in found if i not in loaded])
    loaded.update((a.id, a) for a in missing)
    articles = [loaded[i] for i, _ in found if i in loaded]
    score_of = dict(found)
    return _hits(s.p, articles, [score_of[a.id] for a in articles]), nxt
