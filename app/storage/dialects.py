"""The seam between SQLite and PostgreSQL: the few statements that differ live here.

Row claiming: PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so any number of worker
processes share due rows without waiting on each other. SQLAlchemy silently drops SKIP LOCKED
on SQLite, where it is not needed: SQLite serialises writers, so one ``UPDATE ... WHERE id IN
(SELECT ... LIMIT n) RETURNING id`` is already atomic across connections and processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession


async def claim_rows(
    session: AsyncSession,
    model: Any,
    *,
    due: ColumnElement[bool],
    order_by: Any,
    limit: int,
    owner: str,
    lease_until: datetime,
) -> list[int]:
    """Lease up to `limit` rows matching `due`; returns their ids. Rows need lease_until/lease_owner."""
    candidates = select(model.id).where(due).order_by(order_by).limit(limit)
    if session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    stmt = (
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()))
        .values(lease_until=lease_until, lease_owner=owner)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return [row[0] for row in result.all()]


async def upsert_speaker(
    session: AsyncSession, *, name: str, normalized: str, speaker_type: str, title: str | None,
    quoted_at: datetime,
) -> int:
    """One speaker per normalised name, safe against a concurrent insert by another worker."""
    from app.storage.models import Speaker

    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(Speaker).values(name=name, normalized_name=normalized, speaker_type=speaker_type,
                                  titles=[], quote_count=1, last_quoted_at=quoted_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Speaker.normalized_name],
        set_={"quote_count": Speaker.quote_count + 1,
              "last_quoted_at": func.max(Speaker.last_quoted_at, stmt.excluded.last_quoted_at)
              if session.bind.dialect.name == "sqlite"
              else func.greatest(Speaker.last_quoted_at, stmt.excluded.last_quoted_at)},
    ).returning(Speaker.id)
    speaker_id = int((await session.execute(stmt)).scalar_one())
    if title:
        speaker = await session.get(Speaker, speaker_id)
        if speaker is not None and title not in (speaker.titles or []):
            speaker.titles = [*(speaker.titles or []), title][-10:]
    return speaker_id
