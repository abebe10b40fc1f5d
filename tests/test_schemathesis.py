"""The whole API, property-tested from its own OpenAPI document with schemathesis: every
operation, with data that fits the document and data that does not, a fixed seed and a bounded
number of examples. No answer may be a 500, and every answer must match the document (status
code, content type, headers, body schema).

The service runs as it does in production, in uvicorn on 127.0.0.1 on a thread of its own, against
the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL), seeded with a polled feed so
that ids and filters find rows. Its event loop resolves no name and connects only to 127.0.0.0/8:
generated feed and receiver URLs never leave the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode

from app.main import create_app
from app.runtime import Runtime
from app.storage.feeds import create_feed
from app.storage.keys import create_key
from app.workers.ingest import IngestWorker
from tests.conftest import make_settings, wipe
from tests.feedserver import FeedServer, serve_seed_site

SEED = 20261127
EXAMPLES = 12  # per operation and generation mode (data that fits the document, data that does not)


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


class _OfflineLoop(asyncio.SelectorEventLoop):
    """Names resolve to nothing; connections go to loopback addresses only."""

    async def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(str(host).strip("[]"))
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "test: no name resolves on this loop") from None
        return await super().getaddrinfo(host, port, *args, **kwargs)

    async def create_connection(self, protocol_factory: Any, host: Any = None, port: Any = None,
                                *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            raise ConnectionRefusedError(f"test: {host} is not on this machine")
        return await super().create_connection(protocol_factory, host, port, *args, **kwargs)


class _Server(uvicorn.Server):
    """uvicorn that says when it listens."""

    def __init__(self, config: uvicorn.Config, listening: threading.Event) -> None:
        super().__init__(config)
        self.listening = listening

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class _Service:
    """news-ingest in uvicorn on a free port, on its own thread and loop, seeded on start."""

    def __init__(self, database_url: str, feeds: FeedServer) -> None:
        self.settings = make_settings(database_url)
        self.feeds = feeds
        self.ready = threading.Event()
        self.key = ""
        self.error: BaseException | None = None
        self.server: _Server | None = None
        self.thread = threading.Thread(target=self._run, name="schemathesis-service", daemon=True)

    def _run(self) -> None:
        loop = _OfflineLoop()
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by start()
            self.error = exc
            self.ready.set()
        finally:
            loop.close()

    async def _seed(self, runtime: Runtime) -> None:
        await wipe(runtime)
        async with runtime.db.transaction() as session:
            _, self.key = await create_key(session, scope="admin", name="schemathesis", now=runtime.clock())
            feed = await create_feed(session, url=self.feeds.url("/feed.xml"), title=None,
                                     interval_override_s=None, now=runtime.clock())
        await IngestWorker(runtime).poll_now(feed.id)  # articles, quotes and speakers to find

    async def _serve(self) -> None:
        runtime = Runtime.from_settings(self.settings)
        await self._seed(runtime)
        config = uvicorn.Config(create_app(runtime=runtime), host="127.0.0.1", port=0, lifespan="on",
                                log_config=None, log_level="warning", access_log=False, ws="none")
        self.server = _Server(config, self.ready)
        await self.server.serve()

    def start(self) -> str:
        self.thread.start()
        self.ready.wait(60)
        if self.error is not None:
            raise self.error
        assert self.server is not None and self.server.started, "the service did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(30)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, from the document the app serves."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    return [(method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations]


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[tuple[str, str]]:
    """The service's base URL and an admin key; one service for the module."""
    with FeedServer() as feeds:
        serve_seed_site(feeds)
        running = _Service(database_url, feeds)
        base = running.start()
        try:
            yield base, running.key
        finally:
            running.stop()


@pytest.fixture(scope="module")
def api_schema(service: tuple[str, str]) -> Any:
    base, key = service
    config = schemathesis.Config(seed=SEED)
    project = config.projects.default
    project.update(base_url=base, headers={"Authorization": f"Bearer {key}"}, request_timeout=30)
    # 410 Gone is a refusal too: a WebSub callback whose subscription we do not hold answers it
    # (WebSub §7) before looking at the body, which is opaque bytes anyway.
    rejection = project.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "410"]
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=config)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_as_documented(api_schema: Any, method: str, path: str) -> None:
    """All of schemathesis's checks but one: a request the document allows may still be refused
    (422) for what a schema cannot say, e.g. a cursor this service did not issue or a search
    query that cannot be read. Every other check holds, a 500 first among them."""
    operation = api_schema[path][method]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE
