"""The schedule and the feed's state after a refresh, as tables of cases: pure functions of the
feed, the answer and the clock (app.pipeline.schedule, app.pipeline.refresh)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from app.domain.feeds import FeedEntry, ParsedFeed
from app.domain.fetching import FetchResult
from app.domain.refresh import FeedHealth, FeedView, KnownEntry
from app.domain.websub import WebSubLinks
from app.pipeline.flow import FeedFetch
from app.pipeline.refresh import entries_to_fetch, failed, polled
from app.pipeline.schedule import SchedulePolicy, next_poll

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = SchedulePolicy(min_interval_s=300, max_interval_s=86400, websub_poll_interval_s=3600, max_backoff_s=3600)
HOURLY = ParsedFeed(title="t", site_link=None, version="rss20", ttl_s=None, entries=tuple(
    FeedEntry(guid=f"g{i}", link=None, title=f"t{i}", summary=None, content=None, author=None,
              published=NOW - timedelta(hours=i)) for i in range(5)))
MINUTELY = ParsedFeed(title=None, site_link=None, version="rss20", ttl_s=None, entries=tuple(
    FeedEntry(guid=f"g{i}", link=None, title=None, summary=None, content=None, author=None,
              published=NOW - timedelta(minutes=i)) for i in range(5)))
FEED = FeedView(id=1, url="https://news.example/feed", interval_s=7200)


def minutes(at: datetime) -> float:
    return (at - NOW).total_seconds() / 60


@pytest.mark.parametrize(("feed", "parsed", "headers", "expected_min"), [
    # entries an hour apart: polled hourly
    (FEED, HOURLY, {}, 60),
    # a 304 says nothing of how often the feed publishes: the learned two hours are kept
    (FEED, None, {}, 120),
    # ... and a 304 never brings the poll sooner than an unknown feed's hour
    (FeedView(id=1, url="u", interval_s=600), None, {}, 60),
    # the server's freshness lifetime is a floor (RFC 9111 §4.2.1)
    (FEED, HOURLY, {"cache-control": "max-age=10800"}, 180),
    # an operator's override wins over everything, a 304 included
    (FeedView(id=1, url="u", interval_s=7200, poll_interval_override_s=900), None, {}, 15),
    # bounds: a feed publishing every minute is read every min_interval_s ...
    (FEED, MINUTELY, {}, 5),
    # ... unless a hub pushes it: then polled only as a safety net
    (FeedView(id=1, url="u", interval_s=600, push_until=NOW + timedelta(days=1)), MINUTELY, {}, 60),
    # a lease that has lapsed pushes nothing
    (FeedView(id=1, url="u", interval_s=600, push_until=NOW - timedelta(seconds=1)), MINUTELY, {}, 5),
    # an override beats the push too
    (FeedView(id=1, url="u", poll_interval_override_s=120, push_until=NOW + timedelta(days=1)), MINUTELY, {}, 2),
])
def test_next_poll(feed: FeedView, parsed: ParsedFeed | None, headers: dict[str, str], expected_min: float) -> None:
    assert minutes(next_poll(feed, NOW, parsed=parsed, headers=headers, policy=POLICY)) == pytest.approx(expected_min)


def test_next_poll_after_silence_slows_down() -> None:
    quiet = ParsedFeed(title=None, site_link=None, version="rss20", ttl_s=None, entries=tuple(
        FeedEntry(guid=f"g{i}", link=None, title=None, summary=None, content=None, author=None,
                  published=NOW - timedelta(hours=10 + i)) for i in range(3)))
    # hourly entries, but none for ten hours: half the silence
    assert minutes(next_poll(FEED, NOW, parsed=quiet, headers={}, policy=POLICY)) == pytest.approx(5 * 60)
    gone_quiet = ParsedFeed(title=None, site_link=None, version="rss20", ttl_s=None, entries=tuple(
        FeedEntry(guid=f"g{i}", link=None, title=None, summary=None, content=None, author=None,
                  published=NOW - timedelta(days=4, hours=i)) for i in range(3)))
    assert minutes(next_poll(FEED, NOW, parsed=gone_quiet, headers={}, policy=POLICY)) == 24 * 60  # the bound


def fetched(outcome: Literal["ok", "not_modified", "unchanged"] = "ok", parsed: ParsedFeed | None = HOURLY, *,
            etag: str | None = None, permanent_redirect: str | None = None) -> FeedFetch:
    result = FetchResult(url="https://news.example/feed", status=304 if outcome == "not_modified" else 200,
                         headers={}, body=b"", etag=etag, permanent_redirect=permanent_redirect)
    return FeedFetch(outcome, result, parsed, None if parsed is None else "hash")


def test_a_304_keeps_the_validators_and_the_learned_interval() -> None:
    feed = FeedView(id=1, url="https://news.example/feed", interval_s=7200, etag='"v1"', last_modified="x", polls=3)
    result = polled(feed, fetched("not_modified", None), [], now=NOW, policy=POLICY, deferred=False)
    update = result.update
    assert (update["etag"], update["last_modified"], update["interval_s"], update["polls"]) == ('"v1"', "x", 7200, 4)
    assert "parse_warning" not in update and "title" not in update and result.hub is None
    assert minutes(update["next_poll_at"]) == 120


def test_entries_left_for_later_bring_the_next_poll_forward_without_validators() -> None:
    result = polled(FEED, fetched(etag='"v2"'), [], now=NOW, policy=POLICY, deferred=True)
    update = result.update
    assert (update["etag"], update["last_modified"], update["body_hash"]) == (None, None, None)
    assert minutes(update["next_poll_at"]) == 5


@pytest.mark.parametrize(("candidate", "target", "url", "new_candidate"), [
    (None, "https://news.example/moved", None, "https://news.example/moved"),  # seen once: remembered
    ("https://news.example/moved", "https://news.example/moved", "https://news.example/moved", None),  # twice
    ("https://news.example/moved", None, None, None),  # not again: forgotten
])
def test_a_permanent_redirect_moves_the_feed_when_seen_twice(candidate: str | None, target: str | None,
                                                              url: object, new_candidate: str | None) -> None:
    feed = FeedView(id=1, url="https://news.example/feed", redirect_candidate=candidate)
    update = polled(feed, fetched(permanent_redirect=target), [], now=NOW, policy=POLICY, deferred=False).update
    assert (update.get("url"), update["redirect_candidate"]) == (url, new_candidate)


def test_a_hub_change_is_reported_once() -> None:
    pushed = ParsedFeed(title=None, site_link=None, version="atom10", ttl_s=None,
                        hubs=("https://hub.example/",), self_link="https://news.example/feed")
    first = polled(FEED, fetched(parsed=pushed), [], now=NOW, policy=POLICY, deferred=False)
    assert first.hub is not None and first.hub.links == WebSubLinks("https://hub.example/", "https://news.example/feed")
    known = FeedView(id=1, url=FEED.url, websub_hub="https://hub.example/", websub_topic="https://news.example/feed")
    assert polled(known, fetched(parsed=pushed), [], now=NOW, policy=POLICY, deferred=False).hub is None


@pytest.mark.parametrize(("state", "failures", "kind", "new_state", "event"), [
    ("ok", 0, "timeout", "degraded", None),
    ("degraded", 3, "timeout", "degraded", None),
    ("degraded", 4, "timeout", "failing", "feed.failing"),
    ("failing", 9, "timeout", "failing", None),  # told once
    ("ok", 0, "gone", "gone", "feed.failing"),
    ("failing", 7, "gone", "gone", None),
])
def test_failures_degrade_then_fail_and_tell_once(state: FeedHealth, failures: int, kind: str, new_state: str,
                                                  event: str | None) -> None:
    feed = FeedView(id=1, url="u", state=state, consecutive_failures=failures)
    result = failed(feed, NOW, POLICY, message="fetch: no answer", kind=kind)
    assert result.outcome == "error" and result.update["state"] == new_state
    assert result.update["consecutive_failures"] == failures + 1
    assert [e[0] for e in result.events] == ([event] if event else [])
    wait = minutes(result.update["next_poll_at"])
    assert wait == 24 * 60 if kind == "gone" else 0 < wait <= 60


def test_retry_after_is_a_floor_for_the_backoff() -> None:
    result = failed(FEED, NOW, POLICY, message="fetch: rate limited", kind="rate_limited", retry_after=1800)
    assert minutes(result.update["next_poll_at"]) >= 30


def test_a_recovered_feed_says_so() -> None:
    feed = FeedView(id=1, url="u", state="failing", consecutive_failures=6)
    result = polled(feed, fetched(), [], now=NOW, policy=POLICY, deferred=False)
    assert [e[0] for e in result.events] == ["feed.recovered"]
    assert (result.update["state"], result.update["consecutive_failures"]) == ("ok", 0)


def entry(guid: str, title: str | None = "t", summary: str | None = None) -> FeedEntry:
    return FeedEntry(guid=guid, link=None, title=title, summary=summary, content=None, author=None, published=NOW)


@pytest.mark.parametrize(("known", "fetch"), [
    (None, True),  # new
    (KnownEntry(1, "t", None, "ok", 1), False),  # stored, unchanged
    (KnownEntry(1, "old title", None, "ok", 1), True),  # edited title
    (KnownEntry(1, "t", "old summary", "ok", 1), True),  # edited summary
    (KnownEntry(1, "t", None, "retry", 2), True),  # the page failed: tried again ...
    (KnownEntry(1, "t", None, "retry", 3), False),  # ... a few times
])
def test_entries_worth_a_page_fetch(known: KnownEntry | None, fetch: bool) -> None:
    todo = entries_to_fetch([entry("g")], {"g": known} if known else {})
    assert bool(todo) is fetch


def test_an_untitled_entry_titled_from_its_page_is_no_edit() -> None:
    assert entries_to_fetch([entry("g", title=None)], {"g": KnownEntry(1, "From the page", None, "ok", 1)}) == []


def test_the_api_names_every_feed_state() -> None:
    from app.api.schemas import FeedState
    from app.domain.refresh import FEED_STATES

    assert [s.value for s in FeedState] == list(FEED_STATES)
