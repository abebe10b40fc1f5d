"""Guard: the address checks every outgoing connection passes (feeds, pages, hubs, webhooks).

Every TCP connection goes through `GuardedBackend`, an httpcore network backend that resolves the
host itself, checks *every* address it got, and then connects to one of the checked IPs. The
address that is checked is the address that is dialled, so DNS rebinding (a second, different
answer between check and connect) cannot slip through; redirect hops and keep-alive reconnects
take the same path. TLS still uses the URL's host name for SNI and certificate checks because
httpcore starts TLS with the origin host, not with what connect_tcp dialled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from app.domain.errors import BlockedAddressError, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def _literal(host: str) -> IPAddress | None:
    """The address `host` (brackets stripped) spells, if it is one rather than a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


async def resolve_checked(
    host: str, port: int, allowed: Sequence[IPNetwork], *, dns_timeout_s: float | None = None
) -> list[str]:
    """Resolve `host` and return its addresses, refusing if any of them is blocked.

    All answers must pass: a name that mixes public and private answers is refused outright
    rather than filtered, because it is almost always a rebinding attempt or a misconfiguration.
    """
    host = host.strip("[]")
    literal = _literal(host)
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
    host, port = host_port(url)
    await resolve_checked(host, port, allowed_networks, dns_timeout_s=10.0)
    return url


# What a user is told of a URL refused for a blocked address (feed, import, webhook receiver).
BLOCKED_HINT = ("(outgoing requests may not reach private, loopback or link-local addresses unless "
                "NEWS_INGEST_ALLOWED_NETWORKS allows them)")


def refusal(exc: FetchError) -> str | None:
    """Why a URL that failed its check with `exc` is refused; None when it is not: a name that
    does not resolve right now (or not in time) is accepted, for the poller to retry."""
    if isinstance(exc, BlockedAddressError):
        return f"{exc} {BLOCKED_HINT}"
    if exc.kind in ("dns", "timeout"):
        return None
    return str(exc)


def screen_urls(urls: Sequence[str], allowed: Sequence[IPNetwork]) -> list[str | tuple[str, int] | None]:
    """What `check_url_allowed` says of each URL without the network: its refusal, None when it
    passes (its host is an address that may be reached), or the (host, port) whose addresses
    decide. Pure and CPU-bound, for a worker: the URLs of an import are an outsider's, as many
    as the document holds."""
    screened: list[str | tuple[str, int] | None] = []
    for url in urls:
        try:
            host, port = host_port(url)
        except FetchError as exc:
            screened.append(refusal(exc))
            continue
        address = _literal(host)
        if address is None:
            screened.append((host, port))
        elif is_blocked_ip(address, allowed):  # as resolve_checked words it
            screened.append(refusal(BlockedAddressError(f"fetch: {host} resolves to blocked address {address}")))
        else:
            screened.append(None)
    return screened


async def check_host_allowed(host: str, port: int, allowed: Sequence[IPNetwork]) -> None:
    """`check_url_allowed` for a host and port already read from a URL."""
    await resolve_checked(host, port, allowed, dns_timeout_s=10.0)


def host_port(url: str) -> tuple[str, int]:
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
