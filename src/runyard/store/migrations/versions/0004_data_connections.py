"""data connections with encrypted secrets

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import runyard.store.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_connections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("connect_via_ssh", sa.Boolean(), nullable=False),
        sa.Column("include_magic", sa.Boolean(), nullable=False),
        sa.Column("allow_writeback_cells", sa.Boolean(), nullable=False),
        sa.Column("schema_filters", sa.JSON(), nullable=True),
        sa.Column("schema_refresh_schedule", sa.JSON(), nullable=True),
        sa.Column("schema_refresh_access", sa.String(length=32), nullable=False),
        sa.Column("public_access", sa.String(length=16), nullable=False),
        sa.Column("guests_access", sa.String(length=16), nullable=False),
        sa.Column("members_access", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", runyard.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", runyard.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_data_connections_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_connections")),
    )
    with op.batch_alter_table("data_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_connections_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "data_connection_group_access",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["data_connections.id"],
            name=op.f("fk_data_connection_group_access_connection_id_data_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_data_connection_group_access_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id", "group_id", name=op.f("pk_data_connection_group_access")
        ),
    )
    with op.batch_alter_table("data_connection_group_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_connection_group_access_group_id"), ["group_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("data_connection_group_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_connection_group_access_group_id"))
    op.drop_table("data_connection_group_access")
    with op.batch_alter_table("data_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_connections_created_at"))
    op.drop_table("data_connections")
