"""Who a project is shared with: users, groups, the workspace, and collections it is in.

Grants are rows with an access level; `NONE` is never stored (an upsert with `NONE` deletes
the row), so "has a row" means "has some access". The workspace and public-web grants are
columns of `projects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base
from runyard.store.collections import (
    CollectionProjectRow,
    CollectionRow,
    Viewer,
    visible_to,
)
from runyard.store.grants import set_access
from runyard.store.groups import GroupMemberRow, GroupRow
from runyard.store.identity import UserRow
from runyard.store.projects import ProjectAccessFacts, ProjectRow


class ProjectUserAccessRow(Base):
    __tablename__ = "project_user_access"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access: Mapped[str] = mapped_column(String(16))


class ProjectGroupAccessRow(Base):
    __tablename__ = "project_group_access"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access: Mapped[str] = mapped_column(String(16))


@dataclass(frozen=True)
class ProjectGrants:
    """A project's grants, named for display (`includeSharing=true`)."""

    users: list[tuple[str, str, str]]  # (user id, email, access)
    groups: list[tuple[str, str, str]]  # (group id, name, access)
    collections: list[tuple[str, str, str]]  # (collection id, name, access)


def visible_projects(viewer: Viewer) -> ColumnElement[bool]:
    """The condition a project meets when `viewer` holds some access to it."""
    own = select(ProjectUserAccessRow.project_id).where(
        ProjectUserAccessRow.user_id == viewer.user_id
    )
    through_groups = (
        select(ProjectGroupAccessRow.project_id)
        .join(GroupMemberRow, GroupMemberRow.group_id == ProjectGroupAccessRow.group_id)
        .where(GroupMemberRow.user_id == viewer.user_id)
    )
    through_collections = (
        select(CollectionProjectRow.project_id)
        .join(CollectionRow, CollectionRow.id == CollectionProjectRow.collection_id)
        .where(visible_to(viewer))
    )
    conditions = [
        ProjectRow.owner_id == viewer.user_id,
        ProjectRow.id.in_(own),
        ProjectRow.id.in_(through_groups),
        ProjectRow.id.in_(through_collections),
    ]
    if viewer.workspace_member:
        conditions.append(ProjectRow.workspace_access.is_not(None))
    return or_(*conditions)


def levels_for(session: Session, project: ProjectAccessFacts, viewer: Viewer) -> list[str]:
    """Every access level `viewer` is granted on `project`, from whichever source."""
    levels: list[str] = []
    own = session.get(ProjectUserAccessRow, (project.id, viewer.user_id))
    if own is not None:
        levels.append(own.access)
    levels += session.scalars(
        select(ProjectGroupAccessRow.access)
        .join(GroupMemberRow, GroupMemberRow.group_id == ProjectGroupAccessRow.group_id)
        .where(
            ProjectGroupAccessRow.project_id == project.id,
            GroupMemberRow.user_id == viewer.user_id,
        )
    )
    levels += session.scalars(
        select(CollectionProjectRow.access)
        .join(CollectionRow, CollectionRow.id == CollectionProjectRow.collection_id)
        .where(CollectionProjectRow.project_id == project.id, visible_to(viewer))
    )
    if viewer.workspace_member and project.workspace_access is not None:
        levels.append(project.workspace_access)
    return levels


def grants(session: Session, project_id: str) -> ProjectGrants:
    users = session.execute(
        select(UserRow.id, UserRow.email, ProjectUserAccessRow.access)
        .join(UserRow, UserRow.id == ProjectUserAccessRow.user_id)
        .where(ProjectUserAccessRow.project_id == project_id)
        .order_by(UserRow.email)
    )
    groups = session.execute(
        select(GroupRow.id, GroupRow.name, ProjectGroupAccessRow.access)
        .join(GroupRow, GroupRow.id == ProjectGroupAccessRow.group_id)
        .where(ProjectGroupAccessRow.project_id == project_id)
        .order_by(GroupRow.name)
    )
    collections = session.execute(
        select(CollectionRow.id, CollectionRow.name, CollectionProjectRow.access)
        .join(CollectionRow, CollectionRow.id == CollectionProjectRow.collection_id)
        .where(CollectionProjectRow.project_id == project_id)
        .order_by(CollectionRow.name)
    )
    return ProjectGrants(
        users=[(r[0], r[1], r[2]) for r in users],
        groups=[(r[0], r[1], r[2]) for r in groups],
        collections=[(r[0], r[1], r[2]) for r in collections],
    )


def upsert_user_grants(
    session: Session, project_id: str, entries: Sequence[tuple[str, str]]
) -> None:
    """Set each user's access; access NONE removes the grant."""
    for user_id, access in entries:
        set_access(session, ProjectUserAccessRow, access, project_id=project_id, user_id=user_id)
    session.flush()


def upsert_group_grants(
    session: Session, project_id: str, entries: Sequence[tuple[str, str]]
) -> None:
    """Set each group's access; access NONE removes the grant."""
    for group_id, access in entries:
        set_access(session, ProjectGroupAccessRow, access, project_id=project_id, group_id=group_id)
    session.flush()
