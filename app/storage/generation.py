"""The database's write generation: a value that changes whenever a commit may have changed what
a read sees, read without running the read (for the API's ETags and its response cache).

Two reads that get the same generation see the same data. Every commit from any process counts,
so a generation read before a query is never newer than the query's own snapshot: a response
stored under it is at least as new as the generation says.

* SQLite: `PRAGMA data_version` on a connection the process keeps for nothing else. Its value
  changes when any other connection, in this process or another, commits (sqlite.org/pragma.html
  #pragma_data_version). It is one connection's counter: two processes' values are not
  comparable, so `token` carries a random process epoch.
* PostgreSQL: the whole current snapshot, `pg_current_snapshot()` (xmin:xmax:in-progress xids).
  xmax alone is not enough: a transaction holding an older xid that commits after a newer one
  leaves xmax as it was, only the in-progress list shrinks. Equal snapshots see the same
  committed transactions. It is conservative: a commit in any database of the cluster changes
  it, and nothing is written to get it (no counter row each ingest transaction would update).
  The value is the same in every process, so ETags are valid across processes.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from typing import Any, Protocol

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Generation(Protocol):
    async def current(self) -> str:
        """The generation now; raises when the database cannot be asked."""

    async def close(self) -> None: ...


class SqliteGeneration:
    """`PRAGMA data_version` on a kept sqlite3 connection, asked on the event loop: it reads the
    WAL index's header (a few microseconds) and never waits for a writer; a thread hop would cost
    more than the pragma."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._epoch = secrets.token_hex(8)
        self._conn: sqlite3.Connection | None = None

    async def current(self) -> str:
        if self._conn is None:
            # Autocommit (isolation_level=None): no read transaction stays open to hold the WAL
            # back from a checkpoint. A short busy timeout: the pragma waits only while the WAL
            # index is being recovered.
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=0.5,
                                         check_same_thread=False)
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return f"{self._epoch}.{row[0]}"

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresGeneration:
    """`pg_current_snapshot()` on a connection the process keeps. Callers share reads: a call
    waits for the next read to *start* (never joins one already under way), so the snapshot it
    gets was taken after the call began and is as new as one it would have taken alone. Under
    load that is one round trip per batch of concurrent requests instead of one per request."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._next: asyncio.Future[str] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def current(self) -> str:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_while_asked())
        return await asyncio.shield(waiter)

    async def _read_while_asked(self) -> None:
        while self._next is not None:
            waiter, self._next = self._next, None
            try:
                if self._driver is None:
                    self._conn = await self._engine.connect()
                    self._driver = (await self._conn.get_raw_connection()).driver_connection
                value = await self._driver.fetchval("SELECT pg_current_snapshot()::text")
            except Exception as error:  # the waiters fall back to an uncached read
                await self._drop()
                if not waiter.done():
                    waiter.set_exception(error)
                    waiter.exception()  # retrieved: a waiter that was cancelled will not ask
                continue
            if not waiter.done():
                waiter.set_result(str(value))

    async def _drop(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            try:
                await conn.invalidate()
            except Exception:  # already broken; the pool replaces it
                pass

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:  # cancelled, or its own error already given to its waiters
                pass
        if self._conn is not None:
            await self._conn.close()
            self._conn = self._driver = None


def generation_for(database_url: str, engine: AsyncEngine) -> Generation | None:
    """The generation of this database, or None where there is none to read (in-memory SQLite,
    whose other connections see another database)."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database or ""
        if path in ("", ":memory:") or "mode=memory" in database_url:
            return None
        return SqliteGeneration(path)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        return PostgresGeneration(engine)
    return None
