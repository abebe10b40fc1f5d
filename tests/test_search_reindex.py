"""Search: `reindex` (analysis in a process pool) gives the index that ingestion's in-transaction
indexing gave, row for row, and so the same search answers; on whichever database the session uses.
PostgreSQL's relevance tier is found by a bounded walk or by the GIN fallback, with one answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.runtime import Runtime
from tests.test_search import CORPUS, LONG, T0, _draft, _store, _titles

QUERIES: list[dict[str, Any]] = [
    {"q": "carbon"}, {"q": "carbon tax"}, {"q": '"carbon tax"'}, {"q": "wind OR solar"}, {"q": "budget -opinion"},
    {"q": "electri*"}, {"q": "protesting"}, {"q": "Gates"}, {"q": "gate"}, {"q": "augmentent"},
    {"q": "regional budget", "collapse": "story"}, {"q": "carbon", "sort": "published"},
    {"q": "wind OR solar", "language": "en"}, {"q": "wind OR solar", "source": "news.example.org"},
    {"q": "levy", "has_quotes": True}, {"q": "carbon", "speaker": "Anna Berg"}, {"q": "the", "limit": 3},
]


async def _answers(client: httpx.AsyncClient) -> list[list[tuple[Any, ...]]]:
    out = []
    for params in QUERIES:
        response = await client.get("/v1/articles", params=params)
        assert response.status_code == 200, response.text
        out.append([(i["id"], i["score"], i["snippet"]) for i in response.json()["items"]])
    return out


async def _index_rows(runtime: Runtime) -> list[tuple[Any, ...]]:
    async with runtime.db.transaction() as session:
        if runtime.db.dialect == "postgresql":
            sql = "SELECT id, search_vector::text FROM articles ORDER BY id"
        else:
            sql = "SELECT rowid, title, body, stems, meta FROM articles_fts ORDER BY rowid"
        return [tuple(r) for r in (await session.execute(text(sql))).all()]


@pytest.mark.parametrize("processes", [0, 2])
async def test_reindex_equals_the_in_transaction_index(client: httpx.AsyncClient, runtime: Runtime,
                                                       processes: int) -> None:
    from app.storage.reindex import reindex

    await _store(runtime, CORPUS)
    await _store(runtime, [_draft(300 + i, f"Ferry {i} crossing", f"The ferry sailed {i} times. Said Olga Ek.",
                                  hours=20 + i, language=None if i % 2 else "en-GB") for i in range(9)])
    index_before = await _index_rows(runtime)
    answers_before = await _answers(client)
    assert len(index_before) == len(CORPUS) + 9 and any(answers_before)
    seen: list[int] = []
    async with runtime.db.transaction() as session:
        # batch=4 with a pool: several batches in flight, written in order
        assert await reindex(session, batch=4, progress=seen.append, processes=processes) == len(index_before)
    assert sum(seen) == len(index_before) and max(seen) == 4
    assert await _index_rows(runtime) == index_before
    assert await _answers(client) == answers_before


async def test_reindex_drops_rows_of_no_article(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """A stale index row (SQLite's separate table) is gone after a rebuild; the table's options stay."""
    from app.storage.reindex import reindex

    await _store(runtime, CORPUS)
    expected = await _index_rows(runtime)
    if runtime.db.dialect != "postgresql":
        async with runtime.db.transaction() as session:
            await session.execute(text("INSERT INTO articles_fts (rowid, title, body, stems, meta) "
                                       "VALUES (1, 'carbon', '', '', '')"))
            await session.execute(text("INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 6)"))
    async with runtime.db.transaction() as session:
        await reindex(session, processes=0)
    assert await _index_rows(runtime) == expected
    async with runtime.db.transaction() as session:  # the index still follows deletions
        await session.execute(text("DELETE FROM articles WHERE title = 'Carbon tax approved'"))
    assert len(await _index_rows(runtime)) == len(expected) - 1
    assert set(await _titles(client, q="carbon tax")) == {"Tax on carbon debated"}
    if runtime.db.dialect != "postgresql":
        async with runtime.db.transaction() as session:
            options: dict[str, Any] = dict((await session.execute(text("SELECT k, v FROM articles_fts_config"))).all())
        assert options.get("automerge") == 6


@pytest.mark.parametrize(("probe", "walk", "threshold"), [
    (100_000, 100_000, 1),  # the probe fills each tier
    (2, 100_000, 0),  # the probe does not, the walk does
    (1, 3, 0),  # neither: the bitmap
    (3, 8, 0),
    (2, 100_000, 10**9),  # the probe's matches are too sparse to walk on: the bitmap
])
async def test_relevance_tier_ways_agree(client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                                         probe: int, walk: int, threshold: int) -> None:
    """Every page of a relevance search is the same whichever way finds the newest tier (PostgreSQL's
    probe, walk or GIN bitmap; SQLite has one way, and must give the same pages too)."""
    from app.storage import search

    monkeypatch.setattr(search, "TIER_SIZE", 4)
    await _store(runtime, [_draft(400 + i, f"Boat {i}", " ".join(["ferry"] * (1 + i % 3) + ["sea"] * (3 - i % 3))
                                  + (" harbour" if i % 4 == 0 else ""), hours=i, source=f"s{i % 2}.example")
                           for i in range(15)])
    await _store(runtime, [_draft(450 + i, f"Ferry story {i}", LONG + f" Sea ferry sea report {i}.", hours=2.5 + 5 * i,
                                  simhash=0x1234_5678_9ABC_DEF0) for i in range(3)])

    async def pages(**params: Any) -> list[tuple[str, float]]:
        seen: list[tuple[str, float]] = []
        cursor = None
        while True:
            body = (await client.get("/v1/articles", params={**params, "limit": 3,
                                                             **({"cursor": cursor} if cursor else {})})).json()
            seen += [(i["title"], i["score"]) for i in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                return seen

    window = {"published_after": (T0 - timedelta(hours=12)).isoformat(),
              "published_before": (T0 - timedelta(hours=1, minutes=30)).isoformat()}
    cases: list[dict[str, Any]] = [
        {"q": "ferry"}, {"q": "ferry sea"}, {"q": "ferry harbour"}, {"q": "ferry", "source": "s1.example"},
        {"q": "sea", "collapse": "story"}, {"q": "ferry -harbour"}, {"q": "ferry", **window},
        {"q": "ferry OR sea", "collapse": "story", **window}]
    monkeypatch.setattr(search, "PG_PROBE_ROWS", 1)
    monkeypatch.setattr(search, "_walk_threshold", lambda snapshot: 10**9)
    expected = [await pages(**c) for c in cases]  # the bitmap alone
    monkeypatch.setattr(search, "PG_PROBE_ROWS", probe)
    monkeypatch.setattr(search, "PG_WALK_ROWS", walk)
    monkeypatch.setattr(search, "_walk_threshold", lambda snapshot: threshold)
    assert [await pages(**c) for c in cases] == expected
    assert sorted(t for t, _ in expected[0]) == sorted([f"Boat {i}" for i in range(15)]
                                                       + [f"Ferry story {i}" for i in range(3)])
    assert len(expected[4]) < len(expected[0])  # stories collapsed
