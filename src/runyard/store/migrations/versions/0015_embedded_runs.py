"""embedded runs

Revision ID: 0015
Revises: 0014

The run that presigned embedding URLs with the same inputs share, per published version:
one row per (project, version, inputs) names it, so that opening the URL again, or in
another server process at the same moment, joins that run instead of starting another.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from runyard.store.base import UtcDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embedded_runs",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("project_version", sa.Integer(), nullable=False),
        sa.Column("inputs_key", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_embedded_runs_project_id_projects"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_embedded_runs_run_id_runs"),
        sa.PrimaryKeyConstraint(
            "project_id", "project_version", "inputs_key", name="pk_embedded_runs"
        ),
    )
    op.create_index("ix_embedded_runs_run_id", "embedded_runs", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_embedded_runs_run_id", table_name="embedded_runs")
    op.drop_table("embedded_runs")
