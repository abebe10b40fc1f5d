"""Reads for the API as plain rows, executed with SQLAlchemy Core on the session's connection.

`session.execute` sends even a select of table columns through the ORM (compile state, loading,
result adaptation): about a third of a one-article request's CPU. The rows are the same (attribute
access by column name); the connection and transaction are the session's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncSession


async def read_rows(session: AsyncSession, stmt: Executable, params: Mapping[str, Any] | None = None) -> list[Row[Any]]:
    connection = await session.connection()
    return list((await connection.execute(stmt, params)).all())
