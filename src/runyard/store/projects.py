"""Projects, their draft notebooks and their published versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, bindparam, select
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


@dataclass(frozen=True)
class ProjectAccessFacts:
    """What deciding someone's access to a project takes, and nothing more."""

    id: str
    owner_id: str
    workspace_access: str | None


_ACCESS_FACTS = select(ProjectRow.id, ProjectRow.owner_id, ProjectRow.workspace_access).where(
    ProjectRow.id == bindparam("project_id")
)


def access_facts(session: Session, project_id: str) -> ProjectAccessFacts | None:
    """The project's access facts, or None if there is no such project.

    An access check comes before nearly every request's work. Loading the ORM row for it
    would also decode the draft notebook (a JSON document of any size) and cost the ORM's
    identity bookkeeping; three columns by a Core select on the session's connection cost a
    fraction of that. It reads what is committed or flushed, as a check at the start of a
    transaction needs.
    """
    row = session.connection().execute(_ACCESS_FACTS, {"project_id": project_id}).first()
    if row is None:
        return None
    return ProjectAccessFacts(
        id=row.id, owner_id=row.owner_id, workspace_access=row.workspace_access
    )


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
