"""The HTTP/1.1 client of webhook deliveries: a small connection pool of ours on asyncio
streams; answers are parsed by llhttp (`httptools`, the parser of uvicorn and, vendored, of
aiohttp).

Why not a whole kept client: a delivery is one small POST whose answer we barely read, sent
thousands of times a second. Measured on the 2-core benchmark machine (README, Webhooks ->
Figures): httpx + httpcore cost 1.5-8 ms of CPU per POST; aiohttp about 0.1 ms, which in
`bench/webhooks.py --ab` was 45-60 % more worker CPU per delivery and 10-35 % fewer deliveries
a second; h11 under this pool cost as much as aiohttp. llhttp parses in C: the framing
(status line, headers, Content-Length, chunked bodies, interim 1xx answers, keep-alive rules,
obs-fold and duplicate Content-Length refused) is a kept library's, for the CPU the
hand-written parser it replaced cost.

Safety is the same as for fetching: every new connection resolves the host with
`app.pipeline.guard.resolve_checked`, which refuses the host if any address is private,
loopback, link-local, ... (unless allowed), and then dials one of the checked addresses, so
the address checked is the address dialled (no DNS rebinding). TLS verifies the certificate
against the URL's host name. Redirects are never followed; a 3xx is just an answer.

Keep-alive: a connection goes back to its host's idle list only when the answer was read to
its end (bodies up to `drain_bytes`) and llhttp says the connection stays open; otherwise it
is closed. A request on a reused connection that fails before any answer byte is sent once
more on a fresh connection (the server may have closed it while idle, RFC 9112 §9.3.1;
deliveries are at-least-once anyway, receivers deduplicate on `webhook-id`).
"""

from __future__ import annotations

import ssl
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httptools

from app.domain.errors import FetchError
from app.pipeline.guard import IPNetwork
from app.pipeline.http1 import READ_BYTES, Conn, Origin, Reading, Stale, connect, send, split_origin

_TARGET_SAFE = "/%?&=+:;,@!$'()*-._~"  # kept as is in the request target; anything else is %-encoded


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    excerpt: bytes


class WebhookClient:
    def __init__(self, *, allowed_networks: Sequence[IPNetwork] = (), connect_timeout_s: float = 10.0,
                 excerpt_bytes: int = 1024, drain_bytes: int = 64 * 1024, max_idle_per_host: int = 32,
                 user_agent: str = "news-ingest", ssl_context: ssl.SSLContext | None = None) -> None:
        self.allowed = tuple(allowed_networks)
        self.connect_timeout_s = connect_timeout_s
        self.excerpt_bytes = excerpt_bytes
        self.drain_bytes = max(drain_bytes, excerpt_bytes)
        self.max_idle_per_host = max_idle_per_host
        self.user_agent = user_agent
        self._ssl = ssl_context
        self._idle: dict[Origin, list[Conn]] = defaultdict(list)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """POST `body`; the caller bounds the total time (asyncio.timeout)."""
        parts, key = split_origin(url, f"notify: invalid receiver URL {url!r}")
        scheme, host, port = key
        request = self._request(parts.path, parts.query, host, parts.port, headers, body)
        conn = self._take_idle(key)
        if conn is not None:
            try:
                return await self._exchange(key, conn, request, reused=True)
            except Stale:
                pass  # closed by the server while idle: once more on a fresh connection
        conn = await self._connect(scheme, host, port)
        return await self._exchange(key, conn, request, reused=False)

    def _request(self, path: str, query: str, host: str, port: int | None, headers: Mapping[str, str],
                 body: bytes) -> bytes:
        target = quote(path or "/", safe=_TARGET_SAFE) + (f"?{quote(query, safe=_TARGET_SAFE)}" if query else "")
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        host_header = f"[{host}]" if ":" in host else host
        if port is not None:
            host_header += f":{port}"
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {self.user_agent}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
        # The headers are ours (app.pipeline.notify.signed_headers); urlsplit drops CR, LF and tabs.
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def _answer(self, reading: Reading) -> Answer:
        return Answer(reading.status, reading.headers, b"".join(reading.chunks)[: self.excerpt_bytes])

    def _take_idle(self, key: Origin) -> Conn | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def _connect(self, scheme: str, host: str, port: int) -> Conn:
        return await connect(host, port, allowed=self.allowed, timeout_s=self.connect_timeout_s,
                             tls=self._tls() if scheme == "https" else None, who="notify")

    async def _exchange(self, key: Origin, conn: Conn, request: bytes, *, reused: bool) -> Answer:
        keep = False
        reading = Reading()
        try:
            data = await send(conn, request, reused=reused, who="notify", host=key[1])
            if not data:
                raise FetchError(f"notify: {key[1]} closed the connection without answering", kind="connect")
            while data:
                reading.parser.feed_data(data)
                if reading.complete or reading.received > self.drain_bytes:
                    break
                data = await conn.reader.read(READ_BYTES)
            else:
                if not reading.delimited_by_close():
                    raise FetchError(f"notify: {key[1]} closed the connection mid-answer", kind="protocol")
            keep = reading.complete and reading.keep_alive and not reading.extra
            return self._answer(reading)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if reading.complete:  # bytes after the answer: keep the answer, drop the connection
                return self._answer(reading)
            raise FetchError(f"notify: malformed answer from {key[1]}: {exc}", kind="protocol") from exc
        except (ConnectionError, OSError) as exc:
            raise FetchError(f"notify: {key[1]} broke the connection mid-answer: {exc}", kind="protocol") from exc
        finally:
            if keep and len(self._idle[key]) < self.max_idle_per_host:
                conn.idle_since = time.monotonic()
                self._idle[key].append(conn)
            else:
                conn.close()
