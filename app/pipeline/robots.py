"""robots.txt (RFC 9309) for the article pages we fetch: fetching pages is crawling.

    product_token(user_agent) -> "news-ingest"       the token robots.txt groups are matched on
    rules_from_body(body, now) / rules_unavailable(now) / rules_unreachable(now, reason)
    RobotsCache(fetcher, user_agent=..., ttl_s=...)
        await check(url) -> RobotsDecision           allowed, or why not
        await sitemaps(url) -> tuple[str, ...]       the Sitemap: lines of the site's robots.txt

Parsing is Protego's (Scrapy's parser: wildcards, `$`, longest match wins, Allow over Disallow on
a tie, as RFC 9309 §2.2.2 says; the stdlib's urllib.robotparser matches by prefix only and takes
the first rule that matches). robots.txt is fetched through the same address-checked Fetcher as
everything else, so it obeys the same address rules, per-host limits and size cap.

What a fetch outcome means (RFC 9309 §2.3.1):
    2xx                       the rules in the body (at most the first 512 KiB, §2.5)
    3xx after 5 hops, 4xx     "unavailable": everything is allowed (410 and 404 included)
    429, 5xx, network errors  "unreachable": everything is disallowed for now; a copy fetched
                              earlier is kept instead when there is one (§2.4)

Rules are cached per origin (scheme, host, port: §2.3) for `ttl_s` (RFC 9309 §2.4: at most
24 hours); an unreachable answer only for `retry_s`, so pages wait minutes, not a day.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from protego import Protego

from app.domain.errors import FetchError
from app.pipeline.fetch import Fetcher

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 §2.5: parse at least the first 500 KiB
# Parsing a 512 KiB file of rules takes ~0.3 s and matching a URL against 20,000 rules ~10 ms:
# above this size both run in one thread of their own, so a hostile robots.txt cannot stall the
# event loop (one thread: several would take the GIL from the loop in turn, for longer).
LARGE_ROBOTS_BYTES = 32 * 1024
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
BLOCKED_REASON = "blocked by robots.txt"

Outcome = Literal["allowed", "disallowed", "unreachable"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RobotsDecision:
    outcome: Outcome
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"


ALLOWED = RobotsDecision("allowed")


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """What one fetch of /robots.txt said. `parser` is None when there are no rules to apply:
    everything allowed (unavailable) or, with `unreachable` set, everything disallowed."""

    fetched_at: float
    parser: Protego | None = None
    unreachable: str | None = None  # why, when the file could not be reached
    large: bool = False  # matching may take milliseconds: done off the event loop

    def decide(self, url: str, agent: str) -> RobotsDecision:
        if self.unreachable is not None:
            return RobotsDecision("unreachable", f"robots.txt unreachable: {self.unreachable}")
        if self.parser is None or self.parser.can_fetch(url, agent):
            return ALLOWED
        return RobotsDecision("disallowed", BLOCKED_REASON)

    @property
    def sitemaps(self) -> tuple[str, ...]:
        return tuple(self.parser.sitemaps) if self.parser is not None else ()


def product_token(user_agent: str) -> str:
    """The product token of a User-Agent ("news-ingest/0.1 (+https://...)" -> "news-ingest"):
    RFC 9309 §2.2.1 matches groups on it, case-insensitively, letters, "_" and "-" only."""
    first = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return re.sub(r"[^A-Za-z_-]", "", first) or "*"


def rules_from_body(body: bytes, now: float) -> RobotsRules:
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")  # RFC 9309 §2.3: UTF-8
    return RobotsRules(now, Protego.parse(text), large=len(body) > LARGE_ROBOTS_BYTES)


def rules_unavailable(now: float) -> RobotsRules:
    return RobotsRules(now)


def rules_unreachable(now: float, reason: str) -> RobotsRules:
    return RobotsRules(now, unreachable=reason)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = 443 if parts.scheme == "https" else 80
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host if ':' not in host else f'[{host}]'}{port}"


def _is_unavailable(exc: FetchError) -> bool:
    """4xx other than 429, and redirect chains we gave up on: the file is "unavailable"."""
    status = exc.status
    return status is not None and 300 <= status < 500 and status != 429


class RobotsCache:
    """Rules per origin, fetched once at a time however many pages of a site wait on them."""

    def __init__(self, fetcher: Fetcher, *, user_agent: str, ttl_s: float = 3600.0, retry_s: float = 300.0,
                 max_origins: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetcher = fetcher
        self.agent = product_token(user_agent)
        self.ttl_s = ttl_s
        self.retry_s = min(retry_s, ttl_s)
        self.max_origins = max_origins
        self._clock = clock
        self._rules: OrderedDict[str, RobotsRules] = OrderedDict()
        self._loading: dict[str, asyncio.Task[RobotsRules]] = {}
        self._thread: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=False, cancel_futures=True)
            self._thread = None

    async def _off_loop(self, fn: Callable[..., T], *args: object) -> T:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="robots")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def check(self, url: str) -> RobotsDecision:
        """Whether our agent may fetch `url`; never raises for network trouble."""
        try:
            origin = origin_of(url)
        except ValueError:
            return ALLOWED  # the fetch itself refuses the URL, with a better message
        rules = await self.rules(origin)
        if rules.large:
            return await self._off_loop(rules.decide, url, self.agent)
        return rules.decide(url, self.agent)

    async def sitemaps(self, url: str) -> tuple[str, ...]:
        return (await self.rules(origin_of(url))).sitemaps

    async def rules(self, origin: str) -> RobotsRules:
        cached = self._rules.get(origin)
        if cached is not None and not self._expired(cached):
            self._rules.move_to_end(origin)
            return cached
        task = self._loading.get(origin)
        if task is None:
            task = asyncio.create_task(self._load(origin, cached))
            self._loading[origin] = task
            task.add_done_callback(lambda _t: self._loading.pop(origin, None))
        # Shielded: one waiting page being cancelled must not cancel the fetch the others share.
        return await asyncio.shield(task)

    def _expired(self, rules: RobotsRules) -> bool:
        lifetime = self.retry_s if rules.unreachable is not None else self.ttl_s
        return self._clock() - rules.fetched_at >= lifetime

    async def _load(self, origin: str, previous: RobotsRules | None) -> RobotsRules:
        try:
            response = await self.fetcher.fetch(origin + "/robots.txt", accept=ROBOTS_ACCEPT)
            if len(response.body) > LARGE_ROBOTS_BYTES:
                rules = await self._off_loop(rules_from_body, response.body, self._clock())
            else:
                rules = rules_from_body(response.body, self._clock())
        except FetchError as exc:
            if _is_unavailable(exc):
                rules = rules_unavailable(self._clock())
            elif previous is not None and previous.unreachable is None:
                # §2.4: while unreachable, the last copy we had may still be used.
                rules = RobotsRules(self._clock() - self.ttl_s + self.retry_s, previous.parser,
                                    large=previous.large)
            else:
                rules = rules_unreachable(self._clock(), str(exc) or exc.kind)
        self._rules[origin] = rules
        self._rules.move_to_end(origin)
        while len(self._rules) > self.max_origins:
            self._rules.popitem(last=False)
        return rules
