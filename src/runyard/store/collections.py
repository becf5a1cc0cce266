"""Collections, the projects in them, and who they are shared with.

Grants are rows with an access level; `NONE` is never stored (an upsert with `NONE` deletes
the row), so "has a row" means "has some access".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime
from runyard.store.grants import NONE, set_access
from runyard.store.groups import GroupMemberRow


class CollectionRow(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    creator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # What every workspace member (not guests) may do; NULL when not shared with them.
    workspace_access: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CollectionProjectRow(Base):
    __tablename__ = "collection_projects"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The access the collection's members get to the project through the collection.
    access: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CollectionUserAccessRow(Base):
    __tablename__ = "collection_user_access"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access: Mapped[str] = mapped_column(String(16))


class CollectionGroupAccessRow(Base):
    __tablename__ = "collection_group_access"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access: Mapped[str] = mapped_column(String(16))


@dataclass(frozen=True)
class Viewer:
    """A user whose view of collections is limited to those shared with them."""

    user_id: str
    workspace_member: bool  # guests are not reached by the workspace-wide grant


@dataclass(frozen=True)
class Grants:
    users: list[tuple[str, str]]  # (user id, access)
    groups: list[tuple[str, str]]  # (group id, access)


def get_collection(session: Session, collection_id: str) -> CollectionRow | None:
    return session.get(CollectionRow, collection_id)


def existing_collections(session: Session, collection_ids: Iterable[str]) -> set[str]:
    wanted = list(set(collection_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(CollectionRow.id).where(CollectionRow.id.in_(wanted))))


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The condition a collection meets when `viewer` may see it."""
    own = select(CollectionUserAccessRow.collection_id).where(
        CollectionUserAccessRow.user_id == viewer.user_id
    )
    through_groups = (
        select(CollectionGroupAccessRow.collection_id)
        .join(GroupMemberRow, GroupMemberRow.group_id == CollectionGroupAccessRow.group_id)
        .where(GroupMemberRow.user_id == viewer.user_id)
    )
    conditions = [
        CollectionRow.creator_id == viewer.user_id,
        CollectionRow.id.in_(own),
        CollectionRow.id.in_(through_groups),
    ]
    if viewer.workspace_member:
        conditions.append(CollectionRow.workspace_access.is_not(None))
    return or_(*conditions)


def is_visible(session: Session, collection_id: str, viewer: Viewer | None) -> bool:
    query = select(CollectionRow.id).where(CollectionRow.id == collection_id)
    if viewer is not None:
        query = query.where(visible_to(viewer))
    return session.scalars(query).first() is not None


def list_collections(
    session: Session,
    viewer: Viewer | None,
    *,
    descending: bool,
    after: tuple[str, str] | None,
    limit: int,
) -> list[CollectionRow]:
    """Keyset pagination on (lower(name), id); `viewer` None sees every collection."""
    key = sort_key()
    query = select(CollectionRow)
    if viewer is not None:
        query = query.where(visible_to(viewer))
    if after is not None:
        value, ident = after
        if descending:
            query = query.where(or_(key < value, (key == value) & (CollectionRow.id < ident)))
        else:
            query = query.where(or_(key > value, (key == value) & (CollectionRow.id > ident)))
    order = (key.desc(), CollectionRow.id.desc()) if descending else (key, CollectionRow.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def sort_key() -> ColumnElement[str]:
    # Names sort case-insensitively; the cursor carries this value, `lower(name)`.
    return func.lower(CollectionRow.name)


def grants(session: Session, collection_id: str) -> Grants:
    users = session.execute(
        select(CollectionUserAccessRow.user_id, CollectionUserAccessRow.access)
        .where(CollectionUserAccessRow.collection_id == collection_id)
        .order_by(CollectionUserAccessRow.user_id)
    )
    groups = session.execute(
        select(CollectionGroupAccessRow.group_id, CollectionGroupAccessRow.access)
        .where(CollectionGroupAccessRow.collection_id == collection_id)
        .order_by(CollectionGroupAccessRow.group_id)
    )
    return Grants(
        users=[(row[0], row[1]) for row in users], groups=[(row[0], row[1]) for row in groups]
    )


def upsert_user_grants(
    session: Session, collection_id: str, entries: Sequence[tuple[str, str]]
) -> None:
    """Set each user's access; access NONE removes the grant."""
    for user_id, access in entries:
        set_access(
            session, CollectionUserAccessRow, access, collection_id=collection_id, user_id=user_id
        )
    session.flush()


def upsert_group_grants(
    session: Session, collection_id: str, entries: Sequence[tuple[str, str]]
) -> None:
    """Set each group's access; access NONE removes the grant."""
    for group_id, access in entries:
        set_access(
            session,
            CollectionGroupAccessRow,
            access,
            collection_id=collection_id,
            group_id=group_id,
        )
    session.flush()


def put_project(
    session: Session, collection_id: str, project_id: str, access: str, now: datetime
) -> None:
    """Add the project to the collection with `access`, or change it; NONE takes it out."""
    row = session.get(CollectionProjectRow, (collection_id, project_id))
    if row is None and access != NONE:
        # A new entry records when the project joined; set_access would leave added_at unset.
        session.add(
            CollectionProjectRow(
                collection_id=collection_id, project_id=project_id, access=access, added_at=now
            )
        )
    else:
        set_access(
            session,
            CollectionProjectRow,
            access,
            collection_id=collection_id,
            project_id=project_id,
        )
    session.flush()


def project_ids(session: Session, collection_id: str) -> list[str]:
    query = select(CollectionProjectRow.project_id).where(
        CollectionProjectRow.collection_id == collection_id
    )
    return list(session.scalars(query))
