"""Shared fixtures: one migrated database per test session (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), emptied before each test; an app with admin and read keys."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from app.runtime import Runtime
from app.storage.keys import create_key
from app.storage.migrate import upgrade_to_head
from app.storage.models import Base
from tests.webhook_receiver import WebhookReceiver

pytest_plugins = ["tests.conftest_feedserver", "tests.conftest_guards"]

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the test skips cleanly when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(autouse=True)
def fail_on_logging_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A log call that cannot be recorded fails the test: an `extra` key that LogRecord reserves
    (Logger.makeRecord raises, at INFO the caller's request answered 500) or a message that
    cannot be formatted (Handler.handleError only prints it). The suite logs at INFO
    (pyproject.toml), so INFO calls are made and formatted as in production."""
    errors: list[str] = []
    make_record = logging.Logger.makeRecord

    def recording_make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        try:
            return make_record(self, *args, **kwargs)
        except Exception as exc:
            errors.append(f"makeRecord on logger {self.name!r}: {exc!r}")
            raise

    def recording_handle_error(self: logging.Handler, record: logging.LogRecord) -> None:
        errors.append(f"handler {type(self).__name__} on {record.name!r} {record.msg!r}: {sys.exc_info()[1]!r}")

    monkeypatch.setattr(logging.Logger, "makeRecord", recording_make_record)
    monkeypatch.setattr(logging.Handler, "handleError", recording_handle_error)
    yield
    if errors:
        pytest.fail("logging failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade_to_head(url)
    return url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    # Any: pydantic validates and converts these (e.g. "127.0.0.0/8" to a network) when Settings
    # is built, so they are the fields' input forms, not their types
    values: dict[str, Any] = {
        "database_url": database_url,
        "allowed_networks": ["127.0.0.0/8"],
        "extract_processes": 0,
        "connect_timeout_s": 2.0,
        "request_timeout_s": 5.0,
        "idle_sleep_s": 0.05,
    }
    values.update(overrides)
    settings = Settings(**values)
    assert settings.database_url == values["database_url"], "Settings ignored database_url"
    return settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


async def wipe(runtime: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with runtime.db.transaction() as session:
        if runtime.db.dialect == "postgresql":
            await session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await session.execute(text(f"DELETE FROM {table}"))
            # SQLite's index is a table of its own that triggers empty only row by row: an index
            # row left without its article (see below) would otherwise live on into every later test.
            await session.execute(text("DELETE FROM articles_fts"))
            await session.execute(text("DELETE FROM articles_fts_size"))


async def index_rows_without_articles(runtime: Runtime) -> int:
    """SQLite: index rows beyond one per article, counted in one statement (one snapshot)."""
    async with runtime.db.reading() as session:
        return int((await session.execute(text(
            "SELECT (SELECT count(*) FROM articles_fts) - (SELECT count(*) FROM articles)"))).scalar_one())


@pytest.fixture
def empty_database_url(database_url: str) -> str:
    """The test database emptied, for a test whose server runs in a process of its own: the
    PostgreSQL database is shared by the whole session, and what earlier tests stored (the same
    seed pages, say) would be taken for duplicates."""

    async def empty() -> None:
        rt = Runtime.from_settings(make_settings(database_url))
        try:
            await wipe(rt)
        finally:
            await rt.close()

    asyncio.run(empty())
    return database_url


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.from_settings(settings)
    await wipe(rt)
    try:
        yield rt
        # The test that leaves an index row pointing at nothing fails, not a later one that
        # happens to count the rows.
        if rt.db.dialect == "sqlite":
            assert await index_rows_without_articles(rt) == 0, "search index rows left without their articles"
    finally:
        await rt.close()


@pytest.fixture
async def keys(runtime: Runtime) -> dict[str, str]:
    async with runtime.db.transaction() as session:
        _, admin = await create_key(session, scope="admin", name="test-admin", now=runtime.clock())
        _, read = await create_key(session, scope="read", name="test-read", now=runtime.clock())
    return {"admin": admin, "read": read}


@pytest.fixture
async def client(runtime: Runtime, keys: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, authenticated with the admin key."""
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers={"Authorization": f"Bearer {keys['admin']}"}) as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def project_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parents[1]


# Under CI (.ci/run exports CI=true) a test skipped because ../shared is missing fails the run:
# the corpus and gold-set gates must not go silently green. Locally such tests skip, and
# pytest's -rs (pyproject.toml) prints why.
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if CI and report.skipped and "shared" in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"CI requires ../shared (CI={os.environ['CI']}); skipped: {report.longrepr}"
    return report


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 that verifies signatures with the standardwebhooks library."""
    r = WebhookReceiver().up()
    try:
        yield r
    finally:
        r.down()
