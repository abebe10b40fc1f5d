"""Notify: webhook deliveries following the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).

Pure parts first (no I/O, no clock of their own): secrets and `sign()`, the body of a
delivery, the retry schedule and the classification of an attempt's outcome, and the
in-memory `SubscriptionIndex` that finds the subscriptions an event may match without
scanning every subscription in Python. Last, `WebhookSender`: one POST (app.pipeline.
webhook_client) through the same SSRF check as feed fetching (every dialled address checked),
no redirects followed, a total timeout, and only the first bytes of the answer kept.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import secrets as _secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from app.domain.errors import FetchError, InvalidRequestError
from app.domain.names import normalize_name
from app.domain.query import compile_matcher
from app.pipeline.fetch import HostGate, IPNetwork, _host_port, parse_retry_after
from app.pipeline.webhook_client import WebhookClient

EVENT_TYPES: tuple[str, ...] = ("article.created", "article.updated", "quote.created", "feed.failing",
                                "feed.recovered")
PING = "ping"
SECRET_PREFIX = "whsec_"
# Standard Webhooks' recommended schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_S: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_RETRY_AFTER_S = 36000.0  # a receiver cannot push a retry further out than the longest step

Outcome = Literal["delivered", "retry", "failed"]


# --------------------------------------------------------------------------- signing


def generate_secret(nbytes: int = 24) -> str:
    """`whsec_` + base64 of 24-32 random bytes (the spec's format)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("notify: secrets are 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(msg_id: str, timestamp: int, body: bytes, secrets: Iterable[str]) -> str:
    """The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each
    active secret, space-separated (during a rotation both the new and the old secret sign)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    parts = []
    for secret in secrets:
        digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(digest).decode())
    return " ".join(parts)


def signed_headers(msg_id: str, timestamp: int, body: bytes, secrets: Iterable[str]) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
        "content-type": "application/json",
    }


# --------------------------------------------------------------------------- payloads


def build_body(event_type: str, created_at: datetime, data: Mapping[str, Any]) -> bytes:
    """The delivery body: `{"type", "timestamp", "data"}` (timestamp: when the event happened)."""
    envelope = {"type": event_type, "timestamp": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def with_article_text(data: Mapping[str, Any], text: str | None) -> dict[str, Any]:
    """`data` with the article's full text added (subscriptions with include_text)."""
    out = dict(data)
    if isinstance(out.get("article"), dict):
        out["article"] = {**out["article"], "text": text}
    return out


def ping_data(subscription_id: int) -> dict[str, Any]:
    return {"subscription_id": subscription_id, "message": "ping from news-ingest"}


# --------------------------------------------------------------------------- retries


def classify(status: int | None, error_kind: str | None = None) -> Outcome:
    """What an attempt's outcome means: 2xx delivered; timeouts, connection errors, 408, 429
    and 5xx are retried; any other status (redirects included: they are not followed) and a
    blocked address fail for good."""
    if status is None:
        return "failed" if error_kind in ("blocked_address", "invalid_url") else "retry"
    if 200 <= status < 300:
        return "delivered"
    if status in (408, 429) or status >= 500:
        return "retry"
    return "failed"


def retry_delay(attempts_made: int, schedule: Sequence[float] = DEFAULT_SCHEDULE_S, *,
                retry_after: float | None = None, jitter: float = 0.2,
                rand: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after `attempts_made` failed ones, or None: give up (dead).

    The schedule grows roughly exponentially; up to `jitter` of each step is added at random
    so receivers coming back from an outage are not hit by every retry at once. Retry-After
    (RFC 9110 §10.2.3) is honoured as a lower bound, capped at the longest step."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1] * (1.0 + jitter * rand())
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


# --------------------------------------------------------------------------- matching


def compile_query(q: str) -> Callable[[str], bool]:
    """A matcher for the search query language: the same semantics as GET /v1/articles?q=.

    Raises InvalidRequestError (InvalidQueryError) for a query that does not parse."""
    return compile_matcher(q)


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What matching needs to know of one subscription."""

    id: int
    events: frozenset[str]
    feed_ids: frozenset[int] | None = None
    languages: frozenset[str] | None = None
    speakers: frozenset[str] | None = None  # normalised names
    q: str | None = None
    matcher: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, id: int, events: Iterable[str], flt: Mapping[str, Any] | None) -> SubscriptionSpec:
        flt = flt or {}
        q = flt.get("q") or None
        return cls(
            id=id, events=frozenset(events),
            feed_ids=frozenset(int(f) for f in flt["feed_ids"]) if flt.get("feed_ids") else None,
            languages=frozenset(lang.lower() for lang in flt["languages"]) if flt.get("languages") else None,
            speakers=frozenset(normalize_name(s) for s in flt["speakers"]) if flt.get("speakers") else None,
            q=q, matcher=compile_query(q) if q else None,
        )


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What of an event the filters look at. `speakers`/`document` may be loaded only when a
    candidate subscription needs them (they cost a query)."""

    type: str
    feed_id: int | None
    language: str | None
    speakers: frozenset[str] | None = None
    document: str | None = None


def facts_of(event_type: str, payload: Mapping[str, Any]) -> EventFacts:
    article = payload.get("article") or {}
    if event_type.startswith("feed."):
        return EventFacts(event_type, (payload.get("feed") or {}).get("id"), None)
    language = (article.get("language") or "").lower() or None
    speakers = None
    document = None
    if event_type == "quote.created":
        quote = payload.get("quote") or {}
        speaker = quote.get("speaker")
        speakers = frozenset({normalize_name(speaker)}) if speaker else frozenset()
        document = "\n".join(x for x in (quote.get("text"), speaker, article.get("title")) if x)
    return EventFacts(event_type, article.get("feed_id"), language, speakers, document)


def article_document(title: str | None, summary: str | None, text: str | None) -> str:
    return "\n".join(x for x in (title, summary, text) if x)


class SubscriptionIndex:
    """Subscriptions indexed by event type, then feed_id and language, so an event's candidates
    come from a few dictionary lookups and set intersections; only candidates are checked for
    speakers and the (comparatively costly) query `q`.

    Filters: feed_ids applies to every event; languages, speakers and q to article and quote
    events (an article matches `speakers` when it quotes one of them)."""

    def __init__(self, specs: Iterable[SubscriptionSpec]) -> None:
        self.specs: dict[int, SubscriptionSpec] = {}
        # type -> feed_id (None: any feed) -> ids; type -> language (None: any) -> ids
        self._by_feed: dict[str, dict[int | None, set[int]]] = {}
        self._by_lang: dict[str, dict[str | None, set[int]]] = {}
        for spec in specs:
            self.specs[spec.id] = spec
            for event_type in spec.events:
                feeds = self._by_feed.setdefault(event_type, {})
                for feed_id in spec.feed_ids if spec.feed_ids is not None else (None,):
                    feeds.setdefault(feed_id, set()).add(spec.id)
                langs = self._by_lang.setdefault(event_type, {})
                for lang in spec.languages if spec.languages is not None else (None,):
                    langs.setdefault(lang, set()).add(spec.id)

    def __len__(self) -> int:
        return len(self.specs)

    def candidates(self, facts: EventFacts) -> list[SubscriptionSpec]:
        """Subscriptions whose event type, feed and language filters accept the event."""
        feeds = self._by_feed.get(facts.type)
        if not feeds:
            return []
        ids = feeds.get(None, set())
        if facts.feed_id is not None and facts.feed_id in feeds:
            ids = ids | feeds[facts.feed_id]
        if ids and not facts.type.startswith("feed."):
            langs = self._by_lang[facts.type]
            allowed = langs.get(None, set())
            if facts.language is not None and facts.language in langs:
                allowed = allowed | langs[facts.language]
            ids = ids & allowed
        return [self.specs[i] for i in sorted(ids)]

    @staticmethod
    def accepts(spec: SubscriptionSpec, facts: EventFacts) -> bool:
        """The remaining filters of one candidate (speakers, q) against the event's facts."""
        if facts.type.startswith("feed.") or facts.type == PING:
            return True
        if spec.speakers is not None and not (spec.speakers & (facts.speakers or frozenset())):
            return False
        if spec.matcher is not None and not spec.matcher(facts.document or ""):
            return False
        return True

    def match(self, facts: EventFacts) -> list[int]:
        return [s.id for s in self.candidates(facts) if self.accepts(s, facts)]


def naive_match(specs: Iterable[SubscriptionSpec], facts: EventFacts) -> list[int]:
    """The obvious scan, kept for the benchmark and as the index's reference in tests."""
    out = []
    for spec in specs:
        if facts.type not in spec.events:
            continue
        if spec.feed_ids is not None and facts.feed_id not in spec.feed_ids:
            continue
        if not facts.type.startswith("feed."):
            if spec.languages is not None and facts.language not in spec.languages:
                continue
        if SubscriptionIndex.accepts(spec, facts):
            out.append(spec.id)
    return sorted(out)


def validate_filter(flt: Mapping[str, Any]) -> None:
    if flt.get("q"):
        try:
            compile_query(str(flt["q"]))
        except InvalidRequestError:
            raise
        except Exception as exc:  # a query parser error of any shape is the caller's mistake
            raise InvalidRequestError(f"subscriptions: filter.q does not parse: {exc}") from exc


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class SendResult:
    status: int | None
    latency_ms: float
    excerpt: str | None = None
    error: str | None = None
    error_kind: str | None = None
    retry_after: float | None = None
    deferred: bool = False  # not attempted: the host is rate limited (429 seen); try later


class WebhookSender:
    """POSTs deliveries through `WebhookClient` (SSRF guard on every connection, no redirects
    followed, only the first bytes of the answer kept). At most `per_host` requests per
    receiving host are in flight; a 429 blocks the host for its Retry-After."""

    def __init__(self, *, allowed_networks: Sequence[IPNetwork] = (), timeout_s: float = 10.0,
                 connect_timeout_s: float = 10.0, per_host: int = 16, excerpt_bytes: int = 1024,
                 user_agent: str = "news-ingest-webhooks/0.1", gate: HostGate | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 client: WebhookClient | None = None) -> None:
        self.timeout_s = timeout_s
        self.gate = gate or HostGate(concurrency=per_host)
        self._now = clock
        self._client = client or WebhookClient(
            allowed_networks=allowed_networks, connect_timeout_s=min(connect_timeout_s, timeout_s),
            excerpt_bytes=excerpt_bytes, max_idle_per_host=per_host, user_agent=user_agent)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, headers: Mapping[str, str], body: bytes, *,
                   start_by: float | None = None) -> SendResult:
        """POST once. `start_by` (time.monotonic()): if the host's slot frees up only later, do
        not send; return a deferred result (the caller's lease is about to run out)."""
        started = time.perf_counter()
        try:
            host, _ = _host_port(url)
            async with self.gate.slot(host):
                if start_by is not None and time.monotonic() > start_by:
                    return SendResult(None, 0.0, deferred=True, retry_after=0.0,
                                      error="notify: lease ran out while waiting for the host; handed back")
                started = time.perf_counter()
                async with asyncio.timeout(self.timeout_s):
                    answer = await self._client.post(url, headers, body)
        except TimeoutError:
            return SendResult(None, _ms(started), error=f"notify: no answer within {self.timeout_s:g}s",
                              error_kind="timeout")
        except FetchError as exc:
            if exc.kind == "rate_limited":
                return SendResult(None, 0.0, deferred=True, retry_after=exc.retry_after, error=str(exc),
                                  error_kind=exc.kind)
            return SendResult(None, _ms(started), error=str(exc), error_kind=exc.kind)
        latency = _ms(started)
        retry_after = parse_retry_after(answer.headers.get("retry-after"), self._now())
        if answer.status == 429:
            self.gate.block(host, retry_after if retry_after is not None else 5.0)
        error = None
        if 300 <= answer.status < 400:
            error = f"notify: {answer.status} redirect not followed (Location: {answer.headers.get('location', '-')})"
        return SendResult(answer.status, latency, excerpt=answer.excerpt.decode("utf-8", "replace"),
                          retry_after=retry_after, error=error)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
