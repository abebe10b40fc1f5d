"""Keyset (cursor) pagination: stable while new rows arrive, one shape for every list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, or_

from app.domain.errors import InvalidRequestError
from app.domain.limits import MAX_PAGE_SIZE, MAX_ROW_ID

T = TypeVar("T")


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *fields: Callable[[Any], Any]) -> list[Any]:
    """The values of a cursor, each checked by its field (`row_id`, `moment`, ...): a forged
    cursor (["abc"], [null], [1e308], a number past any id, a date without a zone) is a 422 here,
    never a failure in the query it would have fed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError
        return [field(value) for field, value in zip(fields, values, strict=True)]
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidRequestError("pagination: the cursor is not one this service issued") from exc


def integer(low: int, high: int) -> Callable[[Any], int]:
    """A cursor field holding an integer in [low, high] (JSON true, 1.0 and "1" are not)."""

    def check(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"not an integer in [{low}, {high}]")
        return value

    return check


row_id = integer(0, MAX_ROW_ID)


def moment(value: Any) -> datetime:
    """A cursor field holding an ISO 8601 time with its zone, as aware UTC."""
    if not isinstance(value, str):
        raise TypeError("not a time")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a time without its zone")
    return parsed.astimezone(UTC)


def tag(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def anything(value: Any) -> Any:
    """A field its caller checks itself (its shape depends on another field)."""
    return value


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
    return stmt.limit(min(limit, MAX_PAGE_SIZE) + 1)


def bound_page(stmt: Select[Any]) -> Select[Any]:
    """page_of for a statement built once: the row count is the bind parameter `page_rows`
    (give it page_rows(limit)). A statement built per request costs SQLAlchemy a new cache key,
    column by column, which for a page of twenty rows is more than reading them."""
    return stmt.limit(bindparam("page_rows", type_=Integer))


def page_rows(limit: int) -> int:
    return min(limit, MAX_PAGE_SIZE) + 1


def finish_page(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Cut the extra row that `page_of` fetched; the cursor is the key of the last row kept."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key(rows[-1]))
    return rows, None
