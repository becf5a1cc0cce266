"""Firing due schedule slots, exactly once each.

One transaction per batch of due schedules:

1. Lock the due schedules (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer).
2. For each, list its due slots (from the stored next fire time up to now) and split them
   with the catch-up policy into slots to fire and slots missed.
3. For each slot to fire, apply the overlap policy and check the inputs against the
   published version again. The PENDING runs of the whole batch are inserted in one
   statement with ON CONFLICT DO NOTHING on the runs' unique (schedule_id, scheduled_for):
   a slot another scheduler fired already is simply not inserted again.
4. Record every slot that did not fire, with its reason; store the next fire time after now.
5. Give each run inserted whose schedule notifies anyone its notification plan, in the same
   transaction: only the scheduler whose insert won the slot writes it, so the outbox sends
   each recipient one message per run however many schedulers raced for the slot.

After the commit, the new runs' doorbells are rung.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from runyard.domain import parameters as params
from runyard.domain.cadence import fires
from runyard.domain.run_status import RunStatus, RunTrigger
from runyard.domain.slot_policy import CatchUp, Overlap, SlotOutcome, plan_slots
from runyard.errors import InvalidInputParams
from runyard.services import run_lifecycle as lifecycle
from runyard.services.schedules import cadence_of
from runyard.store import notifications as notification_store
from runyard.store import projects as project_store
from runyard.store import runs as run_store
from runyard.store import schedules as store
from runyard.store.db import Database
from runyard.store.projects import ProjectRow, ProjectVersionRow
from runyard.store.runs import RunRow
from runyard.store.schedules import ScheduleRow, SkippedSlotRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchedulingLimits:
    misfire_grace_seconds: float = 60.0
    catch_up_limit: int = 50
    batch_size: int = 500
    run_timeout_seconds: float = 3600.0


@dataclass
class FireReport:
    run_ids: list[str] = field(default_factory=list)
    cancelled_run_ids: list[str] = field(default_factory=list)
    skipped: int = 0
    schedules: int = 0
    published: dict[str, tuple[ProjectRow | None, ProjectVersionRow | None]] = field(
        default_factory=dict, repr=False
    )
    # Runs to insert at the end of the tick, in one statement.
    new_runs: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # Those of `new_runs` that have notification recipients.
    notifying: set[str] = field(default_factory=set, repr=False)

    @property
    def found_work(self) -> bool:
        return self.schedules > 0


class SchedulingService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        limits: SchedulingLimits,
        ring: Callable[[str], None] | None,
        cancel: Callable[[str], None] | None,
    ) -> None:
        """`ring` and `cancel` reach this process's executor. A scheduler running alone has
        none (None): its runs are left marked as never rung, and the upkeep of a process
        that has an executor rings them on its next tick."""
        self._db = db
        self._clock = clock
        self._limits = limits
        self._ring = ring
        self._cancel = cancel

    def fire_due(self, now: datetime) -> FireReport:
        """Fire every slot due at `now` of up to one batch of schedules."""
        report = FireReport()
        with self._db.write() as session:
            due = store.due_schedules(session, now, self._limits.batch_size)
            report.schedules = len(due)
            for schedule in due:
                self._fire_schedule(session, schedule, now, report)
            report.run_ids = lifecycle.create_slot_runs(session, report.new_runs)
            if len(report.run_ids) < len(report.new_runs):
                log.info(
                    "%d slot(s) had been fired already by another scheduler",
                    len(report.new_runs) - len(report.run_ids),
                )
            for run_id in report.run_ids:
                if run_id in report.notifying:
                    notification_store.add_plan(session, run_id, now)
        if self._cancel is not None:
            for run_id in report.cancelled_run_ids:
                self._cancel(run_id)
        if self._ring is None:
            return report
        for run_id in report.run_ids:
            try:
                self._ring(run_id)
            except Exception:
                # The run is committed; upkeep re-rings PENDING runs whose bell was lost.
                log.exception("could not submit scheduled run %s", run_id)
        return report

    def seconds_until_next(self, now: datetime) -> float | None:
        with self._db.read() as session:
            earliest = store.earliest_next_fire(session)
        return None if earliest is None else max((earliest - now).total_seconds(), 0.0)

    # -- one schedule --------------------------------------------------------------------

    def _fire_schedule(
        self, session: Session, schedule: ScheduleRow, now: datetime, report: FireReport
    ) -> None:
        assert schedule.next_fire_at is not None
        cadence = cadence_of(schedule)
        first = schedule.next_fire_at
        newest = fires.last_fire_at_or_before(cadence, now)
        # Bounded: a schedule that was down for months must not make this tick unbounded.
        window = max(self._limits.catch_up_limit * 4, 1000)
        due = [first, *fires.fires_between(cadence, first, now, window)]
        if due[-1] < newest:
            # More slots passed than we list one by one: keep the oldest `window` and the
            # newest, and record the stretch in between as one entry.
            gap_start = fires.next_fire_after(cadence, due[-1])
            if gap_start < newest:
                reason = (
                    f"Slots from {gap_start.isoformat()} to before {newest.isoformat()} were "
                    "missed while the scheduler was not running (too many to list one by one)"
                )
                self._record(session, schedule, gap_start, SlotOutcome.MISSED, reason, now)
                report.skipped += 1
            due.append(newest)
        plan = plan_slots(
            due,
            now,
            CatchUp(schedule.catch_up),
            timedelta(seconds=self._limits.misfire_grace_seconds),
            self._limits.catch_up_limit,
        )
        for slot, reason in plan.missed:
            self._record(session, schedule, slot, SlotOutcome.MISSED, reason, now)
            report.skipped += 1
        fire = self._apply_same_tick_overlap(session, schedule, plan.fire, now, report)
        for slot in fire:
            self._fire_slot(session, schedule, slot, now, report)
        schedule.last_slot_at = due[-1]
        schedule.next_fire_at = fires.next_fire_after(cadence, max(now, due[-1]))

    def _fire_slot(
        self,
        session: Session,
        schedule: ScheduleRow,
        slot: datetime,
        now: datetime,
        report: FireReport,
    ) -> None:
        overlap = Overlap(schedule.overlap)
        if overlap is not Overlap.ALLOW:
            active = store.active_runs_of(session, schedule.id)
            if active and overlap is Overlap.SKIP:
                reason = f"Run {active[0].id} of this schedule was still {active[0].status}"
                self._record(session, schedule, slot, SlotOutcome.SKIPPED_OVERLAP, reason, now)
                report.skipped += 1
                return
            for previous in active:
                self._cancel_previous(session, previous, now, report)
        project, version = self._published(session, schedule.project_id, report)
        if project is None or version is None:
            reason = "The project has no published version"
            self._record(session, schedule, slot, SlotOutcome.INVALID_INPUTS, reason, now)
            report.skipped += 1
            return
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        try:
            inputs = params.validate_inputs(specs, schedule.input_params)
        except InvalidInputParams as error:
            reason = "Inputs no longer fit the published version: " + "; ".join(error.issues)
            self._record(session, schedule, slot, SlotOutcome.INVALID_INPUTS, reason, now)
            report.skipped += 1
            return
        options = lifecycle.RunOptions(
            # Hex's scheduled runs refresh the published app; a schedule may opt out.
            update_published_results=bool(schedule.update_published_results),
            notifications=schedule.notifications,
            notification_recipients=schedule.notification_recipients,
        )
        run = lifecycle.new_run(
            project_id=project.id,
            project_version=version.version,
            trigger=RunTrigger.SCHEDULED,
            input_params=inputs,
            options=options,
            timeout_seconds=project.run_timeout_seconds or self._limits.run_timeout_seconds,
            now=now,
            requested_by=schedule.created_by,
            schedule_id=schedule.id,
            scheduled_for=slot,
            rung=self._ring is not None,
        )
        if schedule.notification_recipients:
            report.notifying.add(run["id"])
        report.new_runs.append(run)

    def _apply_same_tick_overlap(
        self,
        session: Session,
        schedule: ScheduleRow,
        slots: list[datetime],
        now: datetime,
        report: FireReport,
    ) -> list[datetime]:
        """Several slots of one schedule due in the same tick (catch-up `all`) overlap each
        other: `skip` keeps the first, `cancel_previous` the last; the others are recorded."""
        overlap = Overlap(schedule.overlap)
        if overlap is Overlap.ALLOW or len(slots) < 2:
            return slots
        keep = slots[0] if overlap is Overlap.SKIP else slots[-1]
        for slot in slots:
            if slot != keep:
                reason = f"Overlaps slot {keep.isoformat()} fired in the same tick"
                self._record(session, schedule, slot, SlotOutcome.SKIPPED_OVERLAP, reason, now)
                report.skipped += 1
        return [keep]

    def _published(
        self, session: Session, project_id: str, report: FireReport
    ) -> tuple[ProjectRow | None, ProjectVersionRow | None]:
        """The project and its published version, read once per tick: many schedules
        usually share a project, and each read would first flush the pending inserts."""
        if project_id not in report.published:
            project = project_store.get_project(session, project_id)
            version = (
                project_store.get_version(session, project.id, project.latest_version)
                if project is not None and project.latest_version is not None
                else None
            )
            report.published[project_id] = (project, version)
        return report.published[project_id]

    def _cancel_previous(
        self, session: Session, previous: RunRow, now: datetime, report: FireReport
    ) -> None:
        message = "Cancelled: the next slot of its schedule started"
        if previous.status == RunStatus.PENDING.value and lifecycle.cancel_pending(
            session, previous.id, message, now
        ):
            return
        run_store.request_cancel(session, previous.id)
        run_store.add_event(session, previous.id, "CANCEL_REQUESTED", "schedule overlap", now)
        report.cancelled_run_ids.append(previous.id)

    def _record(
        self,
        session: Session,
        schedule: ScheduleRow,
        slot: datetime,
        outcome: SlotOutcome,
        reason: str,
        now: datetime,
    ) -> None:
        try:
            with session.begin_nested():
                session.add(
                    SkippedSlotRow(
                        schedule_id=schedule.id,
                        scheduled_for=slot,
                        kind=outcome.value,
                        reason=reason[:500],
                        recorded_at=now,
                    )
                )
                session.flush()
        except IntegrityError:
            log.info("slot %s of schedule %s was already recorded", slot, schedule.id)
