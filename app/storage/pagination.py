"""Keyset (cursor) pagination: stable while new rows arrive, one shape for every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_

from app.domain.errors import InvalidRequestError

MAX_LIMIT = 200
T = TypeVar("T")


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError
        return values
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError("pagination: the cursor is not one this service issued") from exc


def keyset_after(columns: Sequence[Any], values: Sequence[Any], *, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in (columns...) order; written out for portability."""
    clauses = []
    for i, column in enumerate(columns):
        equal_prefix = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def page_of(stmt: Select[Any], limit: int) -> Select[Any]:
    """Fetch one row more than asked, to know whether a next page exists."""
    return stmt.limit(min(limit, MAX_LIMIT) + 1)


def finish_page(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Cut the extra row that `page_of` fetched; the cursor is the key of the last row kept."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key(rows[-1]))
    return rows, None
