"""Data connections: their settings, their encrypted secrets, and whom they are shared with.

`details` holds only the non-secret connection fields. `secrets` maps each secret field's
wire name to a Fernet token (one per field, so an edit replaces one secret without having to
decrypt the others); the store never sees a secret in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Integer,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime
from runyard.store.collections import Viewer
from runyard.store.grants import set_access
from runyard.store.groups import GroupMemberRow, GroupRow


class DataConnectionRow(Base):
    __tablename__ = "data_connections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    secrets: Mapped[dict[str, str]] = mapped_column(JSON)
    connect_via_ssh: Mapped[bool] = mapped_column(Boolean)
    include_magic: Mapped[bool] = mapped_column(Boolean)
    allow_writeback_cells: Mapped[bool] = mapped_column(Boolean)
    schema_filters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    schema_refresh_schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    schema_refresh_access: Mapped[str] = mapped_column(String(32))
    public_access: Mapped[str] = mapped_column(String(16))
    guests_access: Mapped[str] = mapped_column(String(16))
    members_access: Mapped[str] = mapped_column(String(16))
    # How long a SQL cell's kept result may be reused (Runyard's `cacheLifetimeSeconds`);
    # 0 keeps none.
    sql_cache_lifetime_seconds: Mapped[int] = mapped_column(
        Integer, default=300, server_default=text("300")
    )
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DataConnectionGroupAccessRow(Base):
    """A group's access to a connection; deleting the group deletes its grants."""

    __tablename__ = "data_connection_group_access"

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("data_connections.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    access: Mapped[str] = mapped_column(String(16))


# The keyset of each sort: names sort case-insensitively (the same order on SQLite and
# PostgreSQL, whatever the server's collation), ties broken by id.
SORT_KEYS = {"NAME": func.lower(DataConnectionRow.name), "CREATED_AT": DataConnectionRow.created_at}


def get_connection(session: Session, connection_id: str) -> DataConnectionRow | None:
    return session.get(DataConnectionRow, connection_id)


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The condition a connection meets when it is shared with `viewer` (see
    `domain.permissions.may_see_connection`, which says the same for one connection)."""
    through_groups = (
        select(DataConnectionGroupAccessRow.connection_id)
        .join(GroupMemberRow, GroupMemberRow.group_id == DataConnectionGroupAccessRow.group_id)
        .where(GroupMemberRow.user_id == viewer.user_id)
    )
    workspace = (
        DataConnectionRow.members_access
        if viewer.workspace_member
        else DataConnectionRow.guests_access
    )
    return or_(workspace != "NONE", DataConnectionRow.id.in_(through_groups))


def group_grants_of_user(session: Session, connection_id: str, user_id: str) -> int:
    """How many of the connection's group grants reach `user_id`."""
    query = (
        select(func.count())
        .select_from(DataConnectionGroupAccessRow)
        .join(GroupMemberRow, GroupMemberRow.group_id == DataConnectionGroupAccessRow.group_id)
        .where(
            DataConnectionGroupAccessRow.connection_id == connection_id,
            GroupMemberRow.user_id == user_id,
        )
    )
    return int(session.scalar(query) or 0)


def list_connections(
    session: Session,
    *,
    viewer: Viewer | None,
    sort_by: str,
    descending: bool,
    after: tuple[Any, str] | None,
    limit: int,
) -> list[tuple[DataConnectionRow, Any]]:
    """Keyset pagination on (sort key, id), stable under concurrent inserts. Each row comes
    with its sort key as the database computed it, for the next cursor."""
    key = SORT_KEYS[sort_by]
    ident = DataConnectionRow.id
    query = select(DataConnectionRow, key)
    if viewer is not None:
        query = query.where(visible_to(viewer))
    if after is not None:
        value, last_id = after
        if descending:
            query = query.where(or_(key < value, (key == value) & (ident < last_id)))
        else:
            query = query.where(or_(key > value, (key == value) & (ident > last_id)))
    order = (key.desc(), ident.desc()) if descending else (key, ident)
    return [(row, value) for row, value in session.execute(query.order_by(*order).limit(limit))]


@dataclass(frozen=True)
class GroupGrant:
    group_id: str
    group_name: str
    access: str


def group_grants(session: Session, connection_ids: Sequence[str]) -> dict[str, list[GroupGrant]]:
    """connection id -> its grants to groups that still exist, by group name."""
    found: dict[str, list[GroupGrant]] = {ident: [] for ident in connection_ids}
    if not connection_ids:
        return found
    grant = DataConnectionGroupAccessRow
    rows = session.execute(
        select(grant.connection_id, GroupRow.id, GroupRow.name, grant.access)
        .join(GroupRow, GroupRow.id == grant.group_id)
        .where(grant.connection_id.in_(list(connection_ids)))
        .order_by(func.lower(GroupRow.name), GroupRow.id)
    )
    for connection_id, group_id, group_name, access in rows:
        found[connection_id].append(GroupGrant(group_id, group_name, access))
    return found


def set_group_access(session: Session, connection_id: str, group_id: str, access: str) -> None:
    """Grant `access` to the group; NONE removes the grant."""
    set_access(
        session,
        DataConnectionGroupAccessRow,
        access,
        connection_id=connection_id,
        group_id=group_id,
    )


def delete_connection(session: Session, row: DataConnectionRow) -> None:
    # Deleted explicitly as well as by ON DELETE CASCADE, so the outcome does not depend on
    # SQLite's foreign_keys pragma being on for this connection.
    session.execute(
        delete(DataConnectionGroupAccessRow).where(
            DataConnectionGroupAccessRow.connection_id == row.id
        )
    )
    session.delete(row)
