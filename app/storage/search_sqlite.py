"""SQLite's search statement, written out (FTS5 rowid order is the search key's order), and the
BM25 score computed from the per-term counts it returns, with an IDF estimated from a sample.
app.storage.search describes the whole design.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.fulltext import fts5_term
from app.domain.names import normalize_name
from app.domain.query import Term
from app.storage.search_index import ID_BITS, ID_MASK, aware, second_key
from app.storage.search_plan import SearchPlan

IDF_SAMPLE = 2000
BM25_K1, BM25_B = 1.2, 0.75


# search_key in SQL, clamped to 1970..2106 as _second_key is (as the triggers of migration 0004 are):
# unclamped, an article dated 2200 had a key no index row has, and collapse=story kept its older
# story-mates. PostgreSQL has no key: its index is a column of the article row.
_SQLITE_KEY = ("(((4294967296 - MIN(4294967296, MAX(0, CAST(strftime('%s', {0}.published_at) AS INTEGER)))) << 30) "
               "| (1073741823 - {0}.id))")


def _sqlite_time(value: datetime) -> str:
    return aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as UTCDateTime stores it


def sqlite_search(s: SearchPlan, snapshot: int, upper: int | None, limit: int,
                   terms: Sequence[Term] | None) -> tuple[str, dict[str, Any]]:
    """One walk down the FTS5 index, newest first, written out: SQLAlchemy would compile a new
    statement for each query shape, which costs more than the search. Every value is bound.

    Source, language, has-quotes and feed are in the MATCH (the meta column); whole-second date
    bounds are rowid bounds. Articles are joined only for what the index cannot answer: speaker,
    story collapsing, sub-second date bounds. With `terms`, the columns scores needs are added.
    """
    p = s.p
    params: dict[str, Any] = {"m": s.fts, "mask": ID_MASK, "snap": snapshot, "limit": limit}
    columns = ["f.rowid"]
    if terms is not None:
        # The indexed texts, for scores to count the terms in: str.count in Python costs half
        # of SQLite's replace() over the same 300 texts.
        columns += ["length(f.title)", "length(f.body)", "f.title", "f.body", "f.stems"]
    params["lowest_low_bits"] = ID_MASK - snapshot  # article id <= snapshot
    where = ["f.articles_fts MATCH :m", "(f.rowid & :mask) >= :lowest_low_bits"]
    exact: list[str] = []  # conditions on an article row {0}: the hit, or a newer one of its story
    if upper is not None:
        where.append("f.rowid > :upper")
        params["upper"] = upper
    if p.published_after is not None:
        after = aware(p.published_after)
        params["khi"] = (second_key(after) + 1) << ID_BITS  # seconds >= after's
        where.append("f.rowid < :khi")
        if after.microsecond:
            params["after"] = _sqlite_time(after)
            exact.append("{0}.published_at >= :after")
    if p.published_before is not None:
        before = aware(p.published_before)
        # seconds < before's, or <= when before has a fraction (then checked exactly)
        params["klo"] = (second_key(before) + (0 if before.microsecond else 1)) << ID_BITS
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


async def estimate_idf(session: AsyncSession, terms: Sequence[Term], snapshot: int) -> list[float]:
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


def scores(rows: Sequence[Any], terms: Sequence[Term], idf: Sequence[float]) -> list[float]:
    """BM25 over weighted term counts (title 4, body 1, stem keys 0.5), document length in
    characters. Rows are (key, title length, body length, title, body, stems): a term's count in
    a column is its occurrences in the space-padded column text (tokens are separated by two
    spaces, so a term matches whole tokens; a prefix term leaves its last token open)."""
    plan = []
    for term, weight in zip(terms, idf, strict=True):
        needle = " " + "  ".join(term.tokens) + ("" if term.prefix else " ")
        plan.append((needle, f" {term.key} " if term.stemmed else None, weight))
    average = sum((r[1] or 0) + (r[2] or 0) for r in rows) / max(1, len(rows)) or 1.0
    k1, b = BM25_K1, BM25_B
    out = []
    for r in rows:
        norm = k1 * (1 - b + b * ((r[1] or 0) + (r[2] or 0)) / average)
        title, body, stems = (f" {text} " if text is not None else "" for text in r[3:6])
        score = 0.0
        for needle, stem_needle, weight in plan:
            tf = float(4 * title.count(needle) + body.count(needle))
            if stem_needle is not None:
                tf += 0.5 * stems.count(stem_needle)
            if tf:
                score += weight * tf * (k1 + 1) / (tf + norm)
        out.append(round(score, 6))
    return out
