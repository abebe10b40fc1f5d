"""The seam between SQLite and PostgreSQL: the few statements that differ live here.

Row claiming: PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so any number of worker
processes share due rows without waiting on each other. SQLAlchemy silently drops SKIP LOCKED
on SQLite, where it is not needed: SQLite serialises writers, so one ``UPDATE ... WHERE id IN
(SELECT ... LIMIT n) RETURNING id`` is already atomic across connections and processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import TableClause


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
    if session.get_bind().dialect.name == "postgresql":
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


def dialect_insert(session: AsyncSession) -> Any:
    """`insert` of the session's dialect, for ON CONFLICT clauses (both databases spell them alike)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert


async def insert_new(session: AsyncSession, table: Table | TableClause, rows: list[dict[str, Any]], *,
                     unique: tuple[str, ...], returning: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Insert many rows in one round trip, skipping those whose `unique` key exists already
    (another worker was first); returns `returning` of the rows actually inserted, in no
    particular order."""
    if not rows:
        return []
    stmt = (dialect_insert(session)(table).on_conflict_do_nothing(index_elements=list(unique))
            .returning(*(table.c[name] for name in returning)))
    return [tuple(row) for row in (await session.execute(stmt, rows)).all()]


@dataclass(frozen=True, slots=True)
class SpeakerMention:
    """What one article says about one speaker: how often it quotes them, with which titles."""

    normalized: str
    name: str
    speaker_type: str
    titles: tuple[str, ...]
    quotes: int
    last_quoted_at: datetime


async def upsert_speakers(session: AsyncSession, mentions: list[SpeakerMention]) -> dict[str, int]:
    """One speaker row per normalised name, counted up in one statement per transaction; safe
    against a concurrent insert by another worker. Rows are locked in name order, so two
    workers upserting overlapping speakers cannot deadlock on PostgreSQL."""
    from app.storage.models import Speaker

    if not mentions:
        return {}
    insert = dialect_insert(session)
    latest = func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
    ordered = sorted(mentions, key=lambda m: m.normalized)
    stmt = insert(Speaker)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Speaker.normalized_name],
        set_={"quote_count": Speaker.quote_count + stmt.excluded.quote_count,
              "last_quoted_at": latest(Speaker.last_quoted_at, stmt.excluded.last_quoted_at)},
    ).returning(Speaker.id, Speaker.normalized_name, Speaker.titles)
    # Executemany: SQLAlchemy sends the rows as one multi-row statement in this order (its
    # "insertmanyvalues"), compiled once for any number of rows.
    rows = (await session.execute(stmt, [
        {"name": m.name, "normalized_name": m.normalized, "speaker_type": m.speaker_type, "titles": list(m.titles),
         "quote_count": m.quotes, "last_quoted_at": m.last_quoted_at} for m in ordered])).all()
    wanted = {m.normalized: m.titles for m in ordered}
    ids: dict[str, int] = {}
    retitled: list[dict[str, Any]] = []
    for speaker_id, normalized, titles in rows:
        ids[normalized] = speaker_id
        known = list(titles or [])
        new = [t for t in wanted.get(normalized, ()) if t not in known]
        if new:  # titles change slowly, but a batch of new speakers brings many
            retitled.append({"speaker": speaker_id, "new_titles": (known + new)[-10:]})
    if retitled:  # one executemany (one round trip), rows in id order
        table = Speaker.__table__
        await session.execute(update(table).where(table.c.id == bindparam("speaker"))
                              .values(titles=bindparam("new_titles")), sorted(retitled, key=lambda r: r["speaker"]))
    return ids


def is_transient(exc: BaseException) -> bool:
    """A conflict the database resolved by aborting this transaction (PostgreSQL deadlock or
    serialization failure; SQLite busy): running the same transaction again is correct."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("40P01", "40001"):
        return True
    text = str(orig or exc).lower()
    return "deadlock detected" in text or "database is locked" in text


# SQLSTATE classes (PostgreSQL appendix A) in which the database refuses a value, not the work:
# 22 data exception (too long, NUL, out of range, bad encoding), 23 integrity constraint,
# 54 program limit exceeded (54000: an index entry over 2704 bytes), P0 raised by PL/pgSQL (a
# trigger's rule). Not: 40 (transient, see above), 08 connection, 53 resources (disk full,
# memory), 57 operator intervention (statement timeout, shutdown), 58/XX system, 42 our SQL.
_VALUE_CLASSES = ("22", "23", "54", "P0")


def refused_value(exc: BaseException) -> bool:
    """The database refused a value of the statement: the same work without that value would
    succeed, so it is worth storing the batch's rows one by one. asyncpg maps most errors to
    SQLAlchemy's plain DBAPIError, so PostgreSQL is judged by SQLSTATE; sqlite3 has no SQLSTATE
    and classes its errors itself: IntegrityError (constraints, a trigger's RAISE) and DataError
    (a value too big), while OperationalError is busy, I/O, disk full or a lost file."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated or is_transient(exc):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(code, str) and code:
        return code[:2] in _VALUE_CLASSES
    return isinstance(exc, IntegrityError | DataError)


def storage_failure(exc: BaseException) -> str | None:
    """A short message for a database error, for places users read (a feed's last_error): the
    statement and its parameters stay in the log, since they hold article text and say nothing
    a user can act on. None when `exc` is no database error."""
    if not isinstance(exc, SQLAlchemyError):
        return None
    orig = getattr(exc, "orig", None)
    kind = type(exc).__name__
    driver = getattr(orig, "__cause__", None) or orig  # asyncpg's own class is the telling one
    if driver is not None and type(driver) is not Exception and type(driver).__name__ != kind:
        kind += f", {type(driver).__name__}"
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return f"store: the database refused the poll's results ({kind}{f', SQLSTATE {code}' if code else ''})"
