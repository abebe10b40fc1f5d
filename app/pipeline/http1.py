"""What the two HTTP/1.1 clients of ours share (fetching: `get_client`, webhook deliveries:
`webhook_client`): a pooled connection and the pool of idle ones, llhttp's callbacks for one
answer, and dialling a host only at addresses `guard.resolve_checked` has cleared (the address
checked is the address dialled).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

import httptools

from app.domain.errors import FetchError
from app.pipeline import guard
from app.pipeline.guard import IPNetwork

IDLE_EXPIRY_S = 30.0
READ_BYTES = 64 * 1024
Origin = tuple[str, str, int]  # scheme, host, port: the key of a pool's idle connections


@dataclass(slots=True)
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self) -> bool:
        return (not self.writer.is_closing() and not self.reader.at_eof()
                and time.monotonic() - self.idle_since < IDLE_EXPIRY_S)

    def close(self) -> None:
        self.writer.close()


class Stale(Exception):
    """A reused connection failed before any byte of the answer arrived."""


class IdleConnections:
    """Idle connections by origin, oldest first; the newest is reused first. At most
    `max_per_host` per origin and `max_total` in all (the one idle longest is closed first):
    polling thousands of sites must not hold a socket open for each."""

    def __init__(self, max_per_host: int, max_total: int | None = None) -> None:
        self.max_per_host = max_per_host
        self.max_total = None if max_total is None else max(1, max_total)
        self._idle: dict[Origin, list[Conn]] = {}
        self._count = 0

    def take(self, key: Origin) -> Conn | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            self._count -= 1
            if not idle:
                del self._idle[key]
            if conn.usable():
                return conn
            conn.close()
        return None

    def give_back(self, key: Origin, conn: Conn, reusable: bool) -> None:
        idle = self._idle.get(key, [])
        if not reusable or conn.writer.is_closing() or len(idle) >= self.max_per_host:
            conn.close()
            return
        if self.max_total is not None and self._count >= self.max_total:
            self._evict_oldest()
        conn.idle_since = time.monotonic()
        self._idle.setdefault(key, idle).append(conn)
        self._count += 1

    def _evict_oldest(self) -> None:
        key = min(self._idle, key=lambda k: self._idle[k][0].idle_since)
        self._idle[key].pop(0).close()
        self._count -= 1
        if not self._idle[key]:
            del self._idle[key]

    def close_all(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        self._count = 0


T = TypeVar("T")


async def exchange_on(idle: IdleConnections, key: Origin, dial: Callable[[], Awaitable[Conn]],
                      exchange: Callable[[Conn, bool], Awaitable[T]]) -> T:
    """`exchange(conn, reused)` on an idle connection to `key` if there is one; if that one
    turns out `Stale` (closed by the server while idle), once more on a fresh one from `dial`."""
    conn = idle.take(key)
    if conn is not None:
        try:
            return await exchange(conn, True)
        except Stale:
            pass
    return await exchange(await dial(), False)


class Reading:
    """llhttp's callbacks for one answer: status, headers (names lower-cased, repeats joined with
    ", "), body chunks as they come (`received` counts their bytes). Interim 1xx answers are
    skipped; anything after the answer is `extra` (the connection is then not reused)."""

    __slots__ = ("parser", "status", "headers", "chunks", "received", "headers_done", "complete", "extra",
                 "keep_alive")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.received = 0
        self.headers_done = False
        self.complete = False
        self.extra = False
        self.keep_alive = False

    def on_message_begin(self) -> None:
        self.extra = self.complete

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        if not self.complete:
            self.status = self.parser.get_status_code()
            self.headers_done = not 100 <= self.status < 200

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.chunks.append(body)
            self.received += len(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # interim answer (RFC 9110 §15.2): the final one follows
            self.status, self.headers = 0, {}
        elif not self.complete:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()  # only meaningful in this callback

    def delimited_by_close(self) -> bool:
        """Headers read, and the body runs until the server closes (no length, not chunked)."""
        return self.headers_done and "content-length" not in self.headers \
            and "transfer-encoding" not in self.headers


async def connect(host: str, port: int, *, allowed: Sequence[IPNetwork], timeout_s: float,
                  tls: ssl.SSLContext | None, who: str) -> Conn:
    """A new connection to one of the host's checked addresses, in resolver order (`tls`: the
    context for https, verifying the certificate against `host`; None for http). `who` opens the
    error messages ("fetch", "notify")."""
    addresses = await guard.resolve_checked(host, port, allowed, dns_timeout_s=timeout_s)
    last: Exception | None = None
    for address in addresses:
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(
                    address, port, ssl=tls, server_hostname=host if tls is not None else None, limit=READ_BYTES)
            return Conn(reader, writer)
        except ssl.SSLError as exc:  # ssl.CertificateError is one
            raise FetchError(f"{who}: cannot connect to {host}: TLS: {exc}", kind="tls") from exc
        except (OSError, TimeoutError) as exc:
            last = exc
    kind = "timeout" if isinstance(last, TimeoutError) else "connect"
    raise FetchError(f"{who}: cannot connect to {host}:{port}: {last or 'no address'}", kind=kind)


def split_origin(url: str, invalid: str) -> tuple[SplitResult, Origin]:
    """The URL's parts and its origin; FetchError(kind "invalid_url", message `invalid`) for a
    URL that is not http(s) with a host."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"{invalid}: {exc}", kind="invalid_url") from exc
    if scheme not in ("http", "https") or not host:
        raise FetchError(invalid, kind="invalid_url")
    return parts, (scheme, host, port)


async def send(conn: Conn, request: bytes, *, reused: bool, who: str, host: str) -> bytes:
    """Write the request and read the answer's first bytes (b"" if the server closed). On a
    reused connection a failure or a close before any byte is `Stale`: the server may have closed
    it while idle (RFC 9112 §9.3.1), and the caller sends once more on a fresh one."""
    try:
        conn.writer.write(request)
        await conn.writer.drain()
        data = await conn.reader.read(READ_BYTES)
    except (ConnectionError, OSError) as exc:
        if reused:
            raise Stale from exc
        raise FetchError(f"{who}: connection to {host} failed: {exc}", kind="connect") from exc
    if not data and reused:
        raise Stale
    return data
