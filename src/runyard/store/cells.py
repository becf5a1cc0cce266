"""Which project's draft holds a cell: the index behind Hex's `/v1/cells/{cellId}`.

The draft notebook (projects.draft_notebook) is the truth; this table maps each of its cells'
API ids to the project and the nbformat cell id, and is rewritten with every draft change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.domain.cells import api_cell_id
from runyard.store.base import Base


class DraftCellRow(Base):
    __tablename__ = "draft_cells"
    __table_args__ = (
        UniqueConstraint("project_id", "notebook_cell_id", name="uq_draft_cells_notebook_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    notebook_cell_id: Mapped[str] = mapped_column(String(64))


def get_cell(session: Session, cell_id: str) -> DraftCellRow | None:
    return session.get(DraftCellRow, cell_id)


def reindex(session: Session, project_id: str, cells: Iterable[tuple[str, str]]) -> None:
    """Make the index of the project's draft exactly `cells`: (API id, nbformat id) pairs."""
    session.execute(delete(DraftCellRow).where(DraftCellRow.project_id == project_id))
    session.flush()
    session.add_all(
        DraftCellRow(id=api_id, project_id=project_id, notebook_cell_id=notebook_id)
        for api_id, notebook_id in cells
    )
    session.flush()


def index_draft(session: Session, project_id: str, notebook: Mapping[str, Any] | None) -> None:
    """Rewrite the project's index from its draft notebook (in the normal form: every cell
    has a unique id)."""
    cells = notebook.get("cells", []) if notebook is not None else []
    reindex(
        session,
        project_id,
        [(api_cell_id(project_id, cell["id"]), cell["id"]) for cell in cells if "id" in cell],
    )
