"""The API contract every client relies on: auth, problem details, pagination, OpenAPI."""

from __future__ import annotations

import re

import httpx
import pytest

from app.runtime import Runtime
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
    assert feed["url"] == url and feed["title"] == "Mine"
    assert feed["state"] == "pending"  # not polled yet: its health is unknown
    assert [f["id"] for f in (await client.get("/v1/feeds", params={"state": "pending"})).json()["items"]] \
        == [feed["id"]]

    again = await client.post("/v1/feeds", json={"url": url})
    assert again.status_code == 409
    problem = again.json()
    assert problem["existing_feed"] == {"id": feed["id"], "url": url}
    assert f"already registered, as feed {feed['id']}" in problem["detail"] and url in problem["detail"]

    polled = await client.post(f"/v1/feeds/{feed['id']}/poll")
    assert polled.status_code == 200 and polled.json()["feed"]["state"] == "ok"

    paused = await client.patch(f"/v1/feeds/{feed['id']}", json={"paused": True, "poll_interval_s": 600})
    assert paused.json()["paused"] is True and paused.json()["interval_s"] == 600
    listed = await client.get("/v1/feeds", params={"paused": "true"})
    assert [f["id"] for f in listed.json()["items"]] == [feed["id"]]

    assert (await client.delete(f"/v1/feeds/{feed['id']}")).status_code == 204
    missing = await client.get(f"/v1/feeds/{feed['id']}")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


async def test_feed_urls_on_private_networks_are_refused_by_default(runtime: Runtime, keys: dict[str, str]) -> None:
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
        params: dict[str, str | int] = {"limit": limit}
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
            assert re.fullmatch(r"[a-z][A-Za-z0-9]+", op.get("operationId", "")), f"{method} {path} operationId"
            assert op.get("tags"), f"{method} {path} lacks a tag"
            assert op.get("description"), f"{method} {path} lacks a description"
            assert "security" in op, f"{method} {path} does not say whether it needs a key"
            operation_ids.append(op["operationId"])
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, f"{method} {path} has no success response"
            assert "application/problem+json" in op["responses"]["500"]["content"], f"{method} {path} 500"
            for code, response in op["responses"].items():
                if code.startswith("4") and code not in ("404", "4XX") or code == "422":
                    assert "application/problem+json" in response.get("content", {}), f"{method} {path} {code}"
    assert len(operation_ids) == len(set(operation_ids))
    for expected in ("listFeeds", "createFeed", "getFeed", "updateFeed", "deleteFeed", "listArticles",
                     "getArticle", "pollFeed", "getHealth", "importFeedsOpml", "listSpeakers"):
        assert expected in operation_ids
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert spec["paths"][open_path]["get"]["security"] == []
    assert spec["servers"][0]["url"] and spec["info"]["license"]["identifier"] == "Apache-2.0"


async def test_openapi_names_every_schema_as_clients_see_it(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    # Generated clients name types after these: no Page_X_, no inline enums named after a parameter.
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", name) for name in schemas), sorted(schemas)
    assert {"FeedState", "ArticleSort", "EventType", "DeliveryState", "ArticleSummaryPage", "WebhookEvent",
            "DuplicateFeedProblem"} <= set(schemas)
    assert "HTTPValidationError" not in schemas  # every error is a Problem
    assert "pending" in schemas["FeedState"]["enum"]
    state = spec["paths"]["/v1/feeds"]["get"]["parameters"][0]
    assert state["name"] == "state" and {"$ref": "#/components/schemas/FeedState"} in state["schema"]["anyOf"]
    article = spec["paths"]["/v1/articles/{article_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert article["schema"]["$ref"].endswith("/ArticleOut")
    assert not {"snippet", "score"} & set(schemas["ArticleOut"]["properties"])
    assert {"snippet", "score"} <= set(schemas["ArticleSummary"]["properties"])
    conflict = spec["paths"]["/v1/feeds"]["post"]["responses"]["409"]["content"]["application/problem+json"]
    assert conflict["schema"]["$ref"].endswith("/DuplicateFeedProblem")
    opml = spec["paths"]["/v1/feeds:import"]["post"]["requestBody"]["content"]
    assert set(opml) == {"multipart/form-data", "application/json", "application/octet-stream"}


OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>
<outline text="One" type="rss" xmlUrl="{one}"/><outline text="Two" type="rss" xmlUrl="{two}"/></body></opml>"""


async def test_opml_import_as_upload_json_or_raw_document(client: httpx.AsyncClient, runtime: Runtime,
                                                         feed_server: FeedServer) -> None:
    urls = [feed_server.url(f"/o{i}.xml") for i in range(4)]
    upload = await client.post("/v1/feeds:import",
                               files={"file": ("feeds.opml", OPML.format(one=urls[0], two=urls[1]), "text/x-opml")})
    assert upload.status_code == 200, upload.text
    assert upload.json() == {"created": 2, "existing": 0, "invalid": []}
    as_json = await client.post("/v1/feeds:import", json={"document": OPML.format(one=urls[1], two=urls[2])})
    assert as_json.json() == {"created": 1, "existing": 1, "invalid": []}
    raw = await client.post("/v1/feeds:import", content=OPML.format(one=urls[2], two=urls[3]),
                            headers={"content-type": "text/x-opml"})
    assert raw.json() == {"created": 1, "existing": 1, "invalid": []}
    listed = (await client.get("/v1/feeds")).json()["items"]
    assert sorted(f["url"] for f in listed) == sorted(urls) and {f["state"] for f in listed} == {"pending"}

    no_file = await client.post("/v1/feeds:import", files={"other": ("x.opml", "<opml/>", "text/x-opml")})
    assert no_file.status_code == 422 and "`file`" in no_file.json()["detail"]
    wrong_json = await client.post("/v1/feeds:import", json={"opml": "<opml/>"})
    assert wrong_json.status_code == 422 and "body.document" in wrong_json.json()["detail"]
    not_json = await client.post("/v1/feeds:import", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    assert not_json.headers["content-type"].startswith("application/problem+json")
    # a multipart body with text before its first boundary: a 400 problem, whatever Starlette's version
    torn = await client.post("/v1/feeds:import", content=b"junk before\r\n--b0undary--\r\n",
                             headers={"content-type": "multipart/form-data; boundary=b0undary"})
    assert torn.status_code == 400, torn.text
    assert torn.headers["content-type"].startswith("application/problem+json")

    runtime.settings.max_body_bytes = 100  # the limit of every form of the document
    big = OPML.format(one=urls[0], two=urls[1])
    for form in ({"files": {"file": ("feeds.opml", big, "text/x-opml")}}, {"json": {"document": big}},
                 {"content": big, "headers": {"content-type": "text/x-opml"}}):
        too_big = await client.post("/v1/feeds:import", **form)
        assert too_big.status_code == 413 and "exceeds 100 bytes" in too_big.json()["detail"], form
