"""schedule notifications

Revision ID: 0009
Revises: 0008

A schedule keeps RunProject's `notifications` and the recipients they were resolved to; each
run it fires gets a copy of both and a notification plan. Schedules that existed before this
revision notify no one (`[]`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default gives existing schedules their empty lists; SQLite needs one to add
    # a NOT NULL column at all.
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notifications", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "notification_recipients",
                sa.JSON(),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("notification_recipients")
        batch_op.drop_column("notifications")
