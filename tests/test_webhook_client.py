"""The small HTTP/1.1 client of webhook deliveries, against raw servers on 127.0.0.1 that answer
in the shapes real receivers do (chunked, large, closing, silent)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from app.domain.errors import FetchError
from app.pipeline.notify import WebhookSender
from app.pipeline.webhook_client import WebhookClient

LOCAL = [ipaddress.ip_network("127.0.0.0/8")]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.base_events.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook?x=1"

    yield start
    for server in servers:
        server.close()


async def test_chunked_answer_is_read_and_connection_reused(serve) -> None:  # type: ignore[no-untyped-def]
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                request = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            assert request.startswith(b"POST /hook?x=1 HTTP/1.1\r\n") and request.endswith(b"{}")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            await writer.drain()
        writer.close()

    url = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    for _ in range(3):
        answer = await client.post(url, {"webhook-id": "msg_1"}, b"{}")
        assert answer.status == 200 and answer.excerpt == b"hello world"
    assert connections == 1
    await client.aclose()


async def test_large_answer_keeps_only_the_excerpt_and_drops_the_connection(serve) -> None:  # type: ignore[no-untyped-def]
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        body = b"x" * 500_000
        writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    url = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL, excerpt_bytes=100)
    for _ in range(2):
        answer = await client.post(url, {}, b"{}")
        assert answer.status == 500 and answer.excerpt == b"x" * 100
    assert connections == 2
    await client.aclose()


async def test_idle_connection_closed_by_the_server_is_retried_on_a_fresh_one(serve) -> None:  # type: ignore[no-untyped-def]
    closed = asyncio.Event()
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # keep-alive, then close while idle
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    url = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    assert (await client.post(url, {}, b"{}")).status == 204
    await asyncio.wait_for(closed.wait(), timeout=5)  # the kept-alive connection is gone now
    assert (await client.post(url, {}, b"{}")).status == 204
    assert connections == 2
    await client.aclose()


async def test_loopback_is_refused_unless_allowed(serve) -> None:  # type: ignore[no-untyped-def]
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("must not connect")

    url = await serve(handler)
    with pytest.raises(FetchError) as info:
        await WebhookClient().post(url, {}, b"{}")
    assert info.value.kind == "blocked_address"
    result = await WebhookSender().post(url, {}, b"{}")
    assert result.status is None and result.error_kind == "blocked_address"


async def test_silent_receiver_times_out_and_redirect_is_an_answer(serve) -> None:  # type: ignore[no-untyped-def]
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the request, never answers, until the client gives up and closes

    async def moved(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    sender = WebhookSender(allowed_networks=LOCAL, timeout_s=0.2)
    slow = await sender.post(await serve(silent), {}, b"{}")
    assert slow.status is None and slow.error_kind == "timeout"
    redirect = await sender.post(await serve(moved), {}, b"{}")
    assert redirect.status == 301 and "not followed" in (redirect.error or "")
    await sender.aclose()
