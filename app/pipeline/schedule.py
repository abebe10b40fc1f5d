"""Schedule: when to poll a feed again, and how healthy it is. Pure functions of their arguments.

    poll_interval_s(now, ...) -> float                    adaptive interval, hints, bounds
    next_poll(feed, now, ...) -> datetime                 when to poll one feed after a poll that
                                                          answered: 304s, overrides, WebSub pushes
    backoff_delay(failures, base, cap, rng) -> float      exponential with jitter, capped
    feed_health(failures) -> "ok" | "degraded" | "failing"
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from app.domain.feeds import ParsedFeed
from app.domain.refresh import FeedView

MIN_INTERVAL_S = 5 * 60
MAX_INTERVAL_S = 24 * 60 * 60
DEFAULT_INTERVAL_S = 60 * 60  # a feed whose entries carry no dates


def _cache_hint_s(headers: Mapping[str, str] | None, now: datetime) -> float | None:
    """Freshness lifetime from Cache-Control max-age/s-maxage or Expires (RFC 9111 §4.2.1)."""
    if not headers:
        return None
    h = {k.lower(): v for k, v in headers.items()}
    cc = h.get("cache-control", "")
    if re.search(r"(?:^|,)\s*(?:no-store|no-cache)\b", cc, re.I):
        return None
    ages = [int(m) for m in re.findall(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", cc, re.I)]
    if ages:
        age = float(max(ages))
        current_age = h.get("age", "").strip()
        if current_age.isdigit():
            age -= int(current_age)
        return max(0.0, age)
    expires = h.get("expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return 0.0  # invalid Expires means "already expired" (RFC 9111 §5.3)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        origin = now
        if h.get("date"):  # measure against the server's clock when it sent one
            try:
                origin = parsedate_to_datetime(h["date"])
                origin = origin if origin.tzinfo else origin.replace(tzinfo=UTC)
            except (TypeError, ValueError, IndexError):
                origin = now
        return max(0.0, (when - origin).total_seconds())
    return None


def _publish_interval_s(entry_times: Iterable[datetime | None], now: datetime) -> float | None:
    """Mean gap between the newest entries; a feed silent for longer than that slows down."""
    times = sorted((t for t in entry_times if t is not None and t <= now + timedelta(minutes=5)),
                   reverse=True)[:20]
    if not times:
        return None
    silence = max(0.0, (now - times[0]).total_seconds())
    if len(times) < 2:
        return silence / 2 if silence else None
    span = (times[0] - times[-1]).total_seconds()
    mean_gap = span / (len(times) - 1)
    # Half the silence: a daily feed quiet for a week is polled about every 3.5 days (clamped).
    return max(mean_gap, silence / 2)


def poll_interval_s(
    now: datetime,
    *,
    entry_times: Iterable[datetime | None] = (),
    ttl_s: float | None = None,
    headers: Mapping[str, str] | None = None,
    override_s: float | None = None,
    min_interval_s: float = MIN_INTERVAL_S,
    max_interval_s: float = MAX_INTERVAL_S,
) -> float:
    """Seconds until the next poll of a feed, after a successful poll at `now` (aware).

    1. Adaptive: the mean gap between the newest (up to 20) entry timestamps, or half the time
       since the newest entry if the feed has gone quiet; 1 h when entries carry no dates.
    2. Raised to the publisher's hints: `ttl_s` (RSS ttl, sy:updatePeriod — `ParsedFeed.ttl_s`)
       and the response's freshness (Cache-Control max-age/s-maxage minus Age, else Expires).
    3. Clamped to [min_interval_s, max_interval_s] (default 5 min .. 24 h).
    A positive per-feed `override_s` wins over all of this.
    """
    if override_s is not None and override_s > 0:
        return float(override_s)
    interval = _publish_interval_s(entry_times, now)
    if interval is None:
        interval = DEFAULT_INTERVAL_S
    for hint in (ttl_s, _cache_hint_s(headers, now)):
        if hint is not None:
            interval = max(interval, float(hint))
    return min(max(interval, min_interval_s), max_interval_s)


def backoff_delay(consecutive_failures: int, base: float = 60.0, cap: float = MAX_INTERVAL_S,
                  rng: random.Random | None = None, *, retry_after: float | None = None) -> float:
    """Seconds to wait after the n-th consecutive failure: base * 2**(n-1), capped, with
    "equal jitter" (uniform in [d/2, d]) so failing feeds spread out instead of retrying in step.

    A server's Retry-After (seconds) is honoured as a floor, up to `cap`. 0 failures -> 0.0.
    """
    if consecutive_failures <= 0:
        return max(0.0, min(retry_after or 0.0, cap))
    rng = rng or random.Random()
    exponent = min(consecutive_failures - 1, 62)  # avoid float overflow for huge counts
    delay = min(cap, base * (2.0 ** exponent))
    delay = delay / 2 + rng.random() * delay / 2
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def feed_health(consecutive_failures: int, *, degraded_after: int = 3,
                failing_after: int = 10) -> Literal["ok", "degraded", "failing"]:
    """"ok" below `degraded_after` consecutive failures, "failing" from `failing_after` on."""
    if consecutive_failures >= failing_after:
        return "failing"
    if consecutive_failures >= degraded_after:
        return "degraded"
    return "ok"


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """The operator's bounds on polling (Settings)."""

    min_interval_s: float = MIN_INTERVAL_S
    max_interval_s: float = MAX_INTERVAL_S
    websub_poll_interval_s: float = 3600.0  # a feed a hub pushes is polled only as a safety net
    max_backoff_s: float = MAX_INTERVAL_S


def next_poll(feed: FeedView, now: datetime, *, parsed: ParsedFeed | None, headers: Mapping[str, str] | None,
              policy: SchedulePolicy) -> datetime:
    """When to poll `feed` again after a poll at `now` that answered (`parsed` is None when the
    document was not modified: a 304, or the same body)."""
    override = feed.poll_interval_override_s
    at = now + timedelta(seconds=poll_interval_s(
        now,
        entry_times=[e.published for e in parsed.entries] if parsed else (),
        ttl_s=parsed.ttl_s if parsed else None,
        headers=headers,
        override_s=override,
        min_interval_s=policy.min_interval_s,
        max_interval_s=policy.max_interval_s,
    ))
    if override:
        return at
    if parsed is None and feed.interval_s:
        # 304/unchanged says nothing about publishing frequency: keep the learned interval.
        at = max(at, now + timedelta(seconds=feed.interval_s))
    if feed.push_until is not None and feed.push_until > now:
        # A hub pushes this feed (WebSub): poll only as a safety net, within the interval bounds.
        relaxed = min(policy.websub_poll_interval_s, policy.max_interval_s)
        at = max(at, now + timedelta(seconds=relaxed))
    return at
