"""SQLite relevance: the tier's term counts read from the FTS5 index, not from its texts.

BM25 (app.storage.search_sqlite.scores) needs, for each of the tier's (up to 300) articles, how
often each query term occurs in its indexed title, body and stem keys, and the length of its
title and body. Counting them with ``str.count`` meant reading the tier's whole indexed texts
(about 2 MB for a common word on real news) and scanning them: 5 of a one-word search's 7.7 ms.

The index already knows where each token occurs. An ``fts5vocab`` table of type ``instance``
(one per connection, in the temp schema: no schema change, it reads the live FTS5 index) lists
a token's occurrences as (article key, column, offset) in key order, which is the tier's newest
first order, so a term's occurrences in the tier are read by walking its doclist from the start
and stopping after the tier's oldest key (`countable` says when that stays within the tier). The lengths come from ``articles_fts_size`` (written
beside each FTS5 row, migration 0010): the texts are not read at all.

Same counts, same scores, same order (checked on the bench corpus: 200 one-word searches, two
pages each, identical ids and scores): a word's count in a column is its number of instances
there. Only words of ASCII letters and digits take this way (FTS5's tokenizer and the analyser
agree on those by construction), and only where the walk stays within the tier (`countable`);
a word whose doclist holds many more articles than the tier before its oldest key (a common word
ANDed with a rare one) would cost more to walk than the texts: past its budget of articles the
caller counts in the texts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from app.domain.query import Term
from app.storage.search_plan import SearchPlan

VOCAB = "temp.articles_fts_instances"
_CREATE_VOCAB = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB} "
                 "USING fts5vocab('main', 'articles_fts', 'instance')")
_COLUMNS = {"title": 0, "body": 1, "stems": 2}  # meta (filter tokens) is never counted
# A word's walk may pass this many articles per tier article (plus WALK_SLACK) before counting in
# the texts is cheaper: one word's walk is its tier; several ANDed words, each walked down to the
# tier's oldest key, pass the articles that hold one but not the others.
WALK_FACTOR = 1.5
WALK_SLACK = 20

# Per article: (title, body, stems) counts of each term.
Counts = dict[int, list[float]]


def countable(s: SearchPlan, upper: int | None, terms: Sequence[Term]) -> bool:
    """Whether the index's instances give the tier's counts cheaply.

    The terms: words of ASCII letters and digits (no phrase, no prefix: a phrase is rarer than
    its words, so walking its words reads many articles outside the tier). The tier: the newest
    matches of the whole index, so that each word's walk from its newest occurrence stays in it:
    the first tier (no `upper`), no filter that thins the matches out (source, language, quotes,
    feed, speaker, story collapsing) and no upper date bound (its newest matches would be walked
    past). A lower date bound only ends the tier sooner.
    """
    p = s.p
    if (upper is not None or p.published_before is not None or p.source or p.language or p.has_quotes is not None
            or p.feed_id is not None or p.speaker or p.collapse_story):
        return False
    return all(len(t.tokens) == 1 and not t.prefix and t.tokens[0].isascii() and t.tokens[0].isalnum()
               and (not t.stemmed or (t.key.isascii() and t.key.isalnum())) for t in terms)


class _OverBudget(Exception):
    pass


def _walk(conn: sqlite3.Connection, token: str, low: int, budget: int) -> dict[int, list[int]]:
    """key -> [occurrences in title, body, stems] of `token`, for keys up to `low` (the tier's
    oldest), in at most `budget` articles."""
    out: dict[int, list[int]] = {}
    cursor = conn.execute(f"SELECT doc, col FROM {VOCAB} WHERE term = ?", (token,))
    try:
        for doc, col in cursor:
            if doc > low:
                break
            c = _COLUMNS.get(col)
            if c is None:
                continue
            found = out.get(doc)
            if found is None:
                if len(out) >= budget:
                    raise _OverBudget
                found = out[doc] = [0, 0, 0]
            found[c] += 1
    finally:
        cursor.close()
    return out


def _walks(conn: sqlite3.Connection, terms: Sequence[Term], low: int, budget: int) -> dict[str, dict[int, list[int]]]:
    tokens = {t.tokens[0] for t in terms} | {t.key for t in terms if t.stemmed}
    try:
        return {token: _walk(conn, token, low, budget) for token in tokens}
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        conn.execute(_CREATE_VOCAB)  # this connection's first walk
        return {token: _walk(conn, token, low, budget) for token in tokens}


def tier_counts(conn: sqlite3.Connection, sql: str, params: dict[str, Any], terms: Sequence[Term]
                ) -> tuple[list[tuple[Any, ...]], list[list[tuple[int, int, int]]]] | None:
    """On the connection's thread: the tier's rows (key, title + body length) and, per row, each
    term's (title, body, stem-key) counts, as app.storage.search_sqlite.text_counts counts them in
    the texts (a word's occurrences in title and body; its stem key's in the stem keys). None when
    a length is missing (an index row written without one) or a walk would pass its budget: then
    the caller counts in the texts."""
    if conn.in_transaction:
        return _tier_counts(conn, sql, params, terms)
    # One read transaction: the tier, its lengths and the walks see the same snapshot (WAL), so an
    # article re-indexed meanwhile cannot give counts of one text and the length of another.
    conn.execute("BEGIN")
    try:
        return _tier_counts(conn, sql, params, terms)
    finally:
        conn.execute("COMMIT")


def _tier_counts(conn: sqlite3.Connection, sql: str, params: dict[str, Any], terms: Sequence[Term]
                 ) -> tuple[list[tuple[Any, ...]], list[list[tuple[int, int, int]]]] | None:
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        return rows, []
    if any(r[1] is None for r in rows):
        return None
    try:
        walks = _walks(conn, terms, rows[-1][0], int(WALK_FACTOR * len(rows)) + WALK_SLACK)
    except _OverBudget:
        return None
    none = [0, 0, 0]
    out = []
    for r in rows:
        key = r[0]
        counts = []
        for t in terms:
            title, body, _ = walks[t.tokens[0]].get(key, none)
            counts.append((title, body, walks[t.key].get(key, none)[2] if t.stemmed else 0))
        out.append(counts)
    return rows, out
