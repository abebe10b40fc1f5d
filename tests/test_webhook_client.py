"""The HTTP client of webhook deliveries, against raw servers on 127.0.0.1 that answer in the
shapes real receivers do: chunked, in pieces, large, cut short, closing, silent, redirecting,
over TLS. Names are resolved by a stand-in for the system resolver (`names`), so a test can
make a name point where it likes and count the lookups."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from typing import Any

import pytest
import trustme

from app.domain.errors import FetchError
from app.pipeline.notify import WebhookSender
from app.pipeline.webhook_client import WebhookClient
from tests.rawserver import LOCAL, Serve, answer_each, read_request, serve

__all__ = ["serve"]  # the fixture, used by name


@pytest.fixture
async def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """name -> the answers of its successive lookups (the last one repeats); every lookup of
    a name is recorded under `lookups`. Other names do not resolve."""
    table: dict[str, list[str]] = {"lookups": []}
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        table["lookups"].append(host)
        answers = table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return table


# --------------------------------------------------------------------------- framing


async def test_chunked_answer_is_read_and_the_connection_reused(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answer_each(reader, writer, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    for _ in range(3):
        answer = await client.post(server.url(), {"webhook-id": "msg_1"}, b"{}")
        assert answer.status == 200 and answer.excerpt == b"hello world"
    assert server.connections == 1
    await client.aclose()


async def test_an_answer_arriving_in_small_pieces_is_put_together(serve: Serve) -> None:
    answer = (b"HTTP/1.1 202 Accepted\r\nX-Receiver: one\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"7\r\nqueued \r\n9\r\nfor later\r\n0\r\n\r\n")

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            for i in range(0, len(answer), 5):  # status line, header names, chunk sizes cut apart
                writer.write(answer[i:i + 5])
                await writer.drain()
                await asyncio.sleep(0.002)  # each piece its own segment, read on its own

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    for _ in range(2):
        got = await client.post(server.url(), {}, b'{"a":1}')
        assert (got.status, got.headers["x-receiver"], got.excerpt) == (202, "one", b"queued for later")
    assert server.connections == 1
    await client.aclose()


async def test_large_answer_keeps_only_the_excerpt_and_drops_the_connection(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        body = b"x" * 500_000
        writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        try:
            await writer.drain()
        except ConnectionError:
            pass

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL, excerpt_bytes=100)
    for _ in range(2):
        answer = await client.post(server.url(), {}, b"{}")
        assert answer.status == 500 and answer.excerpt == b"x" * 100
    assert server.connections == 2
    await client.aclose()


async def test_an_answer_cut_short_is_a_protocol_error_and_retried_later(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"y" * 40)
        await writer.drain()

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    with pytest.raises(FetchError) as info:
        await client.post(server.url(), {}, b"{}")
    assert info.value.kind == "protocol"
    await client.aclose()
    sender = WebhookSender(allowed_networks=LOCAL)
    result = await sender.post(server.url(), {}, b"{}")
    assert result.status is None and result.error_kind == "protocol"  # retried on the schedule
    await sender.aclose()


async def test_a_malformed_answer_is_a_protocol_error(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a size\r\n0\r\n\r\n")
        await writer.drain()

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    with pytest.raises(FetchError) as info:
        await client.post(server.url(), {}, b"{}")
    assert info.value.kind == "protocol"
    await client.aclose()


async def test_a_folded_header_is_refused_or_unfolded_never_misread(serve: Serve) -> None:
    """obs-fold (RFC 9112 §5.2): a user agent may unfold it; llhttp refuses it. Either is fine;
    taking the continuation for a header of its own is not."""
    server = await serve(lambda reader, writer: answer_each(
        reader, writer, b"HTTP/1.1 200 OK\r\nX-Note: one\r\n folded: no\r\nContent-Length: 0\r\n\r\n"))
    client = WebhookClient(allowed_networks=LOCAL)
    try:
        answer = await client.post(server.url(), {}, b"{}")
    except FetchError as exc:
        assert exc.kind == "protocol"
    else:
        assert "folded" not in answer.headers and answer.headers["x-note"].split() == ["one", "folded:", "no"]
    await client.aclose()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
])
async def test_ambiguous_framing_is_refused(serve: Serve, answer: bytes) -> None:
    server = await serve(lambda reader, writer: answer_each(reader, writer, answer))
    client = WebhookClient(allowed_networks=LOCAL)
    with pytest.raises(FetchError) as info:
        await client.post(server.url(), {}, b"{}")
    assert info.value.kind == "protocol"
    await client.aclose()


# --------------------------------------------------------------------------- keep-alive


async def test_a_connection_the_receiver_closed_while_idle_is_not_used_again(serve: Serve) -> None:
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # keep-alive, then closed while idle
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    assert (await client.post(server.url(), {}, b"{}")).status == 204
    await closed.wait()
    assert (await client.post(server.url(), {}, b"{}")).status == 204
    assert server.connections == 2
    await client.aclose()


async def test_a_request_on_a_connection_closed_under_it_is_sent_again_on_a_fresh_one(serve: Serve) -> None:
    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers the first request of a connection; closes without answering on the second
        # (its keep-alive ran out just as the client sent it).
        nonlocal requests
        await read_request(reader)
        requests += 1
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        try:
            await read_request(reader)
            requests += 1
        except asyncio.IncompleteReadError:
            pass

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    for _ in range(3):
        assert (await client.post(server.url(), {}, b"{}")).status == 204
    assert server.connections == 3 and requests == 5  # requests 2 and 4 were cut off and sent again
    await client.aclose()


async def test_an_http_1_0_answer_ends_the_connection(serve: Serve) -> None:
    server = await serve(lambda reader, writer: answer_each(reader, writer, b"HTTP/1.0 204 No Content\r\n\r\n"))
    client = WebhookClient(allowed_networks=LOCAL)
    for _ in range(2):
        assert (await client.post(server.url(), {}, b"{}")).status == 204
    assert server.connections == 2  # HTTP/1.0 without "Connection: keep-alive" closes (RFC 9112 §9.3)
    await client.aclose()


async def test_bytes_after_an_answer_are_not_taken_for_the_next_answer(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await answer_each(reader, writer, b"HTTP/1.1 204 No Content\r\n\r\n")

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    assert [(await client.post(server.url(), {}, b"{}")).status for _ in range(3)] == [204, 204, 204]
    await client.aclose()


async def test_a_receiver_that_never_answers_is_tried_at_most_twice(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)  # and close without a word

    server = await serve(handler)
    client = WebhookClient(allowed_networks=LOCAL)
    with pytest.raises(FetchError) as info:
        await client.post(server.url(), {}, b"{}")
    assert info.value.kind == "connect" and 1 <= server.connections <= 2
    await client.aclose()


# --------------------------------------------------------------------------- addresses


async def test_loopback_is_refused_unless_allowed(serve: Serve) -> None:
    server = await serve(lambda reader, writer: answer_each(reader, writer, b"HTTP/1.1 204 No Content\r\n\r\n"))
    for url in (server.url(), server.url("[::ffff:127.0.0.1]"), server.url("127.1")):
        with pytest.raises(FetchError) as info:
            await WebhookClient().post(url, {}, b"{}")
        assert info.value.kind in ("blocked_address", "invalid_url"), url
    result = await WebhookSender().post(server.url(), {}, b"{}")
    assert result.status is None and result.error_kind == "blocked_address"
    client = WebhookClient(allowed_networks=LOCAL)
    assert (await client.post(server.url(), {}, b"{}")).status == 204
    await client.aclose()


async def test_a_name_resolving_to_a_blocked_address_is_refused(serve: Serve, names: dict[str, list[str]]) -> None:
    server = await serve(lambda reader, writer: answer_each(reader, writer, b"HTTP/1.1 204 No Content\r\n\r\n"))
    names["receiver.test"] = ["127.0.0.1"]
    client = WebhookClient()
    with pytest.raises(FetchError) as info:
        await client.post(server.url("receiver.test"), {}, b"{}")
    assert info.value.kind == "blocked_address"
    await client.aclose()


async def test_every_connection_checks_the_address_it_dials(serve: Serve, names: dict[str, list[str]]) -> None:
    """DNS rebinding: the name first points at an allowed address, then at a blocked one."""
    server = await serve(lambda reader, writer: answer_each(
        reader, writer, b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
    names["receiver.test"] = ["127.0.0.1", "127.0.0.1", "127.0.0.2"]
    client = WebhookClient(allowed_networks=[ipaddress.ip_network("127.0.0.1/32")])
    for _ in range(2):
        assert (await client.post(server.url("receiver.test"), {}, b"{}")).status == 204
    with pytest.raises(FetchError) as info:
        await client.post(server.url("receiver.test"), {}, b"{}")
    assert info.value.kind == "blocked_address"
    # One lookup per connection, and nothing dialled but what that lookup returned (a lookup
    # of its own would have shown here, or failed: the name exists only in `names`).
    assert names["lookups"] == ["receiver.test"] * 3 and server.connections == 2
    await client.aclose()


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_tls_is_verified_against_the_host_name_in_the_url(serve: Serve, names: dict[str, list[str]], ca: trustme.CA) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("receiver.test").configure_cert(server_tls)
    server = await serve(lambda reader, writer: answer_each(reader, writer, b"HTTP/1.1 204 No Content\r\n\r\n"),
                         server_tls)
    names["receiver.test"] = ["127.0.0.1"]
    names["other.test"] = ["127.0.0.1"]
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    client = WebhookClient(allowed_networks=LOCAL, ssl_context=trusting)
    assert (await client.post(server.url("receiver.test", "https"), {}, b"{}")).status == 204
    for url, context in ((server.url("other.test", "https"), trusting),  # certificate for another name
                         (server.url("receiver.test", "https"), None)):  # issuer not trusted
        other = WebhookClient(allowed_networks=LOCAL, ssl_context=context)
        with pytest.raises(FetchError) as info:
            await other.post(url, {}, b"{}")
        assert info.value.kind == "tls", url
        await other.aclose()
    await client.aclose()


# --------------------------------------------------------------------------- through the sender


async def test_silent_or_stalling_receivers_time_out(serve: Serve) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()

    async def stalling(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await release.wait()

    sender = WebhookSender(allowed_networks=LOCAL, timeout_s=0.2)
    for handler in (silent, stalling):
        result = await sender.post((await serve(handler)).url(), {}, b"{}")
        assert result.status is None and result.error_kind == "timeout", handler.__name__
    release.set()
    await sender.aclose()


async def test_a_redirect_is_an_answer_and_not_followed(serve: Serve) -> None:
    elsewhere = await serve(lambda reader, writer: answer_each(reader, writer, b"HTTP/1.1 204 No Content\r\n\r\n"))
    moved = await serve(lambda reader, writer: answer_each(
        reader, writer, f"HTTP/1.1 307 Moved\r\nLocation: {elsewhere.url()}\r\nContent-Length: 0\r\n\r\n".encode()))
    sender = WebhookSender(allowed_networks=LOCAL)
    redirect = await sender.post(moved.url(), {}, b"{}")
    assert redirect.status == 307 and "not followed" in (redirect.error or "")
    await sender.aclose()
