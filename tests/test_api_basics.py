"""The API contract every client relies on: auth, problem details, pagination, OpenAPI."""

from __future__ import annotations

import httpx
import pytest

from tests.feedserver import FeedServer

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Team feed</title>
<link>http://example.org/</link><item><title>One</title><link>http://example.org/1</link>
<guid>1</guid></item></channel></rss>"""


async def test_requests_without_a_key_get_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/feeds", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401 and "Bearer" in body["detail"]


async def test_unknown_key_is_401_and_read_key_cannot_write(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    bad = await client.get("/v1/feeds", headers={"Authorization": "Bearer ni_not-a-key"})
    assert bad.status_code == 401
    read_headers = {"Authorization": f"Bearer {keys['read']}"}
    assert (await client.get("/v1/feeds", headers=read_headers)).status_code == 200
    write = await client.post("/v1/feeds", json={"url": "http://127.0.0.1:9/feed"}, headers=read_headers)
    assert write.status_code == 403
    assert "admin" in write.json()["detail"]


async def test_validation_errors_are_problem_details_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/feeds", json={"url": "not a url", "poll_interval_s": 5})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "url" in body["detail"] and "poll_interval_s" in body["detail"]
    bad_json = await client.post("/v1/feeds", content=b"{", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422


async def test_feed_lifecycle_and_conflict(client: httpx.AsyncClient, feed_server: FeedServer) -> None:
    feed_server.route("/feed.xml", body=RSS, headers={"Content-Type": "application/rss+xml"})
    url = feed_server.url("/feed.xml")
    created = await client.post("/v1/feeds", json={"url": url, "title": "Mine"})
    assert created.status_code == 201, created.text
    feed = created.json()
    assert feed["url"] == url and feed["title"] == "Mine" and feed["state"] == "ok"

    again = await client.post("/v1/feeds", json={"url": url})
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]

    paused = await client.patch(f"/v1/feeds/{feed['id']}", json={"paused": True, "poll_interval_s": 600})
    assert paused.json()["paused"] is True and paused.json()["interval_s"] == 600
    listed = await client.get("/v1/feeds", params={"paused": "true"})
    assert [f["id"] for f in listed.json()["items"]] == [feed["id"]]

    assert (await client.delete(f"/v1/feeds/{feed['id']}")).status_code == 204
    missing = await client.get(f"/v1/feeds/{feed['id']}")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


async def test_feed_urls_on_private_networks_are_refused_by_default(runtime, keys) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    runtime.settings.allowed_networks = []
    runtime.settings.__dict__.pop("allowed_ip_networks", None)
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"Authorization": f"Bearer {keys['admin']}"}) as http:
        for url in ("http://127.0.0.1:8000/feed", "http://10.1.2.3/rss", "http://169.254.169.254/latest",
                    "http://[::1]/feed"):
            response = await http.post("/v1/feeds", json={"url": url})
            assert response.status_code == 422, url
            assert "blocked" in response.json()["detail"]


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_cursor_pagination_visits_every_feed_once(client: httpx.AsyncClient, feed_server: FeedServer,
                                                        limit: int) -> None:
    for i in range(5):
        feed_server.route(f"/f{i}.xml", body=RSS, headers={"Content-Type": "application/rss+xml"})
        assert (await client.post("/v1/feeds", json={"url": feed_server.url(f"/f{i}.xml")})).status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/feeds", params=params)).json()
        assert len(page["items"]) <= limit
        seen += [f["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    assert (await client.get("/v1/feeds", params={"cursor": "garbage!"})).status_code == 422
    assert (await client.get("/v1/feeds", params={"limit": 201})).status_code == 422


async def test_health_readiness_and_metrics_are_open(client: httpx.AsyncClient) -> None:
    anonymous = {"Authorization": ""}
    assert (await client.get("/healthz", headers=anonymous)).json() == {"status": "ok"}
    ready = await client.get("/readyz", headers=anonymous)
    assert ready.status_code == 200 and ready.json()["migrations_at_head"] is True
    await client.get("/v1/feeds")
    metrics = (await client.get("/metrics", headers=anonymous)).text
    assert 'news_ingest_http_requests_total{method="GET",route="/v1/feeds",status="200"}' in metrics
    assert "news_ingest_polls_total" in metrics


async def test_openapi_has_operation_ids_tags_models_and_problem_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation_ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op.get("operationId"), f"{method} {path} lacks an operationId"
            assert op.get("tags"), f"{method} {path} lacks a tag"
            operation_ids.append(op["operationId"])
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, f"{method} {path} has no success response"
            for code, response in op["responses"].items():
                if code.startswith("4") and code != "404" or code == "422":
                    assert "application/problem+json" in response.get("content", {}), f"{method} {path} {code}"
    assert len(operation_ids) == len(set(operation_ids))
    for expected in ("listFeeds", "createFeed", "getFeed", "updateFeed", "deleteFeed", "listArticles",
                     "getArticle", "pollFeed", "getHealth"):
        assert expected in operation_ids
