"""A run's life in one place: the one builder of a new run, and one function per change of
its status. No other module writes `runs.status` (tests/services/test_run_lifecycle.py reads
the source tree to keep it so).

    new_run, create, create_slot_runs    a new run, PENDING
    claim                                PENDING -> RUNNING             (a worker takes it)
    cancel_pending                       PENDING -> KILLED              (cancel, schedule overlap)
    end_unallocated                      PENDING -> UNABLE_TO_ALLOCATE_KERNEL
    end_claimed                          RUNNING -> COMPLETED | ERRORED | KILLED
                                         (by the worker holding it: outcome, unrunnable, shutdown)
    reap                                 RUNNING -> ERRORED             (its lease expired)
    end_orphan                           RUNNING -> ERRORED             (its process died)

Every change is a compare-and-set UPDATE guarded by the state machine's legal sources
(`domain.run_status.sources_of`, through `store.runs.transition`). The call that wins it
records, in the caller's transaction, the STATUS event and the timestamps, and a run that
ends gives up its lease (its `worker` stays: it says where the run's kernel lived). Each
function returns whether this call won; callers trust that, for the database, not a lock,
decides a race between a worker, a canceller, the scheduler and the reaper.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from runyard.domain.run_status import RunStatus, RunTrigger
from runyard.store import runs as store
from runyard.store.runs import RunRow

# The type of a run event that records a status; the others are notes (KERNEL_STARTED, ...).
STATUS_EVENT = "STATUS"

# `rung_at` of a run no executor was asked to run yet: the next upkeep rings it.
NEVER_RUNG = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RunOptions:
    """What a run was asked to do besides executing, stored in its row's `options` under
    the names of Hex's trigger flags."""

    update_published_results: bool
    use_cached_sql_results: bool = True
    # RunProject's `notifications` as given, and the recipients they were resolved to.
    notifications: Sequence[Mapping[str, Any]] = ()
    notification_recipients: Sequence[Mapping[str, Any]] = ()
    view_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "updatePublishedResults": self.update_published_results,
            "useCachedSqlResults": self.use_cached_sql_results,
            "notifications": [dict(n) for n in self.notifications],
        }
        if self.notification_recipients:
            # Run answers list them; the notification upkeep delivers to them.
            options["notificationRecipients"] = [dict(r) for r in self.notification_recipients]
        if self.view_id is not None:
            options["viewId"] = self.view_id
        return options


def new_run(
    *,
    project_id: str,
    project_version: int,
    trigger: RunTrigger,
    input_params: Mapping[str, Any],
    options: RunOptions,
    timeout_seconds: float,
    now: datetime,
    requested_by: str | None = None,
    token_id: str | None = None,
    trace_id: str = "",
    schedule_id: str | None = None,
    scheduled_for: datetime | None = None,
    rung: bool = True,
) -> dict[str, Any]:
    """The column values of a new PENDING run: `create` stores one, `create_slot_runs` many
    in a statement (so, plain values rather than a row object: a tick may fire thousands).

    `input_params` are validated already. `rung`: the caller asks an executor to run it as
    soon as it is stored; if not, the next upkeep does. A scheduled run records how late
    after its slot it was made.
    """
    return dict(
        id=str(uuid.uuid4()),
        project_id=project_id,
        project_version=project_version,
        status=RunStatus.PENDING.value,
        trigger=trigger.value,
        input_params=dict(input_params),
        options=options.as_json(),
        requested_by=requested_by,
        token_id=token_id,
        schedule_id=schedule_id,
        scheduled_for=scheduled_for,
        trace_id=trace_id or uuid.uuid4().hex,
        timeout_seconds=timeout_seconds,
        created_at=now,
        started_at=None,
        ended_at=None,
        worker=None,
        lease_until=None,
        kernel_pid=None,
        cancel_requested=False,
        rung_at=now if rung else NEVER_RUNG,
        lateness_ms=(
            None
            if scheduled_for is None
            else max(int((now - scheduled_for).total_seconds() * 1000), 0)
        ),
    )


def create(session: Session, values: Mapping[str, Any]) -> RunRow:
    """Store a run made by `new_run`, and its PENDING event."""
    assert values["status"] == RunStatus.PENDING.value
    run = RunRow(**values)
    session.add(run)
    session.flush()
    store.add_event(session, run.id, STATUS_EVENT, RunStatus.PENDING.value, run.created_at)
    return run


def create_slot_runs(session: Session, runs: Sequence[dict[str, Any]]) -> list[str]:
    """Store scheduled runs made by `new_run`, many a statement, each with its PENDING
    event; return the ids stored. A run whose slot is taken already is not (see
    `store.runs.insert_slot_runs`)."""
    created_at = {run["id"]: run["created_at"] for run in runs}
    inserted = store.insert_slot_runs(session, runs)
    store.add_events(
        session,
        [
            {
                "run_id": run_id,
                "type": STATUS_EVENT,
                "value": RunStatus.PENDING.value,
                "at": created_at[run_id],
            }
            for run_id in inserted
        ],
    )
    return inserted


def claim(session: Session, run_id: str, worker: str, lease_until: datetime, now: datetime) -> bool:
    """PENDING -> RUNNING, held by `worker` until `lease_until` (renewed by its heartbeat).
    Of two workers handed the same run, one wins."""
    if not store.transition(
        session,
        run_id,
        RunStatus.RUNNING,
        extra_where=[RunRow.status == RunStatus.PENDING.value],
        worker=worker,
        lease_until=lease_until,
        started_at=now,
    ):
        return False
    store.add_event(session, run_id, STATUS_EVENT, RunStatus.RUNNING.value, now)
    return True


def cancel_pending(session: Session, run_id: str, message: str, now: datetime) -> bool:
    """PENDING -> KILLED at once, flagged as cancelled. False if the run is no longer
    PENDING: a worker that claimed it meanwhile is asked to kill it instead."""
    return _end(
        session,
        run_id,
        RunStatus.KILLED,
        {"message": message},
        now,
        extra_where=[RunRow.status == RunStatus.PENDING.value],
        cancel_requested=True,
    )


def end_unallocated(
    session: Session, run_id: str, allocation_timeout_seconds: float, now: datetime
) -> bool:
    """PENDING -> UNABLE_TO_ALLOCATE_KERNEL: no kernel slot freed up in time (seen by the
    worker about to claim it, or by the scheduler's upkeep)."""
    message = f"No kernel became available within {allocation_timeout_seconds:g}s"
    return _end(session, run_id, RunStatus.UNABLE_TO_ALLOCATE_KERNEL, {"message": message}, now)


def end_claimed(
    session: Session,
    run_id: str,
    worker: str,
    status: RunStatus,
    error: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """RUNNING -> `status` (COMPLETED, ERRORED or KILLED), by the worker holding the run:
    its kernel's outcome, a run that cannot run, a kernel stopped at shutdown. False if the
    run is no longer this worker's (the reaper ended it meanwhile)."""
    return _end(
        session,
        run_id,
        status,
        error,
        now,
        extra_where=[RunRow.status == RunStatus.RUNNING.value, RunRow.worker == worker],
    )


def reap(session: Session, run_id: str, worker: str | None, now: datetime) -> bool:
    """RUNNING -> ERRORED: `worker` stopped renewing the lease, which expired before `now`."""
    message = f"Worker {worker} stopped renewing its lease; the run was lost"
    return _end(
        session,
        run_id,
        RunStatus.ERRORED,
        {"message": message},
        now,
        extra_where=[RunRow.status == RunStatus.RUNNING.value, RunRow.lease_until < now],
    )


def end_orphan(session: Session, run_id: str, worker: str, now: datetime) -> bool:
    """RUNNING -> ERRORED: `worker`, a process on this host, died while running it."""
    message = "The server stopped while this run was executing"
    return _end(
        session,
        run_id,
        RunStatus.ERRORED,
        {"message": message},
        now,
        extra_where=[RunRow.status == RunStatus.RUNNING.value, RunRow.worker == worker],
    )


def _end(
    session: Session,
    run_id: str,
    status: RunStatus,
    error: dict[str, Any] | None,
    now: datetime,
    *,
    extra_where: Sequence[Any] = (),
    **values: Any,
) -> bool:
    """Move the run to the terminal `status`: its end time, error and STATUS event, and no
    lease left to renew or to expire."""
    assert status.is_terminal, status
    if not store.transition(
        session,
        run_id,
        status,
        extra_where=extra_where,
        ended_at=now,
        error=error,
        lease_until=None,
        **values,
    ):
        return False
    store.add_event(session, run_id, STATUS_EVENT, status.value, now)
    return True
