"""WebSub rows: subscriptions and their states, pushed documents, and the feed columns that
say whether a hub pushes a feed. The decisions are app.domain.websub's; this module records
them. Several workers and API processes share the rows: work is claimed with a lease
(`claim_rows`, FOR UPDATE SKIP LOCKED on PostgreSQL), and every change that can race with a
hub's verification reads the row with FOR UPDATE first (SQLite's writers are serialised).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import and_, case, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.websub import (
    CURRENT_STATES,
    DENIED_RETRY_S,
    IntentCheck,
    SubscriptionState,
    SubscriptionView,
    Verdict,
    WebSubLinks,
    hub_request_url,
    intent_verdict,
    renew_at,
)
from app.storage.dialects import claim_rows
from app.storage.models import Feed, WebSubPush, WebSubSubscription

MAX_PUSH_ATTEMPTS = 5


def _view(sub: WebSubSubscription) -> SubscriptionView:
    return SubscriptionView(state=cast(SubscriptionState, sub.state), topic=sub.topic_url,
                            requested_at=sub.requested_at, expires_at=sub.expires_at, attempts=sub.attempts)


async def _locked(session: AsyncSession, sub_id: int) -> WebSubSubscription | None:
    stmt = select(WebSubSubscription).where(WebSubSubscription.id == sub_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def _stop_push(session: AsyncSession, feed_id: int | None, now: datetime) -> None:
    """The hub no longer pushes this feed: drop the relaxed schedule and poll it now (what was
    published meanwhile would otherwise wait for the safety-net poll)."""
    if feed_id is None:
        return
    await session.execute(update(Feed).where(Feed.id == feed_id, Feed.push_until.is_not(None))
                          .values(push_until=None, next_poll_at=case((Feed.next_poll_at > now, now),
                                                                     else_=Feed.next_poll_at))
                          .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- starting and retiring


def _new(feed_id: int, links: WebSubLinks, *, now: datetime, allow_http: bool) -> WebSubSubscription:
    # A fresh callback token and secret per subscription (§5.1.1: unguessable, unique; §5.1:
    # hub.secret under 200 bytes): 256 random bits each.
    return WebSubSubscription(feed_id=feed_id, hub_url=hub_request_url(links.hub, allow_http=allow_http),
                              topic_url=links.topic, token=secrets.token_urlsafe(32),
                              secret=secrets.token_urlsafe(32), state="subscribing", next_action_at=now,
                              attempts=0, pushes=0, created_at=now, updated_at=now)


async def _retire(session: AsyncSession, sub: WebSubSubscription, now: datetime) -> None:
    """Stop wanting `sub`: tell its hub (when it may hold the subscription), else forget it."""
    at_hub = sub.state == "active" or (sub.state == "subscribing" and sub.requested_at is not None)
    if at_hub:
        sub.state, sub.requested_at, sub.attempts, sub.next_action_at = "unsubscribing", None, 0, now
        sub.updated_at = now
    else:
        await session.delete(sub)
    await _stop_push(session, sub.feed_id, now)


async def _current(session: AsyncSession, feed_id: int) -> list[WebSubSubscription]:
    stmt = (select(WebSubSubscription).where(WebSubSubscription.feed_id == feed_id,
                                             WebSubSubscription.state.in_(CURRENT_STATES))
            .with_for_update())
    return list((await session.execute(stmt)).scalars())


async def retire_feed(session: AsyncSession, feed_id: int, *, now: datetime) -> None:
    """The feed is being deleted or paused: unsubscribe from its hub (in the caller's transaction)."""
    for sub in await _current(session, feed_id):
        await _retire(session, sub, now)
    await session.flush()


async def hub_changed(session: AsyncSession, feed_id: int, links: WebSubLinks | None, *, now: datetime,
                      subscribe: bool, allow_http: bool) -> None:
    """The feed now advertises `links` (None: no hub). Subscriptions to what it advertised before
    are retired; a new one starts when subscriptions are enabled (`subscribe`)."""
    for sub in await _current(session, feed_id):
        await _retire(session, sub, now)
    if links is not None and subscribe:
        session.add(_new(feed_id, links, now=now, allow_http=allow_http))
    await session.flush()


async def adopt_feeds(session: AsyncSession, *, now: datetime, allow_http: bool, limit: int = 100) -> int:
    """Start subscriptions for feeds that advertise a hub and have none: a feed resumed after a
    pause, or every such feed once a public URL is configured."""
    has_current = exists().where(WebSubSubscription.feed_id == Feed.id,
                                 WebSubSubscription.state.in_(CURRENT_STATES))
    stmt = (select(Feed.id, Feed.websub_hub, Feed.websub_topic)
            .where(Feed.websub_hub.is_not(None), Feed.paused.is_(False), Feed.state != "gone", ~has_current)
            .order_by(Feed.id).limit(limit)
            # Two workers adopting at once must not both subscribe a feed: on PostgreSQL the feed
            # rows are locked and skipped by the other (and by a poll storing a hub change); on
            # SQLite, where this clause compiles to nothing, writers are serialised anyway.
            .with_for_update(skip_locked=True, of=Feed))
    rows = (await session.execute(stmt)).all()
    for feed_id, hub, topic in rows:
        assert hub is not None  # selected for it
        session.add(_new(feed_id, WebSubLinks(hub, topic or hub), now=now, allow_http=allow_http))
    await session.flush()
    return len(rows)


# --------------------------------------------------------------------------- the worker's side


@dataclass(frozen=True, slots=True)
class ActionJob:
    id: int
    feed_id: int | None
    feed_active: bool  # the feed exists, is not paused and not gone
    view: SubscriptionView
    hub_url: str
    topic_url: str
    token: str
    secret: str


async def claim_actions(session: AsyncSession, *, now: datetime, owner: str, lease_s: int,
                        limit: int) -> list[ActionJob]:
    due = and_(WebSubSubscription.next_action_at <= now,
               or_(WebSubSubscription.lease_until.is_(None), WebSubSubscription.lease_until < now))
    ids = await claim_rows(session, WebSubSubscription, due=due, order_by=WebSubSubscription.next_action_at,
                           limit=limit, owner=owner, lease_until=now + timedelta(seconds=lease_s))
    if not ids:
        return []
    stmt = (select(WebSubSubscription, Feed.paused, Feed.state)
            .outerjoin(Feed, Feed.id == WebSubSubscription.feed_id).where(WebSubSubscription.id.in_(ids))
            .order_by(WebSubSubscription.id))
    return [ActionJob(sub.id, sub.feed_id, paused is False and state not in (None, "gone"), _view(sub),
                      sub.hub_url, sub.topic_url, sub.token, sub.secret)
            for sub, paused, state in (await session.execute(stmt)).all()]


async def begin_request(session: AsyncSession, sub_id: int, *, now: datetime, lapsed: bool = False) -> None:
    """Record that a (un)subscription request is about to go out, before it does: a hub may
    verify before it answers (§5.3 is asynchronous, but some hubs verify at once), and the
    callback only confirms requests that are on record. `lapsed`: the lease ran out."""
    sub = await _locked(session, sub_id)
    if sub is None:
        return
    if lapsed:
        sub.state, sub.expires_at = "subscribing", None
        await _stop_push(session, sub.feed_id, now)
    elif sub.state in ("failed", "denied"):
        sub.state = "subscribing"  # a new attempt
    sub.requested_at, sub.updated_at = now, now
    if sub.state == "unsubscribing":
        sub.attempts += 1  # unsubscribing gives up after a few unverified requests
    await session.flush()


async def request_accepted(session: AsyncSession, sub_id: int, *, sent_at: datetime, hub_url: str,
                           verify_timeout_s: int) -> None:
    """The hub accepted the request (2xx): wait for its verification, unless it came already."""
    sub = await _locked(session, sub_id)
    if sub is None:  # an unsubscription verified during the request
        return
    sub.hub_url = hub_url  # where a 307/308 sent us (§5.1.2)
    if sub.requested_at == sent_at:
        sub.next_action_at = sent_at + timedelta(seconds=verify_timeout_s)
    sub.lease_until = sub.lease_owner = None


async def request_failed(session: AsyncSession, sub_id: int, *, now: datetime, error: str,
                         backoff_s: float) -> None:
    """The hub refused or did not answer, or did not verify in time. An active subscription
    keeps its lease and retries before it ends; otherwise the feed is polled as before."""
    sub = await _locked(session, sub_id)
    if sub is None:
        return
    retry_at = now + timedelta(seconds=backoff_s)
    sub.attempts += 0 if sub.state == "unsubscribing" else 1
    sub.requested_at, sub.last_error, sub.last_error_at, sub.updated_at = None, error[:2000], now, now
    if sub.state == "active" and sub.expires_at is not None and sub.expires_at > now:
        sub.next_action_at = min(retry_at, sub.expires_at)
    elif sub.state == "unsubscribing":
        sub.next_action_at = retry_at
    else:
        sub.state, sub.next_action_at = "failed", retry_at
        await _stop_push(session, sub.feed_id, now)
    sub.lease_until = sub.lease_owner = None


async def drop(session: AsyncSession, sub_id: int) -> None:
    await session.execute(delete(WebSubSubscription).where(WebSubSubscription.id == sub_id))


# --------------------------------------------------------------------------- the hub's callbacks


async def apply_intent(session: AsyncSession, token: str, check: IntentCheck, *, now: datetime,
                       default_lease_s: int) -> Verdict:
    """Answer a verification of intent (§5.3) or a denial (§5.2) for the callback `token`."""
    stmt = select(WebSubSubscription).where(WebSubSubscription.token == token).with_for_update()
    sub = (await session.execute(stmt)).scalar_one_or_none()
    verdict = intent_verdict(_view(sub) if sub is not None else None, check)
    if sub is None or verdict == "refuse":
        return "refuse"
    if verdict == "activate":
        # §5.3: hub.lease_seconds is required for subscribe; a hub that omits it gets the lease asked for.
        lease_s = check.lease_s or default_lease_s
        sub.state, sub.verified_at, sub.requested_at, sub.attempts = "active", now, None, 0
        sub.expires_at, sub.next_action_at = now + timedelta(seconds=lease_s), renew_at(now, lease_s)
        sub.last_error = sub.last_error_at = None
        if sub.feed_id is not None:
            await session.execute(update(Feed).where(Feed.id == sub.feed_id).values(push_until=sub.expires_at)
                                  .execution_options(synchronize_session=False))
    elif verdict == "unsubscribed":
        await session.delete(sub)
    else:  # denied (§5.2): the hub will not push; try again much later
        sub.state, sub.requested_at, sub.expires_at = "denied", None, None
        sub.last_error = f"websub: the hub denied the subscription: {check.reason or 'no reason given'}"[:2000]
        sub.last_error_at, sub.next_action_at = now, now + timedelta(seconds=DENIED_RETRY_S)
        await _stop_push(session, sub.feed_id, now)
    sub.updated_at = now
    await session.flush()
    return verdict


@dataclass(frozen=True, slots=True)
class PushTarget:
    subscription_id: int
    feed_id: int | None
    secret: str
    state: SubscriptionState


async def push_target(session: AsyncSession, token: str) -> PushTarget | None:
    stmt = select(WebSubSubscription.id, WebSubSubscription.feed_id, WebSubSubscription.secret,
                  WebSubSubscription.state).where(WebSubSubscription.token == token)
    row = (await session.execute(stmt)).first()
    return PushTarget(row[0], row[1], row[2], cast(SubscriptionState, row[3])) if row is not None else None


async def store_push(session: AsyncSession, target: PushTarget, body: bytes, content_type: str | None, *,
                     now: datetime) -> None:
    """Keep a verified push until a worker has stored what it carries."""
    assert target.feed_id is not None
    session.add(WebSubPush(subscription_id=target.subscription_id, feed_id=target.feed_id, body=body,
                           content_type=(content_type or "")[:255] or None, received_at=now, attempts=0))
    await session.execute(update(WebSubSubscription).where(WebSubSubscription.id == target.subscription_id)
                          .values(last_push_at=now, pushes=WebSubSubscription.pushes + 1)
                          .execution_options(synchronize_session=False))
    await session.flush()


async def note_refusal(session: AsyncSession, sub_id: int, error: str, *, now: datetime) -> None:
    """A push that was refused: kept on the subscription (a hub signing with sha1 shows up in
    GET /v1/feeds/{id}, not only in the metrics)."""
    await session.execute(update(WebSubSubscription).where(WebSubSubscription.id == sub_id)
                          .values(last_error=error[:2000], last_error_at=now)
                          .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- pushed documents


@dataclass(frozen=True, slots=True)
class PushJob:
    id: int
    subscription_id: int
    feed_id: int
    body: bytes
    content_type: str | None
    received_at: datetime
    attempts: int


async def claim_pushes(session: AsyncSession, *, now: datetime, owner: str, lease_s: int,
                       limit: int) -> list[PushJob]:
    due = or_(WebSubPush.lease_until.is_(None), WebSubPush.lease_until < now)
    ids = await claim_rows(session, WebSubPush, due=due, order_by=WebSubPush.id, limit=limit, owner=owner,
                           lease_until=now + timedelta(seconds=lease_s))
    if not ids:
        return []
    rows = (await session.execute(select(WebSubPush).where(WebSubPush.id.in_(ids)).order_by(WebSubPush.id))).scalars()
    return [PushJob(p.id, p.subscription_id, p.feed_id, p.body, p.content_type, p.received_at, p.attempts)
            for p in rows]


async def finish_push(session: AsyncSession, push_id: int) -> None:
    """In the transaction that stores the push's articles: the push is done exactly when they are."""
    await session.execute(delete(WebSubPush).where(WebSubPush.id == push_id))


async def defer_pushes(session: AsyncSession, push_ids: list[int], *, until: datetime) -> None:
    """Hand pushes back, to be claimed again from `until` (their feed is busy being polled)."""
    if push_ids:
        await session.execute(update(WebSubPush).where(WebSubPush.id.in_(push_ids))
                              .values(lease_until=until, lease_owner=None)
                              .execution_options(synchronize_session=False))


async def push_failed(session: AsyncSession, job: PushJob, error: str, *, now: datetime, final: bool) -> bool:
    """Record a push that could not be stored. A document that is not a feed (`final`), or one
    that failed MAX_PUSH_ATTEMPTS times, is dropped and the reason kept on its subscription.
    Returns True when dropped."""
    dropped = final or job.attempts + 1 >= MAX_PUSH_ATTEMPTS
    if dropped:
        await session.execute(delete(WebSubPush).where(WebSubPush.id == job.id))
        await session.execute(update(WebSubSubscription).where(WebSubSubscription.id == job.subscription_id)
                              .values(last_error=error[:2000], last_error_at=now)
                              .execution_options(synchronize_session=False))
    else:
        await session.execute(update(WebSubPush).where(WebSubPush.id == job.id)
                              .values(attempts=WebSubPush.attempts + 1, lease_until=None, lease_owner=None)
                              .execution_options(synchronize_session=False))
    return dropped


# --------------------------------------------------------------------------- what the API shows


async def feed_subscription(session: AsyncSession, feed_id: int) -> WebSubSubscription | None:
    """The feed's current subscription, if it has one."""
    stmt = (select(WebSubSubscription).where(WebSubSubscription.feed_id == feed_id,
                                             WebSubSubscription.state.in_(CURRENT_STATES))
            .order_by(WebSubSubscription.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()
