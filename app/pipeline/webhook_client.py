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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httptools

from app.domain.errors import FetchError
from app.pipeline.guard import IPNetwork
from app.pipeline.http1 import (
    READ_BYTES,
    Conn,
    IdleConnections,
    Origin,
    Reading,
    connect,
    exchange_on,
    send,
    split_origin,
)

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
        self.user_agent = user_agent
        self._ssl = ssl_context
        self._idle = IdleConnections(max_idle_per_host)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def aclose(self) -> None:
        self._idle.close_all()

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """POST `body`; the caller bounds the total time (asyncio.timeout)."""
        parts, key = split_origin(url, f"notify: invalid receiver URL {url!r}")
        scheme, host, port = key
        request = self._request(parts.path, parts.query, host, parts.port, headers, body)
        return await exchange_on(self._idle, key, lambda: self._connect(scheme, host, port),
                                 lambda conn, reused: self._exchange(key, conn, request, reused=reused))

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
            self._idle.give_back(key, conn, keep)
