"""WebSub (W3C Recommendation, 2018-01-23) as the subscriber sees it: the links a topic
advertises, the states of one subscription, what a callback request amounts to, and the
decisions about one subscription. No I/O.

    hub_request_url(hub, allow_http) -> str           §8.2: favour https for hubs
    intent_verdict(subscription, check)               §5.3: echo the challenge or answer 404
    next_step(subscription, wanted, now)              what the worker does with a due subscription

A subscription moves through these states (this module decides, app.storage.websub records,
app.workers.websub acts, app.pipeline.websub talks to the hub):

    subscribing  --hub verifies intent-->  active  --renew before the lease ends--> active
         |  hub refuses / no verification       | lease lapses (renewals failed)
         v                                      v
       failed  --backoff--> subscribing     subscribing (the feed is polled again meanwhile)
    any state  --feed deleted, paused, hub changed-->  unsubscribing --verified--> (row deleted)
    hub sends hub.mode=denied  -->  denied  --a day later--> subscribing
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

SubscriptionState = Literal["subscribing", "active", "unsubscribing", "failed", "denied"]
SUBSCRIPTION_STATES: tuple[SubscriptionState, ...] = ("subscribing", "active", "unsubscribing", "failed", "denied")
# The subscription a feed has now; an `unsubscribing` row is a retired one being wound down.
CURRENT_STATES: tuple[SubscriptionState, ...] = ("subscribing", "active", "failed", "denied")
MAX_UNSUBSCRIBE_ATTEMPTS = 3
MAX_CHALLENGE_CHARS = 4096
RENEW_AT_FRACTION = 0.8  # renew when 80% of the lease has passed
# A longer lease a hub grants is taken as this long: renewing early costs one request, and 12
# digits of seconds (31,700 years) were past the last datetime, a 500 to the hub.
MAX_LEASE_S = 366 * 86400
DENIED_RETRY_S = 86400


@dataclass(frozen=True, slots=True)
class WebSubLinks:
    """What discovery found (§4): the hub to subscribe at, and the topic (the rel=self URL)."""

    hub: str
    topic: str


class PushVerdict(StrEnum):
    """What became of a content distribution request (§7); also the metrics label."""

    ACCEPTED = "accepted"
    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    WEAK_SIGNATURE = "weak_signature"  # sha1: refused, §8.3 asks for at least SHA-256
    UNSUPPORTED_SIGNATURE = "unsupported_signature"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_CALLBACK = "unknown_callback"
    NOT_SUBSCRIBED = "not_subscribed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """The fields of a stored subscription that decisions read."""

    state: SubscriptionState
    topic: str
    requested_at: datetime | None
    expires_at: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class IntentCheck:
    """A verification of intent (§5.3) or a denial (§5.2) as the hub sent it."""

    mode: str
    topic: str
    challenge: str | None
    lease_s: int | None
    reason: str | None = None


Verdict = Literal["activate", "unsubscribed", "denied", "refuse"]
Step = Literal["subscribe", "unsubscribe", "lapse", "verify_timeout", "drop"]


def hub_request_url(hub: str, *, allow_http: bool) -> str:
    """§8.2: subscribers SHOULD favour the https URL of a hub even when it is advertised as http
    (the request carries hub.secret). Plain http only when NEWS_INGEST_WEBSUB_ALLOW_HTTP_HUBS."""
    parts = urlsplit(hub)
    if parts.scheme == "http" and not allow_http:
        netloc = parts.netloc[:-3] if parts.netloc.endswith(":80") else parts.netloc
        return urlunsplit(("https", netloc, parts.path, parts.query, ""))
    return hub


# --------------------------------------------------------------------------- decisions


_UNRESERVED_ESCAPE = re.compile(r"%(2[DdEe]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])")


def same_topic(a: str, b: str) -> bool:
    """Topics compare as given, except that percent-encoded unreserved characters count as the
    characters themselves (§5.1.1: hubs decode them)."""
    def norm(url: str) -> str:
        return _UNRESERVED_ESCAPE.sub(lambda m: unquote(m.group(0)), url)
    return a == b or norm(a) == norm(b)


def intent_verdict(sub: SubscriptionView | None, check: IntentCheck) -> Verdict:
    """§5.3.1: confirm only what we asked for. A subscribe verification is ours when the row is
    being subscribed (the request has gone out) or renewed (active); an unsubscribe verification
    when the row is being unsubscribed; anything else, or another topic, gets 404. A denial
    (§5.2) is taken from the hub of a subscription we want."""
    if sub is None or not same_topic(check.topic, sub.topic):
        return "refuse"
    if check.mode == "denied":
        return "denied" if sub.state in ("subscribing", "active") else "refuse"
    if not check.challenge or len(check.challenge) > MAX_CHALLENGE_CHARS:
        return "refuse"
    if check.mode == "subscribe":
        asked = sub.state == "active" or (sub.state == "subscribing" and sub.requested_at is not None)
        return "activate" if asked and (check.lease_s is None or check.lease_s > 0) else "refuse"
    if check.mode == "unsubscribe":
        return "unsubscribed" if sub.state == "unsubscribing" and sub.requested_at is not None else "refuse"
    return "refuse"


def next_step(sub: SubscriptionView, *, wanted: bool, now: datetime) -> Step:
    """What to do with a subscription whose next action is due. `wanted`: its feed exists, is
    not paused or gone, and subscriptions are enabled (a public URL is set)."""
    if not wanted or sub.state == "unsubscribing":
        if sub.state == "unsubscribing":
            return "drop" if sub.attempts >= MAX_UNSUBSCRIBE_ATTEMPTS else "unsubscribe"
        # Only a hub that may hold a subscription needs to hear from us.
        at_hub = sub.state == "active" or (sub.state == "subscribing" and sub.requested_at is not None)
        return "unsubscribe" if at_hub else "drop"
    if sub.state == "active" and sub.expires_at is not None and sub.expires_at <= now:
        return "lapse"
    if sub.requested_at is not None and sub.state in ("subscribing", "active"):
        return "verify_timeout"  # the request went out and no verification came in time
    return "subscribe"


def renew_at(verified_at: datetime, lease_s: int) -> datetime:
    return verified_at + timedelta(seconds=max(1.0, lease_s * RENEW_AT_FRACTION))
