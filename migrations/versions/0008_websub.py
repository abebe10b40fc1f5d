"""websub: subscriptions and pushed documents; feeds' advertised hub; articles' first-seen time

Adds the two WebSub tables, the hub/topic a feed advertised and until when a hub pushes it, and
articles.first_seen_at (when the document carrying the entry arrived). Articles stored before
this revision keep first_seen_at null: created_at is the closest figure for them, and filling
the column in would rewrite every article row (and, on PostgreSQL, its search index entries).

Columns are added and dropped with plain ALTER TABLE on both databases (SQLite 3.35+ drops
columns in place), so SQLite never rebuilds `articles` and its search triggers stay.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("hub_url", sa.String(length=2048), nullable=False),
        sa.Column("topic_url", sa.String(length=2048), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", TS, nullable=True),
        sa.Column("verified_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("next_action_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("last_push_at", TS, nullable=True),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_websub_subscriptions_feed_id_feeds"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_subscriptions")),
        sa.UniqueConstraint("token", name=op.f("uq_websub_subscriptions_token")),
    )
    op.create_index(op.f("ix_websub_subscriptions_feed_id"), "websub_subscriptions", ["feed_id"])
    op.create_index(op.f("ix_websub_subscriptions_next_action_at"), "websub_subscriptions", ["next_action_at"])

    op.create_table(
        "websub_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_websub_pushes_feed_id_feeds"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscription_id"], ["websub_subscriptions.id"],
                                name=op.f("fk_websub_pushes_subscription_id_websub_subscriptions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_pushes")),
    )
    op.create_index(op.f("ix_websub_pushes_feed_id"), "websub_pushes", ["feed_id"])
    op.create_index(op.f("ix_websub_pushes_subscription_id"), "websub_pushes", ["subscription_id"])

    op.add_column("articles", sa.Column("first_seen_at", TS, nullable=True))
    op.add_column("feeds", sa.Column("websub_hub", sa.String(length=2048), nullable=True))
    op.add_column("feeds", sa.Column("websub_topic", sa.String(length=2048), nullable=True))
    op.add_column("feeds", sa.Column("push_until", TS, nullable=True))


def downgrade() -> None:
    op.drop_column("feeds", "push_until")
    op.drop_column("feeds", "websub_topic")
    op.drop_column("feeds", "websub_hub")
    op.drop_column("articles", "first_seen_at")
    op.drop_index(op.f("ix_websub_pushes_subscription_id"), table_name="websub_pushes")
    op.drop_index(op.f("ix_websub_pushes_feed_id"), table_name="websub_pushes")
    op.drop_table("websub_pushes")
    op.drop_index(op.f("ix_websub_subscriptions_next_action_at"), table_name="websub_subscriptions")
    op.drop_index(op.f("ix_websub_subscriptions_feed_id"), table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
