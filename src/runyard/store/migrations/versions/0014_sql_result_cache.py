"""sql result cache

Revision ID: 0014
Revises: 0013

SQL cells' results kept for `useCachedSqlResults`, and each data connection's cache
lifetime (300 seconds for the connections that exist, as for new ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from runyard.store.base import UtcDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default gives existing connections their lifetime; SQLite needs one to add
    # a NOT NULL column at all.
    with op.batch_alter_table("data_connections") as batch:
        batch.add_column(
            sa.Column(
                "sql_cache_lifetime_seconds",
                sa.Integer(),
                server_default=sa.text("300"),
                nullable=False,
            )
        )
    op.create_table(
        "sql_results",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("queried_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["data_connections.id"],
            name="fk_sql_results_connection_id_data_connections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "key", name="pk_sql_results"),
    )
    op.create_index("ix_sql_results_queried_at", "sql_results", ["queried_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sql_results_queried_at", table_name="sql_results")
    op.drop_table("sql_results")
    with op.batch_alter_table("data_connections") as batch:
        batch.drop_column("sql_cache_lifetime_seconds")
