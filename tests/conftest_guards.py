"""pytest plugin: no network I/O inside a write transaction, in every test.

A write transaction holds SQLite's one write lock (every other writer waits) and, on either
database, a connection idle in transaction; a DNS lookup or fetch inside one lets a slow or
hostile remote host hold them. Every outgoing connection resolves its host through
`app.pipeline.guard.resolve_checked` (feeds, pages, webhook receivers, URL checks) and every
feed or page fetch goes through `Fetcher.fetch`: both fail the test when called while the
current task is inside `Database.transaction()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.pipeline import fetch, guard
from app.storage.database import Database

_in_write_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar("in_write_transaction",
                                                                             default=False)


def _refuse_inside_transaction(what: str) -> None:
    if _in_write_transaction.get():
        raise AssertionError(f"{what} inside a write transaction: do the network I/O before opening it")


@pytest.fixture(autouse=True)
def no_network_in_write_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    transaction = Database.transaction
    resolve_checked = guard.resolve_checked
    fetch_url = fetch.Fetcher.fetch

    @asynccontextmanager
    async def guarded_transaction(self: Database) -> AsyncIterator[AsyncSession]:
        token = _in_write_transaction.set(True)
        try:
            async with transaction(self) as session:
                yield session
        finally:
            _in_write_transaction.reset(token)

    async def guarded_resolve(host: str, *args: Any, **kwargs: Any) -> list[str]:
        _refuse_inside_transaction(f"resolving {host}")
        return await resolve_checked(host, *args, **kwargs)

    async def guarded_fetch(self: fetch.Fetcher, url: str, **kwargs: Any) -> Any:
        _refuse_inside_transaction(f"fetching {url}")
        return await fetch_url(self, url, **kwargs)

    monkeypatch.setattr(Database, "transaction", guarded_transaction)
    monkeypatch.setattr(guard, "resolve_checked", guarded_resolve)
    monkeypatch.setattr(fetch.Fetcher, "fetch", guarded_fetch)
