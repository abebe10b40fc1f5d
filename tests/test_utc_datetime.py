"""UTCDateTime on SQLite writes exactly the text SQLAlchemy's own DATETIME would (stored rows
compare and sort as before), from aware datetimes only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from app.storage.models import UTCDateTime

MOMENTS = [
    datetime(2026, 11, 29, 23, 5, 7, 123456, tzinfo=UTC),
    datetime(2026, 11, 29, 23, 5, 7, tzinfo=UTC),  # no microseconds: still written, as ".000000"
    datetime(1990, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # converted to UTC
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2, 3, 4, 5, 6, 7, 8, tzinfo=UTC),  # four-digit year, zero-padded
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_sqlite_text_is_sqlalchemys_datetime_text(moment: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stock = sqlite.DATETIME().bind_processor(dialect)  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    assert ours is not None and stock is not None
    assert ours(moment) == stock(moment.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None


def test_a_naive_datetime_is_refused() -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    with pytest.raises(ValueError, match="naive datetime"):
        process(datetime(2026, 11, 29, 12, 0))
