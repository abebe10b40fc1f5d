"""The HTTP/1.1 GET client of fetching (feeds, pages, robots.txt): a small keep-alive pool of
ours on asyncio streams; answers are parsed by llhttp (`httptools`, uvicorn's parser), as in
app/pipeline/webhook_client.py.

Why not httpx here: a page is one GET, and the service fetches hundreds a second. Measured with
`bench/ingest.py` (README, Ingestion against a bare pipeline): httpx + httpcore cost about 1.3 ms
of the event loop's CPU per page (request building, the pool's bookkeeping, anyio streams, h11),
a third of the service process's work per article; this client about a tenth of that. The
framing (status line, headers, Content-Length, chunked bodies, interim 1xx answers, keep-alive
rules, obs-fold and duplicate Content-Length refused) is llhttp's, a kept library's.

    client.open(url, headers) -> Response        status and headers; the body not read yet
    response.raw_chunks()                        the body as sent (Content-Encoding not undone)
    response.release()                           back to the pool if read to its end, else closed

Safety: every new connection resolves the host with `app.pipeline.guard.resolve_checked` (any
blocked address refuses the host) and dials one of the checked addresses: the address checked is
the address dialled, for redirect hops and reconnects alike. TLS verifies the certificate against
the URL's host name. Redirects are the caller's (app.pipeline.fetch follows them by hand).

Keep-alive: a connection goes back to its host's idle list only when the answer was read to its
end and llhttp says the connection stays open; at most `max_idle` connections idle in all (the
one idle longest is closed first), so polling thousands of sites holds no socket for each. A request on a reused connection that fails
before any answer byte arrives is sent once more on a fresh connection (the server may have
closed it while idle, RFC 9112 §9.3.1; a GET is idempotent).

Errors: FetchError with kind "dns" / "connect" / "tls" / "timeout" (connect timeout) /
"protocol" (malformed answer, closed mid-answer) / "invalid_url"; BlockedAddressError.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from urllib.parse import quote, unquote

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

MAX_HEAD_BYTES = 100 * 1024  # status line and headers: the limit httpcore set for h11
_TARGET_SAFE = "/%?&=+:;,@!$'()*-._~[]"  # kept as is in the request target; anything else is %-encoded


class Response:
    """One answer whose headers are read; the body is read with `raw_chunks`."""

    def __init__(self, client: GetClient, key: Origin, conn: Conn, reading: Reading) -> None:
        self._client, self._key, self._conn, self._reading = client, key, conn, reading
        self.status = reading.status
        self.headers = reading.headers

    async def raw_chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (chunked framing undone, Content-Encoding not)."""
        reading = self._reading
        while True:
            if reading.chunks:
                chunks, reading.chunks = reading.chunks, []
                for chunk in chunks:
                    yield chunk
            if reading.complete:
                return
            data = await self._client.read(self._key, self._conn)
            if not data:
                if reading.delimited_by_close():
                    return
                raise FetchError(f"fetch: {self._key[1]} closed the connection mid-answer", kind="protocol")
            self._client.feed(self._key, reading, data)

    def release(self) -> None:
        reading = self._reading
        self._client.give_back(self._key, self._conn,
                               reading.complete and reading.keep_alive and not reading.extra)


class GetClient:
    def __init__(self, *, allowed_networks: Sequence[IPNetwork] = (), connect_timeout_s: float = 10.0,
                 ssl_context: ssl.SSLContext, user_agent: str, max_idle_per_host: int = 32,
                 max_idle: int = 64) -> None:
        self.allowed = tuple(allowed_networks)
        self.connect_timeout_s = connect_timeout_s
        self.user_agent = user_agent
        self._ssl = ssl_context
        self._idle = IdleConnections(max_idle_per_host, max_idle)

    async def aclose(self) -> None:
        self._idle.close_all()

    async def open(self, url: str, headers: Mapping[str, str]) -> Response:
        """GET `url` and read the answer's headers; the caller bounds the total time and calls
        `release()` on the answer when done with it."""
        parts, key = split_origin(url, f"fetch: invalid URL {url!r}")
        scheme, host, port = key
        request = self._request(parts.path, parts.query, host, parts.port, parts.username, parts.password,
                                headers)
        return await exchange_on(self._idle, key, lambda: self._connect(scheme, host, port),
                                 lambda conn, reused: self._exchange(key, conn, request, reused=reused))

    def _request(self, path: str, query: str, host: str, port: int | None, username: str | None,
                 password: str | None, headers: Mapping[str, str]) -> bytes:
        target = quote(path or "/", safe=_TARGET_SAFE) + (f"?{quote(query, safe=_TARGET_SAFE)}" if query else "")
        try:
            if not host.isascii():
                host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise FetchError(f"fetch: invalid host {host!r}: {exc}", kind="invalid_url") from exc
        host_header = f"[{host}]" if ":" in host else host
        if port is not None:
            host_header += f":{port}"
        lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {self.user_agent}"]
        if username is not None:  # userinfo in the URL: Basic credentials (RFC 7617), as httpx sends them
            secret = f"{unquote(username)}:{unquote(password or '')}".encode()
            lines.append(f"Authorization: Basic {base64.b64encode(secret).decode('ascii')}")
        # Values that would split the header block are dropped (a stored validator is checked
        # when stored; this keeps a request one request whatever a caller passes).
        lines += [f"{k}: {v}" for k, v in headers.items()
                  if k.lower() not in ("host", "user-agent") and not any(c in v for c in "\r\n\0")]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def give_back(self, key: Origin, conn: Conn, reusable: bool) -> None:
        self._idle.give_back(key, conn, reusable)

    async def _connect(self, scheme: str, host: str, port: int) -> Conn:
        return await connect(host, port, allowed=self.allowed, timeout_s=self.connect_timeout_s,
                             tls=self._ssl if scheme == "https" else None, who="fetch")

    async def read(self, key: Origin, conn: Conn) -> bytes:
        try:
            return await conn.reader.read(READ_BYTES)
        except (ConnectionError, OSError) as exc:  # ssl.SSLError is an OSError
            raise FetchError(f"fetch: {key[1]} broke the connection mid-answer: {exc}", kind="protocol") from exc

    @staticmethod
    def feed(key: Origin, reading: Reading, data: bytes) -> None:
        try:
            reading.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if not reading.complete:  # bytes after the answer: keep the answer, drop the connection
                raise FetchError(f"fetch: malformed answer from {key[1]}: {exc}", kind="protocol") from exc
            reading.extra = True

    async def _exchange(self, key: Origin, conn: Conn, request: bytes, *, reused: bool) -> Response:
        reading = Reading()
        done = False
        try:
            data = await send(conn, request, reused=reused, who="fetch", host=key[1])
            head = 0
            while True:
                if not data:
                    raise FetchError(f"fetch: {key[1]} closed the connection without a complete answer",
                                     kind="protocol")
                self.feed(key, reading, data)
                if reading.headers_done:
                    done = True
                    return Response(self, key, conn, reading)
                head += len(data)
                if head > MAX_HEAD_BYTES:  # a server sending headers forever is cut off, not buffered
                    raise FetchError(f"fetch: {key[1]} sent over {MAX_HEAD_BYTES // 1024} KiB of headers",
                                     kind="protocol")
                data = await self.read(key, conn)
        finally:
            if not done:
                conn.close()
