"""robots.txt for article pages (RFC 9309): which rules apply to our agent, what a missing or
failing robots.txt means, and the per-site cache, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import AsyncIterator

import pytest
from protego import Protego

from app.pipeline.fetch import Fetcher
from app.pipeline.robots import BLOCKED_REASON, RobotsCache, origin_of, product_token, rules_from_body
from tests.feedserver import FeedServer, Recorded, Reply

AGENT = "news-ingest/0.1 (+https://github.com/news-ingest/news-ingest)"
ROBOTS = b"""# a comment
User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/press/

User-agent: Other-Bot
Disallow: /

User-agent: news-ingest
Disallow: /members/
Disallow: /drafts/*/preview
Allow: /members/open$

Sitemap: http://harbour.example/news-sitemap.xml
Sitemap: http://harbour.example/sitemap_index.xml
"""


def test_product_token() -> None:
    assert product_token(AGENT) == "news-ingest"
    assert product_token("Harbour_Bot 2.0") == "Harbour_Bot"
    assert product_token("  ") == "*"


@pytest.mark.parametrize(("path", "allowed"), [
    ("/articles/ferry.html", True),
    ("/members/list", False),  # our own group
    ("/members/open", True),  # Allow with $ is the longer match
    ("/members/open/more", False),
    ("/drafts/12/preview", False),  # wildcard in the middle
    ("/drafts/12/final", True),
    # Only the most specific group applies (RFC 9309 §2.2.1): the * group's rules are not ours.
    ("/private/report.html", True),
    ("/files/report.pdf", True),
])
def test_our_group_with_wildcards_and_longest_match(path: str, allowed: bool) -> None:
    rules = rules_from_body(ROBOTS, 0.0)
    assert rules.decide("http://harbour.example" + path, "news-ingest").allowed is allowed
    assert rules.sitemaps == ("http://harbour.example/news-sitemap.xml", "http://harbour.example/sitemap_index.xml")


@pytest.mark.parametrize(("path", "allowed"), [
    ("/private/report.html", False), ("/private/press/release.html", True), ("/files/report.pdf", False),
    ("/files/report.pdf?download=1", True), ("/articles/x.html", True),
])
def test_the_star_group_when_we_have_none(path: str, allowed: bool) -> None:
    rules = rules_from_body(ROBOTS, 0.0)
    assert rules.decide("http://harbour.example" + path, "lighthouse-reader").allowed is allowed


def test_origin_is_scheme_host_and_port() -> None:
    assert origin_of("https://Harbour.Example/a?b") == "https://harbour.example"
    assert origin_of("http://harbour.example:8080/a") == "http://harbour.example:8080"
    assert origin_of("http://harbour.example:80/a") == "http://harbour.example"
    assert origin_of("http://[::1]:8080/a") == "http://[::1]:8080"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def robots_caches() -> AsyncIterator[list[RobotsCache]]:
    made: list[RobotsCache] = []
    yield made
    for cache in made:
        cache.close()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(user_agent=AGENT, allowed_networks=[ipaddress.ip_network("127.0.0.0/8")],
                       connect_timeout=2.0, total_timeout=5.0) as f:
        yield f


async def test_rules_are_fetched_once_per_site_and_cached(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/robots.txt", body=ROBOTS, headers={"Content-Type": "text/plain"}, delay=0.2)
    clock = Clock()
    robots = RobotsCache(fetcher, user_agent=AGENT, ttl_s=600, clock=clock)
    urls = [feed_server.url(p) for p in ("/members/a", "/articles/b", "/members/open", "/articles/c")]
    decisions = await asyncio.gather(*(robots.check(u) for u in urls))
    assert [d.allowed for d in decisions] == [False, True, True, True]
    assert decisions[0].reason == BLOCKED_REASON
    assert len(feed_server.requests_to("/robots.txt")) == 1  # four pages waited on one fetch
    assert feed_server.requests_to("/robots.txt")[0].headers["user-agent"] == AGENT
    clock.now += 599
    await robots.check(urls[0])
    assert len(feed_server.requests_to("/robots.txt")) == 1
    feed_server.route("/robots.txt", body=b"User-agent: *\nDisallow:\n")
    clock.now += 2
    assert (await robots.check(urls[0])).allowed  # the new rules, after the TTL
    assert len(feed_server.requests_to("/robots.txt")) == 2


@pytest.mark.parametrize("status", [404, 401, 403, 410])
async def test_an_unavailable_robots_txt_allows_everything(feed_server: FeedServer, fetcher: Fetcher,
                                                         status: int) -> None:
    # RFC 9309 §2.3.1.3: any 4xx (401 and 403 included) means there are no rules
    feed_server.route("/robots.txt", status=status)
    robots = RobotsCache(fetcher, user_agent=AGENT)
    assert (await robots.check(feed_server.url("/members/a"))).allowed


async def test_redirects_are_followed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/robots.txt", status=301, headers={"Location": "/robots-real.txt"})
    feed_server.route("/robots-real.txt", body=ROBOTS)
    robots = RobotsCache(fetcher, user_agent=AGENT)
    assert not (await robots.check(feed_server.url("/members/a"))).allowed


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_an_unreachable_robots_txt_disallows_until_it_answers(feed_server: FeedServer, fetcher: Fetcher,
                                                                    status: int) -> None:
    feed_server.route("/robots.txt", status=status, headers={"Retry-After": "0"})
    clock = Clock()
    robots = RobotsCache(fetcher, user_agent=AGENT, ttl_s=3600, retry_s=300, clock=clock)
    decision = await robots.check(feed_server.url("/articles/a"))
    assert decision.outcome == "unreachable" and f"answered {status}" in (decision.reason or "")
    feed_server.route("/robots.txt", status=404)
    clock.now += 301  # retried after minutes, not after the hour of a good answer
    assert (await robots.check(feed_server.url("/articles/a"))).allowed


async def test_a_site_that_cannot_be_reached_is_unreachable(fetcher: Fetcher) -> None:
    robots = RobotsCache(fetcher, user_agent=AGENT)
    decision = await robots.check("http://127.0.0.1:9/articles/a")  # nothing listens on port 9
    assert decision.outcome == "unreachable"


async def test_the_last_good_copy_is_kept_while_the_file_is_unreachable(feed_server: FeedServer,
                                                                        fetcher: Fetcher) -> None:
    answers = iter([Reply(200, ROBOTS), Reply(503)])
    feed_server.route("/robots.txt", handler=lambda _req: next(answers))
    clock = Clock()
    robots = RobotsCache(fetcher, user_agent=AGENT, ttl_s=600, retry_s=60, clock=clock)
    assert not (await robots.check(feed_server.url("/members/a"))).allowed
    clock.now += 601
    assert (await robots.check(feed_server.url("/articles/a"))).allowed  # 503: the old rules still apply
    assert not (await robots.check(feed_server.url("/members/a"))).allowed
    assert len(feed_server.requests_to("/robots.txt")) == 2


async def test_large_robots_txt_is_read_up_to_512_kib(feed_server: FeedServer, fetcher: Fetcher,
                                                     robots_caches: list[RobotsCache]) -> None:
    body = b"User-agent: news-ingest\nDisallow: /members/\n" + b"# padding\n" * 60_000 + b"Disallow: /late/\n"
    feed_server.route("/robots.txt", body=body)
    robots = RobotsCache(fetcher, user_agent=AGENT)
    robots_caches.append(robots)
    assert not (await robots.check(feed_server.url("/members/a"))).allowed
    assert (await robots.check(feed_server.url("/late/a"))).allowed  # past the limit: not read


async def test_sitemaps_of_a_site(feed_server: FeedServer, fetcher: Fetcher) -> None:
    def robots_txt(_req: Recorded) -> Reply:
        return Reply(200, b"Sitemap: " + feed_server.url("/news.xml").encode() + b"\n")

    feed_server.route("/robots.txt", handler=robots_txt)
    robots = RobotsCache(fetcher, user_agent=AGENT)
    assert await robots.sitemaps(feed_server.url("/some/page")) == (feed_server.url("/news.xml"),)


async def test_a_huge_robots_txt_is_parsed_and_matched_off_the_event_loop(
        feed_server: FeedServer, fetcher: Fetcher, robots_caches: list[RobotsCache],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 512 KiB of wildcard rules: ~0.3 s to parse and ~10 ms per URL to match; on the event loop,
    # 20 pages waiting on it stalled every other feed (and /readyz) for 0.5-2 s.
    rules = "".join(f"Disallow: /section/{i}/*/item$\n" for i in range(20_000))
    feed_server.route("/robots.txt", body=("User-agent: news-ingest\n" + rules).encode()[:512 * 1024])
    threads: set[int] = set()
    parse, can_fetch = Protego.parse, Protego.can_fetch

    def parse_spy(content: str) -> Protego:
        threads.add(threading.get_ident())
        return parse(content)

    def can_fetch_spy(self: Protego, url: str, user_agent: str) -> bool:
        threads.add(threading.get_ident())
        return bool(can_fetch(self, url, user_agent))

    monkeypatch.setattr(Protego, "parse", staticmethod(parse_spy))
    monkeypatch.setattr(Protego, "can_fetch", can_fetch_spy)
    robots = RobotsCache(fetcher, user_agent=AGENT)
    robots_caches.append(robots)
    decisions = await asyncio.gather(*(robots.check(feed_server.url(f"/section/{i}/a/item")) for i in range(20)))
    assert not any(d.allowed for d in decisions)
    assert threads and threading.get_ident() not in threads
