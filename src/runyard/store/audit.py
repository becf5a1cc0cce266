"""The audit log: one row per admin change or run trigger/cancel, never updated or deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    # No foreign keys: the log outlives what it names (deleted groups, connections, tokens).
    actor_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(320))
    actor_token_id: Mapped[str | None] = mapped_column(String(36))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    trace_id: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditFilter:
    action_prefix: str | None = None
    actor_user_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def add_event(session: Session, row: AuditEventRow) -> None:
    session.add(row)


def list_events(
    session: Session,
    flt: AuditFilter,
    *,
    after: tuple[datetime, str] | None,
    descending: bool,
    limit: int,
) -> list[AuditEventRow]:
    """Events in (at, id) order, keyset-paginated, narrowed by the filter."""
    query = select(AuditEventRow)
    if flt.action_prefix:
        # LIKE with the prefix's own wildcards escaped, so `user_` means a literal underscore.
        escaped = flt.action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEventRow.action.like(escaped + "%", escape="\\"))
    if flt.actor_user_id is not None:
        query = query.where(AuditEventRow.actor_user_id == flt.actor_user_id)
    if flt.target_type is not None:
        query = query.where(AuditEventRow.target_type == flt.target_type)
    if flt.target_id is not None:
        query = query.where(AuditEventRow.target_id == flt.target_id)
    if flt.since is not None:
        query = query.where(AuditEventRow.at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEventRow.at < flt.until)
    if after is not None:
        moment, ident = after
        column = AuditEventRow.at
        if descending:
            query = query.where(
                or_(column < moment, (column == moment) & (AuditEventRow.id < ident))
            )
        else:
            query = query.where(
                or_(column > moment, (column == moment) & (AuditEventRow.id > ident))
            )
    order = (
        (AuditEventRow.at.desc(), AuditEventRow.id.desc())
        if descending
        else (AuditEventRow.at, AuditEventRow.id)
    )
    return list(session.scalars(query.order_by(*order).limit(limit)))
