"""WebSub protocol decisions as tables of cases: Link headers (RFC 8288), discovery order (§4),
signatures (§7.1), verification of intent (§5.3) and what the worker does with a subscription."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.feeds import ParsedFeed
from app.domain.websub import (
    IntentCheck,
    PushVerdict,
    SubscriptionState,
    SubscriptionView,
    WebSubLinks,
    hub_request_url,
    intent_verdict,
    next_step,
    same_topic,
)
from app.pipeline.poll import parse_feed
from app.pipeline.websub import HubClient, check_signature, discover, parse_link_header
from tests.feedserver import FeedServer

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "expected"), [
    ('<https://hub.example/>; rel="hub", <http://news.example/feed>; rel="self"',
     [("https://hub.example/", ("hub",)), ("http://news.example/feed", ("self",))]),
    # RFC 8288 §3.5 examples: several relation types, extension parameters, quoted commas
    ('<http://example.com/TheBook/chapter2>; rel="previous"; title="previous chapter"',
     [("http://example.com/TheBook/chapter2", ("previous",))]),
    ('</>; rel="http://example.net/foo"', [("/", ("http://example.net/foo",))]),
    ('</TheBook/chapter2>; rel="previous"; title*=UTF-8\'de\'letztes%20Kapitel, '
     '</TheBook/chapter4>; rel="next"; title*=UTF-8\'de\'n%c3%a4chstes%20Kapitel',
     [("/TheBook/chapter2", ("previous",)), ("/TheBook/chapter4", ("next",))]),
    ('<http://example.org/>; rel="start http://example.net/relation/other"',
     [("http://example.org/", ("start", "http://example.net/relation/other"))]),
    ('<https://hub.example/>; title="a, b; c"; rel=HUB', [("https://hub.example/", ("hub",))]),
    ('<https://a.example/>; rel="hub self"', [("https://a.example/", ("hub", "self"))]),
    ('<https://a.example/>; rel=hub; rel=self', [("https://a.example/", ("hub",))]),  # §3.3: first rel only
    ("garbage, <https://b.example/>; rel=hub", [("https://b.example/", ("hub",))]),
    ("", []),
    (None, []),
])
def test_link_header(header: str | None, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert parse_link_header(header) == expected


def _doc(hubs: tuple[str, ...] = (), self_link: str | None = None) -> ParsedFeed:
    return ParsedFeed(title=None, site_link=None, version="rss20", ttl_s=None, hubs=hubs, self_link=self_link)


URL = "http://news.example/feed.xml"


@pytest.mark.parametrize(("headers", "doc", "expected"), [
    ({}, _doc(), None),
    ({"Link": '<https://h1.example/>; rel="hub", <http://news.example/self>; rel="self"'}, _doc(("https://h2.example/",)),
     WebSubLinks("https://h1.example/", "http://news.example/self")),  # headers first
    ({"link": "</hub>; rel=hub"}, _doc(self_link="http://news.example/doc-self"),
     WebSubLinks("http://news.example/hub", "http://news.example/doc-self")),  # relative, self from the document
    ({"Link": '<http://news.example/x>; rel="self"'}, _doc(("https://h2.example/",), "http://news.example/s"),
     WebSubLinks("https://h2.example/", "http://news.example/s")),  # no hub header: the document's
    ({}, _doc(("https://h2.example/", "https://h3.example/")), WebSubLinks("https://h2.example/", URL)),
    ({"Link": "<mailto:a@b.example>; rel=hub"}, _doc(), None),  # not an http(s) hub
])
def test_discovery_order(headers: dict[str, str], doc: ParsedFeed, expected: WebSubLinks | None) -> None:
    assert discover(headers, doc, URL) == expected


def test_documents_carry_their_hub_and_self_links() -> None:
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
            b'<link rel="hub" href="https://hub.example/"/><link rel="self" href="/feed.atom"/>'
            b'<entry><id>1</id><title>a</title><link href="http://news.example/a"/></entry></feed>')
    parsed = parse_feed(atom, {}, "http://news.example/feed.atom")
    assert (parsed.hubs, parsed.self_link) == (("https://hub.example/",), "http://news.example/feed.atom")
    rss = (b'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
           b'<title>T</title><atom:link rel="hub" href="https://hub.example/"/><item><title>a</title></item>'
           b'</channel></rss>')
    assert parse_feed(rss, {}, URL).hubs == ("https://hub.example/",)


@pytest.mark.parametrize(("hub", "allow_http", "expected"), [
    ("http://hub.example/", False, "https://hub.example/"),
    ("http://hub.example:80/x?y=1", False, "https://hub.example/x?y=1"),
    ("http://hub.example:8080/", False, "https://hub.example:8080/"),
    ("http://hub.example/", True, "http://hub.example/"),
    ("https://hub.example/", False, "https://hub.example/"),
])
def test_hubs_are_asked_over_https(hub: str, allow_http: bool, expected: str) -> None:
    assert hub_request_url(hub, allow_http=allow_http) == expected


SECRET = "s3cret-of-one-subscription"
BODY = b"<rss>new items</rss>"


def _sig(method: str, secret: str = SECRET, body: bytes = BODY) -> str:
    return f"{method}={hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()}"


@pytest.mark.parametrize(("header", "verdict"), [
    (_sig("sha256"), PushVerdict.ACCEPTED),
    (_sig("sha384"), PushVerdict.ACCEPTED),
    (_sig("sha512"), PushVerdict.ACCEPTED),
    (_sig("sha256").upper().replace("SHA256=", "sha256="), PushVerdict.ACCEPTED),  # hex case does not matter
    (_sig("sha1"), PushVerdict.WEAK_SIGNATURE),
    (_sig("md5"), PushVerdict.UNSUPPORTED_SIGNATURE),
    (_sig("sha256", secret="another"), PushVerdict.BAD_SIGNATURE),
    (_sig("sha256", body=b"<rss>other</rss>"), PushVerdict.BAD_SIGNATURE),
    ("sha256=" + "é" * 64, PushVerdict.BAD_SIGNATURE),
    ("sha256", PushVerdict.MALFORMED_SIGNATURE),
    ("sha256=", PushVerdict.MALFORMED_SIGNATURE),
    ("", PushVerdict.MISSING_SIGNATURE),
    (None, PushVerdict.MISSING_SIGNATURE),
])
def test_signatures(header: str | None, verdict: PushVerdict) -> None:
    assert check_signature(header, BODY, SECRET) == verdict


TOPIC = "http://news.example/feed.xml"


def _sub(state: SubscriptionState, *, requested: bool = True, expires_in_s: float | None = None,
         attempts: int = 0) -> SubscriptionView:
    return SubscriptionView(state=state, topic=TOPIC, requested_at=NOW if requested else None,
                            expires_at=NOW + timedelta(seconds=expires_in_s) if expires_in_s is not None else None,
                            attempts=attempts)


def _check(mode: str, topic: str = TOPIC, challenge: str | None = "c", lease_s: int | None = 60) -> IntentCheck:
    return IntentCheck(mode=mode, topic=topic, challenge=challenge, lease_s=lease_s, reason=None)


@pytest.mark.parametrize(("sub", "check", "verdict"), [
    (_sub("subscribing"), _check("subscribe"), "activate"),
    (_sub("active", requested=False), _check("subscribe"), "activate"),  # a renewal, or the hub re-checking
    (_sub("subscribing", requested=False), _check("subscribe"), "refuse"),  # nothing asked yet
    (_sub("subscribing"), _check("subscribe", topic="http://news.example/other"), "refuse"),
    (_sub("subscribing"), _check("subscribe", topic="http://news.example/feed%2Exml"), "activate"),  # §5.1.1
    (_sub("subscribing"), _check("unsubscribe"), "refuse"),
    (_sub("subscribing"), _check("subscribe", challenge=None), "refuse"),
    (_sub("subscribing"), _check("subscribe", challenge="x" * 5000), "refuse"),
    (_sub("subscribing"), _check("subscribe", lease_s=-1), "refuse"),
    (_sub("subscribing"), _check("subscribe", lease_s=None), "activate"),  # lenient: the lease we asked for
    (_sub("failed"), _check("subscribe"), "refuse"),
    (_sub("unsubscribing"), _check("unsubscribe"), "unsubscribed"),
    (_sub("unsubscribing", requested=False), _check("unsubscribe"), "refuse"),
    (_sub("unsubscribing"), _check("subscribe"), "refuse"),
    (_sub("active", requested=False), _check("denied", challenge=None), "denied"),
    (_sub("unsubscribing"), _check("denied", challenge=None), "refuse"),
    (_sub("active"), _check("publish"), "refuse"),
    (None, _check("subscribe"), "refuse"),
])
def test_verification_of_intent(sub: SubscriptionView | None, check: IntentCheck, verdict: str) -> None:
    assert intent_verdict(sub, check) == verdict


@pytest.mark.parametrize(("sub", "wanted", "step"), [
    (_sub("subscribing", requested=False), True, "subscribe"),
    (_sub("subscribing"), True, "verify_timeout"),  # due again while the request is out: no verification came
    (_sub("active", requested=False, expires_in_s=600), True, "subscribe"),  # renew
    (_sub("active", requested=True, expires_in_s=600), True, "verify_timeout"),
    (_sub("active", requested=False, expires_in_s=-1), True, "lapse"),
    (_sub("failed", requested=False), True, "subscribe"),
    (_sub("denied", requested=False), True, "subscribe"),
    (_sub("active", requested=False, expires_in_s=600), False, "unsubscribe"),
    (_sub("subscribing"), False, "unsubscribe"),  # the hub may have it already
    (_sub("subscribing", requested=False), False, "drop"),
    (_sub("failed", requested=False), False, "drop"),
    (_sub("unsubscribing", requested=False), True, "unsubscribe"),  # a retired row stays retired
    (_sub("unsubscribing", attempts=3), False, "drop"),  # gave up; the hub's lease will lapse
])
def test_next_step(sub: SubscriptionView, wanted: bool, step: str) -> None:
    assert next_step(sub, wanted=wanted, now=NOW) == step


def test_topics_compare_with_unreserved_escapes_decoded() -> None:
    assert same_topic("http://a.example/~x", "http://a.example/%7Ex")
    assert not same_topic("http://a.example/a%2Fb", "http://a.example/a/b")  # a reserved character stays encoded


async def test_hubs_pass_the_same_address_checks_as_feeds(feed_server: FeedServer) -> None:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": "https://news.example/websub/t"}
    guarded = HubClient(allowed_networks=[], user_agent="news-ingest-test", timeout_s=5)
    try:
        answer = await guarded.send(feed_server.url("/hub"), form)  # 127.0.0.1: loopback, not allowed
    finally:
        await guarded.aclose()
    assert not answer.accepted and "blocked address" in (answer.error or "")
    assert feed_server.requests_to("/hub") == []
    allowed = HubClient(allowed_networks=[ipaddress.ip_network("127.0.0.0/8")], user_agent="t", timeout_s=5)
    try:
        reached = await allowed.send(feed_server.url("/hub"), form)
        assert reached.status == 501  # connected: the feed server answers every POST 501
    finally:
        await allowed.aclose()
