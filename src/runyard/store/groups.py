"""Groups of users and their members."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.errors import Conflict
from runyard.store.base import Base, UtcDateTime
from runyard.store.identity import UserRow


class GroupRow(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Unique, so that a name in the CLI or a sharing dialog names one group.
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class GroupMemberRow(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


def get_group(session: Session, group_id: str) -> GroupRow | None:
    return session.get(GroupRow, group_id)


def group_by_name(session: Session, name: str) -> GroupRow | None:
    return session.scalars(select(GroupRow).where(GroupRow.name == name)).one_or_none()


def existing_groups(session: Session, group_ids: Iterable[str]) -> set[str]:
    wanted = list(set(group_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(GroupRow.id).where(GroupRow.id.in_(wanted))))


# The keyset of each sort: names sort case-insensitively, ties broken by id.
SORT_KEYS = {"CREATED_AT": GroupRow.created_at, "NAME": func.lower(GroupRow.name)}


def list_groups(
    session: Session,
    *,
    sort_by: str,
    descending: bool,
    after: tuple[object, str] | None,
    limit: int,
) -> list[GroupRow]:
    """Keyset pagination on (sort key, id), stable under concurrent inserts."""
    key = SORT_KEYS[sort_by]
    query = select(GroupRow)
    if after is not None:
        value, ident = after
        if descending:
            query = query.where(or_(key < value, (key == value) & (GroupRow.id < ident)))
        else:
            query = query.where(or_(key > value, (key == value) & (GroupRow.id > ident)))
    order = (key.desc(), GroupRow.id.desc()) if descending else (key, GroupRow.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def member_ids(session: Session, group_id: str) -> list[str]:
    """The ids of the group's members (an unknown group has none)."""
    query = select(GroupMemberRow.user_id).where(GroupMemberRow.group_id == group_id)
    return list(session.scalars(query.order_by(GroupMemberRow.user_id)))


def groups_of_user(session: Session, user_id: str) -> list[str]:
    query = select(GroupMemberRow.group_id).where(GroupMemberRow.user_id == user_id)
    return list(session.scalars(query))


def add_members(
    session: Session, group_id: str, user_ids: Sequence[str], now: datetime
) -> list[str]:
    """Add the users not yet members (adding a member again changes nothing); return the
    ones added."""
    present = set(member_ids(session, group_id))
    added = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in present]
    for user_id in added:
        session.add(GroupMemberRow(group_id=group_id, user_id=user_id, added_at=now))
    session.flush()
    return added


def remove_members(session: Session, group_id: str, user_ids: Sequence[str]) -> list[str]:
    """Remove those of the users who are members; return the ones removed."""
    present = set(member_ids(session, group_id))
    removed = [user_id for user_id in dict.fromkeys(user_ids) if user_id in present]
    if removed:
        session.execute(
            delete(GroupMemberRow).where(
                GroupMemberRow.group_id == group_id, GroupMemberRow.user_id.in_(removed)
            )
        )
    return removed


def delete_group(session: Session, group_id: str) -> None:
    # Members and every grant to the group go with it: their foreign keys say ON DELETE
    # CASCADE (SQLite enforces them: the engine turns `PRAGMA foreign_keys` on).
    session.execute(delete(GroupRow).where(GroupRow.id == group_id))


def insert_group(session: Session, row: GroupRow) -> None:
    """Insert a group; a taken name (a concurrent insert that won the race) is a Conflict."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"A group named {row.name!r} already exists") from error


def rename_group(session: Session, row: GroupRow, name: str) -> None:
    try:
        with session.begin_nested():
            row.name = name
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"A group named {name!r} already exists") from error


def unknown_users(session: Session, user_ids: Iterable[str]) -> list[str]:
    """Those of `user_ids` that name no user, in the order given."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    known = set(session.scalars(select(UserRow.id).where(UserRow.id.in_(wanted))))
    return [user_id for user_id in wanted if user_id not in known]
