"""Saved views: named sets of input values on a project, for RunProject's `viewId`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime


class SavedViewRow(Base):
    __tablename__ = "saved_views"
    # A project's views are told apart by name in the UI and the CLI.
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_saved_views_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    input_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def get_view(session: Session, project_id: str, view_id: str) -> SavedViewRow | None:
    """The view, if it exists and belongs to the project (a view of another project is as
    good as missing)."""
    row = session.get(SavedViewRow, view_id)
    return row if row is not None and row.project_id == project_id else None


def views_of(session: Session, project_id: str) -> list[SavedViewRow]:
    query = select(SavedViewRow).where(SavedViewRow.project_id == project_id)
    return list(session.scalars(query.order_by(SavedViewRow.name, SavedViewRow.id)))


def named(session: Session, project_id: str, name: str) -> SavedViewRow | None:
    query = select(SavedViewRow).where(
        SavedViewRow.project_id == project_id, SavedViewRow.name == name
    )
    return session.scalars(query).first()
