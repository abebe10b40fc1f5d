"""Search: the query language (pure), the Python matcher, and one contract suite over the HTTP API
that runs on whichever database the test session uses (SQLite by default, PostgreSQL in CI).

Articles go in through app.storage.ingest.store_drafts, so the index path under test is the real one.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import InvalidQueryError
from app.domain.fulltext import to_fts5, to_tsquery
from app.domain.ingest import ArticleDraft
from app.domain.query import (
    IndexText,
    Term,
    analyze,
    compile_matcher,
    index_text,
    parse_query,
    stem,
    tokens,
)
from app.domain.quotes import Quote
from app.domain.snippets import snippet
from app.runtime import Runtime
from app.storage.ingest import store_drafts
from app.storage.search_index import IndexDocument, index_document

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- parse_query
@pytest.mark.parametrize(("q", "required", "excluded"), [
    ("climate", [[("climate",)]], []),
    ("Climate summit", [[("climate",)], [("summit",)]], []),
    ('"carbon tax" levy', [[("carbon", "tax")], [("levy",)]], []),
    ("wind OR solar power", [[("wind",), ("solar",)], [("power",)]], []),
    ("budget -opinion -\"op ed\"", [[("budget",)]], [("opinion",), ("op", "ed")]),
    ("électri*", [[("electri",)]], []),
    ("covid-19", [[("covid", "19")]], []),
    ("NEAR(a b) ^ title:foo", [[("near", "a")], [("b",)], [("title", "foo")]], []),
    ("'; DROP TABLE articles; --", [[("drop",)], [("table",)], [("articles",)]], []),
])
def test_parse_query(q: str, required: list[list[tuple[str, ...]]], excluded: list[tuple[str, ...]]) -> None:
    query = parse_query(q)
    assert [[t.tokens for t in c.alternatives] for c in query.required] == required
    assert [t.tokens for t in query.excluded] == excluded


def test_parse_query_flags() -> None:
    q = parse_query('running Gates electri* "Bill Gates"')
    assert [t.stemmed for t in q.positive_terms] == [True, False, False, False]
    assert [t.prefix for t in q.positive_terms] == [False, False, True, False]


@pytest.mark.parametrize(("q", "message"), [
    ('"carbon tax', "not closed"),
    ("*", "'*' must follow a word"),
    ("a*", "at least 2 letters"),
    ("-opinion -sport", "only excluded terms"),
    ("", "no words"),
    ("^ ( )", "no words"),
    ("OR tax", "OR needs"),
    ("tax OR", "OR needs"),
    ("tax OR -vat", "OR cannot join an excluded term"),
    ("x" * 501, "too long"),
    (" ".join(["word"] * 33), "too many terms"),
    ("tax\x00", "control character U+0000"),
    ("tax\x1b[31m", "control character U+001B"),
])
def test_parse_query_refuses(q: str, message: str) -> None:
    with pytest.raises(InvalidQueryError, match=re.escape(message)):
        parse_query(q)


def test_compiled_expressions_quote_every_token() -> None:
    q = parse_query('tax "carbon levy" -vat ener* Gates')
    assert to_fts5(q) == ('((({title body} : "tax" OR stems : "tax")) AND ({title body} : "carbon levy") '
                          'AND ({title body} : "ener" *) AND ({title body} : "gates")) '
                          'NOT ({title body} : "vat" OR stems : "vat")')
    assert to_tsquery(q) == ("(('tax':AB | 'tax':D)) & (('carbon':AB <-> 'levy':AB)) & ('ener':*AB) "
                             "& ('gates':AB) & !('vat':AB | 'vat':D)")


@pytest.mark.parametrize(("word", "key"), [
    ("protests", "protest"), ("protesting", "protest"), ("protested", "protest"), ("policies", "policy"),
    ("running", "run"), ("falling", "fall"), ("houses", "hous"), ("housing", "hous"), ("news", "news"),
    ("bus", "bus"), ("Zürich".casefold(), "zürich"),
])
def test_stem(word: str, key: str) -> None:
    assert stem(word) == key


# ---------------------------------------------------------------- compile_matcher
@pytest.mark.parametrize(("q", "text", "expected"), [
    ("climate summit", "The climate summit opened.", True),
    ("climate summit", "The climate talks opened.", False),
    ('"carbon tax"', "A new carbon tax was announced", True),
    ('"carbon tax"', "A tax on carbon was announced", False),
    ("wind OR solar", "Solar farms grow", True),
    ("wind OR solar", "Coal plants close", False),
    ("budget -opinion", "Budget: an opinion", False),
    ("budget -opinion", "Budget passes", True),
    ("electri*", "Electricity prices rise", True),
    ("electri*", "Elections loom", False),
    ("zurich cafe", "Un café à Zürich", True),
    ("ÉTÉ", "un ete chaud", True),
    ("protesting", "Thousands joined the protests.", True),
    ("gate", "Bill Gates said so.", False),           # a name is not stemmed in the text
    ("gate", "The garden gates were open.", True),
    ("Gates", "The garden gate was open.", False),    # a capitalised query word is exact
    ("Gates", "Bill Gates said so.", True),
    ('"bill gates"', "Bill Gates said so.", True),
])
def test_compile_matcher(q: str, text: str, expected: bool) -> None:
    assert compile_matcher(q)(text) is expected


def test_compile_matcher_refuses_bad_queries() -> None:
    with pytest.raises(InvalidQueryError):
        compile_matcher('"open')


def test_snippet_marks_matches_and_escapes() -> None:
    text = "Intro. " + "filler " * 60 + "The <b>carbon</b> tax rose; taxes again." + " tail" * 60
    out = snippet(parse_query("tax"), "title", text)
    assert out is not None
    assert "<mark>tax</mark>" in out and "<mark>taxes</mark>" in out
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert out.startswith("…") and out.endswith("…")


@pytest.mark.parametrize("query", ["tax", '"carbon tax"', "tax*", "rise"])
def test_snippet_of_long_text_with_curly_quotes_is_the_plain_quotes_one(query: str) -> None:
    # Curly quotes and dashes only separate words: the snippet is found near the first match as
    # on plain-ASCII text (not by analysing the whole text), with the same marks.
    plain = ("Opening words. " + "filler words here " * 80 + '"The carbon tax rose," she said - taxes rise. '
             + "closing words " * 80 + "tax at the end.")
    curly = plain.replace('"The', "\u201cThe").replace('rose,"', "rose,\u201d").replace(" - ", " \u2014 ")
    out_plain, out_curly = snippet(parse_query(query), None, plain), snippet(parse_query(query), None, curly)
    assert out_plain is not None and out_curly is not None and "<mark>" in out_curly
    back = out_curly.replace("\u201c", "&quot;").replace("\u201d", "&quot;").replace(" \u2014 ", " - ")
    assert back == out_plain


@pytest.mark.parametrize("query", ["tax", '"carbon tax"', "rise"])
def test_snippet_of_a_match_near_the_end_of_a_long_text_marks_every_match_to_the_end(query: str) -> None:
    # The first match lies in the text's last 240 characters: the excerpt runs to the text's end
    # with every match in it marked, as analysing the whole text gives.
    text = "Opening words. " + "filler words here " * 80 + "Then the carbon tax rose; taxes rise again, tax."
    out = snippet(parse_query(query), None, text)
    assert out is not None and out.startswith("…")
    assert out.endswith({"tax": "<mark>tax</mark> rose; <mark>taxes</mark> rise again, <mark>tax</mark>.",
                         '"carbon tax"': "<mark>carbon tax</mark> rose; taxes rise again, tax.",
                         "rise": "tax rose; taxes <mark>rise</mark> again, tax."}[query])


def test_snippet_of_a_phrase_whose_first_word_comes_earlier_alone() -> None:
    text = "Carbon prices fell. " + "filler words here " * 80 + "Then the carbon  tax rose. " + "closing " * 80
    out = snippet(parse_query('"carbon tax"'), None, text)
    assert out is not None and "<mark>carbon  tax</mark>" in out and "prices" not in out


def test_snippet_after_many_words_that_only_look_like_a_match() -> None:
    # "policy" starts like the stem of "police" but is no match: the snippet skips each of them
    # (one small window each) and marks the real match far into the text, as analysing it whole would.
    text = "Opening words. " + "".join(f"The policy number {i} of Norbury was read aloud. " * 3 for i in range(30)) \
        + "Then the police of Norbury arrived. " + "closing words " * 60
    out = snippet(parse_query("police"), "Norbury council", text)
    assert out is not None and "<mark>police</mark>" in out and "policy" not in out.split("<mark>")[1]


def test_snippet_of_a_title_only_match_after_a_long_text_of_look_alikes() -> None:
    text = "Opening words. " + "The policy of Norbury stood. " * 200
    assert snippet(parse_query("police"), "Norbury police report", text) == "Norbury <mark>police</mark> report"


def test_snippet_of_long_text_with_accents_marks_the_folded_match() -> None:
    text = "Opening words. " + "filler words here " * 80 + "They met at the Café Central. " + "closing " * 80
    out = snippet(parse_query("cafe"), None, text)
    assert out is not None and "<mark>Café</mark>" in out


def test_snippet_of_long_text_with_an_accented_word_before_the_plain_match_marks_the_accented_one() -> None:
    text = ("Opening words. The Café Central opened. " + "filler words here " * 80 + "Later the cafe closed. "
            + "closing " * 80)
    out = snippet(parse_query("cafe"), None, text)
    assert out is not None and "<mark>Café</mark>" in out and "closed" not in out


def test_snippet_of_a_phrase_with_an_accented_word_before_its_plain_spelling_marks_the_first() -> None:
    text = ("Opening words. The carbon täx was new. " + "filler words here " * 80 + "Then the carbon tax rose. "
            + "closing " * 80)
    out = snippet(parse_query('"carbon tax"'), None, text)
    assert out is not None and "<mark>carbon täx</mark>" in out and "rose" not in out


def test_snippet_of_long_text_with_accents_only_after_the_match_is_the_plain_text_one() -> None:
    # Accented words after the first match cannot move it: the text is analysed around the match
    # (not whole, which costs milliseconds on a long article), with the same marks as without them.
    head = "Opening words. " + "filler words here " * 80 + "The carbon tax rose; taxes rise. "
    plain = head + "closing words " * 80 + "tax in the end."
    accented = head + "closing words " * 30 + "the Zürich café " + "closing words " * 50 + "tax in the end."
    query = parse_query("tax")
    assert snippet(query, None, accented) == snippet(query, None, plain)
    assert "<mark>tax</mark>" in (snippet(query, None, accented) or "")


def test_analyze_keeps_names_out_of_stems() -> None:
    doc = analyze(None, "Yesterday Bill Gates opened the door. Protests followed.")
    assert "gat" not in doc.stems and "bill" not in doc.stems
    assert "protest" in doc.stems
    # A name elsewhere does not hide the word: "the gates" gives the key, once however often it occurs.
    doc = analyze("Gates visits", "Bill Gates opened the gates; the gates stayed open.")
    assert doc.stems.count("gat") == 1 and doc.stems.count("open") == 1
    assert analyze(None, "Les manifestations", english=False).stems == ()


@pytest.mark.parametrize("text", [
    "“We will win,” she said — and left… at 5\u00a0p.m.",
    "snake_case and x" + "y" * 70 + " stay out",
    "Half ½ price",                   # a character that folds into tokens
    "\u212a is a Kelvin sign",
    "Naïve Zoë in Zürich",
])
def test_analyze_tokens_the_body_as_folding_does(text: str) -> None:
    assert analyze(None, text).body == tuple(tokens(text))


@given(st.text(alphabet="aZ9_ .,'\n\t“”’—\u00a0éΩ½-", max_size=80))
def test_analyze_tokens_any_text_as_folding_does(text: str) -> None:
    assert analyze(None, text).body == tuple(tokens(text))


def test_index_document_makes_the_form_its_database_needs() -> None:
    """A draft analysed for the other database (or not at all) is analysed again, not indexed empty."""
    def document(postgres: bool, text: IndexText) -> IndexDocument:
        return index_document(article_id=1, published_at=T0, title="Floods", body="Rivers rose overnight.",
                              source="example.com", language="en", quote_count=0, feed_id=3,
                              postgres=postgres, text=text)

    for_sqlite = index_text("Floods", "Rivers rose overnight.", english=True, fts5=True)
    vector = document(postgres=True, text=for_sqlite).tsvector()
    assert "'river':" in vector and "'rivers':" in vector and "'f3':1C" in vector
    row = document(postgres=False, text=IndexText(tsvector="'x':1")).fts5_row()
    assert row[1:4] == ("floods", "rivers  rose  overnight", "flood  river  ros  overnight")


# ---------------------------------------------------------------- the contract over the API
def _draft(n: int, title: str, text: str, *, hours: float = 0, source: str = "example.com",
           language: str | None = "en", quotes: tuple[Quote, ...] = (), simhash: int | None = None) -> ArticleDraft:
    url = f"https://{source}/a/{n}"
    return ArticleDraft(guid=url, url=url, canonical_url=url, source=source, title=title, summary=None, text=text,
                        byline=None, language=language, published_at=T0 - timedelta(hours=hours),
                        body_hash=hashlib.sha256(f"{n}{text}".encode()).hexdigest(), simhash=simhash,
                        extraction="ok", quotes=quotes)


def _quote(text: str, body: str, speaker: str) -> Quote:
    start = body.index(text)
    return Quote(text=text, start=start, end=start + len(text), kind="direct", speaker=speaker,
                 speaker_title=None, speaker_type="person", verb="said", channel=None, confidence=0.9)


async def _store(runtime: Runtime, drafts: list[ArticleDraft]) -> None:
    async with runtime.db.transaction() as session:
        await store_drafts(session, None, drafts, runtime.clock())


LONG = " ".join(["The committee met again to discuss the regional budget and transport plans."] * 8)
QUOTED = 'The minister said "we will cut the carbon levy next year" after the vote.'

CORPUS = [
    _draft(1, "Carbon tax approved", "Parliament approved a new carbon tax on Monday.", hours=1),
    _draft(2, "Tax on carbon debated", "A tax on carbon emissions was debated.", hours=2),
    _draft(3, "Wind farms expand", "Offshore wind capacity doubled.", hours=3, source="news.example.org"),
    _draft(4, "Solar power record", "Solar panels produced a record share.", hours=4, language="en-GB"),
    _draft(5, "Budget opinion", "An opinion piece on the budget.", hours=5),
    _draft(6, "Budget passes", "The budget passed after a long debate.", hours=6),
    _draft(7, "Électricité en hausse", "Les prix de l'électricité augmentent à Zürich.", hours=7, language="fr"),
    _draft(8, "Protests grow", "Thousands joined protests in the capital.", hours=8),
    _draft(9, "Tech founder visit", "Yesterday Bill Gates opened a clinic.", hours=9),
    _draft(10, "Garden design", "The old garden gates were repainted.", hours=10),
    _draft(11, "Levy plans", QUOTED, hours=11, quotes=(_quote("we will cut the carbon levy next year", QUOTED,
                                                              "Anna Berg"),)),
    _draft(12, "Regional budget story", LONG + " First report.", hours=12, simhash=0x1234_5678_9ABC_DEF0),
    _draft(13, "Regional budget story again", LONG + " Second report.", hours=13, simhash=0x1234_5678_9ABC_DEF0),
]


async def _titles(client: httpx.AsyncClient, **params: str | int) -> list[str]:
    response = await client.get("/v1/articles", params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
async def corpus(runtime: Runtime) -> None:
    await _store(runtime, CORPUS)


@pytest.mark.parametrize(("q", "expected"), [
    ('"carbon tax"', {"Carbon tax approved"}),
    ("carbon tax", {"Carbon tax approved", "Tax on carbon debated"}),
    ("wind OR solar", {"Wind farms expand", "Solar power record"}),
    ("budget -opinion", {"Budget passes", "Regional budget story"}),
    ("electri*", {"Électricité en hausse"}),
    ("ZURICH", {"Électricité en hausse"}),
    ("électricité", {"Électricité en hausse"}),
    ("protesting", {"Protests grow"}),
    ("gate", {"Garden design"}),
    ("Gates", {"Tech founder visit", "Garden design"}),
    ('"Bill Gates"', {"Tech founder visit"}),
    ("augmentent", {"Électricité en hausse"}),
    ("augment", set()),  # French text is not stemmed
])
async def test_search_semantics(client: httpx.AsyncClient, corpus: None, q: str, expected: set[str]) -> None:
    titles = await _titles(client, q=q, collapse="story")
    assert set(titles) == expected


async def test_filters(client: httpx.AsyncClient, corpus: None) -> None:
    assert set(await _titles(client, q="wind OR solar", source="news.example.org")) == {"Wind farms expand"}
    assert set(await _titles(client, q="wind OR solar", language="en")) == {"Wind farms expand",
                                                                          "Solar power record"}
    assert set(await _titles(client, q="wind OR solar", language="en-gb")) == {"Solar power record"}
    assert await _titles(client, q="levy", has_quotes=True) == ["Levy plans"]
    assert await _titles(client, q="carbon", speaker="anna berg") == ["Levy plans"]
    assert await _titles(client, speaker="Anna Berg") == ["Levy plans"]
    window = {"published_after": (T0 - timedelta(hours=4, minutes=30)).isoformat(),
              "published_before": (T0 - timedelta(hours=2, minutes=30)).isoformat()}
    assert set(await _titles(client, q="wind OR solar", **window)) == {"Wind farms expand", "Solar power record"}
    assert set(await _titles(client, q="wind OR solar", sort="published", **window)) == {
        "Wind farms expand", "Solar power record"}
    assert await _titles(client, q="carbon", language="fr") == []
    precise = {"published_after": (T0 - timedelta(hours=4, microseconds=1)).isoformat(),
               "published_before": (T0 - timedelta(hours=3, microseconds=-1)).isoformat()}
    for sort in ("relevance", "published"):
        assert set(await _titles(client, q="wind OR solar", sort=sort, **precise)) == {
            "Wind farms expand", "Solar power record"}
        assert await _titles(client, q="wind OR solar", sort=sort, collapse="story", speaker="Anna Berg",
                             **precise) == []
    exact = {"published_after": (T0 - timedelta(hours=4)).isoformat(),
             "published_before": (T0 - timedelta(hours=3)).isoformat()}
    assert await _titles(client, q="wind OR solar", **exact) == ["Solar power record"]


async def test_relevance_sort_and_snippet(client: httpx.AsyncClient, corpus: None) -> None:
    response = await client.get("/v1/articles", params={"q": "carbon"})
    items = response.json()["items"]
    assert items[0]["title"] in {"Carbon tax approved", "Tax on carbon debated"}  # title matches rank first
    assert all(i["score"] is not None and i["score"] > 0 for i in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert all("<mark>" in i["snippet"] for i in items)
    newest = await client.get("/v1/articles", params={"q": "carbon", "sort": "published"})
    assert [i["title"] for i in newest.json()["items"]] == ["Carbon tax approved", "Tax on carbon debated",
                                                            "Levy plans"]
    # newest first, a hit has its snippet too (no score: there is no ranking)
    assert all("<mark>" in i["snippet"] and i["score"] is None for i in newest.json()["items"])


async def test_story_collapsing(client: httpx.AsyncClient, corpus: None) -> None:
    both = await _titles(client, q="regional budget")
    assert set(both) == {"Regional budget story", "Regional budget story again"}
    assert await _titles(client, q="regional budget", collapse="story") == ["Regional budget story"]
    assert await _titles(client, q="regional", collapse="story", sort="published") == ["Regional budget story"]
    listed = await _titles(client, collapse="story")
    assert "Regional budget story" in listed and "Regional budget story again" not in listed


async def test_update_reindexes(client: httpx.AsyncClient, runtime: Runtime, corpus: None) -> None:
    first = CORPUS[0]
    edited = ArticleDraft(**{**{f: getattr(first, f) for f in first.__slots__},
                             "title": "Carbon levy approved", "text": "Parliament approved a new levy.",
                             "body_hash": "edited"})
    await _store(runtime, [edited])
    assert "Carbon levy approved" in await _titles(client, q="levy")
    assert await _titles(client, q='"carbon tax"') == []


@pytest.mark.parametrize("sort", ["relevance", "published"])
async def test_pagination_is_stable_while_articles_arrive(client: httpx.AsyncClient, runtime: Runtime,
                                                          sort: str) -> None:
    await _store(runtime, [_draft(100 + i, f"Harbour report {i}", f"harbour news number {i} " + "harbour " * (i % 4),
                                  hours=i) for i in range(23)])
    seen: list[str] = []
    cursor = None
    for page in range(10):
        params: dict[str, str | int] = {"q": "harbour", "limit": 5, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/articles", params=params)).json()
        seen += [i["title"] for i in body["items"]]
        await _store(runtime, [_draft(500 + page, f"Harbour late {page}", "harbour harbour harbour", hours=-page - 1),
                               _draft(600 + page, f"Harbour backfill {page}", "harbour", hours=3.5)])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"Harbour report {i}" for i in range(23))


async def test_pagination_widens_across_tiers(client: httpx.AsyncClient, runtime: Runtime,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from app.storage import search

    monkeypatch.setattr(search, "TIER_SIZE", 4)
    await _store(runtime, [_draft(200 + i, f"Boat {i}", " ".join(["ferry"] * (1 + i % 3) + ["sea"] * (3 - i % 3)),
                                  hours=i) for i in range(11)])
    seen, cursor = [], None
    while True:
        body = (await client.get("/v1/articles", params={"q": "ferry", "limit": 3,
                                                         **({"cursor": cursor} if cursor else {})})).json()
        seen += [i["title"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(f"Boat {i}" for i in range(11))
    # the newest tier (4 matches) comes first, best score first; ties go to the newer article
    assert seen[:4] == ["Boat 2", "Boat 1", "Boat 0", "Boat 3"]


HOSTILE = [
    '"unclosed', "*", "**", "-", "--", "- -", "OR", "OR OR", "a*", "10 KB", "'; DROP TABLE articles; --",
    "tax\x00", "\x07bell", "NEAR(carbon tax)", "NEAR(carbon tax, 2)", "carbon ^tax", "^", "title:carbon",
    "{title body}:carbon", "carbon AND NOT tax", "carbon NOT", 'carbon" OR "', "(((", ")", "\\", "'",
    "c*rbon", "carbon*tax", "%", "_", "%_%", "\u202eevil", "𝓬𝓪𝓻𝓫𝓸𝓷", "x" * 600, "-carbon",
]


@pytest.mark.parametrize("q", HOSTILE)
async def test_hostile_queries_never_fail(client: httpx.AsyncClient, corpus: None, q: str) -> None:
    if q == "10 KB":
        q = "carbon tax " * 1000
    for params in ({"q": q}, {"q": q, "sort": "published"}, {"q": q, "collapse": "story"}):
        response = await client.get("/v1/articles", params=params)
        assert response.status_code in (200, 422), (q, response.text)
        if response.status_code == 422:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"]
    quotes = await client.get("/v1/quotes", params={"q": q})
    assert quotes.status_code in (200, 422), (q, quotes.text)


async def test_bad_cursor_and_relevance_without_q(client: httpx.AsyncClient, corpus: None) -> None:
    assert (await client.get("/v1/articles", params={"q": "tax", "cursor": "bm90LWEtY3Vyc29y"})).status_code == 422
    assert (await client.get("/v1/articles", params={"q": "tax", "cursor": "WyJyIiwxLCJ4IiwieSJd"})).status_code \
        == 422
    assert (await client.get("/v1/articles", params={"sort": "relevance"})).status_code == 422


async def test_quote_search_uses_the_same_language(client: httpx.AsyncClient, corpus: None) -> None:
    async def quotes(q: str) -> list[str]:
        response = await client.get("/v1/quotes", params={"q": q})
        assert response.status_code == 200, response.text
        return [i["text"] for i in response.json()["items"]]

    said = "we will cut the carbon levy next year"
    assert await quotes('"carbon levy"') == [said]
    assert await quotes("levies") == [said]
    assert await quotes("carbon -levy") == []
    assert await quotes("CUT OR tax") == [said]
    assert (await client.get("/v1/quotes", params={"q": '"open'})).status_code == 422


def test_term_key_is_the_stem() -> None:
    assert Term(("protesting",), stemmed=True).key == "protest"


AGREEMENT_QUERIES = ["carbon", "tax -carbon", "budget OR wind", "protest", "gates", "Gates", "garden gate",
                     '"the budget"', "regional budget -again", "solar OR électricité", "augmentent", "pa*",
                     "report", "bill OR gate"]


@pytest.mark.parametrize("q", AGREEMENT_QUERIES)
async def test_index_and_python_matcher_agree(client: httpx.AsyncClient, corpus: None, q: str) -> None:
    """The database's answer is the Python matcher's answer (webhook filters rely on it)."""
    from app.domain.query import is_english, matches

    query = parse_query(q)
    expected = {d.title for d in CORPUS
                if matches(query, analyze(d.title, d.text, english=is_english(d.language)))}
    response = await client.get("/v1/articles", params={"q": q, "limit": 200})
    assert {i["title"] for i in response.json()["items"]} == expected


WORDS = ["run", "runs", "running", "Run", "policy", "policies", "gate", "Gates", "café", "cafe", "the",
         "said", "tax", "taxes", "x1", ".", ",", '"', "-", "Bill"]


@given(st.lists(st.sampled_from(WORDS), max_size=12), st.lists(st.sampled_from(WORDS[:16]), min_size=1, max_size=3),
       st.booleans())
def test_prefilter_never_rejects_a_match(text_words: list[str], query_words: list[str], phrase: bool) -> None:
    from app.domain.query import matches, prefilter

    text = " ".join(text_words)
    q = '"' + " ".join(query_words) + '"' if phrase else " ".join(query_words)
    try:
        query = parse_query(q)
    except InvalidQueryError:
        return
    if matches(query, analyze(None, text)):
        assert prefilter(query)(text)
    assert compile_matcher(q)(text) == matches(query, analyze(None, text))


async def test_reindex_rebuilds_the_index(client: httpx.AsyncClient, runtime: Runtime, corpus: None) -> None:
    from sqlalchemy import text

    from app.storage.reindex import reindex

    async with runtime.db.transaction() as session:
        if runtime.db.dialect == "postgresql":
            await session.execute(text("UPDATE articles SET search_vector = NULL"))
        else:
            await session.execute(text("DELETE FROM articles_fts"))
    assert await _titles(client, q="carbon") == []
    seen: list[int] = []
    async with runtime.db.transaction() as session:
        assert await reindex(session, batch=4, progress=seen.append) == len(CORPUS)
    assert sum(seen) == len(CORPUS)
    assert set(await _titles(client, q="carbon")) == {"Carbon tax approved", "Tax on carbon debated", "Levy plans"}


def test_cli_search_reindex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from app.cli import main

    monkeypatch.setenv("NEWS_INGEST_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(main, ["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "search: indexed 0 articles" in result.output


async def test_deleted_articles_leave_the_index(client: httpx.AsyncClient, runtime: Runtime, corpus: None) -> None:
    from sqlalchemy import delete

    from app.storage.models import Article

    async with runtime.db.transaction() as session:
        await session.execute(delete(Article).where(Article.title == "Carbon tax approved"))
    assert await _titles(client, q="carbon tax") == ["Tax on carbon debated"]
    await _store(runtime, [_draft(1000, "Fresh carbon tax", "A carbon tax again.", hours=0.5)])
    assert set(await _titles(client, q="carbon tax")) == {"Tax on carbon debated", "Fresh carbon tax"}
