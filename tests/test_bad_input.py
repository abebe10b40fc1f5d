"""Bad input answers a clear 4xx problem, never a 500: forged cursors, ids no row can have, times
out of range, control characters, values longer than their columns, bodies that are not JSON.
Each case once failed on one database or both."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.feedserver import FeedServer

PROBLEM = "application/problem+json"


def forged(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    for word in words:
        assert word in response.json()["detail"], response.json()


CURSORS = [["abc"], [None], [{}], [1e308], [2**70], [-1], [True], ["2026-01-01T00:00:00", 5],
           ["0001-01-01T00:00:00+01:00", 5], ["9999-12-31T23:59:59-01:00", 5], [[], []], "not a list"]
LISTS = ["/v1/feeds", "/v1/articles", "/v1/quotes", "/v1/speakers", "/v1/subscriptions",
         "/v1/articles?q=harbour", "/v1/articles?q=harbour&sort=published", "/v1/articles?source=example.com"]


@pytest.mark.parametrize("path", LISTS)
async def test_forged_cursors_are_422(client: httpx.AsyncClient, path: str) -> None:
    joiner = "&" if "?" in path else "?"
    for values in CURSORS:
        for shaped in (values, ["r", 1, values, 0], ["p", 1, values, None], ["l", 1, *values[:2]]
                       if isinstance(values, list) else values):
            response = await client.get(f"{path}{joiner}cursor={forged(shaped)}")
            await assert_problem(response, 422, "cursor")


@pytest.mark.parametrize("path", ["/v1/feeds/{}", "/v1/articles/{}", "/v1/articles/{}/quotes", "/v1/speakers/{}",
                                  "/v1/speakers/{}/quotes", "/v1/subscriptions/{}",
                                  "/v1/subscriptions/{}/deliveries"])
@pytest.mark.parametrize("row_id", [2**31, 2**63, 2**64, 10**30, -1, 0])
async def test_ids_no_row_can_have_are_404(client: httpx.AsyncClient, path: str, row_id: int) -> None:
    await assert_problem(await client.get(path.format(row_id)), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("PATCH", "/v1/feeds/{}"), ("DELETE", "/v1/feeds/{}"), ("POST", "/v1/feeds/{}/poll"),
    ("PATCH", "/v1/subscriptions/{}"), ("DELETE", "/v1/subscriptions/{}"),
    ("POST", "/v1/subscriptions/{}/rotate-secret"), ("POST", "/v1/subscriptions/{}/test"),
    ("POST", "/v1/deliveries/{}/redeliver")])
async def test_writes_to_ids_no_row_can_have_are_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    body: dict[str, object] | None = {} if method == "PATCH" else None
    for row_id in (2**31, 2**64):
        await assert_problem(await client.request(method, path.format(row_id), json=body), 404)


@pytest.mark.parametrize("query", [
    "feed_id=2147483648", "feed_id=18446744073709551616", "feed_id=-1",
    "published_after=0001-01-01T00:00:00%2B01:00", "published_before=9999-12-31T23:59:59-01:00",
    "source=%00", "language=en%00", "speaker=A%01B", "source=" + "a" * 300, "language=" + "e" * 17,
    "q=" + "a" * 501, "cursor=%00"])
async def test_article_filters_out_of_range_are_422(client: httpx.AsyncClient, query: str) -> None:
    await assert_problem(await client.get(f"/v1/articles?{query}"), 422)
    if query.startswith("published_after"):  # searching takes the same parameters
        await assert_problem(await client.get(f"/v1/articles?{query}&q=harbour"), 422)


@pytest.mark.parametrize("query", ["since=0001-01-01T00:00:00%2B01:00", "until=9999-12-31T23:59:59-01:00",
                                   "feed_id=99999999999999999999", "speaker=%00", "q=" + "a" * 501])
async def test_quote_filters_out_of_range_are_422(client: httpx.AsyncClient, query: str) -> None:
    await assert_problem(await client.get(f"/v1/quotes?{query}"), 422)
    await assert_problem(await client.get("/v1/speakers?name=%00"), 422)


async def test_q_max_length_in_openapi_is_what_the_service_enforces(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ("/v1/articles", "/v1/quotes"):
        q = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "q")
        limit = next(s["maxLength"] for s in q["schema"]["anyOf"] if s.get("type") == "string")
        assert limit == 500
        longest = "harbourmasterly " * 31 + "quay"  # 500 characters in 32 words, both at their limit
        assert len(longest) == limit and (await client.get(f"{path}?q={longest}")).status_code == 200
        await assert_problem(await client.get(f"{path}?q={longest}s"), 422, "500")


@pytest.mark.parametrize(("path", "body", "limit"), [
    ("/v1/feeds", {"url": "http://127.0.0.1/" + "a" * 3000}, "2048"),
    ("/v1/feeds", {"url": "http://127.0.0.1/" + "é" * 1000}, "2048"),  # 6,000 once percent-escaped
    ("/v1/feeds", {"url": "http://127.0.0.1/feed", "title": "t" * 1025}, "1024"),
    ("/v1/feeds", {"url": "http://127.0.0.1/feed", "title": "Harbour\x00news"}, "control"),
    ("/v1/subscriptions", {"url": "https://127.0.0.1/" + "a" * 3000, "events": ["ping"]}, "2048"),
    ("/v1/subscriptions", {"url": "https://127.0.0.1/hook", "events": ["article.created"],
                           "description": "night\x00desk"}, "control"),
    ("/v1/subscriptions", {"url": "https://127.0.0.1/hook", "events": ["article.created"],
                           "filter": {"speakers": ["A" * 256]}}, "255"),
    ("/v1/subscriptions", {"url": "https://127.0.0.1/hook", "events": ["article.created"],
                           "filter": {"languages": ["e\x00"]}}, "control"),
    ("/v1/subscriptions", {"url": "https://127.0.0.1/hook", "events": ["article.created"],
                           "filter": {"feed_ids": [2**64]}}, "2147483647"),
])
async def test_api_strings_beyond_their_limit_are_422_naming_it(client: httpx.AsyncClient, path: str,
                                                                 body: dict[str, object], limit: str) -> None:
    await assert_problem(await client.post(path, json=body), 422, limit)


async def test_feed_title_and_subscription_description_are_bounded_on_update(client: httpx.AsyncClient,
                                                                            feed_server: FeedServer) -> None:
    feed_server.route("/feed.xml", body=b"<rss version='2.0'><channel><title>t</title></channel></rss>",
                      headers={"Content-Type": "application/rss+xml"})
    feed = (await client.post("/v1/feeds", json={"url": feed_server.url("/feed.xml")})).json()
    await assert_problem(await client.patch(f"/v1/feeds/{feed['id']}", json={"title": "x" * 1025}), 422, "1024")
    await assert_problem(await client.patch(f"/v1/feeds/{feed['id']}", json={"title": "a\x00"}), 422, "control")
    ok = await client.patch(f"/v1/feeds/{feed['id']}", json={"title": "x" * 1024})
    assert ok.status_code == 200 and ok.json()["title"] == "x" * 1024


@pytest.mark.parametrize("body", [b'{"url": "http://127.0.0.1/\xff"}', b"[" * 100_000, b"{bad", b"\xff\xfe\x00"])
async def test_malformed_json_bodies_are_a_documented_422(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/v1/feeds", content=body, headers={"content-type": "application/json"})
    await assert_problem(response, 422)
    assert response.json()["errors"][0]["type"] == "json_invalid"
    schema = (await client.get("/openapi.json")).json()
    assert "422" in schema["paths"]["/v1/feeds"]["post"]["responses"]


async def test_405_says_which_methods_are_allowed(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/feeds")
    await assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, POST"
    one = await client.put("/v1/articles/1")
    await assert_problem(one, 405)
    assert one.headers["allow"] == "GET, HEAD"
