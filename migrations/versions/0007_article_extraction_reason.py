"""articles.extraction_reason: why an article keeps its feed's content instead of its page's

"blocked by robots.txt" for pages the site's robots.txt disallows (extraction "blocked"), the
fetch error for pages that could not be fetched (extraction "retry"). A plain ADD COLUMN, not a
batch rebuild: on SQLite rebuilding `articles` would drop the search-index triggers of 0004.

Revision ID: 0007
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("extraction_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no table rebuild, triggers kept).
    op.drop_column("articles", "extraction_reason")
