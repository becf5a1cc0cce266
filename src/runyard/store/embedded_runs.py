"""The run that embedded apps share for one published version and one set of inputs.

A presigned URL with inputs opens the app run with those inputs. Each open must not start
a run of its own, in this process or any other: one row per (project, version, inputs)
names the run every open joins or reuses, and the primary key, not a lock, decides which of
two concurrent opens starts it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from runyard.store.base import Base, UtcDateTime


class EmbeddedRunRow(Base):
    __tablename__ = "embedded_runs"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    project_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 (hex) of the inputs as canonical JSON (domain.parameters.inputs_key).
    inputs_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    # When `run_id` was last set: when the run it names was started for embedding.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def get(session: Session, project_id: str, version: int, key: str) -> EmbeddedRunRow | None:
    return session.get(EmbeddedRunRow, (project_id, version, key))


def add(
    session: Session, project_id: str, version: int, key: str, run_id: str, now: datetime
) -> None:
    """Name the first run for this key. Flushes: a concurrent transaction that added the
    same key first makes this raise IntegrityError (on PostgreSQL once that one commits)."""
    session.add(
        EmbeddedRunRow(
            project_id=project_id,
            project_version=version,
            inputs_key=key,
            run_id=run_id,
            created_at=now,
        )
    )
    session.flush()


def replace(
    session: Session,
    project_id: str,
    version: int,
    key: str,
    *,
    previous_run_id: str,
    run_id: str,
    now: datetime,
) -> bool:
    """Point the key at a new run if it still names `previous_run_id`; True if this call
    did it. Compare-and-set: of two transactions replacing the same stale run, the second
    (PostgreSQL re-reads the row once the first commits; SQLite has one writer) matches no
    row, and its caller answers with the first one's run instead."""
    statement = (
        update(EmbeddedRunRow)
        .where(
            EmbeddedRunRow.project_id == project_id,
            EmbeddedRunRow.project_version == version,
            EmbeddedRunRow.inputs_key == key,
            EmbeddedRunRow.run_id == previous_run_id,
        )
        .values(run_id=run_id, created_at=now)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount) == 1
