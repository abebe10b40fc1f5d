"""Migrations: upgrade, downgrade, upgrade again on the test database's dialect, and the ORM
models agree with the migrations (no autogenerate diff)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.storage.migrate import downgrade_to_base, head_revision, upgrade_to_head
from app.storage.models import Base


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, so going down to base does not disturb the shared test database."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"ni_migr_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg2", database="postgres"),
                          isolation_level="AUTOCOMMIT") if _has_psycopg2() else None
    if admin is None:
        pytest.skip("psycopg2 not installed")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _has_psycopg2() -> bool:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return False
    return True


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    upgrade_to_head(scratch_url)
    engine = create_engine(_sync_url(scratch_url))
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"feeds", "articles", "quotes", "speakers", "api_keys", "subscriptions", "deliveries",
                "events"} <= tables
        assert MigrationContext.configure(conn).get_current_revision() == head_revision(scratch_url)
    downgrade_to_base(scratch_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(scratch_url)
    with engine.connect() as conn:
        assert "articles" in inspect(conn).get_table_names()
    engine.dispose()


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade_to_head(scratch_url)
    engine = create_engine(_sync_url(scratch_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    # FTS shadow tables and other dialect-specific objects are created by raw SQL on purpose.
    diff = [d for d in diff if not _is_search_object(d)]
    assert diff == [], f"models and migrations differ: {diff}"


def _is_search_object(entry: object) -> bool:
    text_ = repr(entry)
    return "_fts" in text_ or "search_vector" in text_


async def test_readiness_reads_the_revision_of_any_database(scratch_url: str) -> None:
    """/readyz's check, on a database without the version table, behind head, and at head."""
    from alembic import command

    from app.storage.database import Database
    from app.storage.migrate import alembic_config, migration_status

    db = Database(scratch_url)
    try:
        assert await migration_status(db) == (
            True, False, f"migrations: database at None, code expects {head_revision(scratch_url)}; "
                         "run `news-ingest migrate`")
        command.upgrade(alembic_config(scratch_url), "0004")
        reachable, at_head, detail = await migration_status(db)
        assert (reachable, at_head) == (True, False) and "database at 0004" in (detail or "")
        upgrade_to_head(scratch_url)
        assert await migration_status(db) == (True, True, None)
    finally:
        await db.dispose()
