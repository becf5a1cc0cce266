"""Runs, their events and artifacts, and idempotency keys.

Every status change is a compare-and-set UPDATE guarded by the state machine's legal sources
(`domain.run_status.sources_of`), and callers trust the row count: the database, not a lock,
decides who wins a race between a worker, a canceller and the reaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.domain.run_status import RunStatus, sources_of
from runyard.store.base import Base, UtcDateTime


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # Exactly-once scheduling is this constraint: several schedulers may race for a slot,
        # one insert wins. NULLs (API runs) never collide.
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_runs_schedule_slot"),
        Index("ix_runs_project_created", "project_id", "created_at"),
        Index("ix_runs_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    project_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16))
    input_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[str | None] = mapped_column(String(36))
    schedule_id: Mapped[str | None] = mapped_column(String(36))
    scheduled_for: Mapped[datetime | None] = mapped_column(UtcDateTime())
    trace_id: Mapped[str] = mapped_column(String(64))
    timeout_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    kernel_pid: Mapped[int | None] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the executor was last asked to run this; the scheduler re-rings stale PENDING runs.
    rung_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Scheduled runs only: when the scheduler inserted the run, less the slot's time.
    lateness_ms: Mapped[int | None] = mapped_column(Integer)


class RunEventRow(Base):
    """The run's state events (Hex's `stateEvents`), in order."""

    __tablename__ = "run_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class RunArtifactRow(Base):
    """Executed notebook, HTML and log, kept in the store so every process can serve them."""

    __tablename__ = "run_artifacts"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def _rowcount(result: Result[Any]) -> int:
    # UPDATE statements always yield a CursorResult, which carries the matched row count.
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def get_run(session: Session, run_id: str) -> RunRow | None:
    return session.get(RunRow, run_id)


_RUN_BY_ID = select(RunRow.__table__).where(RunRow.__table__.c.id == bindparam("run_id"))


def read_run(session: Session, run_id: str) -> RunRow | None:
    """The run as a row of its own, outside the session: for reads that only look at it.

    Clients poll a run's status many times a second; one Core select on the session's
    connection costs about half of the ORM's load of the same row. The row is not in the
    session, so changes to it are never saved: use `get_run` to change a run.
    """
    row = session.connection().execute(_RUN_BY_ID, {"run_id": run_id}).first()
    return None if row is None else RunRow(**row._mapping)


def add_event(session: Session, run_id: str, type_: str, value: str, at: datetime) -> None:
    session.add(RunEventRow(run_id=run_id, type=type_, value=value[:500], at=at))


def events_of(session: Session, run_id: str) -> list[RunEventRow]:
    query = select(RunEventRow).where(RunEventRow.run_id == run_id).order_by(RunEventRow.id)
    return list(session.scalars(query))


def transition(
    session: Session,
    run_id: str,
    target: RunStatus,
    *,
    extra_where: Sequence[Any] = (),
    **values: Any,
) -> bool:
    """Move a run to `target` if its current status allows it; True if this call did it."""
    statement = (
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status.in_([s.value for s in sources_of(target)]))
        .where(*extra_where)
        .values(status=target.value, **values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(session.execute(statement)) == 1


def renew_lease(session: Session, run_id: str, worker: str, lease_until: datetime) -> bool:
    """Extend the lease; False if the run is no longer ours (reaped or finished)."""
    statement = (
        update(RunRow)
        .where(
            RunRow.id == run_id,
            RunRow.worker == worker,
            RunRow.status == RunStatus.RUNNING.value,
        )
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(session.execute(statement)) == 1


def request_cancel(session: Session, run_id: str) -> None:
    session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )


def list_runs(
    session: Session,
    project_id: str,
    *,
    statuses: Sequence[str] | None,
    triggers: Sequence[str] | None,
    limit: int,
    offset: int,
) -> list[RunRow]:
    query = select(RunRow).where(RunRow.project_id == project_id)
    if statuses:
        query = query.where(RunRow.status.in_(list(statuses)))
    if triggers:
        query = query.where(RunRow.trigger.in_(list(triggers)))
    query = query.order_by(RunRow.created_at.desc(), RunRow.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def pending_to_ring(session: Session, rung_before: datetime, limit: int) -> list[str]:
    """PENDING runs whose doorbell was last rung before `rung_before`: maybe lost."""
    query = (
        select(RunRow.id)
        .where(RunRow.status == RunStatus.PENDING.value, RunRow.rung_at < rung_before)
        .order_by(RunRow.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_rung(session: Session, run_ids: Sequence[str], at: datetime) -> None:
    if run_ids:
        session.execute(
            update(RunRow)
            .where(RunRow.id.in_(list(run_ids)))
            .values(rung_at=at)
            .execution_options(synchronize_session=False)
        )


def pending_created_before(session: Session, created_before: datetime, limit: int) -> list[str]:
    query = (
        select(RunRow.id)
        .where(RunRow.status == RunStatus.PENDING.value, RunRow.created_at < created_before)
        .limit(limit)
    )
    return list(session.scalars(query))


def running_with_expired_lease(session: Session, now: datetime, limit: int) -> list[RunRow]:
    query = (
        select(RunRow)
        .where(RunRow.status == RunStatus.RUNNING.value, RunRow.lease_until < now)
        .limit(limit)
    )
    return list(session.scalars(query))


def runs_with_kernels_on(session: Session, prefix: str) -> list[RunRow]:
    """Runs claimed by processes whose worker id starts with `prefix` (one host) that are
    RUNNING or whose kernel was never seen to end (its pid is cleared when the runner
    disposes of it)."""
    query = select(RunRow).where(
        RunRow.worker.startswith(prefix),
        or_(RunRow.status == RunStatus.RUNNING.value, RunRow.kernel_pid.is_not(None)),
    )
    return list(session.scalars(query))


def save_artifact(
    session: Session, run_id: str, name: str, media_type: str, content: bytes, at: datetime
) -> None:
    existing = session.get(RunArtifactRow, (run_id, name))
    if existing is None:
        session.add(
            RunArtifactRow(
                run_id=run_id, name=name, media_type=media_type, content=content, created_at=at
            )
        )
    else:
        existing.media_type = media_type
        existing.content = content
        existing.created_at = at


def get_artifact(session: Session, run_id: str, name: str) -> RunArtifactRow | None:
    return session.get(RunArtifactRow, (run_id, name))


def idempotent_run(session: Session, project_id: str, key: str) -> IdempotencyKeyRow | None:
    return session.get(IdempotencyKeyRow, (project_id, key))


def insert_slot_runs(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert scheduled runs, many rows a statement; return the ids actually inserted.

    A row whose (schedule_id, scheduled_for) is already taken is skipped by the database
    (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike): that slot was fired by
    another scheduler, and exactly once holds without a failed transaction.
    """
    dialect_insert = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    inserted: list[str] = []
    # Chunks keep each statement under the drivers' bind-parameter limits (PostgreSQL's
    # protocol allows 65,535; SQLite 32,766): a run row binds 23 values.
    for start in range(0, len(rows), _INSERT_CHUNK):
        statement = (
            dialect_insert(RunRow)
            .values(list(rows[start : start + _INSERT_CHUNK]))
            .on_conflict_do_nothing(index_elements=["schedule_id", "scheduled_for"])
            .returning(RunRow.id)
        )
        inserted += session.scalars(statement)
    return inserted


_INSERT_CHUNK = 500


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    if events:
        session.execute(insert(RunEventRow), list(events))


def count_active(session: Session) -> int:
    query = (
        select(func.count())
        .select_from(RunRow)
        .where(RunRow.status.in_([RunStatus.PENDING.value, RunStatus.RUNNING.value]))
    )
    return int(session.scalar(query) or 0)
