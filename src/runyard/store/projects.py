"""Projects, their draft notebooks and their published versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, func, literal, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime
from runyard.store.collections import Viewer


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16), default="PROJECT")
    creator_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status_label: Mapped[str | None] = mapped_column(String(200))
    draft_notebook: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    run_timeout_seconds: Mapped[float | None] = mapped_column(Float)
    # The kernel memory limit of this project's runs; NULL: the server's.
    memory_limit_mb: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_edited_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set when a run with updatePublishedResults completes (Hex's analytics field).
    published_results_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    published_results_run_id: Mapped[str | None] = mapped_column(String(36))
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What every workspace member (not guests) may do; NULL when not shared with them.
    workspace_access: Mapped[str | None] = mapped_column(String(16))
    trashed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ProjectVersionRow(Base):
    __tablename__ = "project_versions"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    notebook: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The parsed parameter declarations, so a trigger validates inputs without re-parsing.
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[str] = mapped_column(ForeignKey("users.id"))


def get_project(session: Session, project_id: str) -> ProjectRow | None:
    return session.get(ProjectRow, project_id)


def get_version(session: Session, project_id: str, version: int) -> ProjectVersionRow | None:
    return session.get(ProjectVersionRow, (project_id, version))


@dataclass(frozen=True)
class ProjectFilter:
    include_archived: bool = False
    include_trashed: bool = False
    include_components: bool = False
    statuses: Sequence[str] = ()
    creator_email: str | None = None
    owner_email: str | None = None
    project_ids: Sequence[str] | None = None  # restricts to these ids (collections, sharing)
    viewer: Viewer | None = None  # restricts to the projects shared with this user


SORT_COLUMNS = {
    "CREATED_AT": ProjectRow.created_at,
    "LAST_EDITED_AT": ProjectRow.last_edited_at,
    "LAST_PUBLISHED_AT": ProjectRow.last_published_at,
}


def list_projects(
    session: Session,
    flt: ProjectFilter,
    *,
    sort_by: str,
    descending: bool,
    after: tuple[datetime | None, str] | None,
    limit: int,
) -> list[ProjectRow]:
    """Keyset pagination on (sort column, id): stable under concurrent inserts.

    NULL sort keys (never published) sort last in both directions: they are mapped to a
    sentinel through COALESCE so the keyset comparison stays a plain tuple comparison.
    """
    from runyard.store.identity import UserRow

    column = SORT_COLUMNS[sort_by]
    sentinel = func.coalesce(column, literal(_null_sentinel(descending), UtcDateTime()))
    query = select(ProjectRow)
    if not flt.include_archived:
        query = query.where(ProjectRow.archived_at.is_(None))
    if not flt.include_trashed:
        query = query.where(ProjectRow.trashed_at.is_(None))
    if not flt.include_components:
        query = query.where(ProjectRow.type == "PROJECT")
    if flt.statuses:
        query = query.where(ProjectRow.status_label.in_(list(flt.statuses)))
    if flt.creator_email:
        creators = select(UserRow.id).where(UserRow.email == flt.creator_email)
        query = query.where(ProjectRow.creator_id.in_(creators))
    if flt.owner_email:
        owners = select(UserRow.id).where(UserRow.email == flt.owner_email)
        query = query.where(ProjectRow.owner_id.in_(owners))
    if flt.project_ids is not None:
        query = query.where(ProjectRow.id.in_(list(flt.project_ids)))
    if flt.viewer is not None:
        # Imported here: project_sharing builds on this module's ProjectRow.
        from runyard.store.project_sharing import visible_projects

        query = query.where(visible_projects(flt.viewer))
    if after is not None:
        key = after[0] if after[0] is not None else _null_sentinel(descending)
        if descending:
            query = query.where(or_(sentinel < key, (sentinel == key) & (ProjectRow.id < after[1])))
        else:
            query = query.where(or_(sentinel > key, (sentinel == key) & (ProjectRow.id > after[1])))
    order = (sentinel.desc(), ProjectRow.id.desc()) if descending else (sentinel, ProjectRow.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def _null_sentinel(descending: bool) -> datetime:
    # Oldest possible instant when newest-first (NULLs last), newest when oldest-first.
    return datetime(1, 1, 1, tzinfo=UTC) if descending else datetime(9999, 12, 31, tzinfo=UTC)
