"""Refresh: one feed polled, and what follows from it, as one typed result. No database.

    refresh_feed(feed, ...) -> Refresh      fetch (app.pipeline.flow), the entries worth a page
                                            fetch, their drafts, and the feed's new state and
                                            schedule; a fetch or parse failure is a result too
    refresh_pushed(feed, fetched, ...)      the same for a document a WebSub hub pushed (drafts
                                            only: the schedule and health are the poll's)
    failed(feed, now, policy, message=...)  the feed's state after a failure (backoff, health)
    with_refused(result, feed, refused)     the feed's state when the database refused some
                                            drafts: remembered, named in its warning

The worker (app.workers.ingest) claims the feed before and stores the `Refresh` after, in one
transaction; it decides nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from app.domain.errors import FeedParseError, FetchError, NewsIngestError
from app.domain.feeds import FeedEntry
from app.domain.ingest import ArticleDraft
from app.domain.limits import clean_text
from app.domain.refresh import ALARMED_STATES, FeedUpdate, FeedView, KnownEntry
from app.domain.refusals import RefusedEntry, edition, in_force, merged, with_refusals
from app.domain.websub import WebSubLinks
from app.pipeline.fetch import Fetcher
from app.pipeline.flow import (
    FeedFetch,
    FeedSnapshot,
    RunCpu,
    StepBudgets,
    build_drafts,
    fetch_feed,
    newest_entries,
)
from app.pipeline.robots import RobotsCache
from app.pipeline.schedule import SchedulePolicy, backoff_delay, feed_health, next_poll
from app.pipeline.websub import discover

Outcome = Literal["ok", "not_modified", "unchanged", "error"]
Event = tuple[str, dict[str, Any]]
KnownOf = Callable[[Sequence[FeedEntry]], Awaitable[Mapping[str, KnownEntry]]]

DEGRADED_AFTER, FAILING_AFTER = 1, 5
MAX_PAGE_ATTEMPTS = 3
BACKOFF_BASE_S = 60.0
MAX_ERROR_CHARS, MAX_EVENT_ERROR_CHARS = 2000, 500


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """The operator's settings a refresh follows."""

    schedule: SchedulePolicy
    max_feed_entries: int
    max_entries_per_poll: int
    fetch_pages: bool = True
    tsvector: bool = False  # PostgreSQL: drafts carry their tsvector text
    budgets: StepBudgets = StepBudgets()  # of extraction and quotes, within an article's pool task


@dataclass(frozen=True, slots=True)
class HubChange:
    """WebSub discovery (§4) found another hub or topic than the feed has (None: none now)."""

    links: WebSubLinks | None


@dataclass(frozen=True, slots=True)
class Refresh:
    """One refresh: the drafts to store, the feed's new columns, the events to record, and the
    WebSub change to (re)subscribe for, all in one transaction."""

    outcome: Outcome
    at: datetime  # when the poll answered or failed, or the push arrived: undated entries' date
    update: FeedUpdate
    drafts: tuple[ArticleDraft, ...] = ()
    entries: int = 0  # in the document, before the entry cap
    events: tuple[Event, ...] = ()
    hub: HubChange | None = None
    error: str | None = None
    warning: str | None = None  # the document's own (parse) warning


def snapshot(feed: FeedView) -> FeedSnapshot:
    return FeedSnapshot(id=feed.id, url=feed.url, etag=feed.etag, last_modified=feed.last_modified,
                        body_hash=feed.body_hash)


def failure_message(exc: NewsIngestError) -> str:
    return clean_text(str(exc)) or type(exc).__name__


def entries_to_fetch(entries: Sequence[FeedEntry], known: Mapping[str, KnownEntry]) -> list[FeedEntry]:
    """Only new entries, entries whose title/summary the feed has edited, and entries whose page
    could not be fetched last time (a few attempts) cost a page fetch. An entry without a title
    (a sitemap URL) was titled from its page: that is no edit."""
    return [e for e in entries if e.guid not in known
            or (e.title is not None and (known[e.guid].title or "") != e.title)
            or (known[e.guid].summary or "") != (e.summary or "")
            or (known[e.guid].extraction == "retry" and known[e.guid].extraction_attempts < MAX_PAGE_ATTEMPTS)]


@dataclass(frozen=True, slots=True)
class Drafts:
    drafts: list[ArticleDraft]
    deferred: bool  # entries were left for a later poll
    refused: tuple[RefusedEntry, ...] = ()  # refusals still in force: their entries were left out


async def drafts_for(entries: Sequence[FeedEntry], known_of: KnownOf, fetcher: Fetcher, run_cpu: RunCpu, *,
                     now: datetime, policy: RefreshPolicy, robots: RobotsCache | None,
                     refused: Sequence[RefusedEntry] = ()) -> Drafts:
    """Drafts of the entries worth a page fetch, at most `max_entries_per_poll` of them (newest
    first), but none of an entry the database refused lately (`refused`, app.domain.refusals)."""
    held = in_force(refused, entries, now)
    if held:
        entries = [e for e in entries if edition(e) not in held]
    known = await known_of(entries) if entries else {}
    todo, deferred = newest_entries(entries_to_fetch(entries, known), policy.max_entries_per_poll)
    if not todo:
        return Drafts([], deferred, tuple(held.values()))
    drafts = await build_drafts(todo, fetcher, run_cpu, now=now, fetch_pages=policy.fetch_pages,
                                tsvector=policy.tsvector, robots=robots, budgets=policy.budgets)
    drafts = [replace(d, edition=edition(e)) for e, d in zip(todo, drafts, strict=True)]
    return Drafts(drafts, deferred, tuple(held.values()))


async def refresh_feed(feed: FeedView, fetcher: Fetcher, run_cpu: RunCpu, known_of: KnownOf, *,
                       clock: Callable[[], datetime], policy: RefreshPolicy,
                       robots: RobotsCache | None = None) -> Refresh:
    """Poll `feed` once. Fetch and parse failures come back as an "error" Refresh; anything
    else (a bug, the database) is raised for the worker to record with `failed`."""
    try:
        fetched = await fetch_feed(snapshot(feed), fetcher, run_cpu, max_entries=policy.max_feed_entries)
    except (FetchError, FeedParseError) as exc:
        return failed(feed, clock(), policy.schedule, message=failure_message(exc), kind=getattr(exc, "kind", None),
                      retry_after=getattr(exc, "retry_after", None))
    now = clock()
    entries = list(fetched.parsed.entries) if fetched.parsed else []
    found = await drafts_for(entries, known_of, fetcher, run_cpu, now=now, policy=policy, robots=robots,
                             refused=feed.refused)
    return polled(feed, fetched, found.drafts, now=now, policy=policy.schedule, deferred=found.deferred,
                  refused=found.refused)


def polled(feed: FeedView, fetched: FeedFetch, drafts: Sequence[ArticleDraft], *, now: datetime,
           policy: SchedulePolicy, deferred: bool, refused: tuple[RefusedEntry, ...] = ()) -> Refresh:
    """The feed after a poll that answered: healthy, validators kept for the next conditional
    GET, the next poll scheduled, a permanent redirect followed once confirmed."""
    parsed, response = fetched.parsed, fetched.response
    next_at = next_poll(feed, now, parsed=parsed, headers=response.headers, policy=policy)
    interval = int((next_at - now).total_seconds())
    unchanged = fetched.outcome == "not_modified"
    etag = response.etag or (feed.etag if unchanged else None)
    last_modified = response.last_modified or (feed.last_modified if unchanged else None)
    body_hash = fetched.body_hash
    if deferred:
        # Entries are waiting: the next poll comes soon and must read the document again, not get a 304.
        etag = last_modified = body_hash = None
        next_at = min(next_at, now + timedelta(seconds=policy.min_interval_s))
    hub = None
    if parsed is not None:
        links = discover(response.headers, parsed, response.url)
        found = (links.hub, links.topic) if links else (None, None)
        if found != (feed.websub_hub, feed.websub_topic):
            hub = HubChange(links)
    update = FeedUpdate(state="ok", last_polled_at=now, last_success_at=now, next_poll_at=next_at,
                        interval_s=interval, consecutive_failures=0, polls=feed.polls + 1, etag=etag,
                        last_modified=last_modified, body_hash=body_hash)
    if parsed is not None:
        update["parse_warning"] = with_refusals(parsed.warning, refused)
        if feed.refused:  # forget refusals whose entry was edited, left the document or waited long enough
            update["refused_entries"] = refused
        if parsed.title and not feed.title:
            update["title"] = parsed.title
        if parsed.site_link and not feed.site_url:
            update["site_url"] = parsed.site_link
    if hub is not None:
        update["websub_hub"], update["websub_topic"] = (hub.links.hub, hub.links.topic) if hub.links else (None, None)
    update.update(_redirect(feed, response.permanent_redirect))
    events: tuple[Event, ...] = ()
    if feed.state in ALARMED_STATES:
        events = (("feed.recovered", {"feed": {"id": feed.id, "url": feed.url}}),)
    entries = len(parsed.entries) + parsed.omitted if parsed is not None else 0
    return Refresh(fetched.outcome, now, update, tuple(drafts), entries, events, hub,
                   warning=parsed.warning if parsed is not None else None)


def _redirect(feed: FeedView, target: str | None) -> FeedUpdate:
    # A permanent redirect moves the feed only when seen on two consecutive polls, so a
    # misconfigured server for a few minutes does not rewrite the stored URL for good.
    if not target or target == feed.url:
        return FeedUpdate(redirect_candidate=None)
    if feed.redirect_candidate == target:
        return FeedUpdate(url=target, redirect_candidate=None)
    return FeedUpdate(redirect_candidate=target)


async def refresh_pushed(feed: FeedView, fetched: FeedFetch, known_of: KnownOf, fetcher: Fetcher,
                         run_cpu: RunCpu, *, seen_at: datetime, policy: RefreshPolicy,
                         robots: RobotsCache | None = None) -> Refresh:
    """A document a hub pushed, stored as a polled one is (same drafts), without touching the
    poll schedule or the feed's health. An entry without a date of its own is dated when the
    push arrived, as a polled one is dated when its poll answered; a longer push leaves the rest
    for a poll."""
    parsed = fetched.parsed
    entries = list(parsed.entries) if parsed else []
    found = await drafts_for(entries, known_of, fetcher, run_cpu, now=seen_at, policy=policy, robots=robots,
                             refused=feed.refused)
    update = FeedUpdate(title=parsed.title) if parsed is not None and parsed.title and not feed.title else FeedUpdate()
    return Refresh(fetched.outcome, seen_at, update, tuple(found.drafts), len(entries))


def with_refused(result: Refresh, feed: FeedView, refused: Sequence[RefusedEntry]) -> FeedUpdate:
    """`result`'s feed update when the database refused some of its drafts: the refusals
    remembered (so their entries are not fetched again on every poll) and named in the feed's
    warning. The poll still succeeded: health and schedule are the result's."""
    kept = merged(result.update.get("refused_entries", feed.refused), refused)
    # A push carries no document warning of its own; the next poll writes the whole warning again.
    update = result.update.copy()
    update["refused_entries"], update["parse_warning"] = kept, with_refusals(result.warning, kept)
    return update


def failed(feed: FeedView, now: datetime, policy: SchedulePolicy, *, message: str, kind: str | None = None,
           retry_after: float | None = None) -> Refresh:
    """The feed after a failed poll: backed off (a server's Retry-After honoured), degraded, then
    failing; a 410 makes it gone (polled again only after the longest interval, or by hand).
    Reaching failing or gone sends feed.failing once."""
    failures = feed.consecutive_failures + 1
    if kind == "gone":
        state: Any = "gone"
        next_at = now + timedelta(seconds=policy.max_interval_s)
    else:
        delay = backoff_delay(failures, base=BACKOFF_BASE_S, cap=float(policy.max_backoff_s), retry_after=retry_after)
        next_at = now + timedelta(seconds=delay)
        state = feed_health(failures, degraded_after=DEGRADED_AFTER, failing_after=FAILING_AFTER)
    update = FeedUpdate(state=state, next_poll_at=next_at, last_polled_at=now, last_error=message[:MAX_ERROR_CHARS],
                        last_error_at=now, consecutive_failures=failures, polls=feed.polls + 1)
    events: tuple[Event, ...] = ()
    if state in ALARMED_STATES and feed.state not in ALARMED_STATES:
        events = (("feed.failing", {"feed": {"id": feed.id, "url": feed.url, "state": state,
                                             "error": message[:MAX_EVENT_ERROR_CHARS]}}),)
    return Refresh("error", now, update, events=events, error=message)
