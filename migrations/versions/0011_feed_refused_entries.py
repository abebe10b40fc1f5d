"""feeds.refused_entries: the entries of a feed the database refused lately

When the database refuses one article of a poll (a value nobody foresaw), the poll's other
articles are stored one by one and the refused entry is left out (app.workers.ingest). This
column remembers it (a digest of the entry, its URL, when), so it is not fetched and refused
again on every poll until the feed edits it or a day has passed. Null for every existing feed.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases, as 0009.
def upgrade() -> None:
    op.add_column("feeds", sa.Column("refused_entries", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("feeds", "refused_entries")
