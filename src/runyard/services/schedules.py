"""Schedules of a project: create, read, change, pause, resume, delete.

Changing the cadence, the zone or `enabled` recomputes the next fire time from now, so an
edit never re-fires a slot that already ran, and resuming never fires the slots that passed
while the schedule was paused.

A schedule's notifications are checked as RunProject's are, when saved, and resolved to
their recipients then; every run it fires carries both (see services/scheduling.py).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runyard.domain import parameters as params
from runyard.domain.cadence import Cadence, CadenceKind, DayOfWeek, fires
from runyard.domain.cadence.words import describe
from runyard.domain.permissions import Action, Actor
from runyard.domain.slot_policy import CatchUp, Overlap
from runyard.errors import InvalidInputParams, NotFound, Unprocessable
from runyard.services.notifications import NotificationService, checked_recipients
from runyard.services.projects import ProjectService, require
from runyard.store import schedules as store
from runyard.store.db import Database
from runyard.store.runs import RunRow
from runyard.store.schedules import ScheduleRow, SkippedSlotRow

UPCOMING_COUNT = 5


@dataclass(frozen=True)
class ScheduleSpec:
    cadence: Cadence
    enabled: bool = True
    input_params: Mapping[str, Any] = field(default_factory=dict)
    catch_up: CatchUp = CatchUp.LATEST
    overlap: Overlap = Overlap.ALLOW
    # RunProject's `notifications` (Hex's ProjectRunNotification[]) for every fired run.
    notifications: Sequence[Mapping[str, Any]] = ()
    # Whether fired runs replace the project's published results (Hex's default: they do).
    update_published_results: bool = True


@dataclass(frozen=True)
class ScheduleView:
    row: ScheduleRow
    cadence: Cadence
    description: str
    upcoming: list[datetime]


def cadence_of(row: ScheduleRow) -> Cadence:
    return Cadence(
        kind=CadenceKind(row.cadence),
        timezone=row.timezone,
        minute=row.minute,
        hour=row.hour,
        day_of_week=DayOfWeek(row.day_of_week) if row.day_of_week else None,
        day=row.day,
        cron=row.cron,
    )


def _write_cadence(row: ScheduleRow, cadence: Cadence) -> None:
    row.cadence = cadence.kind.value
    row.timezone = cadence.timezone
    row.minute = cadence.minute
    row.hour = cadence.hour
    row.day_of_week = cadence.day_of_week.value if cadence.day_of_week else None
    row.day = cadence.day
    row.cron = cadence.cron


class ScheduleService:
    def __init__(
        self,
        db: Database,
        projects: ProjectService,
        clock: Callable[[], datetime],
        notifications: NotificationService | None = None,
    ) -> None:
        """Without `notifications`, a schedule that names any recipient is refused."""
        self._db = db
        self._projects = projects
        self._clock = clock
        self._notifications = notifications

    def create(self, actor: Actor, project_id: str, spec: ScheduleSpec) -> ScheduleView:
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        inputs = self._checked_inputs(project_id, spec.input_params)
        notifications = [dict(n) for n in spec.notifications]
        recipients = checked_recipients(self._notifications, notifications)
        now = self._clock()
        row = ScheduleRow(
            id=str(uuid.uuid4()),
            project_id=project_id,
            enabled=spec.enabled,
            input_params=inputs,
            catch_up=spec.catch_up.value,
            overlap=spec.overlap.value,
            notifications=notifications,
            notification_recipients=recipients,
            update_published_results=spec.update_published_results,
            next_fire_at=fires.next_fire_after(spec.cadence, now) if spec.enabled else None,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        _write_cadence(row, spec.cadence)
        with self._db.write() as session:
            session.add(row)
        return self._view(row, now)

    def list(
        self, actor: Actor, project_id: str, for_action: Action = Action.READ_PROJECTS
    ) -> list[ScheduleView]:
        """A project's schedules (`for_action`: see ProjectService.get)."""
        self._projects.check(actor, project_id, for_action)
        now = self._clock()
        with self._db.read() as session:
            rows = store.schedules_of(session, project_id)
        return [self._view(row, now) for row in rows]

    def of_projects(
        self, actor: Actor, project_ids: builtins.list[str]
    ) -> dict[str, builtins.list[ScheduleView]]:
        """The schedules of several projects at once (for project listings)."""
        require(actor, Action.READ_PROJECTS)
        now = self._clock()
        with self._db.read() as session:
            rows = store.schedules_of_projects(session, project_ids)
        found: dict[str, builtins.list[ScheduleView]] = {pid: [] for pid in project_ids}
        for row in rows:
            found[row.project_id].append(self._view(row, now))
        return found

    def get(
        self,
        actor: Actor,
        project_id: str,
        schedule_id: str,
        for_action: Action = Action.READ_PROJECTS,
    ) -> ScheduleView:
        """One schedule (`for_action`: see ProjectService.get)."""
        self._projects.check(actor, project_id, for_action)
        with self._db.read() as session:
            row = self._row(session, project_id, schedule_id)
        return self._view(row, self._clock())

    def update(
        self, actor: Actor, project_id: str, schedule_id: str, changes: Mapping[str, Any]
    ) -> ScheduleView:
        """Apply `changes` (keys: cadence, enabled, input_params, catch_up, overlap,
        notifications, update_published_results); `notifications` replaces the list.
        Nothing is written unless every change is valid."""
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        now = self._clock()
        if "input_params" in changes:
            inputs = self._checked_inputs(project_id, changes["input_params"])
        if "notifications" in changes:
            notifications = [dict(n) for n in changes["notifications"]]
            recipients = checked_recipients(self._notifications, notifications)
        with self._db.write() as session:
            row = self._row(session, project_id, schedule_id)
            cadence = changes.get("cadence", cadence_of(row))
            timing_changed = "cadence" in changes or (
                "enabled" in changes and changes["enabled"] != row.enabled
            )
            if "cadence" in changes:
                _write_cadence(row, cadence)
            if "enabled" in changes:
                row.enabled = bool(changes["enabled"])
            if "input_params" in changes:
                row.input_params = inputs
            if "catch_up" in changes:
                row.catch_up = CatchUp(changes["catch_up"]).value
            if "overlap" in changes:
                row.overlap = Overlap(changes["overlap"]).value
            if "notifications" in changes:
                row.notifications = notifications
                row.notification_recipients = recipients
            if "update_published_results" in changes:
                row.update_published_results = bool(changes["update_published_results"])
            if timing_changed:
                # From now on: slots that passed (while paused, or under the old cadence)
                # are never fired by an edit.
                row.next_fire_at = fires.next_fire_after(cadence, now) if row.enabled else None
            row.updated_at = now
        return self._view(row, now)

    def delete(self, actor: Actor, project_id: str, schedule_id: str) -> None:
        """Delete the schedule; the runs it fired stay in the project's history."""
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        with self._db.write() as session:
            session.delete(self._row(session, project_id, schedule_id))

    def skipped_slots(
        self, actor: Actor, project_id: str, schedule_id: str, limit: int, offset: int
    ) -> builtins.list[SkippedSlotRow]:
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        with self._db.read() as session:
            self._row(session, project_id, schedule_id)
            return store.skipped_slots(session, schedule_id, limit, offset)

    def recent_runs(
        self, actor: Actor, project_id: str, schedule_id: str, limit: int
    ) -> builtins.list[RunRow]:
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        with self._db.read() as session:
            self._row(session, project_id, schedule_id)
            return store.runs_of_schedule(session, schedule_id, limit)

    def last_runs(self, actor: Actor, project_id: str) -> dict[str, RunRow]:
        """The latest run each of the project's schedules fired, by schedule id; a schedule
        that has fired nothing yet is absent."""
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        found: dict[str, RunRow] = {}
        with self._db.read() as session:
            for row in store.schedules_of(session, project_id):
                latest = store.runs_of_schedule(session, row.id, 1)
                if latest:
                    found[row.id] = latest[0]
        return found

    # -- helpers -----------------------------------------------------------------------------

    def _checked_inputs(self, project_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Validate inputs against the published version; a schedule on a project that was
        never published is refused (there would be nothing to run)."""
        version = self._projects.published_version(project_id)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        try:
            return params.validate_inputs(specs, inputs)
        except InvalidInputParams as error:
            # Each issue already names its field (`inputParams.n: …`).
            raise Unprocessable(
                "inputParams: " + "; ".join(i.removeprefix("inputParams.") for i in error.issues),
                issues=error.issues,
            ) from error

    def _row(self, session: Any, project_id: str, schedule_id: str) -> ScheduleRow:
        row = store.get_schedule(session, schedule_id)
        if row is None or row.project_id != project_id:
            raise NotFound("schedule", schedule_id)
        return row

    def _view(self, row: ScheduleRow, now: datetime) -> ScheduleView:
        cadence = cadence_of(row)
        if row.next_fire_at is not None:
            later = fires.upcoming(cadence, max(row.next_fire_at, now), UPCOMING_COUNT - 1)
            upcoming = [row.next_fire_at, *later]
        else:
            upcoming = fires.upcoming(cadence, now, UPCOMING_COUNT)
        return ScheduleView(
            row=row, cadence=cadence, description=describe(cadence), upcoming=upcoming
        )
