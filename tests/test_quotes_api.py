"""Quotes and speakers through the API, after real ingestion of the team's seed site."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx

from app.api.schemas import ExtractedQuote, ExtractResponse
from app.domain.ingest import ArticleDraft
from app.pipeline.quotes import find_quotes
from app.runtime import Runtime
from app.storage.ingest import store_drafts
from tests.feedserver import FeedServer
from tests.test_ingest import serve_team_site


async def ingest_team_site(client: httpx.AsyncClient, feed_server: FeedServer) -> int:
    feed = (await client.post("/v1/feeds", json={"url": serve_team_site(feed_server)})).json()
    result = (await client.post(f"/v1/feeds/{feed['id']}/poll")).json()
    assert result["articles_created"] == 3
    return int(feed["id"])


async def test_quotes_speakers_and_filters(client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    feed_id = await ingest_team_site(client, feed_server)
    quotes = (await client.get("/v1/quotes", params={"limit": 200})).json()["items"]
    assert quotes and all(q["text"] for q in quotes)
    # offsets point into the stored article text
    article = (await client.get(f"/v1/articles/{quotes[0]['article_id']}")).json()
    for q in quotes:
        if q["article_id"] == article["id"]:
            assert article["text"][q["start"]:q["end"]] == q["text"]

    ellison = (await client.get("/v1/quotes", params={"speaker": "margaret ELLISON"})).json()["items"]
    assert ellison and {q["speaker"] for q in ellison} == {"Margaret Ellison"}
    # "Ellison told reporters" is resolved to the full name given earlier
    assert any("nurses and the dock workers" in q["text"] for q in ellison)

    words = (await client.get("/v1/quotes", params={"q": "boats"})).json()["items"]
    assert words and all("boat" in q["text"].lower() for q in words)  # English stemming: boats ~ boat
    assert (await client.get("/v1/quotes", params={"feed_id": feed_id + 1000})).json()["items"] == []
    early = (await client.get("/v1/quotes", params={"until": "2026-11-24T00:00:00Z"})).json()["items"]
    assert early and all(q["published_at"] < "2026-11-24" for q in early)

    speakers = (await client.get("/v1/speakers")).json()["items"]
    names = {s["name"]: s for s in speakers}
    assert "Margaret Ellison" in names and "Anna Kowalczyk" in names
    top = names["Anna Kowalczyk"]
    assert top["quote_count"] >= 2 and top["last_quoted_at"].startswith("2026-11-24")
    one = (await client.get(f"/v1/speakers/{top['id']}/quotes")).json()["items"]
    assert len(one) == top["quote_count"]
    assert (await client.get("/v1/speakers/999999")).status_code == 404


async def test_extract_endpoint_stores_nothing(client: httpx.AsyncClient) -> None:
    text = ("Harbour master Olga Petrenko said the quay would reopen on Monday. "
            "“We have checked every bollard twice,” Petrenko said.")
    response = await client.post("/v1/quotes:extract", json={"text": text})
    assert response.status_code == 200
    (quote,) = response.json()["quotes"]
    assert quote["speaker"] == "Olga Petrenko" and text[quote["start"]:quote["end"]] == quote["text"]
    # the body is encoded in the worker, not by FastAPI: it must still be the documented model, exactly
    assert set(quote) == set(ExtractedQuote.model_fields)
    ExtractResponse.model_validate_json(response.content, strict=True)
    assert (await client.get("/v1/quotes")).json()["items"] == []
    assert (await client.post("/v1/quotes:extract", json={"text": 5})).status_code == 422
    empty = await client.post("/v1/quotes:extract", json={"text": ""})
    assert empty.status_code == 200 and empty.json()["quotes"] == []


async def test_speaker_counts_follow_an_edited_article(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """An edited article replaces its quotes; speaker counts must follow, not keep the old ones."""
    first = ('Harbour master Olga Petrenko said “the quay reopens Monday.” Later Petrenko said “boats may dock.” '
             'Tomas Novak, an engineer, said “the cranes are ready.”')
    edited = 'Harbour master Olga Petrenko said “the quay reopens Tuesday instead.”'
    await store(runtime, draft(first))
    counts = await speaker_counts(client)
    assert counts == {"Olga Petrenko": 2, "Tomas Novak": 1}
    await store(runtime, draft(edited))
    assert await speaker_counts(client) == {"Olga Petrenko": 1, "Tomas Novak": 0}
    for speaker in (await client.get("/v1/speakers")).json()["items"]:
        listed = (await client.get(f"/v1/speakers/{speaker['id']}/quotes")).json()["items"]
        assert len(listed) == speaker["quote_count"]


def draft(text: str) -> ArticleDraft:
    url = "https://harbour.example/quay"
    return ArticleDraft(guid=url, url=url, canonical_url=url, source="harbour.example", title="Quay", summary=None,
                        text=text, byline=None, language="en", published_at=datetime(2026, 11, 24, tzinfo=UTC),
                        body_hash=hashlib.sha256(text.encode()).hexdigest(), simhash=None, extraction="ok",
                        quotes=tuple(find_quotes(text, "Quay")))


async def store(runtime: Runtime, *drafts: ArticleDraft) -> None:
    async with runtime.db.transaction() as session:
        await store_drafts(session, None, drafts, runtime.clock())


async def speaker_counts(client: httpx.AsyncClient) -> dict[str, int]:
    return {s["name"]: s["quote_count"] for s in (await client.get("/v1/speakers")).json()["items"]}


async def test_min_confidence_filters_and_is_bounded(client: httpx.AsyncClient, runtime: Runtime) -> None:
    text = ('“The quay reopens on Monday after the repairs are done,” said harbour master Olga Petrenko. '
            'Nobody could say whether “the boats will be allowed to dock before the storm season begins.”')
    await store(runtime, draft(text))
    every = (await client.get("/v1/quotes")).json()["items"]
    assert len(every) == 2 and min(q["confidence"] for q in every) < 0.9 <= max(q["confidence"] for q in every)
    sure = (await client.get("/v1/quotes", params={"min_confidence": 0.9})).json()["items"]
    assert [q["speaker"] for q in sure] == ["Olga Petrenko"]
    assert all(q["confidence"] >= 0.9 for q in sure)
    assert len((await client.get("/v1/quotes", params={"min_confidence": 0})).json()["items"]) == 2
    for bad in ("1.5", "-0.1", "high"):
        response = await client.get("/v1/quotes", params={"min_confidence": bad})
        assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")


async def test_speakers_are_found_by_part_of_a_name(client: httpx.AsyncClient, runtime: Runtime) -> None:
    text = ('Harbour master Žofia Ørsted-Lind said “the quay reopens Monday.” '
            'Tomas Novak, an engineer, said “the cranes are ready.”')
    await store(runtime, draft(text))

    async def found(**params: str) -> list[str]:
        response = await client.get("/v1/speakers", params=params)
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()["items"]]

    everyone = await found()
    assert "Tomas Novak" in everyone and any("Ørsted" in name for name in everyone)
    # any case, accents and punctuation ignored, any part of the name
    assert await found(q="NOV") == ["Tomas Novak"]
    assert await found(q="zofia") == await found(q="ŽOFIA") == await found(q="ØRSTED lind") != []
    assert await found(q="as no") == ["Tomas Novak"]  # across the space between first and last name
    assert await found(q="quay") == []
    assert await found(q="n_v") == []  # a LIKE wildcard is a plain character (else it would find Novak)
    assert await found(q="") == everyone  # blank: no filter
    assert await found(name="novak") == ["Tomas Novak"]  # the deprecated former name of q

    for params, why in (({"q": "n" * 256}, "at most 255"), ({"q": "no\x00vak"}, "control characters"),
                        ({"q": "?!"}, "letter or digit"), ({"q": "nov", "name": "nov"}, "not both")):
        refused = await client.get("/v1/speakers", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert why in refused.json()["detail"], refused.json()


async def test_speakers_gather_the_titles_later_articles_give_them(runtime: Runtime) -> None:
    """Titles seen in later batches are added to every speaker they name (newest last, ten at most)."""
    from sqlalchemy import select

    from app.storage.dialects import SpeakerMention, upsert_speakers
    from app.storage.models import Speaker

    day = datetime(2026, 11, 24, tzinfo=UTC)

    def said(key: str, *titles: str) -> SpeakerMention:
        return SpeakerMention(key, key.title(), "person", titles, 1, day)

    async with runtime.db.transaction() as session:
        await upsert_speakers(session, [said("olga petrenko", "harbour master"), said("tomas novak")])
    async with runtime.db.transaction() as session:
        await upsert_speakers(session, [said("tomas novak", "engineer"), said("olga petrenko", "harbour master", "mayor"),
                                        said("ida kern", "pilot")])
    async with runtime.db.transaction() as session:
        await upsert_speakers(session, [said("ida kern", *(f"title {n}" for n in range(12)))])
    async with runtime.db.sessions() as session:
        titles = {name: list(t or []) for name, t in (await session.execute(select(Speaker.normalized_name,
                                                                                   Speaker.titles))).all()}
    assert titles["olga petrenko"] == ["harbour master", "mayor"]
    assert titles["tomas novak"] == ["engineer"]
    assert titles["ida kern"] == [f"title {n}" for n in range(2, 12)]  # the ten newest
