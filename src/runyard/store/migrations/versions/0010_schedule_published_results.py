"""schedules update published results

Revision ID: 0010
Revises: 0009

A scheduled run updates its project's published results unless its schedule says not to.
Schedules that existed before this revision do (`true`), as Hex's scheduled runs do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default gives existing schedules their value; SQLite needs one to add a
    # NOT NULL column at all.
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "update_published_results",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("update_published_results")
