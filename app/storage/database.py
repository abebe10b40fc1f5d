"""Engine and session factory. Built from Settings, never at import time, so tests can swap them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.storage.generation import Generation, generation_for
from app.storage.sqlite_driver import dbapi

# The session type as the layers above storage name it: they hold a session that storage's
# functions take, and do not import SQLAlchemy themselves (import-linter, pyproject.toml).
Session = AsyncSession


def _sqlite_immediate(engine: AsyncEngine) -> None:
    # A deferred SQLite transaction that reads, then writes, fails at once with "database is
    # locked" when another connection wrote in between (WAL snapshot conflict; the busy timeout
    # does not apply). Write transactions therefore start with BEGIN IMMEDIATE: they wait their
    # turn (busy_timeout) and then cannot conflict. SQLAlchemy's documented pysqlite recipe.
    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes writers wait instead of
    # failing with "database is locked"; SQLite leaves foreign keys off unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        # module=: the aiosqlite adapter with one thread hop per statement (sqlite_driver.py)
        # A pool as large as a loaded API process uses: a connection opened past the pool is
        # closed again on return, and opening one (a thread, the file, the pragmas) costs more
        # than the read it serves. Idle connections are only idle threads.
        database = make_url(database_url).database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database_url  # one shared connection
        pool = {} if in_memory else {"pool_size": 16, "max_overflow": 16}
        one_hop = dbapi()
        module = {"module": one_hop} if one_hop is not None else {}
        engine = create_async_engine(database_url, echo=echo, connect_args={"timeout": 15}, **module, **pool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(database_url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """Owns the engines and hands out sessions. The caller that opens a session commits once.

    `sessions()` is for reading; `transaction()` is for work that writes. On PostgreSQL both use
    one engine; on SQLite writes get an engine whose transactions begin IMMEDIATE (see above).
    """

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.write_engine = self.engine
        # SQLite has one writer at a time. Within a process, writers queue on an asyncio lock
        # (fair, no timeout, no thread sleeping in SQLite's busy handler); busy_timeout only
        # arbitrates between processes (e.g. the CLI beside `serve`).
        self._write_lock: asyncio.Lock | None = None
        if database_url.startswith("sqlite"):
            self.write_engine = make_engine(database_url)
            _sqlite_immediate(self.write_engine)
            self._write_lock = asyncio.Lock()
        self.write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False)
        self._generation: Generation | None = None

    @property
    def generation(self) -> Generation | None:
        """The write generation (app/storage/generation.py), None where there is none; made on
        first use (it keeps a connection of its own)."""
        if self._generation is None:
            self._generation = generation_for(self.url, self.engine)
        return self._generation

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits at the end of the block, or rolls back on error."""
        if self._write_lock is None:
            async with self.write_sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; on SQLite it never blocks or is blocked by writers (WAL)."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        if self._generation is not None:
            await self._generation.close()
            self._generation = None
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
