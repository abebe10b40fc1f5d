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
from app.storage.rows import read_rows
from app.storage.search_index import ID_BITS, ID_MASK, SIZES, aware, second_key
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
                   columns_for: str | None = None) -> tuple[str, dict[str, Any]]:
    """One walk down the FTS5 index, newest first, written out: SQLAlchemy would compile a new
    statement for each query shape, which costs more than the search. Every value is bound.

    Source, language, has-quotes and feed are in the MATCH (the meta column); whole-second date
    bounds are rowid bounds. Articles are joined only for what the index cannot answer: speaker,
    story collapsing, sub-second date bounds. `columns_for` adds the columns scoring needs:
    "texts" the indexed texts (`text_counts`), "sizes" their length only (app.storage.search_counts).
    """
    p = s.p
    params: dict[str, Any] = {"m": s.fts, "mask": ID_MASK, "snap": snapshot, "limit": limit}
    columns = ["f.rowid"]
    if columns_for == "texts":
        # The indexed texts, for text_counts to count the terms in: str.count in Python costs half
        # of SQLite's replace() over the same 300 texts.
        columns += ["coalesce(length(f.title), 0) + coalesce(length(f.body), 0)", "f.title", "f.body", "f.stems"]
    elif columns_for == "sizes":  # a subquery: looked up for the rows returned only
        columns.append(f"(SELECT chars FROM {SIZES} WHERE {SIZES}.key = f.rowid)")
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
    counted: Sequence[Any] = await read_rows(session, text(" UNION ALL ".join(parts)), params)
    for j, n, lo, hi in counted:
        df = float(n) if n < IDF_SAMPLE else min(total, n * total / max(1, (hi or 0) - (lo or 0) + 1))
        out[j] = math.log(1 + (total - df + 0.5) / (df + 0.5))
    return out


def text_counts(rows: Sequence[Any], terms: Sequence[Term]) -> list[list[tuple[int, int, int]]]:
    """Per row, each term's (title, body, stem-key) counts, counted in the texts. Rows are (key,
    length, title, body, stems): a term's count in a column is its occurrences in the space-padded
    column text (tokens are separated by two spaces, so a term matches whole tokens; a prefix term
    leaves its last token open)."""
    plan = [(" " + "  ".join(term.tokens) + ("" if term.prefix else " "),
             f" {term.key} " if term.stemmed else None) for term in terms]
    out = []
    for r in rows:
        title, body, stems = (f" {text} " if text is not None else "" for text in r[2:5])
        out.append([(title.count(needle), body.count(needle), stems.count(stem) if stem is not None else 0)
                    for needle, stem in plan])
    return out


def scores(lengths: Sequence[int | None], counts: Sequence[Sequence[tuple[int, int, int]]],
           idf: Sequence[float]) -> list[float]:
    """BM25 over weighted term counts (title 4, body 1, stem keys 0.5), document length in
    characters of the indexed title and body; `counts` per row, each term's (title, body,
    stem-key) counts (`text_counts`, or app.storage.search_counts from the index)."""
    average = sum(n or 0 for n in lengths) / max(1, len(lengths)) or 1.0
    k1, b = BM25_K1, BM25_B
    out = []
    for length, row in zip(lengths, counts, strict=True):
        norm = k1 * (1 - b + b * (length or 0) / average)
        score = 0.0
        for (title, body, stems), weight in zip(row, idf, strict=True):
            tf = float(4 * title + body) + 0.5 * stems
            if tf:
                score += weight * tf * (k1 + 1) / (tf + norm)
        out.append(round(score, 6))
    return out
