"""Fetcher against a real HTTP server on 127.0.0.1 (tests/feedserver.py)."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TypedDict, Unpack

import brotli
import pytest

from app.domain.errors import BlockedAddressError, BodyTooLargeError, FetchError
from app.pipeline.fetch import Fetcher
from app.pipeline.guard import IPNetwork, check_url_allowed, is_blocked_ip
from app.pipeline.hostgate import HostGate, parse_retry_after
from tests.feedserver import FeedServer, Recorded, Reply

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


class FetcherOptions(TypedDict, total=False):
    """The Fetcher options these tests change and make_fetcher has no default for."""
    user_agent: str
    max_body_bytes: int
    per_host_concurrency: int


def make_fetcher(*, allowed_networks: Sequence[IPNetwork] = LOOPBACK, total_timeout: float = 5.0,
                 **kw: Unpack[FetcherOptions]) -> Fetcher:
    return Fetcher(allowed_networks=allowed_networks, connect_timeout=2.0, total_timeout=total_timeout, **kw)


async def test_200_returns_body_validators_and_lowercase_headers(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT",
                                                  "Content-Type": "application/rss+xml"})
    async with make_fetcher(user_agent="test-agent/1") as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.status == 200 and result.body == RSS and not result.not_modified
    assert result.etag == '"v1"'
    assert result.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.url == feed_server.url("/feed") and result.redirects == [] and result.permanent_redirect is None
    req = feed_server.requests_to("/feed")[0]
    assert req.headers["user-agent"] == "test-agent/1"
    assert set(req.headers["accept-encoding"].replace(" ", "").split(",")) == {"gzip", "deflate", "br"}
    assert "if-none-match" not in req.headers


async def test_conditional_get_304(feed_server: FeedServer) -> None:
    def handler(req: Recorded) -> Reply:
        if req.headers.get("if-none-match") == '"v1"' or req.headers.get("if-modified-since"):
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, RSS, {"ETag": '"v1"'})

    feed_server.route("/feed", handler=handler)
    async with make_fetcher() as f:
        r1 = await f.fetch(feed_server.url("/feed"), etag='"v1"')
        r2 = await f.fetch(feed_server.url("/feed"), last_modified="Tue, 01 Oct 2024 10:00:00 GMT")
        r3 = await f.fetch(feed_server.url("/feed"))
    assert r1.not_modified and r1.status == 304 and r1.body == b"" and r1.etag == '"v1"'
    assert r2.not_modified and r2.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
    assert not r3.not_modified and r3.body == RSS
    reqs = feed_server.requests_to("/feed")
    assert reqs[0].headers["if-none-match"] == '"v1"'
    assert reqs[1].headers["if-modified-since"] == "Tue, 01 Oct 2024 10:00:00 GMT"


@pytest.mark.parametrize("form", ["seconds", "date"])
async def test_429_retry_after_blocks_host(feed_server: FeedServer, form: str) -> None:
    value = "120" if form == "seconds" else format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    feed_server.route("/limited", 429, headers={"Retry-After": value})
    feed_server.route("/other", body=RSS)
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/limited"))
        assert info.value.kind == "rate_limited" and info.value.status == 429
        assert info.value.retry_after is not None and 110 <= info.value.retry_after <= 120
        # The whole host is now blocked: no request goes out.
        with pytest.raises(FetchError) as blocked:
            await f.fetch(feed_server.url("/other"))
        assert blocked.value.kind == "rate_limited" and blocked.value.retry_after is not None
    assert feed_server.requests_to("/other") == []


async def test_503_and_500(feed_server: FeedServer) -> None:
    feed_server.route("/busy", 503, headers={"Retry-After": "7"})
    feed_server.route("/broken", 500, body=b"oops")
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as busy:
            await f.fetch(feed_server.url("/busy"))
    assert busy.value.kind == "unavailable" and busy.value.status == 503 and busy.value.retry_after == 7.0
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as broken:
            await f.fetch(feed_server.url("/broken"))
    assert broken.value.kind == "http_status" and broken.value.status == 500
    assert str(broken.value).startswith("fetch: ")


@pytest.mark.parametrize(("status", "kind"), [(410, "gone"), (404, "http_status"), (403, "http_status")])
async def test_client_errors(feed_server: FeedServer, status: int, kind: str) -> None:
    feed_server.route("/x", status)
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/x"))
    assert info.value.kind == kind and info.value.status == status


async def test_slow_response_times_out(feed_server: FeedServer) -> None:
    feed_server.route("/slow", body=RSS, delay=1.5)
    async with make_fetcher(total_timeout=0.3) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/slow"))
    assert info.value.kind == "timeout"


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reported(feed_server: FeedServer, status: int) -> None:
    feed_server.route("/old", status, headers={"Location": "/mid"})
    feed_server.route("/mid", status, headers={"Location": feed_server.url("/new")})
    feed_server.route("/new", body=RSS)
    async with make_fetcher() as f:
        result = await f.fetch(feed_server.url("/old"), etag='"e"')
    assert result.url == feed_server.url("/new") and result.body == RSS
    assert result.permanent_redirect == feed_server.url("/new")
    assert result.redirects == [(status, feed_server.url("/mid")), (status, feed_server.url("/new"))]
    assert feed_server.requests_to("/new")[0].headers["if-none-match"] == '"e"'


async def test_temporary_hop_means_no_permanent_redirect(feed_server: FeedServer) -> None:
    feed_server.route("/a", 301, headers={"Location": "/b"})
    feed_server.route("/b", 302, headers={"Location": "/c"})
    feed_server.route("/c", body=RSS)
    async with make_fetcher() as f:
        result = await f.fetch(feed_server.url("/a"))
    assert result.url == feed_server.url("/c") and result.permanent_redirect is None
    assert [s for s, _ in result.redirects] == [301, 302]


async def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.route("/a", 302, headers={"Location": "/b"})
    feed_server.route("/b", 302, headers={"Location": "/a"})
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/a"))
    assert info.value.kind == "redirect_loop"


async def test_too_many_redirects(feed_server: FeedServer) -> None:
    for i in range(7):
        feed_server.route(f"/r{i}", 307, headers={"Location": f"/r{i + 1}"})
    feed_server.route("/r7", body=RSS)
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/r0"))
        assert info.value.kind == "too_many_redirects"
        ok = await f.fetch(feed_server.url("/r2"))  # exactly 5 hops is fine
    assert ok.body == RSS and len(ok.redirects) == 5


PAYLOAD = (b"<rss version='2.0'><channel><title>compressed</title>" + b"<!-- padding -->" * 5000
           + b"</channel></rss>")


@pytest.mark.parametrize(("encoding", "encode"), [
    ("gzip", gzip.compress),
    ("br", brotli.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
])
async def test_decompression(feed_server: FeedServer, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    feed_server.route("/z", body=encode(PAYLOAD), headers={"Content-Encoding": encoding})
    async with make_fetcher() as f:
        result = await f.fetch(feed_server.url("/z"))
    assert result.body == PAYLOAD


GZ_FEED = Path(__file__).resolve().parents[2] / "shared/corpus/feeds/encodings/node-feedparser__compressed.xml.gz"
GZ_BYTES = GZ_FEED.read_bytes() if GZ_FEED.exists() else None


@pytest.mark.skipif(GZ_BYTES is None, reason="../shared corpus not present")
async def test_corpus_gzip_feed(feed_server: FeedServer) -> None:
    assert GZ_BYTES is not None
    feed_server.route("/gz", body=GZ_BYTES, headers={"Content-Encoding": "gzip"})
    async with make_fetcher() as f:
        result = await f.fetch(feed_server.url("/gz"))
    assert result.body == gzip.decompress(GZ_BYTES)


@pytest.mark.parametrize("encoding", ["gzip", "br", None])
async def test_body_over_limit_while_streaming(feed_server: FeedServer, encoding: str | None) -> None:
    big = b"\0" * (3 * 1024 * 1024)  # 3 MiB; compresses to a few KiB
    body = {"gzip": gzip.compress, "br": brotli.compress, None: lambda b: b}[encoding](big)
    headers = {"Content-Encoding": encoding} if encoding else {}
    feed_server.route("/bomb", body=body, headers=headers, chunked=True)
    async with make_fetcher(max_body_bytes=1024 * 1024) as f:
        with pytest.raises(BodyTooLargeError) as info:
            await f.fetch(feed_server.url("/bomb"))
    assert info.value.kind == "body_too_large" and str(info.value) == "fetch: body exceeds 1 MiB"


async def test_declared_content_length_over_limit(feed_server: FeedServer) -> None:
    feed_server.route("/big", body=b"x" * 5000)
    async with make_fetcher(max_body_bytes=1000) as f:
        with pytest.raises(BodyTooLargeError):
            await f.fetch(feed_server.url("/big"))


async def test_loopback_refused_without_allowed_networks(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    async with make_fetcher(allowed_networks=[]) as f:
        with pytest.raises(BlockedAddressError) as info:
            await f.fetch(feed_server.url("/feed"))
    assert info.value.kind == "blocked_address"
    assert feed_server.requests == []  # refused before connecting


async def test_localhost_name_refused_after_resolution(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    async with make_fetcher(allowed_networks=[]) as f:
        with pytest.raises(BlockedAddressError):
            await f.fetch(f"http://localhost:{feed_server.port}/feed")
    assert feed_server.requests == []


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]:1/",  # mapped loopback outside the allowed v4 network's form
    "http://0.0.0.0/",
])
async def test_redirect_to_blocked_address_refused(feed_server: FeedServer, target: str) -> None:
    feed_server.route("/r", 302, headers={"Location": target})
    async with make_fetcher(allowed_networks=[ipaddress.ip_network("127.0.0.1/32")]) as f:
        if target.startswith("http://[::ffff:127.0.0.1]"):
            # ::ffff:127.0.0.1 *is* 127.0.0.1, which is allowed here: it must be judged as such,
            # so the hop is permitted and fails to connect on port 1 instead.
            with pytest.raises(FetchError) as info:
                await f.fetch(feed_server.url("/r"))
            assert info.value.kind in ("connect", "blocked_address")
            return
        with pytest.raises(BlockedAddressError):
            await f.fetch(feed_server.url("/r"))


async def test_redirect_to_other_scheme_refused(feed_server: FeedServer) -> None:
    feed_server.route("/r", 302, headers={"Location": "file:///etc/passwd"})
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(feed_server.url("/r"))
    assert info.value.kind == "invalid_url"


async def test_connection_refused_and_dns_failure() -> None:
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as refused:
            await f.fetch("http://127.0.0.1:1/")
        assert refused.value.kind == "connect"
        with pytest.raises(FetchError) as dns:
            await f.fetch("http://no-such-host.invalid/")
        assert dns.value.kind in ("dns", "timeout")


async def test_tls_error_kind(feed_server: FeedServer) -> None:
    # Speaking TLS to a plain-HTTP server fails the handshake.
    feed_server.route("/", body=b"hi")
    async with make_fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(f"https://127.0.0.1:{feed_server.port}/")
    assert info.value.kind == "tls"


async def test_check_url_allowed() -> None:
    assert await check_url_allowed("http://127.0.0.1:8080/feed", LOOPBACK) == "http://127.0.0.1:8080/feed"
    with pytest.raises(BlockedAddressError):
        await check_url_allowed("http://127.0.0.1:8080/feed", [])
    with pytest.raises(BlockedAddressError):
        await check_url_allowed("https://[fe80::1]/", [])
    with pytest.raises(FetchError) as info:
        await check_url_allowed("ftp://example.com/", [])
    assert info.value.kind == "invalid_url"
    with pytest.raises(FetchError):
        await check_url_allowed("http:///nohost", [])


@pytest.mark.parametrize(("ip", "blocked"), [
    ("8.8.8.8", False),
    ("1.1.1.1", False),
    ("93.184.216.34", False),
    ("127.0.0.1", True),
    ("127.255.255.254", True),
    ("10.1.2.3", True),
    ("172.16.0.1", True),
    ("172.31.255.255", True),
    ("172.32.0.1", False),
    ("192.168.1.1", True),
    ("169.254.169.254", True),
    ("100.64.0.1", True),  # CGNAT
    ("0.0.0.0", True),
    ("224.0.0.1", True),  # multicast
    ("239.255.255.250", True),
    ("240.0.0.1", True),  # reserved
    ("255.255.255.255", True),
    ("192.0.2.1", True),  # documentation
    ("198.18.0.1", True),  # benchmarking
    ("2606:4700:4700::1111", False),
    ("2001:4860:4860::8888", False),
    ("::1", True),
    ("::", True),
    ("fe80::1", True),
    ("fe80::1%eth0", True),
    ("fc00::1", True),
    ("fd12:3456::1", True),
    ("ff02::1", True),
    ("ff0e::1", True),  # global-scope multicast still refused
    ("2001:db8::1", True),
    ("::ffff:127.0.0.1", True),
    ("::ffff:10.0.0.1", True),
    ("::ffff:8.8.8.8", False),
    ("::127.0.0.1", True),  # IPv4-compatible
    ("2002:7f00:1::", True),  # 6to4 of 127.0.0.1
    ("2002:0808:0808::", False),  # 6to4 of 8.8.8.8
    ("64:ff9b::a00:1", True),  # NAT64 of 10.0.0.1
    ("64:ff9b::808:808", False),  # NAT64 of 8.8.8.8
])
def test_is_blocked_ip(ip: str, blocked: bool) -> None:
    assert is_blocked_ip(ip) is blocked
    assert is_blocked_ip(ipaddress.ip_address(ip.split("%")[0])) is blocked


def test_is_blocked_ip_allowed_networks() -> None:
    allowed = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("fd00::/8")]
    assert not is_blocked_ip("127.0.0.1", allowed)
    assert not is_blocked_ip("::ffff:127.0.0.1", allowed)
    assert not is_blocked_ip("fd00::5", allowed)
    assert is_blocked_ip("10.0.0.1", allowed)
    assert is_blocked_ip("::1", allowed)


NOW = datetime(2024, 10, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    ("0", 0.0),
    (" 5 ", 5.0),
    ("Tue, 01 Oct 2024 12:02:00 GMT", 120.0),
    ("Tuesday, 01-Oct-24 12:01:00 GMT", 60.0),  # RFC 850 form
    ("Tue Oct  1 12:00:30 2024", 30.0),  # asctime form
    ("Tue, 01 Oct 2024 11:00:00 GMT", 0.0),  # in the past
    ("-5", None),
    ("soon", None),
    ("", None),
    (None, None),
    ("1.5", None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


async def test_per_host_concurrency_bound(feed_server: FeedServer) -> None:
    feed_server.route("/slow", body=RSS, delay=0.3)
    async with make_fetcher(per_host_concurrency=2) as f:
        results = await asyncio.gather(*(f.fetch(feed_server.url("/slow")) for _ in range(6)))
    assert all(r.body == RSS for r in results)
    assert feed_server.max_concurrent["/slow"] == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_host_gate_spacing_and_block() -> None:
    clock = FakeClock()
    gate = HostGate(concurrency=1, min_spacing_s=2.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def one() -> None:
        async with gate.slot("Example.com"):
            starts.append(clock.now)

    await asyncio.gather(one(), one(), one())
    assert starts == [100.0, 102.0, 104.0]
    async with gate.slot("other.example"):  # other hosts are not delayed
        pass
    assert clock.now == 104.0
    gate.block("example.com", 30)
    assert gate.blocked_for("EXAMPLE.COM") == 30
    with pytest.raises(FetchError) as info:
        async with gate.slot("example.com"):
            pass
    assert info.value.kind == "rate_limited" and info.value.retry_after == 30
    clock.now += 31
    async with gate.slot("example.com"):
        pass


async def test_host_gate_concurrency() -> None:
    gate = HostGate(concurrency=2)
    active = peak = 0

    async def one() -> None:
        nonlocal active, peak
        async with gate.slot("h"):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(one() for _ in range(8)))
    assert peak == 2
