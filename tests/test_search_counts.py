"""SQLite relevance: term counts read from the FTS5 index (app.storage.search_counts) give the
same scores and order as counting in the indexed texts, and the lengths they need follow the index.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.config import Settings
from app.runtime import Runtime
from tests.conftest import make_settings
from tests.test_search import _draft, _store

# Invented harbour news: words repeated in titles and bodies, inflections that match only by their
# stem key, a name that is never stemmed, texts of different lengths.
ARTICLES = [
    _draft(1, "Ferry strike in Harbourton", "The ferry crews said the ferry would not sail. Ferries stayed in port.",
           hours=1),
    _draft(2, "Harbour news", "Sailing was cancelled. The sailors sailed home early. " * 3, hours=2),
    _draft(3, "Ferry timetable", "A new ferry timetable starts in May with two ferry crossings a day.", hours=3),
    _draft(4, "Jane Roe visits", "Jane Roe, the harbour master, said the sailing season opens soon.", hours=4),
    _draft(5, "Weather", "Strong winds. " * 20 + "The ferry sailed anyway.", hours=5),
    _draft(6, "Port of Harbourton", "Harbourton port handled more cargo than ever, the ferry company said.",
           hours=6),
    _draft(7, "Ferries ferry ferry", "ferry ferry ferry ferry", hours=7),
]

QUERIES = ["ferry", "sail", "sailing", "Harbourton", "harbourton", "said", "ferry port", "ferry OR sailing",
           "ferry -weather", "strong"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    # each query is asked twice, the second time to see which way the search counted: the second
    # answer must not come from the response cache
    return make_settings(database_url, read_cache_mb=0)


@pytest.fixture
async def sqlite_corpus(runtime: Runtime) -> None:
    if runtime.db.dialect != "sqlite":
        pytest.skip("the FTS5 index is SQLite's")
    await _store(runtime, ARTICLES)


async def _ranked(client: httpx.AsyncClient, q: str) -> list[tuple[str, float]]:
    response = await client.get("/v1/articles", params={"q": q})
    assert response.status_code == 200, response.text
    return [(i["title"], i["score"]) for i in response.json()["items"]]


def _count_paths(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per tier, whether its counts came from the index."""
    from app.storage import search, search_counts

    used: list[bool] = []
    real = search_counts.tier_counts

    def spy(*args: Any) -> Any:
        out = real(*args)
        used.append(out is not None)
        return out
    monkeypatch.setattr(search, "tier_counts", spy)
    return used


async def _by_texts(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, q: str) -> list[tuple[str, float]]:
    from app.storage import search

    with monkeypatch.context() as m:
        m.setattr(search, "countable", lambda *args: False)
        return await _ranked(client, q)


@pytest.mark.parametrize("q", QUERIES)
async def test_index_counts_rank_as_text_counts(client: httpx.AsyncClient, sqlite_corpus: None,
                                                 monkeypatch: pytest.MonkeyPatch, q: str) -> None:
    expected = await _by_texts(client, monkeypatch, q)
    used = _count_paths(monkeypatch)
    assert await _ranked(client, q) == expected
    assert expected and used == [True]


async def test_filters_and_phrases_count_in_the_texts(client: httpx.AsyncClient, sqlite_corpus: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    used = _count_paths(monkeypatch)
    for params in ({"q": '"ferry timetable"'}, {"q": "ferr*"}, {"q": "ferry", "source": "example.com"},
                   {"q": "ferry", "collapse": "story"}):
        response = await client.get("/v1/articles", params=params)
        assert response.status_code == 200 and response.json()["items"], params
    assert used == []


async def test_a_walk_past_its_budget_counts_in_the_texts(client: httpx.AsyncClient, sqlite_corpus: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app.storage import search_counts

    expected = await _by_texts(client, monkeypatch, "ferry said")
    used = _count_paths(monkeypatch)
    monkeypatch.setattr(search_counts, "WALK_FACTOR", 0)
    monkeypatch.setattr(search_counts, "WALK_SLACK", 1)
    assert await _ranked(client, "ferry said") == expected
    assert used == [False]


async def test_a_missing_length_counts_in_the_texts(client: httpx.AsyncClient, runtime: Runtime,
                                                    sqlite_corpus: None, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = await _by_texts(client, monkeypatch, "ferry")
    async with runtime.db.transaction() as session:
        await session.execute(text("DELETE FROM articles_fts_size WHERE key = (SELECT min(key) FROM articles_fts_size)"))
    used = _count_paths(monkeypatch)
    assert await _ranked(client, "ferry") == expected
    assert used == [False]


async def _lengths(runtime: Runtime) -> tuple[int, int, int]:
    """(index rows, length rows, index rows whose length is not their texts')."""
    async with runtime.db.reading() as session:
        row = (await session.execute(text(
            "SELECT (SELECT count(*) FROM articles_fts), (SELECT count(*) FROM articles_fts_size), "
            "(SELECT count(*) FROM articles_fts AS f LEFT JOIN articles_fts_size AS s ON s.key = f.rowid "
            "WHERE s.chars IS NOT length(f.title) + length(f.body))"))).one()
    return int(row[0]), int(row[1]), int(row[2])


async def test_lengths_follow_the_index(client: httpx.AsyncClient, runtime: Runtime, sqlite_corpus: None) -> None:
    from sqlalchemy import delete, update

    from app.storage.models import Article
    from app.storage.reindex import reindex

    assert await _lengths(runtime) == (len(ARTICLES), len(ARTICLES), 0)
    async with runtime.db.transaction() as session:
        await session.execute(delete(Article).where(Article.title == "Weather"))
        await session.execute(update(Article).where(Article.title == "Harbour news")
                              .values(published_at=ARTICLES[0].published_at))
    assert await _lengths(runtime) == (len(ARTICLES) - 2, len(ARTICLES) - 2, 0)  # the moved one awaits reindexing
    await _store(runtime, [_draft(1, "Ferry strike in Harbourton", "The ferry strike ended.", hours=1)])
    assert await _lengths(runtime) == (len(ARTICLES) - 2, len(ARTICLES) - 2, 0)  # an update replaces both
    async with runtime.db.transaction() as session:
        await reindex(session, processes=0)
    assert await _lengths(runtime) == (len(ARTICLES) - 1, len(ARTICLES) - 1, 0)
