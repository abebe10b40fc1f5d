"""WebSub (W3C Recommendation, 2018-01-23) as the subscriber sees it: the links a topic
advertises, the states of one subscription, and what a callback request amounts to. No I/O.

A subscription moves through these states (app.pipeline.websub decides, app.storage.websub
records, app.workers.websub acts):

    subscribing  --hub verifies intent-->  active  --renew before the lease ends--> active
         |  hub refuses / no verification       | lease lapses (renewals failed)
         v                                      v
       failed  --backoff--> subscribing     subscribing (the feed is polled again meanwhile)
    any state  --feed deleted, paused, hub changed-->  unsubscribing --verified--> (row deleted)
    hub sends hub.mode=denied  -->  denied  --a day later--> subscribing
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

SubscriptionState = Literal["subscribing", "active", "unsubscribing", "failed", "denied"]
SUBSCRIPTION_STATES: tuple[SubscriptionState, ...] = ("subscribing", "active", "unsubscribing", "failed", "denied")
# The subscription a feed has now; an `unsubscribing` row is a retired one being wound down.
CURRENT_STATES: tuple[SubscriptionState, ...] = ("subscribing", "active", "failed", "denied")


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
