"""The notification outbox: which runs still need their notifications expanded, and one row
per message to deliver.

A run triggered with notifications gets a plan row in the trigger's transaction. Once the run
is terminal, upkeep expands the plan (a compare-and-set on `expanded_at`, so one process does
it) into deliveries, inserted with ON CONFLICT DO NOTHING on (run_id, channel, recipient).
A delivery is claimed by a compare-and-set on its attempt count and due time, which also
pushes the due time past a lease: a process that dies while sending leaves the row due again
once the lease is over, and no two processes hold one claim at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.domain.run_status import RunStatus
from runyard.store.base import Base, UtcDateTime
from runyard.store.runs import RunRow

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"

TERMINAL = [s.value for s in RunStatus if s.is_terminal]


class NotificationPlanRow(Base):
    """A run that was triggered with notifications; `expanded_at` is set once its deliveries
    exist."""

    __tablename__ = "run_notification_plans"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expanded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class NotificationDeliveryRow(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        # Exactly once per recipient and run, however many processes expand the plan.
        UniqueConstraint("run_id", "channel", "recipient", name="uq_notification_deliveries"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # "email" or "slack"
    recipient: Mapped[str] = mapped_column(String(320))  # an address or a Slack channel id
    # Which entry of the run's `notifications` asked for it (its subject, body, screenshot).
    notification_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def add_plan(session: Session, run_id: str, at: datetime) -> None:
    session.add(NotificationPlanRow(run_id=run_id, created_at=at))


def runs_to_expand(session: Session, limit: int) -> list[RunRow]:
    """Ended runs whose plan has not been expanded yet."""
    query = (
        select(RunRow)
        .join(NotificationPlanRow, NotificationPlanRow.run_id == RunRow.id)
        .where(NotificationPlanRow.expanded_at.is_(None), RunRow.status.in_(TERMINAL))
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_expanded(session: Session, run_id: str, at: datetime) -> bool:
    """True if this call expanded the plan (no other process did it first)."""
    statement = (
        update(NotificationPlanRow)
        .where(NotificationPlanRow.run_id == run_id, NotificationPlanRow.expanded_at.is_(None))
        .values(expanded_at=at)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert deliveries, skipping any (run, channel, recipient) already there."""
    if not rows:
        return 0
    dialect_insert = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = (
        dialect_insert(NotificationDeliveryRow)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["run_id", "channel", "recipient"])
        .returning(NotificationDeliveryRow.id)
    )
    return len(list(session.scalars(statement)))


def due_deliveries(session: Session, now: datetime, limit: int) -> list[NotificationDeliveryRow]:
    query = (
        select(NotificationDeliveryRow)
        .where(
            NotificationDeliveryRow.status == PENDING,
            NotificationDeliveryRow.next_attempt_at <= now,
        )
        .order_by(NotificationDeliveryRow.next_attempt_at, NotificationDeliveryRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, row: NotificationDeliveryRow, now: datetime, until: datetime) -> bool:
    """Compare-and-set: take the delivery for one attempt if nobody took it since it was read."""
    statement = (
        update(NotificationDeliveryRow)
        .where(
            NotificationDeliveryRow.id == row.id,
            NotificationDeliveryRow.status == PENDING,
            NotificationDeliveryRow.attempts == row.attempts,
            NotificationDeliveryRow.next_attempt_at <= now,
        )
        .values(attempts=row.attempts + 1, next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def finish(session: Session, delivery_id: int, attempts: int, **values: Any) -> None:
    """Record the outcome of the attempt numbered `attempts` (ignored if another process has
    taken the row since, after this one's lease ran out)."""
    session.execute(
        update(NotificationDeliveryRow)
        .where(
            NotificationDeliveryRow.id == delivery_id,
            NotificationDeliveryRow.attempts == attempts,
            NotificationDeliveryRow.status == PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def deliveries_of(session: Session, run_id: str) -> list[NotificationDeliveryRow]:
    query = (
        select(NotificationDeliveryRow)
        .where(NotificationDeliveryRow.run_id == run_id)
        .order_by(NotificationDeliveryRow.id)
    )
    return list(session.scalars(query))
