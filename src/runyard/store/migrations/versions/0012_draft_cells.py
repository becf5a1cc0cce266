"""draft cells

Revision ID: 0012
Revises: 0011

The index behind Hex's cells API: each cell of a project's draft notebook by its API id (a
UUID derived from the project and the nbformat cell id). Drafts that exist are indexed here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of runyard.domain.cells.CELL_ID_NAMESPACE: a migration must not change with the code.
_NAMESPACE = uuid.UUID("5b0e7c1e-9a51-4c57-8f0e-2f7c3e0b6a01")


def upgrade() -> None:
    table = op.create_table(
        "draft_cells",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("notebook_cell_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "notebook_cell_id", name="uq_draft_cells_notebook_id"),
    )
    op.create_index("ix_draft_cells_project_id", "draft_cells", ["project_id"], unique=False)
    connection = op.get_bind()
    found = connection.execute(
        sa.text("SELECT id, draft_notebook FROM projects WHERE draft_notebook IS NOT NULL")
    )
    rows = []
    for project_id, notebook in found:
        # Every stored draft is in the normal form, whose cells all have unique ids.
        document = json.loads(notebook) if isinstance(notebook, str) else notebook
        for cell in document.get("cells", []):
            cell_id = cell.get("id")
            if isinstance(cell_id, str):
                api_id = str(uuid.uuid5(_NAMESPACE, f"{project_id}:{cell_id}"))
                rows.append({"id": api_id, "project_id": project_id, "notebook_cell_id": cell_id})
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_draft_cells_project_id", table_name="draft_cells")
    op.drop_table("draft_cells")
