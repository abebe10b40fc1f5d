"""Fetching over the llhttp GET client (app/pipeline/get_client.py), against raw servers on
127.0.0.1 that answer in shapes real sites do: chunked in pieces, interim 1xx, delimited by
close, cut short, malformed, closing idle keep-alive connections, over TLS. What test_fetch.py
checks through a real HTTP server (status handling, redirects, limits, decoding) is not repeated."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from typing import TypedDict, Unpack

import pytest
import trustme

from app.domain.errors import BodyTooLargeError, FetchError
from app.pipeline.fetch import Fetcher
from tests.rawserver import LOCAL, Serve, Server, answer_each, read_request, serve

__all__ = ["serve"]  # the fixture, used by name

PAGE = b"<html><body><p>The ferry to Ostreva runs twice a day.</p></body></html>"


class FetcherOptions(TypedDict, total=False):
    """The Fetcher options these tests change."""
    user_agent: str
    max_body_bytes: int
    max_in_flight: int
    verify: ssl.SSLContext | bool


def fetcher(**kw: Unpack[FetcherOptions]) -> Fetcher:
    return Fetcher(allowed_networks=LOCAL, connect_timeout=2.0, total_timeout=5.0, **kw)


def url(server: Server, path: str = "/page?id=7") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def test_keep_alive_connection_reused_and_request_well_formed(serve: Serve) -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                heads.append(await read_request(reader))
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"v1\"\r\n\r\n%s" % (len(PAGE), PAGE))
            await writer.drain()

    server = await serve(handler)
    async with fetcher(user_agent="ingest-test/1") as f:
        for _ in range(3):
            result = await f.fetch(url(server, "/a b/é?q=x y"), etag='"v0"')
            assert result.body == PAGE and result.etag == '"v1"'
    assert server.connections == 1
    head = heads[0].decode("latin-1")
    assert head.startswith("GET /a%20b/%C3%A9?q=x%20y HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{server.port}\r\n" in head and "\r\nUser-Agent: ingest-test/1\r\n" in head
    assert '\r\nIf-None-Match: "v0"\r\n' in head and "\r\nAccept-Encoding: gzip, deflate, br\r\n" in head


async def test_idle_connection_closed_by_the_server_is_replaced(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)  # one answer, then the server drops the kept-alive connection
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))
        await writer.drain()

    server = await serve(handler)
    async with fetcher() as f:
        for _ in range(3):
            assert (await f.fetch(url(server))).body == PAGE
            await asyncio.sleep(0.05)  # the close reaches the client while the connection idles
    assert server.connections == 3


async def test_chunked_gzip_in_pieces_after_an_interim_answer(serve: Serve) -> None:
    packed = gzip.compress(PAGE)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(packed[i:i + 9]), packed[i:i + 9]) for i in range(0, len(packed), 9))
    answer = (b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for i in range(0, len(answer), 7):
            writer.write(answer[i:i + 7])
            await writer.drain()

    server = await serve(handler)
    async with fetcher() as f:
        result = await f.fetch(url(server))
    assert result.status == 200 and result.body == PAGE and "link" not in result.headers


async def test_body_delimited_by_close_is_read_to_the_end(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + PAGE * 50)
        await writer.drain()

    server = await serve(handler)
    async with fetcher() as f:
        assert (await f.fetch(url(server))).body == PAGE * 50


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nonly a little",  # cut short
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\nhello",  # two lengths
    b"HTTP/1.1 2x0 OK\r\n\r\n",  # no status code
    b"",  # closed without a word
    b"HTTP/1.1 200 OK\r\n" + b"X-Padding: %s\r\n" % (b"p" * 1000) * 150,  # headers without end
])
async def test_broken_answers_are_protocol_errors(serve: Serve, answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    server = await serve(handler)
    async with fetcher() as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(url(server))
    assert info.value.kind == "protocol"


async def test_chunked_body_over_the_limit_is_cut_off(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(64):  # 4 MiB offered against a 1 MiB limit
            writer.write(b"10000\r\n" + b"x" * 65536 + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")

    server = await serve(handler)
    async with fetcher(max_body_bytes=1024 * 1024) as f:
        with pytest.raises(BodyTooLargeError):
            await f.fetch(url(server))


async def test_tls_certificate_checked_for_the_host(serve: Serve) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_each(reader, writer, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))

    server = await serve(handler, server_ctx)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    async with fetcher(verify=trusting) as f:
        assert (await f.fetch(f"https://127.0.0.1:{server.port}/")).body == PAGE
    async with fetcher() as f:  # the system's CAs do not know the test CA
        with pytest.raises(FetchError) as info:
            await f.fetch(f"https://127.0.0.1:{server.port}/")
    assert info.value.kind == "tls"


async def test_idle_connections_are_capped_across_sites(serve: Serve) -> None:
    """Polling many sites keeps at most `max_in_flight` idle sockets, the most recently used."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_each(reader, writer, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))

    servers = [await serve(handler) for _ in range(5)]
    async with fetcher(max_in_flight=2) as f:
        for server in servers:
            assert (await f.fetch(url(server))).body == PAGE

        def open_connections() -> list[int]:
            return [len(s._handlers) for s in servers]

        async with asyncio.timeout(5):
            while open_connections() != [0, 0, 0, 1, 1]:  # noqa: ASYNC110 - the three oldest closed by the client
                await asyncio.sleep(0.01)
        assert (await f.fetch(url(servers[-1]))).body == PAGE
        assert servers[-1].connections == 1  # the newest is still reused
