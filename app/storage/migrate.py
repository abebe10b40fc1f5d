"""Alembic from code: upgrade on start, and the readiness check's view of the schema."""

from __future__ import annotations

import asyncio
import functools
import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.resources import migrations_dir
from app.storage.database import Database

# Readiness probes ask for the schema revision often; alembic's INFO lines would flood the log.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def alembic_config(database_url: str) -> Config:
    # Configured in code, not from alembic.ini: an installed package has no ini file, and its
    # migrations sit inside the package (app.resources). alembic.ini serves a checkout's CLI.
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")


_VERSION = text("SELECT version_num FROM alembic_version")
_heads: dict[str, str | None] = {}


@functools.cache
def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migration_status(db: Database) -> tuple[bool, bool, str | None]:
    """(database reachable, schema at head, detail). Probes call it often: one plain query,
    not alembic's MigrationContext (which builds its table's metadata on every call, ~5 ms of
    CPU on the event loop)."""
    try:
        async with db.engine.connect() as conn:
            try:
                current = (await conn.execute(_VERSION)).scalar()
            except DBAPIError:  # no alembic_version table yet (or another error: alembic says which)
                await conn.rollback()
                current = await conn.run_sync(_current)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return False, False, f"database: {type(exc).__name__}: {exc}"[:300]
    head = _heads.get(db.url)
    if head is None:  # the first call reads every migration script (about a second): not on the loop
        head = _heads[db.url] = await asyncio.to_thread(head_revision, db.url)
    if current != head:
        return True, False, f"migrations: database at {current}, code expects {head}; run `news-ingest migrate`"
    return True, True, None
