"""search index: the delete triggers compute the search key as the application does

SQLite only. app.storage.search_index.search_key clamps publication times to 1970..2106 (the 32 bits of
seconds the key has); the triggers of 0002 did not, so deleting or re-dating an article published
outside that range (feeds do carry dates such as 1806 or 2106) left its index row behind, where a
later article reusing the id could be found by the old text. The triggers are recreated with the
same clamp, and index rows that belong to no article are removed.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(row: str, *, clamped: bool) -> str:
    seconds = f"CAST(strftime('%s', {row}.published_at) AS INTEGER)"
    if clamped:
        seconds = f"MIN(4294967296, MAX(0, {seconds}))"
    return f"(((4294967296 - {seconds}) << 30) | (1073741823 - {row}.id))"


def _triggers(*, clamped: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_move")
    key = _key("old", clamped=clamped)
    op.execute(f"CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
               f"DELETE FROM articles_fts WHERE rowid = {key}; END")
    op.execute("CREATE TRIGGER articles_fts_move AFTER UPDATE OF published_at ON articles "
               "WHEN old.published_at IS NOT new.published_at BEGIN "
               f"DELETE FROM articles_fts WHERE rowid = {key}; END")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _triggers(clamped=True)
    op.execute(f"DELETE FROM articles_fts WHERE rowid NOT IN (SELECT {_key('articles', clamped=True)} FROM articles)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _triggers(clamped=False)
