"""project memory limit

Revision ID: 0013
Revises: 0012

A project may give its runs' kernels a memory limit of its own, instead of the server's
RUNYARD_KERNEL_MEMORY_LIMIT_MB. Unset (NULL) keeps the server's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("memory_limit_mb", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("memory_limit_mb")
