"""full-text search index

SQLite: an FTS5 table ``articles_fts`` (title, body, stems, meta) whose rowid is the article's search
key, ``((2^32 - unix seconds of published_at) << 30) | (2^30 - 1 - id)``, so FTS5 walks matches
newest first in ascending rowid order and stops early; ``meta`` holds filter values as tokens (source, language, quotes, feed) so a
filter is one more doclist to intersect instead of a row-by-row check. Triggers drop index rows when an article is deleted or its publication time moves;
rows are written by app.storage.search_index.write_index in the article's own transaction.

PostgreSQL: a ``search_vector`` tsvector column (weights A title, B body, C filter values, D stem
keys) kept by the same function, with a GIN index.

Both store the tokens of app.domain.query.analyze verbatim (no text-search configuration), so
the two databases answer a query alike.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.storage.search_index.search_key: newest first in ascending rowid order.
_SQLITE_KEY = ("(((4294967296 - CAST(strftime('%s', old.published_at) AS INTEGER)) << 30) "
               "| (1073741823 - old.id))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE articles ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
        # Statistics on 10,000 lexemes instead of 1,000: with the default, a rare word is estimated
        # as common and the planner walks ix_articles_published for seconds instead of using GIN.
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS 1000")
        return
    op.execute("CREATE VIRTUAL TABLE articles_fts USING fts5("
               "title, body, stems, meta, tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)")
    op.execute("CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
               f"DELETE FROM articles_fts WHERE rowid = {_SQLITE_KEY}; END")
    op.execute("CREATE TRIGGER articles_fts_move AFTER UPDATE OF published_at ON articles "
               "WHEN old.published_at IS NOT new.published_at BEGIN "
               f"DELETE FROM articles_fts WHERE rowid = {_SQLITE_KEY}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
        return
    op.execute("DROP TRIGGER IF EXISTS articles_fts_move")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TABLE IF EXISTS articles_fts")
