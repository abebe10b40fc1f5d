"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four.

aiosqlite runs each sqlite3 call on the connection's own thread; SQLAlchemy's adapter makes a
call (and so a hop: queue, wake the thread, wait for the future, GIL hand-over) to open a cursor,
to execute, to fetch the rows and to close the cursor, then one to commit and one more for the
pool's reset rollback. Each hop costs ~60 µs of a loaded event loop, more than the SELECT of one
article. Here a statement is one call on the connection's thread (cursor, execute, fetch all,
close), and commit / rollback are skipped when SQLite has no transaction open (sqlite3 makes them
no-ops then anyway): a read request makes one hop.

Used through `create_async_engine(..., module=dbapi())`; the dialect, its SQL and its error
mapping are SQLAlchemy's own. Server-side (streaming) cursors keep the stock adapter.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

T = TypeVar("T")


def _run(conn: sqlite3.Connection, many: bool, operation: str, parameters: Any) -> tuple[Any, int, int | None, Any]:
    """On the connection's thread: the whole statement, from cursor to closed cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        super().__init__(adapt_connection)

    # No aiosqlite cursor: the sqlite3 cursor lives and dies inside _run.
    def _make_new_cursor(self, connection: Any) -> Any:
        return None

    def _aenter_cursor(self, cursor: Any) -> Any:
        return None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # already closed on the connection's thread

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, many: bool, operation: Any, parameters: Any) -> None:
        connection: Any = self._connection  # an aiosqlite.Connection, typed by SQLAlchemy as a protocol
        async with self._adapt_connection._execute_mutex:
            description, rowcount, lastrowid, rows = await connection._execute(
                _run, connection._conn, many, operation, parameters)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        if rows is not None:
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(False, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._call(True, operation, seq_of_parameters)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor

    def _in_transaction(self) -> bool:
        # sqlite3 allows reading in_transaction from any thread; nothing runs on this
        # connection meanwhile (SQLAlchemy ends a transaction after its statements).
        conn: sqlite3.Connection | None = self._connection._connection
        return conn is not None and conn.in_transaction

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does: never holds up exit
        opened: Any = await_(connection)  # aiosqlite.Connection; SQLAlchemy types it as a protocol
        return OneHopConnection(self, opened)


async def run_on_thread(driver: Any, fn: Callable[..., T], *args: Any) -> T:
    """`fn(sqlite3 connection, *args)` on an aiosqlite connection's own thread: several statements
    for one hop, e.g. a walk that stops part-way (app.storage.search_counts)."""
    result: T = await driver._execute(fn, driver._conn, *args)
    return result


# What the adapter reaches into: aiosqlite's run-on-my-thread call and SQLAlchemy's cursor hooks.
_NEEDED = ((aiosqlite.Connection, "_execute"), (AsyncAdapt_aiosqlite_cursor, "_make_new_cursor"),
           (AsyncAdapt_aiosqlite_cursor, "_execute_async"), (AsyncAdapt_aiosqlite_connection, "_execute_mutex"))


def dbapi() -> OneHopDbapi | None:
    """The one-hop adapter, or None (SQLAlchemy's stock adapter) when a release of aiosqlite or
    SQLAlchemy no longer has the private parts it builds on: slower, never broken."""
    if not all(hasattr(owner, name) for owner, name in _NEEDED):
        return None
    return OneHopDbapi(aiosqlite, sqlite3)
