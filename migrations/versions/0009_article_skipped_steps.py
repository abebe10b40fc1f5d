"""articles.skipped: the pipeline steps that did not run to their end for an article, and why

A CPU step (page extraction, quote finding) that runs over its time budget is abandoned; the
article is stored without what that step would have made, and this column says so to API users
(`skipped` on every article). Null for articles whose every step ran, including all older ones.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite has DROP COLUMN since 3.35): a batch rebuild of
# `articles` on SQLite would drop the search index's triggers on it.
def upgrade() -> None:
    op.add_column("articles", sa.Column("skipped", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "skipped")
