"""Full-text search over articles: the query (the index is written by app.storage.search_index).

Both databases store the tokens of app.domain.query.analyze verbatim, so they agree on what
matches. The differences live here:

* SQLite: FTS5 table ``articles_fts(title, body, stems, meta)``. Its rowid is the *search key*
  ``((2^32 - unix seconds of published_at) << 30) | (2^30 - 1 - article id)``: FTS5 walks a
  term's matches in rowid order, so "newest first" is an index walk that stops after one page,
  and a date window is a rowid range. ``meta`` holds the filter values as tokens (source, language, quotes, feed), so a
  filter is one more doclist intersected inside FTS5. Score: BM25 computed here (`scores`) from
  per-term counts in title (x4), body and stem keys (x0.5) counted in the tier's index texts, and
  an IDF estimated from a bounded sample (`estimate_idf`): FTS5's own bm25() counts every match of
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
import math
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Integer,
    Row,
    bindparam,
    column,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import InvalidQueryError, InvalidRequestError
from app.domain.limits import MAX_PAGE_SIZE
from app.domain.names import normalize_name
from app.domain.query import Query
from app.domain.snippets import snippet
from app.storage.models import Article
from app.storage.pagination import (
    anything,
    decode_cursor,
    encode_cursor,
    integer,
    moment,
    row_id,
    tag,
)
from app.storage.rows import read_rows
from app.storage.search_counts import countable, tier_counts
from app.storage.search_index import (
    ID_BITS,
    MAX_SECONDS,
    article_id_of,
    aware,
)
from app.storage.search_plan import ArticleSearch, Hit, SearchPlan, pg_match
from app.storage.search_sqlite import estimate_idf, scores, sqlite_search, text_counts
from app.storage.sqlite_driver import run_on_thread

TIER_SIZE = 300
PG_PROBE_ROWS = 1_000  # see _pg_tier
PG_WALK_ROWS = 40_000
PG_RANK_WEIGHTS = "'{0.1, 0.0, 0.4, 1.0}'::float4[]"  # D stems, C filters (unranked), B body, A title



# ---------------------------------------------------------------- the query
_SNAPSHOT = select(func.coalesce(func.max(Article.id), 0))
# asyncpg prepares statements, and after five runs PostgreSQL may keep a generic plan that ignores
# which words are searched: rare and common words need different plans. set_config(..., true) is
# SET LOCAL, sent with the snapshot's query when there is one (one round trip, not two).
_CUSTOM_PLANS = "set_config('plan_cache_mode', 'force_custom_plan', true)"
_PG_SNAPSHOT = text(f"SELECT coalesce(max(id), 0), {_CUSTOM_PLANS} FROM articles")
_PG_CUSTOM_PLANS = text(f"SELECT {_CUSTOM_PLANS}")


async def _snapshot(session: AsyncSession, *, custom_plans: bool) -> int:
    """The highest article id (pages are pinned to it); on PostgreSQL, with `custom_plans`, the
    transaction also plans each statement for its values."""
    stmt = _PG_SNAPSHOT if custom_plans else _SNAPSHOT
    return int((await read_rows(session, stmt))[0][0])


def _bad_cursor() -> InvalidRequestError:
    return InvalidRequestError("pagination: the cursor is not one this service issued")


async def search_articles(session: AsyncSession, params: ArticleSearch, *, cursor: str | None,
                          limit: int, snippets: SnippetMaker | None = None) -> tuple[list[Hit], str | None]:
    """One page of articles matching `params`, and the cursor of the next page; `snippets` makes
    those of a page of long texts (default: a thread of this process)."""
    limit = min(limit, MAX_PAGE_SIZE)
    if params.query is None and params.sort == "relevance":
        raise InvalidQueryError("search: sort=relevance needs a query (q)")
    s = SearchPlan(session, params)
    custom_plans = s.postgres and params.query is not None
    mode = "r" if params.sort == "relevance" else ("p" if params.query else "l")
    if cursor:
        kind, snapshot, a, b = decode_cursor(cursor, tag, row_id, anything, anything)
        if kind != mode:
            raise _bad_cursor()
        a, b = _position(mode, s.postgres, a, b)
        if custom_plans:
            await read_rows(session, _PG_CUSTOM_PLANS)
    else:
        snapshot, a, b = await _snapshot(session, custom_plans=custom_plans), None, None
    if mode == "r":
        return await _relevance(session, s, snapshot, a, int(b or 0), limit, snippets)
    return await _newest(session, s, snapshot, a, b, limit, mode, snippets)


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


def _snippets(params: ArticleSearch, articles: Sequence[Row[Any]], scores: Sequence[float | None]) -> list[Hit]:
    q = params.query
    return [Hit(a, None if score is None else float(score),
                snippet(q, a.title, a.text or a.summary) if q else None)
            for a, score in zip(articles, scores, strict=True)]


# Makes a page's snippets elsewhere (the API's process pool): page_snippets(query, [(title, body)]).
SnippetMaker = Callable[[Query, list[tuple[str | None, str | None]]], Awaitable[list[str | None]]]


# A snippet looks near the first match, but a text whose match lies far in (or whose words fold,
# accents and all) is analysed up to 100,000 characters, 15-40 ms of pure Python: a page of 200
# such hits held the event loop 3-7 s. A page of long texts has its snippets made by the
# `SnippetMaker` the caller passes (the API: its process pool), else on a thread of its own,
# which hands the interpreter back every 5 ms but takes it again at each of the loop's waits
# (60 such hits held /readyz 116-339 ms). Short pages stay on the loop (no hop).
SNIPPETS_ON_LOOP_CHARS = 50_000
_snippet_thread: list[ThreadPoolExecutor] = []  # made on first use, by whichever loop asks


async def _hits(params: ArticleSearch, articles: Sequence[Row[Any]], scores: Sequence[float | None],
                make: SnippetMaker | None) -> list[Hit]:
    if params.query is None or sum(len(a.text or a.summary or "") for a in articles) <= SNIPPETS_ON_LOOP_CHARS:
        return _snippets(params, articles, scores)
    if make is not None:
        made = await make(params.query, [(a.title, a.text or a.summary) for a in articles])
        return [Hit(a, None if score is None else float(score), text)
                for a, score, text in zip(articles, scores, made, strict=True)]
    if not _snippet_thread:
        _snippet_thread.append(ThreadPoolExecutor(1, thread_name_prefix="snippets"))
    return await asyncio.get_running_loop().run_in_executor(_snippet_thread[0], _snippets, params, articles, scores)


async def _newest(session: AsyncSession, s: SearchPlan, snapshot: int, a: Any, b: Any, limit: int,
                  mode: str, snippets: SnippetMaker | None) -> tuple[list[Hit], str | None]:
    if mode == "p" and not s.postgres:
        # Walk the FTS5 index by rowid (publication second, id) downwards; stops after one page.
        sql, params = sqlite_search(s, snapshot, None if a is None else int(a), limit + 1)
        keys = [row[0] for row in await read_rows(session, text(sql), params)]
        more = len(keys) > limit
        keys = keys[:limit]
        articles = await _articles(session, [article_id_of(k) for k in keys])
        nxt = encode_cursor(["p", snapshot, keys[-1], None]) if more else None
        return await _hits(s.p, articles, [None] * len(articles), snippets), nxt
    where = [Article.id <= snapshot, *s.filters(Article), *s.collapse(Article, snapshot)]
    if mode == "p":
        assert s.tsq is not None
        where.append(pg_match("articles", s.tsq))
    if a is not None:
        where.append(tuple_(Article.published_at, Article.id) < tuple_(
            bindparam(None, datetime.fromisoformat(a), type_=Article.published_at.type), int(b)))
    # Plain rows, as _articles reads them (the API encodes a hit's row with its snippet).
    stmt = (select(*Article.__table__.c).where(*where).order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit + 1))
    rows = await read_rows(session, stmt)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([mode, snapshot, rows[-1].published_at, rows[-1].id]) if more else None
    return await _hits(s.p, rows, [None] * len(rows), snippets), nxt


async def _tier(session: AsyncSession, s: SearchPlan, snapshot: int, upper: Any, offset: int, need: int,
                loaded: dict[int, Row[Any]]) -> tuple[list[tuple[int, float]], int, Any]:
    """Rows offset..offset+need of one tier ranked by score; the tier's size and lower bound.
    Articles read on the way go into `loaded`."""
    if s.postgres:
        return await _pg_tier(session, s, snapshot, upper, offset, need, loaded)
    assert s.p.query is not None
    terms = list(dict.fromkeys(s.p.query.positive_terms))
    bound = None if upper is None else int(upper)
    counted: tuple[Sequence[Any], list[list[tuple[int, int, int]]]] | None = None
    if countable(s, bound, terms):  # counts from the index (search_counts), else from the indexed texts
        sql, params = sqlite_search(s, snapshot, bound, TIER_SIZE, "sizes")
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        counted = await run_on_thread(driver, tier_counts, sql, params, terms)
    if counted is None:
        sql, params = sqlite_search(s, snapshot, bound, TIER_SIZE, "texts")
        texts: Sequence[Any] = await read_rows(session, text(sql), params)
        counted = texts, text_counts(texts, terms)
    rows, counts = counted
    low = rows[-1][0] if rows else None  # the oldest row of the tier: the next tier starts after it
    idf = await estimate_idf(session, terms, snapshot)
    scored = sorted(zip(scores([r[1] for r in rows], counts, idf), (r[0] for r in rows), strict=True),
                    key=lambda sk: (-sk[0], sk[1]))
    return [(article_id_of(k), sc) for sc, k in scored[offset:offset + need]], len(rows), low


async def _pg_tier(session: AsyncSession, s: SearchPlan, snapshot: int, upper: Any, offset: int, need: int,
                   loaded: dict[int, Row[Any]]) -> tuple[list[tuple[int, float]], int, Any]:
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

    ts_rank then runs on the tier only. Written out, as sqlite_search is: building this many
    subqueries with SQLAlchemy cost more than running them."""
    assert s.tsq is not None
    sql, params = _pg_tier_sql(s, snapshot, upper)
    params.update({"offset": offset, "need": need})
    rows = await read_rows(session, text(sql).columns(*_PG_TIER_COLUMNS), params)
    if not rows:
        return [], 0, None
    loaded.update((r.id, r) for r in rows)  # the article's columns follow the tier's five
    first = rows[0]
    return ([(r.tier_id, r.tier_score) for r in rows], int(first.tier_size),
            [first.lowest_p.isoformat(), first.lowest_id])


# The tier's rows carry their articles (every column, as _articles reads them), typed so that
# they come back as _articles' rows do: one round trip fewer per page.
_PG_ARTICLE_COLUMNS = ", ".join(f'a."{c.name}"' for c in Article.__table__.c)
_PG_TIER_COLUMNS = (column("tier_id", Integer), column("tier_score", Float), column("tier_size", BigInteger),
                    column("lowest_p", DateTime(timezone=True)), column("lowest_id", Integer),
                    *Article.__table__.c)


def _pg_tier_sql(s: SearchPlan, snapshot: int, upper: Any) -> tuple[str, dict[str, Any]]:
    p = s.p
    params: dict[str, Any] = {"tsq": s.tsq, "snap": snapshot, "tier": TIER_SIZE, "probe_rows": PG_PROBE_ROWS,
                              "walk_rows": PG_WALK_ROWS, "threshold": _walk_threshold(snapshot)}
    exact: list[str] = []  # conditions on an article row {0}: a candidate, or a newer one of its story
    if p.speaker:
        params["speaker"] = normalize_name(p.speaker)
        exact.append("EXISTS (SELECT 1 FROM quotes WHERE quotes.article_id = {0}.id AND quotes.speaker_id = "
                     "(SELECT id FROM speakers WHERE normalized_name = :speaker))")
    if p.published_after is not None:
        params["after"] = aware(p.published_after)
        exact.append("{0}.published_at >= :after")
    if p.published_before is not None:
        params["before"] = aware(p.published_before)
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
        return ("SELECT c.id, c.published_at AS p, c.search_vector AS v FROM (SELECT a.id, a.published_at, a.story_id, "
                "a.search_vector "
                f"FROM articles AS a WHERE {' AND '.join(w.format('a') for w in where)} "
                f"ORDER BY a.published_at DESC, a.id DESC LIMIT :{rows}) AS c "
                f"WHERE {match.format('c')}{collapse.format('c')}{gate} ORDER BY c.published_at DESC, c.id DESC "
                "LIMIT :tier")

    probed, walked = "(SELECT count(*) FROM probe)", "(SELECT count(*) FROM walk)"
    sql = (
        f"WITH probe AS MATERIALIZED ({newest('probe_rows', '')}), "
        f"walk AS MATERIALIZED ({newest('walk_rows', f' AND {probed} < :tier AND {probed} >= :threshold')}), "
        "hits AS MATERIALIZED (SELECT a.id, a.published_at AS p, a.search_vector AS v FROM articles AS a "
        f"WHERE {match.format('a')} AND {' AND '.join(w.format('a') for w in where)}{collapse.format('a')} "
        f"AND {probed} < :tier AND {walked} < :tier), "
        f"tier AS (SELECT id, p, v FROM probe WHERE {probed} >= :tier "
        f"UNION ALL SELECT id, p, v FROM walk WHERE {walked} >= :tier "
        "UNION ALL (SELECT id, p, v FROM hits ORDER BY p DESC, id DESC LIMIT :tier)), "
        f"ranked AS (SELECT t.id, t.p, ts_rank({PG_RANK_WEIGHTS}, t.v, CAST(:tsq AS tsquery)) AS score, "
        "count(*) OVER () AS n FROM tier AS t "
        "ORDER BY score DESC, t.p DESC, t.id DESC OFFSET :offset LIMIT :need) "
        "SELECT ranked.id AS tier_id, ranked.score AS tier_score, ranked.n AS tier_size, lowest.p AS lowest_p, "
        "lowest.id AS lowest_id, "
        f"{_PG_ARTICLE_COLUMNS} FROM ranked JOIN articles AS a ON a.id = ranked.id "
        "CROSS JOIN (SELECT p, id FROM tier ORDER BY p, id LIMIT 1) AS lowest "
        "ORDER BY ranked.score DESC, ranked.p DESC, ranked.id DESC")
    return sql, params


def _walk_threshold(snapshot: int) -> int:
    """Matches among the PG_PROBE_ROWS probed candidates from which walking on costs less than the
    bitmap. At match density d over about `snapshot` articles, the walk reads TIER_SIZE / d rows
    and the bitmap d * snapshot, each bitmap row costing about four walked rows (measured: 0.25 to
    0.6 against 1.5 microseconds, the bitmap rechecks each match on the heap). So walk when
    d > sqrt(TIER_SIZE / (4 * snapshot)): 20 of 1,000 at 200,000 articles, 9 at a million."""
    return max(1, math.ceil(PG_PROBE_ROWS * math.sqrt(TIER_SIZE / (4 * max(snapshot, TIER_SIZE)))))


# Built once, the ids bound as one expanding parameter: building `Article.id.in_(ids)` and its
# cache key on each call cost about a third of reading the page's 20 articles.
_ARTICLES_BY_ID = select(*Article.__table__.c).where(Article.id.in_(bindparam("ids", expanding=True)))


async def _articles(session: AsyncSession, ids: Sequence[int]) -> list[Row[Any]]:
    """Articles by id, in the order given."""
    if not ids:
        return []
    # Plain rows, not ORM objects: a hit is only serialised.
    rows = await read_rows(session, _ARTICLES_BY_ID, {"ids": list(ids)})
    by_id = {a.id: a for a in rows}
    return [by_id[i] for i in ids if i in by_id]


async def _relevance(session: AsyncSession, s: SearchPlan, snapshot: int, upper: Any, offset: int,
                     limit: int, snippets: SnippetMaker | None) -> tuple[list[Hit], str | None]:
    found: list[tuple[int, float]] = []
    loaded: dict[int, Row[Any]] = {}
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
    return await _hits(s.p, articles, [score_of[a.id] for a in articles], snippets), nxt
