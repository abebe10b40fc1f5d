"""Notify: webhook deliveries following the Standard Webhooks specification
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).

Pure parts first (no I/O, no clock of their own): `sign()`, the body of a delivery, the retry
schedule and the classification of an attempt's outcome. Which subscriptions an event matches,
and the secrets' format, are app.domain.subscriptions' (storage needs them too). Last, `WebhookSender`: one POST (app.pipeline.
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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from app.domain.errors import FetchError
from app.domain.limits import clean_text
from app.domain.subscriptions import SECRET_PREFIX
from app.pipeline.guard import IPNetwork, host_port
from app.pipeline.hostgate import HostGate, parse_retry_after
from app.pipeline.webhook_client import WebhookClient

# Standard Webhooks' recommended schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_S: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_RETRY_AFTER_S = 36000.0  # a receiver cannot push a retry further out than the longest step

Outcome = Literal["delivered", "retry", "failed"]


# --------------------------------------------------------------------------- signing


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
            host, _ = host_port(url)
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
        # The receiver's words are stored (delivery_attempts.response_excerpt): without NUL, which
        # PostgreSQL text refuses; one such answer failed the whole batch's record, every retry.
        return SendResult(answer.status, latency, excerpt=clean_text(answer.excerpt.decode("utf-8", "replace")),
                          retry_after=retry_after, error=error)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
