"""project sharing

Revision ID: 0006
Revises: 0005

Before this revision every user of the workspace saw and could edit every project. So that
an upgrade takes no one's access away, projects that exist now are shared with the workspace
at CAN_EDIT (what everyone had); projects created later are private to their owner until
shared.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_group_access",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_project_group_access_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_group_access_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "group_id", name=op.f("pk_project_group_access")),
    )
    with op.batch_alter_table("project_group_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_group_access_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "project_user_access",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_user_access_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_user_access_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_user_access")),
    )
    with op.batch_alter_table("project_user_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_user_access_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_access", sa.String(length=16), nullable=True))
    op.execute("UPDATE projects SET workspace_access = 'CAN_EDIT'")


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("workspace_access")

    with op.batch_alter_table("project_user_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_user_access_user_id"))

    op.drop_table("project_user_access")
    with op.batch_alter_table("project_group_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_group_access_group_id"))

    op.drop_table("project_group_access")
