"""Fetch: a safe, polite HTTP GET built on httpx.

    Fetcher.fetch(url) -> FetchResult            2xx or 304, after following redirects by hand
      raises FetchError(kind=...)                 "dns", "tls", "timeout", "connect", "protocol",
                                                  "decode", "invalid_url", "redirect_loop",
                                                  "too_many_redirects", "gone", "rate_limited",
                                                  "unavailable", "http_status"
             BlockedAddressError                  target resolves to a non-public address
             BodyTooLargeError                    decompressed body over the limit

Safety. Every TCP connection goes through `GuardedBackend`, an httpcore network backend that
resolves the host itself, checks *every* address it got, and then connects to one of the checked
IPs. The address that is checked is the address that is dialled, so DNS rebinding (a second,
different answer between check and connect) cannot slip through; redirect hops and keep-alive
reconnects take the same path. TLS still uses the URL's host name for SNI and certificate checks
because httpcore starts TLS with the origin host, not with what connect_tcp dialled. Proxies from
the environment are ignored (trust_env=False): a proxy would do its own DNS.

Decompression is done here over the raw stream (not by httpx) so the size limit applies to the
decompressed output while it is produced: zlib and brotli are driven with an output cap, so a
small bomb never inflates past the limit in memory.

Politeness. `HostGate` admits at most N requests per host at a time, spaces request starts per
host, and after a 429 refuses the whole host until Retry-After has passed (RFC 9110 §10.2.3).

Pool size. httpcore's pool scans its connection list and request queue on every request and
every release, so one client with hundreds of requests in flight spends its time in that
bookkeeping (measured: a third of the service process's CPU at 32 in flight on one client).
The fetcher therefore spreads requests over several small clients, `CLIENT_IN_FLIGHT` (8)
requests each, and sends each request to the least busy one; each keeps its own keep-alive
connections.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

try:  # installed with httpx[brotli]; brotli 1.2+ has output_buffer_limit
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

from app.domain.errors import BlockedAddressError, BodyTooLargeError, FetchError
from app.domain.fetching import FetchResult
from app.domain.limits import MAX_ETAG_CHARS, MAX_HTTP_DATE_CHARS, MAX_URL_CHARS, clean_text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MiB = 1024 * 1024
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
CLIENT_IN_FLIGHT = 8
MAX_IN_FLIGHT = 64
DEFAULT_RATE_LIMIT_S = 60.0  # a 429 without Retry-After still blocks the host this long
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})

# Ranges Python's ipaddress does not flag as non-global on every version, listed explicitly.
_ALWAYS_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "255.255.255.255/32",
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fec0::/10",  # deprecated site-local
    )
)


# --------------------------------------------------------------------------- address checks


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated) ::a.b.c.d
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip))
    return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _in_any(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def is_blocked_ip(ip: IPAddress | str, allowed: Sequence[IPNetwork] = ()) -> bool:
    """True when `ip` is not a public unicast address and not inside `allowed`.

    Blocks private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT) and
    documentation ranges, IPv4 and IPv6. IPv6 forms that embed an IPv4 address (IPv4-mapped
    ::ffff:a.b.c.d, 6to4, Teredo, NAT64) are judged by the embedded address as well, so
    ::ffff:127.0.0.1 is loopback. `allowed` wins (e.g. 127.0.0.0/8 in tests).
    """
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_ipv4(ip)
        if v4 is not None:
            if ip.ipv4_mapped is not None or ip in _NAT64:
                # ::ffff:0:0/96 and 64:ff9b::/96 are flagged reserved as IPv6 ranges; what
                # gets dialled is the IPv4 address, so judge that alone.
                candidates = [v4]
            else:
                candidates.append(v4)
    if any(_in_any(c, allowed) for c in [ip, *candidates]):
        return False
    for c in candidates:
        if (
            c.is_private
            or c.is_loopback
            or c.is_link_local
            or c.is_multicast
            or c.is_reserved
            or c.is_unspecified
            or not c.is_global
            or _in_any(c, _ALWAYS_BLOCKED)
        ):
            return True
    return False


async def resolve_checked(
    host: str, port: int, allowed: Sequence[IPNetwork], *, dns_timeout_s: float | None = None
) -> list[str]:
    """Resolve `host` and return its addresses, refusing if any of them is blocked.

    All answers must pass: a name that mixes public and private answers is refused outright
    rather than filtered, because it is almost always a rebinding attempt or a misconfiguration.
    """
    host = host.strip("[]")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(dns_timeout_s):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise FetchError(f"fetch: DNS lookup for {host} timed out", kind="timeout") from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"fetch: cannot resolve {host}: {exc}", kind="dns") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FetchError(f"fetch: {host} has no addresses", kind="dns")
    for address in addresses:
        if is_blocked_ip(address, allowed):
            raise BlockedAddressError(f"fetch: {host} resolves to blocked address {address}")
    return addresses


async def check_url_allowed(url: str, allowed_networks: Sequence[IPNetwork] = ()) -> str:
    """Validate a user-supplied URL up front (feed and webhook registration).

    Checks scheme (http/https), that there is a host, and that every address it resolves to is
    public (or allowed). Returns the URL; raises FetchError(kind="invalid_url"),
    FetchError(kind="dns") or BlockedAddressError. The fetch path checks again at connect time.
    """
    host, port = _host_port(url)
    await resolve_checked(host, port, allowed_networks, dns_timeout_s=10.0)
    return url


def _host_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"fetch: invalid URL {url!r}: {exc}", kind="invalid_url") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"fetch: unsupported scheme in {url!r}", kind="invalid_url")
    if not parts.hostname:
        raise FetchError(f"fetch: no host in {url!r}", kind="invalid_url")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that dials only addresses that passed `is_blocked_ip`."""

    def __init__(self, allowed: Sequence[IPNetwork], inner: httpcore.AsyncNetworkBackend | None = None):
        self._allowed = tuple(allowed)
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked(host, port, self._allowed, dns_timeout_s=timeout)
        last: Exception | None = None
        for address in addresses:  # try each checked address in resolver order
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("fetch: unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connection pool dials through `GuardedBackend`."""

    def __init__(self, allowed: Sequence[IPNetwork], *, limits: httpx.Limits,
                 verify: ssl.SSLContext | bool = True, http2: bool = False) -> None:
        if not isinstance(verify, ssl.SSLContext):
            verify = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=verify, limits=limits, http2=http2, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=GuardedBackend(allowed),
        )


# --------------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3): delay-seconds or HTTP-date.

    A date in the past gives 0.0; anything unparseable gives None. `now` must be aware.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" or obsolete zones: HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --------------------------------------------------------------------------- politeness


@dataclass
class _HostState:
    semaphore: asyncio.Semaphore
    next_start: float = 0.0
    blocked_until: float = 0.0
    users: int = 0


class HostGate:
    """Per-host admission: at most `concurrency` at once, starts spaced by `min_spacing_s`,
    and the whole host refused while blocked (after a 429).

    `clock` is monotonic seconds and `sleep` an awaitable sleep; both injectable for tests.
    """

    def __init__(self, *, concurrency: int = 2, min_spacing_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_hosts: int = 10_000) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.concurrency = concurrency
        self.min_spacing_s = min_spacing_s
        self._clock = clock
        self._sleep = sleep
        self._max_hosts = max_hosts
        self._hosts: dict[str, _HostState] = {}

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            if len(self._hosts) >= self._max_hosts:
                self._prune()
            state = self._hosts[host] = _HostState(asyncio.Semaphore(self.concurrency))
        return state

    def _prune(self) -> None:
        now = self._clock()
        for host, st in list(self._hosts.items()):
            if st.users == 0 and st.next_start <= now and st.blocked_until <= now:
                del self._hosts[host]

    def blocked_for(self, host: str) -> float:
        """Seconds until `host` may be contacted again (0.0 when not blocked)."""
        state = self._hosts.get(host.lower())
        return max(0.0, state.blocked_until - self._clock()) if state else 0.0

    def block(self, host: str, seconds: float) -> None:
        state = self._state(host.lower())
        state.blocked_until = max(state.blocked_until, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots. Raises FetchError(kind="rate_limited") if blocked."""
        host = host.lower()
        state = self._state(host)
        state.users += 1
        try:
            async with state.semaphore:
                while True:
                    now = self._clock()
                    if state.blocked_until > now:
                        wait = state.blocked_until - now
                        raise FetchError(f"fetch: {host} is rate limited for {wait:.0f}s more",
                                         kind="rate_limited", status=429, retry_after=wait)
                    if state.next_start <= now:
                        break
                    await self._sleep(state.next_start - now)
                state.next_start = now + self.min_spacing_s
                yield
        finally:
            state.users -= 1


# --------------------------------------------------------------------------- decoding


class _Decoder:
    """Incremental Content-Encoding decoder with a cap on output (gzip, deflate, br, identity).

    Each layer is asked for at most `limit + 1` bytes per call, so a decompression bomb is cut
    off after at most one byte past the limit instead of being inflated in memory first.
    """

    def __init__(self, encodings: list[str], limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._steps: list[Callable[[bytes], bytes]] = []
        # Content-Encoding lists codings in the order applied; undo them in reverse.
        for coding in reversed(encodings):
            if coding in ("gzip", "x-gzip"):
                self._steps.append(self._zlib_step(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self._steps.append(self._deflate_step())
            elif coding == "br" and brotli is not None:
                self._steps.append(self._brotli_step())
            elif coding != "identity":
                raise FetchError(f"fetch: unsupported content-encoding {coding!r}", kind="decode")

    def _cap(self, produced: int) -> int:
        return max(1, self._limit - self._size - produced + 1)

    def _zlib_step(self, wbits: int) -> Callable[[bytes], bytes]:
        d = zlib.decompressobj(wbits)

        def step(data: bytes) -> bytes:
            out: list[bytes] = []
            produced = 0
            while data and not d.eof:
                chunk = d.decompress(data, self._cap(produced))
                out.append(chunk)
                produced += len(chunk)
                if self._size + produced > self._limit:
                    break
                data = d.unconsumed_tail
            return b"".join(out)

        return step

    def _deflate_step(self) -> Callable[[bytes], bytes]:
        # "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate;
        # a zlib stream starts with a CMF byte whose low nibble is 8 and a valid header check.
        chosen: list[Callable[[bytes], bytes]] = []

        def step(data: bytes) -> bytes:
            if not chosen:
                wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                chosen.append(self._zlib_step(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS))
            return chosen[0](data)

        return step

    def _brotli_step(self) -> Callable[[bytes], bytes]:
        assert brotli is not None
        d = brotli.Decompressor()

        def step(data: bytes) -> bytes:
            out = [d.process(data, output_buffer_limit=self._cap(0))]
            produced = len(out[0])
            # With a capped buffer the decoder may hold more output; drain it (input must be
            # empty until it can accept more data again).
            while not d.can_accept_more_data() and self._size + produced <= self._limit:
                more = d.process(b"", output_buffer_limit=self._cap(produced))
                if not more:
                    break
                out.append(more)
                produced += len(more)
            return b"".join(out)

        return step

    def feed(self, data: bytes) -> bytes:
        try:
            for step in self._steps:
                data = step(data)
        except zlib.error as exc:
            raise FetchError(f"fetch: cannot decode body: {exc}", kind="decode") from exc
        except Exception as exc:
            if brotli is not None and isinstance(exc, brotli.error):
                raise FetchError(f"fetch: cannot decode body: {exc}", kind="decode") from exc
            raise
        self._size += len(data)
        if self._size > self._limit:
            raise BodyTooLargeError(f"fetch: body exceeds {_fmt_size(self._limit)}")
        return data


def _fmt_size(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n} bytes"


# --------------------------------------------------------------------------- the fetcher


def _validator(value: str | None, limit: int) -> str | None:
    """An ETag or Last-Modified worth storing: one longer than its column is dropped (cut, it
    would never match again) and the next poll is an unconditional GET, as for a server that
    sends none."""
    if not value or len(value) > limit or clean_text(value) != value:
        return None
    return value


def _headers_dict(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.multi_items():
        k = key.lower()
        out[k] = f"{out[k]}, {value}" if k in out else value
    return out


def _is_tls_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        cur = cur.__cause__ or cur.__context__
    text = str(exc)
    return "SSL" in text or "CERTIFICATE" in text or "TLS" in text


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
        shards = max(1, math.ceil(max_in_flight / CLIENT_IN_FLIGHT))
        per_client = min(max_in_flight, CLIENT_IN_FLIGHT)
        timeout = httpx.Timeout(total_timeout, connect=connect_timeout)
        # One TLS context for every client: loading the CA bundle costs ~60 ms of CPU each time,
        # and this runs on the event loop (16 loads held it for a second at the first poll).
        if not isinstance(verify, ssl.SSLContext):
            verify = httpx.create_ssl_context(verify=verify, trust_env=False)
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client,
                              keepalive_expiry=30.0)
        self._clients = [
            httpx.AsyncClient(
                transport=GuardedTransport(self.allowed_networks, limits=limits, verify=verify),
                timeout=timeout, follow_redirects=False, trust_env=False,
                headers={"User-Agent": user_agent},
            )
            for _ in range(shards)
        ]
        self._in_flight = [asyncio.Semaphore(per_client) for _ in range(shards)]
        self._busy = [0] * shards

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _shard(self) -> int:
        return min(range(len(self._busy)), key=self._busy.__getitem__)

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
            host, _ = _host_port(current)
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
                _host_port(target)  # reject non-http(s) targets before going anywhere
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
                # a feed is only moved to a URL it can be stored under
                permanent_redirect=permanent if permanent and len(permanent) <= MAX_URL_CHARS else None,
                redirects=redirects,
                elapsed_s=time.monotonic() - started,
            )

    async def _one_hop(self, url: str, headers: dict[str, str], host: str,
                       budget: float) -> tuple[int, dict[str, str], bytes]:
        if budget <= 0:
            raise FetchError(f"fetch: {url} timed out", kind="timeout")
        async with self.gate.slot(host):
            shard = self._shard()
            self._busy[shard] += 1
            try:
                async with self._in_flight[shard]:
                    # Waiting for a free client is not the server's time: the timeout starts here.
                    async with asyncio.timeout(budget):
                        return await self._send(self._clients[shard], url, headers)
            except TimeoutError as exc:
                raise FetchError(f"fetch: {url} timed out after {self.total_timeout:g}s",
                                 kind="timeout") from exc
            except httpx.TimeoutException as exc:
                raise FetchError(f"fetch: {url} timed out ({type(exc).__name__})", kind="timeout") from exc
            except httpx.ConnectError as exc:
                kind = "tls" if _is_tls_error(exc) else "connect"
                raise FetchError(f"fetch: cannot connect to {host}: {exc}", kind=kind) from exc
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise FetchError(f"fetch: invalid URL {url!r}: {exc}", kind="invalid_url") from exc
            except httpx.NetworkError as exc:
                raise FetchError(f"fetch: network error from {host}: {exc}", kind="connect") from exc
            except httpx.ProtocolError as exc:
                raise FetchError(f"fetch: protocol error from {host}: {exc}", kind="protocol") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"fetch: {url}: {exc}", kind="connect") from exc
            finally:
                self._busy[shard] -= 1

    async def _send(self, client: httpx.AsyncClient, url: str,
                    headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        async with client.stream("GET", url, headers=headers) as response:
            resp_headers = _headers_dict(response.headers)
            status = response.status_code
            if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                return status, resp_headers, b""  # body not needed; closing drops it
            encodings = [c.strip().lower() for c in resp_headers.get("content-encoding", "").split(",")
                         if c.strip()]
            declared = resp_headers.get("content-length", "")
            if not encodings and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise BodyTooLargeError(f"fetch: body exceeds {_fmt_size(self.max_body_bytes)} "
                                        f"(content-length {declared})")
            decoder = _Decoder(encodings, self.max_body_bytes)
            chunks: list[bytes] = []
            async for raw in response.aiter_raw():
                chunks.append(decoder.feed(raw))
            return status, resp_headers, b"".join(chunks)

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
