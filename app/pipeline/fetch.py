"""Fetch: a safe, polite HTTP GET (the wire work is app.pipeline.get_client's, on llhttp).

    Fetcher.fetch(url) -> FetchResult            2xx or 304, after following redirects by hand
      raises FetchError(kind=...)                 "dns", "tls", "timeout", "connect", "protocol",
                                                  "decode", "invalid_url", "redirect_loop",
                                                  "too_many_redirects", "gone", "rate_limited",
                                                  "unavailable", "http_status"
             BlockedAddressError                  target resolves to a non-public address
             BodyTooLargeError                    decompressed body over the limit

Safety: every connection dials through app.pipeline.guard (each resolved address checked, the
checked address dialled). Proxies from the environment are never used: a proxy would do its own
DNS. Bodies are decoded by app.pipeline.decode under a cap on the decompressed size;
app.pipeline.hostgate keeps requests to one host few and spaced, and honours 429s. At most
`max_in_flight` requests are on the wire at once.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from app.domain.errors import BodyTooLargeError, FetchError
from app.domain.fetching import FetchResult
from app.domain.limits import MAX_ETAG_CHARS, MAX_HTTP_DATE_CHARS, clean_text, key_fits
from app.pipeline.decode import Decoder, MiB, fmt_size
from app.pipeline.get_client import GetClient
from app.pipeline.guard import IPNetwork, host_port
from app.pipeline.hostgate import HostGate, parse_retry_after

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
MAX_IN_FLIGHT = 64
DEFAULT_RATE_LIMIT_S = 60.0  # a 429 without Retry-After still blocks the host this long
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


# --------------------------------------------------------------------------- the fetcher


def _validator(value: str | None, limit: int) -> str | None:
    """An ETag or Last-Modified worth storing: one longer than its column is dropped (cut, it
    would never match again) and the next poll is an unconditional GET, as for a server that
    sends none."""
    if not value or len(value) > limit or clean_text(value) != value:
        return None
    return value


class Fetcher:
    """A polite, SSRF-safe HTTP fetcher. Use as `async with Fetcher(...) as f:` or call aclose()."""

    def __init__(
        self,
        *,
        user_agent: str = "news-ingest/0.1 (+https://example.invalid/bot)",
        allowed_networks: Sequence[IPNetwork] = (),
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_body_bytes: int = 10 * MiB,
        max_redirects: int = 5,
        per_host_concurrency: int = 2,
        min_host_spacing_s: float = 0.0,
        max_in_flight: int = MAX_IN_FLIGHT,
        verify: ssl.SSLContext | bool = True,
        gate: HostGate | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.user_agent = user_agent
        self.allowed_networks = tuple(allowed_networks)
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.gate = gate or HostGate(concurrency=per_host_concurrency, min_spacing_s=min_host_spacing_s)
        self._now = clock
        # One TLS context for every connection: loading the CA bundle costs ~60 ms of CPU each
        # time, and this runs on the event loop.
        if not isinstance(verify, ssl.SSLContext):
            verify = httpx.create_ssl_context(verify=verify, trust_env=False)
        # As many idle connections (per host and in all) as can be in flight: a busy host's
        # connections are reused rather than closed and dialled again.
        self._client = GetClient(allowed_networks=self.allowed_networks, connect_timeout_s=connect_timeout,
                                 ssl_context=verify, user_agent=user_agent, max_idle_per_host=max(1, max_in_flight),
                                 max_idle=max(1, max_in_flight))
        self._in_flight = asyncio.Semaphore(max(1, max_in_flight))

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = DEFAULT_ACCEPT) -> FetchResult:
        """GET `url`, following up to `max_redirects` redirects; see the module docstring."""
        started = time.monotonic()
        budget = self.total_timeout
        headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate, br"}
        # Conditional GET (RFC 9110 §13.1): validators go on every hop; the caller stored them
        # for this feed, whatever URL finally answers.
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[tuple[int, str]] = []
        seen = {url}
        current = url
        while True:
            host, _ = host_port(current)
            hop_started = time.monotonic()
            status, resp_headers, body = await self._one_hop(current, headers, host, budget)
            budget -= time.monotonic() - hop_started
            if status in REDIRECT_STATUSES and "location" in resp_headers:
                target = urljoin(current, resp_headers["location"].strip())
                redirects.append((status, target))
                if target in seen:
                    raise FetchError(f"fetch: redirect loop at {target}", kind="redirect_loop",
                                     status=status)
                if len(redirects) > self.max_redirects:
                    raise FetchError(f"fetch: more than {self.max_redirects} redirects from {url}",
                                     kind="too_many_redirects", status=status)
                host_port(target)  # reject non-http(s) targets before going anywhere
                seen.add(target)
                current = target
                continue
            self._raise_for_status(status, resp_headers, current, host)
            permanent = (
                current if redirects and all(s in PERMANENT_REDIRECTS for s, _ in redirects) else None
            )
            return FetchResult(
                url=current,
                status=status,
                headers=resp_headers,
                body=body,
                etag=_validator(resp_headers.get("etag"), MAX_ETAG_CHARS) or (etag if status == 304 else None),
                last_modified=_validator(resp_headers.get("last-modified"), MAX_HTTP_DATE_CHARS)
                or (last_modified if status == 304 else None),
                not_modified=status == 304,
                # a feed is only moved to a URL it can be stored under: feeds.url is unique, and
                # 1,900 Latin-1 characters of a Location header are 3.8 KB of UTF-8 in its index
                permanent_redirect=permanent if permanent and key_fits(permanent) else None,
                redirects=redirects,
                elapsed_s=time.monotonic() - started,
            )

    async def _one_hop(self, url: str, headers: dict[str, str], host: str,
                       budget: float) -> tuple[int, dict[str, str], bytes]:
        if budget <= 0:
            raise FetchError(f"fetch: {url} timed out", kind="timeout")
        async with self.gate.slot(host), self._in_flight:
            try:
                # Waiting for a free slot is not the server's time: the timeout starts here.
                async with asyncio.timeout(budget):
                    return await self._send(url, headers)
            except TimeoutError as exc:
                raise FetchError(f"fetch: {url} timed out after {self.total_timeout:g}s",
                                 kind="timeout") from exc

    async def _send(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        response = await self._client.open(url, headers)
        try:
            resp_headers, status = response.headers, response.status
            if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                return status, resp_headers, b""  # body not needed; releasing unread closes the connection
            encodings = [c.strip().lower() for c in resp_headers.get("content-encoding", "").split(",")
                         if c.strip()]
            declared = resp_headers.get("content-length", "")
            if not encodings and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise BodyTooLargeError(f"fetch: body exceeds {fmt_size(self.max_body_bytes)} "
                                        f"(content-length {declared})")
            decoder = Decoder(encodings, self.max_body_bytes)
            chunks: list[bytes] = []
            async for raw in response.raw_chunks():
                chunks.append(decoder.feed(raw))
            return status, resp_headers, b"".join(chunks)
        finally:
            response.release()

    def _raise_for_status(self, status: int, headers: dict[str, str], url: str, host: str) -> None:
        if 200 <= status < 300 or status == 304:
            return
        if status in (429, 503):
            retry_after = parse_retry_after(headers.get("retry-after"), self._now())
            if status == 429:
                self.gate.block(host, retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_S)
            elif retry_after is not None:
                self.gate.block(host, retry_after)
            kind = "rate_limited" if status == 429 else "unavailable"
            raise FetchError(f"fetch: {url} answered {status}", kind=kind, status=status,
                             retry_after=retry_after)
        if status == 410:
            raise FetchError(f"fetch: {url} is gone (410)", kind="gone", status=410)
        if status in REDIRECT_STATUSES:
            raise FetchError(f"fetch: {url} answered {status} without Location", kind="http_status",
                             status=status)
        raise FetchError(f"fetch: {url} answered {status}", kind="http_status", status=status)
