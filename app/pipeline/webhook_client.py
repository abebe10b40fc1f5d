"""The HTTP client of webhook deliveries: aiohttp, with the SSRF guard in its resolver.

Why aiohttp and not httpx: a delivery is one small POST whose answer we barely read, sent a
thousand times a second. Measured on the 2-core benchmark machine, httpx + httpcore cost
1.5-8 ms of CPU per request; aiohttp (HTTP/1.1 parsing in C, llhttp) costs about as little as
the hand-written client it replaced (figures in the README), and framing, chunked bodies,
keep-alive and partial reads are a kept library's job rather than ours.

Safety is the same as for fetching:
- every new connection resolves its host through `CheckedResolver`, i.e.
  `app.pipeline.fetch.resolve_checked`, which refuses the host if any address is private,
  loopback, link-local, ... (unless allowed); aiohttp then dials one of those checked
  addresses, so the address checked is the address dialled (no DNS rebinding). Nothing is
  cached: a later connection resolves and checks again.
- aiohttp never asks the resolver about an IP literal, so `WebhookClient.post` checks a
  literal itself, with the same test aiohttp uses to call a host a literal (a literal cannot
  rebind, so checking it per request is checking it per connection).
- TLS verifies the certificate against the URL's host name (aiohttp passes it as
  server_hostname while dialling the checked address). No proxy from the environment, no
  cookies, redirects never followed: a 3xx is just an answer.

Keep-alive: the answer is read up to `drain_bytes`; a connection read to the end of its answer
goes back to aiohttp's pool, any other is closed. A POST whose connection closed before any
byte of the answer is sent once more (a receiver's keep-alive ran out just as we reused the
connection, RFC 9112 §9.3.1); deliveries are at-least-once anyway (receivers deduplicate on
`webhook-id`), so sending again cannot do harm that a retry would not.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from app.domain.errors import BlockedAddressError, FetchError
from app.pipeline.fetch import IPNetwork, is_blocked_ip, resolve_checked

IDLE_EXPIRY_S = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    excerpt: bytes


class _Closed(Exception):
    """The connection closed before any byte of the answer arrived."""


class CheckedResolver(AbstractResolver):
    """aiohttp resolver that returns only addresses `resolve_checked` accepted."""

    def __init__(self, allowed: Sequence[IPNetwork], timeout_s: float) -> None:
        self.allowed = tuple(allowed)
        self.timeout_s = timeout_s

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await resolve_checked(host, port, self.allowed, dns_timeout_s=self.timeout_s)
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                 "proto": socket.IPPROTO_TCP, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        return None


@functools.lru_cache(maxsize=1024)
def _check_literal(host: str, allowed: tuple[IPNetwork, ...]) -> None:
    """Refuse a blocked IP literal. aiohttp takes any host with ':' or of digits and dots for
    a literal and dials it without the resolver: every such host must parse and pass here.
    Cached: a literal's verdict never changes (and parsing one costs ~30 us)."""
    if ":" not in host and not host.replace(".", "").isdigit():
        return
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError as exc:
        raise FetchError(f"notify: {host!r} is not an IP address", kind="invalid_url") from exc
    if is_blocked_ip(host, allowed):
        raise BlockedAddressError(f"notify: {host} is a blocked address")


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
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Built on first use: aiohttp binds the session to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=CheckedResolver(self.allowed, self.connect_timeout_s), use_dns_cache=False,
                ssl=self._ssl if self._ssl is not None else True, limit=0,
                limit_per_host=self.max_idle_per_host, keepalive_timeout=IDLE_EXPIRY_S)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s),
                # Given here, not skipped per request (aiohttp's skip list costs ~15 us a POST);
                # identity: the excerpt we keep is for people to read.
                headers={"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"},
                auto_decompress=False, raise_for_status=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """POST `body`; the caller bounds the total time (asyncio.timeout)."""
        try:
            target = URL(url)
        except (ValueError, TypeError) as exc:
            raise FetchError(f"notify: invalid receiver URL {url!r}", kind="invalid_url") from exc
        host = target.raw_host or ""
        if target.scheme not in ("http", "https") or not host:
            raise FetchError(f"notify: invalid receiver URL {url!r}", kind="invalid_url")
        _check_literal(host, self.allowed)
        try:
            return await self._send(target, headers, body)
        except _Closed:  # closed as we reused it: once more (a fresh connection if none is left)
            return await self._send(target, headers, body, last_try=True)

    async def _send(self, target: URL, headers: Mapping[str, str], body: bytes, *,
                    last_try: bool = False) -> Answer:
        host = target.raw_host or ""
        try:
            async with self._open().post(target, data=body, headers=headers, allow_redirects=False) as response:
                excerpt, complete = await self._read(response.content)
                if not complete:
                    response.close()  # rest of the answer unread: the connection cannot be reused
                return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, excerpt)
        except FetchError:
            raise  # refused by the address check
        except aiohttp.ClientConnectorError as exc:
            raise _error(host, exc) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # No byte of the answer came (a cut-off body is a ClientPayloadError).
            if last_try:
                raise _error(host, exc) from exc
            raise _Closed from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise _error(host, exc) from exc

    async def _read(self, content: aiohttp.StreamReader) -> tuple[bytes, bool]:
        """(first `excerpt_bytes` of the body, whether it was read to its end)."""
        out = bytearray()
        while len(out) <= self.drain_bytes:
            chunk = await content.read(self.drain_bytes + 1 - len(out))
            if not chunk:
                return bytes(out[: self.excerpt_bytes]), True
            out += chunk
        return bytes(out[: self.excerpt_bytes]), False


def _error(host: str, exc: BaseException) -> FetchError:
    """aiohttp's exception as a FetchError with a stable kind."""
    cause: Any = exc.__cause__ or getattr(exc, "os_error", None) or exc
    if isinstance(cause, FetchError):
        return cause
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError) \
            or isinstance(cause, ssl.SSLError):
        return FetchError(f"notify: TLS error with {host}: {exc}", kind="tls")
    if isinstance(exc, aiohttp.ConnectionTimeoutError) or isinstance(cause, asyncio.TimeoutError):
        return FetchError(f"notify: cannot connect to {host}: timed out", kind="timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return FetchError(f"notify: cannot connect to {host}: {exc}", kind="connect")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return FetchError(f"notify: {host} closed the connection without answering", kind="connect")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return FetchError(f"notify: {host} closed the connection mid-answer: {exc}", kind="protocol")
    return FetchError(f"notify: malformed answer from {host}: {exc}", kind="protocol")
