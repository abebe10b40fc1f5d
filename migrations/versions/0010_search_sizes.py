"""search index: the length of each FTS5 row's title and body, kept beside it

SQLite only. Relevance scores BM25 with the document length in characters of the indexed title
and body; reading it with length() loads the row's whole text. ``articles_fts_size`` keeps it per
FTS5 rowid (the search key), written with each FTS5 row (app.storage.search_index), and removed by
the same triggers that remove the row, so a query reads small rows instead of texts
(app.storage.search_counts). Filled here from the existing index.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The search key of an article row, clamped as 0004's triggers compute it.
_KEY = ("(((4294967296 - MIN(4294967296, MAX(0, CAST(strftime('%s', old.published_at) AS INTEGER)))) << 30) "
        "| (1073741823 - old.id))")


def _triggers(*, sizes: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
    op.execute("DROP TRIGGER IF EXISTS articles_fts_move")
    body = f"DELETE FROM articles_fts WHERE rowid = {_KEY};"
    if sizes:
        body += f" DELETE FROM articles_fts_size WHERE key = {_KEY};"
    op.execute(f"CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN {body} END")
    op.execute("CREATE TRIGGER articles_fts_move AFTER UPDATE OF published_at ON articles "
               f"WHEN old.published_at IS NOT new.published_at BEGIN {body} END")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE articles_fts_size (key INTEGER PRIMARY KEY, chars INTEGER NOT NULL)")
    op.execute("INSERT INTO articles_fts_size (key, chars) "
               "SELECT rowid, coalesce(length(title), 0) + coalesce(length(body), 0) FROM articles_fts")
    _triggers(sizes=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _triggers(sizes=False)
    op.execute("DROP TABLE articles_fts_size")
