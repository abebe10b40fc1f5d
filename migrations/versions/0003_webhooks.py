"""webhooks: event dispatch lease, one delivery per (event, subscription), subscription version

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_events_undispatched", ["dispatched_at", "created_at"], unique=False)
    # Events written before webhooks existed had no subscriber: do not fan them out now.
    op.execute(sa.text("UPDATE events SET dispatched_at = created_at"))

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_deliveries_event_id"), ["event_id", "subscription_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_deliveries_event_id"), type_="unique")

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_undispatched")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("dispatched_at")
