"""Finding and deleting runs that the retention policy lets go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from runyard.domain.run_status import RunStatus
from runyard.store.embedded_runs import EmbeddedRunRow
from runyard.store.notifications import NotificationDeliveryRow, NotificationPlanRow
from runyard.store.projects import ProjectRow
from runyard.store.runs import IdempotencyKeyRow, RunArtifactRow, RunEventRow, RunRow

_ACTIVE = (RunStatus.PENDING.value, RunStatus.RUNNING.value)


def prunable(
    session: Session, created_before: datetime, keep_last: int, limit: int
) -> list[tuple[str, str, str, datetime]]:
    """Up to `limit` runs, oldest first, as (id, project id, status, created at), that:
    were created before `created_before`; are not among the `keep_last` newest runs of
    their project; have ended (neither PENDING nor RUNNING); and are not their project's
    published run."""
    # Rank 1 is a project's newest run. Window functions: SQLite 3.25+ and PostgreSQL alike.
    ranked = select(
        RunRow.id,
        RunRow.project_id,
        RunRow.status,
        RunRow.created_at,
        func.row_number()
        .over(partition_by=RunRow.project_id, order_by=(RunRow.created_at.desc(), RunRow.id))
        .label("rank"),
    ).subquery()
    published = select(ProjectRow.published_results_run_id).where(
        ProjectRow.published_results_run_id.is_not(None)
    )
    query = (
        select(ranked.c.id, ranked.c.project_id, ranked.c.status, ranked.c.created_at)
        .where(
            ranked.c.rank > keep_last,
            ranked.c.created_at < created_before,
            ranked.c.status.not_in(_ACTIVE),
            ranked.c.id.not_in(published),
        )
        .order_by(ranked.c.created_at, ranked.c.id)
        .limit(limit)
    )
    return [(i, p, s, c) for i, p, s, c in session.execute(query)]


def delete_runs(session: Session, run_ids: Sequence[str]) -> int:
    """Delete the runs with everything that hangs off them; return how many runs went.

    A run still PENDING or RUNNING by now (retried, say, after it was chosen) stays.
    """
    if not run_ids:
        return 0
    ids = list(
        session.scalars(
            select(RunRow.id).where(RunRow.id.in_(run_ids), RunRow.status.not_in(_ACTIVE))
        )
    )
    if not ids:
        return 0
    # Children first: foreign keys without ON DELETE CASCADE refuse to orphan them.
    for table in (
        RunArtifactRow,
        RunEventRow,
        IdempotencyKeyRow,
        EmbeddedRunRow,
        NotificationDeliveryRow,
        NotificationPlanRow,
    ):
        session.execute(delete(table).where(table.run_id.in_(ids)))
    session.execute(delete(RunRow).where(RunRow.id.in_(ids)))
    return len(ids)
