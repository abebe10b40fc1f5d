"""The SQLite driver (app/storage/sqlite_driver.py): each statement is one call on the
connection's thread, commit and rollback are skipped only when no transaction is open, and what
SQLAlchemy reads from a cursor (rows, rowcount, lastrowid) is as sqlite3 gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import CursorResult, text

from app.storage.database import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
    yield database
    await database.dispose()


async def test_rows_rowcount_and_lastrowid(db: Database) -> None:
    async with db.transaction() as session:
        inserted = await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert isinstance(inserted, CursorResult)  # what a DML statement returns; Session types it as Result
        assert inserted.lastrowid == 1
        await session.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        updated = await session.execute(text("UPDATE t SET name = 'z' WHERE id >= 2"))
        assert isinstance(updated, CursorResult)
        assert updated.rowcount == 2
    async with db.reading() as session:
        assert [tuple(r) for r in await session.execute(text("SELECT id, name FROM t ORDER BY id"))] == [
            (1, "a"), (2, "z"), (3, "z")]


async def test_a_failed_transaction_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('lost')"))
            raise RuntimeError("the work failed after writing")
    async with db.reading() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    async with db.transaction() as session:  # and the connection is usable afterwards
        await session.execute(text("INSERT INTO t (name) VALUES ('kept')"))
    async with db.reading() as session:
        assert (await session.execute(text("SELECT name FROM t"))).scalars().all() == ["kept"]


async def test_a_read_is_one_thread_hop(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.reading() as session:  # a pooled connection exists
        await session.execute(text("SELECT 1"))
    calls: list[str] = []
    # aiosqlite leaves its private _execute unannotated: typed here as what it is, a coroutine method
    original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with db.reading() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    assert len(calls) == 1, calls  # not cursor, execute, fetch, close, commit, reset rollback
