"""Schedules and the slots they did not fire.

The scheduler's cost grows with the schedules that are due, not with all schedules: each
enabled schedule stores its next fire time, and `due_schedules` reads them through the
index on (enabled, next_fire_at).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.domain.run_status import ACTIVE_STATUSES
from runyard.store.base import Base, UtcDateTime
from runyard.store.runs import RunRow


class ScheduleRow(Base):
    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_due", "enabled", "next_fire_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    cadence: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    minute: Mapped[int | None] = mapped_column(Integer)
    hour: Mapped[int | None] = mapped_column(Integer)
    day_of_week: Mapped[str | None] = mapped_column(String(16))
    day: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean)
    input_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    catch_up: Mapped[str] = mapped_column(String(16))
    overlap: Mapped[str] = mapped_column(String(16))
    # The first slot not yet handled; NULL while paused.
    next_fire_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_slot_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # RunProject's `notifications` as saved, and the recipients they were resolved to when
    # saved (Hex's ProjectRunNotificationRecipient[]): every fired run gets a copy of both.
    notifications: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    notification_recipients: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    # Whether the runs it fires replace the project's published results (Hex: they do).
    update_published_results: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )


class SkippedSlotRow(Base):
    """A slot that did not become a run, and why: nothing disappears silently."""

    __tablename__ = "schedule_skipped_slots"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for", name="uq_skipped_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


def get_schedule(session: Session, schedule_id: str) -> ScheduleRow | None:
    return session.get(ScheduleRow, schedule_id)


def schedules_of(session: Session, project_id: str) -> list[ScheduleRow]:
    query = (
        select(ScheduleRow)
        .where(ScheduleRow.project_id == project_id)
        .order_by(ScheduleRow.created_at, ScheduleRow.id)
    )
    return list(session.scalars(query))


def schedules_of_projects(session: Session, project_ids: list[str]) -> list[ScheduleRow]:
    if not project_ids:
        return []
    query = (
        select(ScheduleRow)
        .where(ScheduleRow.project_id.in_(project_ids))
        .order_by(ScheduleRow.created_at, ScheduleRow.id)
    )
    return list(session.scalars(query))


def due_schedules(session: Session, now: datetime, limit: int) -> list[ScheduleRow]:
    """Lock and return up to `limit` enabled schedules whose next slot is due.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets several schedulers share the due set without
    waiting on each other; a schedule is handled by whoever locked it. SQLite has no row
    locks and ignores the clause: its single writer (BEGIN IMMEDIATE) serialises
    schedulers instead. Either way the runs' unique (schedule, slot) constraint is the
    last word on "exactly once".
    """
    query = (
        select(ScheduleRow)
        .where(ScheduleRow.enabled.is_(True), ScheduleRow.next_fire_at <= now)
        .order_by(ScheduleRow.next_fire_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def earliest_next_fire(session: Session) -> datetime | None:
    query = select(func.min(ScheduleRow.next_fire_at)).where(ScheduleRow.enabled.is_(True))
    value: datetime | None = session.scalar(query)
    return value


def active_runs_of(session: Session, schedule_id: str) -> list[RunRow]:
    query = select(RunRow).where(
        RunRow.schedule_id == schedule_id,
        RunRow.status.in_([s.value for s in ACTIVE_STATUSES]),
    )
    return list(session.scalars(query))


def skipped_slots(
    session: Session, schedule_id: str, limit: int, offset: int
) -> list[SkippedSlotRow]:
    query = (
        select(SkippedSlotRow)
        .where(SkippedSlotRow.schedule_id == schedule_id)
        .order_by(SkippedSlotRow.scheduled_for.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def runs_of_schedule(session: Session, schedule_id: str, limit: int) -> list[RunRow]:
    query = (
        select(RunRow)
        .where(RunRow.schedule_id == schedule_id)
        .order_by(RunRow.scheduled_for.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
