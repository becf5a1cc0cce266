"""Runs: trigger, read, list, cancel, and the upkeep that keeps every run moving.

Triggering commits a PENDING row first and only then rings the executor: a lost doorbell is
re-rung by `ring_lost_runs`, so nothing acknowledged to a client is ever lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from runyard.domain import parameters as params
from runyard.domain.permissions import Action, Actor, may_on_project
from runyard.domain.run_status import RunStatus, RunTrigger
from runyard.errors import (
    ArtifactNotReady,
    BadRequest,
    NoPublishedResults,
    NotFound,
    RunNotCancellable,
    Unprocessable,
)
from runyard.executor.base import Executor
from runyard.kernel.artifacts import MEDIA_TYPES
from runyard.kernel.orphans import kill_orphaned_kernel
from runyard.services import run_lifecycle as lifecycle
from runyard.services.audit import AuditLog
from runyard.services.notifications import NotificationService, checked_recipients
from runyard.services.project_access import checked_facts
from runyard.services.projects import ProjectService, require
from runyard.services.run_pages import page_of
from runyard.store import embedded_runs as embedded_store
from runyard.store import notifications as notification_store
from runyard.store import projects as project_store
from runyard.store import run_polls as poll_store
from runyard.store import runs as store
from runyard.store import views as view_store
from runyard.store.db import Database
from runyard.store.projects import ProjectVersionRow
from runyard.store.run_polls import PolledRun
from runyard.store.runs import IdempotencyKeyRow, RunEventRow, RunRow

log = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
# The run id every dry run answers with (Hex answers a dummy): nothing is stored under it, and
# reading or cancelling it says why there is no such run.
DRY_RUN_ID = "00000000-0000-0000-0000-000000000000"
# The artifacts a reader may ask for by name, and their media types.
ARTIFACTS = {name: MEDIA_TYPES[name] for name in ("notebook", "html", "log")}


@dataclass(frozen=True)
class TriggerRequest:
    input_params: Mapping[str, Any] | None = None
    dry_run: bool = False
    update_cache: bool | None = None
    update_published_results: bool | None = None
    use_cached_sql_results: bool | None = None
    view_id: str | None = None
    notifications: Sequence[Mapping[str, Any]] = ()
    idempotency_key: str | None = None
    trigger: RunTrigger = RunTrigger.API
    trace_id: str = ""


@dataclass(frozen=True)
class Triggered:
    run: RunRow
    dry_run: bool = False
    replayed: bool = False  # an Idempotency-Key matched an earlier trigger


@dataclass(frozen=True)
class RunDetail:
    run: RunRow
    events: list[RunEventRow] = field(default_factory=list)


@dataclass(frozen=True)
class UpkeepReport:
    rung: int = 0
    unallocated: int = 0
    reaped: int = 0

    @property
    def found_work(self) -> bool:
        return bool(self.rung or self.unallocated or self.reaped)


@dataclass(frozen=True)
class RunLimits:
    default_timeout_seconds: float
    allocation_timeout_seconds: float
    ring_after_seconds: float = 10.0


class RunService:
    def __init__(
        self,
        db: Database,
        projects: ProjectService,
        executor: Executor,
        clock: Callable[[], datetime],
        limits: RunLimits,
        notifications: NotificationService | None = None,
    ) -> None:
        """Without `notifications`, a trigger that asks for any recipient is refused."""
        self._db = db
        self._projects = projects
        self._executor = executor
        self._clock = clock
        self._limits = limits
        self._notifications = notifications

    def now(self) -> datetime:
        return self._clock()

    # -- trigger ---------------------------------------------------------------------------

    def trigger(self, actor: Actor, project_id: str, request: TriggerRequest) -> Triggered:
        self._projects.check(actor, project_id, Action.RUN_PROJECTS)
        options = _resolve_options(request)
        if options.update_published_results:
            # What viewers of the app see is the editors' to change (Hex: "Can Edit").
            self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        recipients = checked_recipients(self._notifications, request.notifications)
        version = self._projects.published_version(project_id)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        given = request.input_params or {}
        if request.view_id is not None:
            given = self._view_inputs(project_id, request.view_id)
        inputs = params.validate_inputs(specs, given)
        options = replace(options, notification_recipients=recipients, view_id=request.view_id)
        now = self._clock()
        if request.dry_run:
            run = RunRow(**self._new_run(actor, version, inputs, options, request, None, now))
            run.id = DRY_RUN_ID
            return Triggered(run=run, dry_run=True)
        with self._db.write() as session:
            if request.idempotency_key:
                earlier = self._replay(session, project_id, request.idempotency_key, now)
                if earlier is not None:
                    return Triggered(run=earlier, replayed=True)
            run = self._create_run(
                session, project_id, actor, version, inputs, options, request, now
            )
            if recipients:
                notification_store.add_plan(session, run.id, now)
            if request.idempotency_key:
                session.add(
                    IdempotencyKeyRow(
                        project_id=project_id,
                        key=request.idempotency_key,
                        run_id=run.id,
                        created_at=now,
                    )
                )
                try:
                    session.flush()
                except IntegrityError:
                    # Another request with the same key won the race; answer with its run.
                    session.rollback()
                    return self._replayed_after_race(project_id, request.idempotency_key)
            AuditLog.record(
                session,
                actor,
                "run.trigger",
                "run",
                run.id,
                {"projectId": project_id, "version": version.version},
                run.trace_id,
                at=now,
            )
        self._ring(run.id)
        return Triggered(run=run)

    def embedded_run(
        self,
        actor: Actor,
        version: ProjectVersionRow,
        inputs: Mapping[str, Any],
        *,
        reuse_for: timedelta,
        trace_id: str = "",
    ) -> Triggered:
        """The run of the published `version` with `inputs` (validated already) that embedded
        apps share, started for `actor` if need be. `replayed` says an existing run was
        joined or reused.

        1. The actor must still be allowed to run the project.
        2. The run named for (project, version, bound values) is joined while PENDING or
           RUNNING, and reused once it ended COMPLETED or ERRORED less than `reuse_for` ago
           (the same inputs fail the same way; a run killed or never given a kernel is not
           worth showing again).
        3. Otherwise a new run is stored and named in one transaction: an insert for a new
           key, a compare-and-set for a stale one. The loser of a race between two opens (in
           any process) rolls its run back and answers the winner's, so the store, not a
           lock, keeps it to one run.

        The run never updates the published results; it is an APP_REFRESH run, as Hex calls
        the runs of an app's viewers.
        """
        project_id = version.project_id
        self._projects.check(actor, project_id, Action.RUN_PROJECTS)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        key = params.values_key(params.bound_values(specs, inputs))
        options = lifecycle.RunOptions(update_published_results=False)
        request = TriggerRequest(trigger=RunTrigger.APP_REFRESH, trace_id=trace_id)
        for _ in range(3):
            now = self._clock()
            with self._db.write() as session:
                named = embedded_store.get(session, project_id, version.version, key)
                current = store.get_run(session, named.run_id) if named else None
                if current is not None and _still_shown(current, now, reuse_for):
                    return Triggered(run=current, replayed=True)
                run = self._create_run(
                    session, project_id, actor, version, inputs, options, request, now
                )
                try:
                    if named is None:
                        embedded_store.add(session, project_id, version.version, key, run.id, now)
                        won = True
                    else:
                        won = embedded_store.replace(
                            session,
                            project_id,
                            version.version,
                            key,
                            previous_run_id=named.run_id,
                            run_id=run.id,
                            now=now,
                        )
                except IntegrityError:
                    won = False
                if not won:
                    # Another open named its run first; ours was never seen by anyone.
                    session.rollback()
                    continue
                AuditLog.record(
                    session,
                    actor,
                    "run.trigger",
                    "run",
                    run.id,
                    {"projectId": project_id, "version": version.version, "embedded": True},
                    run.trace_id,
                    at=now,
                )
            self._ring(run.id)
            return Triggered(run=run)
        raise Unprocessable("The embedded app's run is being started by a concurrent request")

    def _create_run(
        self,
        session: Any,
        project_id: str,
        actor: Actor,
        version: Any,
        inputs: Mapping[str, Any],
        options: lifecycle.RunOptions,
        request: TriggerRequest,
        now: datetime,
    ) -> RunRow:
        """Store a new PENDING run of `version`, under the project's run time limit."""
        project = project_store.get_project(session, project_id)
        assert project is not None
        return lifecycle.create(
            session,
            self._new_run(
                actor, version, inputs, options, request, project.run_timeout_seconds, now
            ),
        )

    def _new_run(
        self,
        actor: Actor,
        version: Any,
        inputs: Mapping[str, Any],
        options: lifecycle.RunOptions,
        request: TriggerRequest,
        project_timeout_seconds: float | None,
        now: datetime,
    ) -> dict[str, Any]:
        return lifecycle.new_run(
            project_id=version.project_id,
            project_version=version.version,
            trigger=request.trigger,
            input_params=inputs,
            options=options,
            timeout_seconds=project_timeout_seconds or self._limits.default_timeout_seconds,
            now=now,
            requested_by=actor.user_id,
            token_id=actor.token_id,
            trace_id=request.trace_id,
        )

    def _view_inputs(self, project_id: str, view_id: str) -> dict[str, Any]:
        """The inputs of a saved view of the project; NotFound for an unknown view or one of
        another project."""
        with self._db.read() as session:
            view = view_store.get_view(session, project_id, view_id)
            if view is None:
                raise NotFound("saved view", view_id)
            return dict(view.input_params)

    def _replay(self, session: Any, project_id: str, key: str, now: datetime) -> RunRow | None:
        existing = store.idempotent_run(session, project_id, key)
        if existing is None:
            return None
        if now - existing.created_at > IDEMPOTENCY_WINDOW:
            session.delete(existing)
            session.flush()
            return None
        return store.get_run(session, existing.run_id)

    def _replayed_after_race(self, project_id: str, key: str) -> Triggered:
        with self._db.read() as session:
            existing = store.idempotent_run(session, project_id, key)
            run = store.get_run(session, existing.run_id) if existing else None
        if run is None:
            raise Unprocessable(f"Idempotency-Key {key!r} is in use by a concurrent request")
        return Triggered(run=run, replayed=True)

    def _ring(self, run_id: str) -> None:
        try:
            self._executor.submit(run_id)
        except Exception:
            # The run is committed; the scheduler re-rings PENDING runs whose bell was lost
            # (broker down, say), so the client's 201 stays true.
            log.exception("could not submit run %s; it will be re-rung", run_id)

    # -- reads -----------------------------------------------------------------------------

    def get(self, actor: Actor, project_id: str, run_id: str, *, events: bool = False) -> RunDetail:
        with self._db.read() as session:
            self._projects.check_in(session, actor, project_id, Action.READ_PROJECTS)
            _not_a_dry_run(run_id)
            run = store.read_run(session, run_id)
            if run is None or run.project_id != project_id:
                raise NotFound("run", run_id)
            found = store.events_of(session, run_id) if events else []
        return RunDetail(run=run, events=found)

    @property
    def polls_inline(self) -> bool:
        """Whether `poll` may be called on an event loop (see `Database.quick_reads_inline`)."""
        return self._db.quick_reads_inline

    @property
    def quick_read_concurrency(self) -> int:
        """How many `poll`s off the event loop should run at once (see `Database`)."""
        return self._db.quick_read_concurrency

    def poll(self, actor: Actor, project_id: str, run_id: str) -> PolledRun:
        """The run for GET run status without events: `get`'s checks and answers, with the
        project's access facts and the run read in one statement (`store.run_polls`)."""
        require(actor, Action.READ_PROJECTS)
        with self._db.quick_read() as session:
            found = poll_store.poll_run(session, project_id, run_id)
            if found is None:
                raise NotFound("project", project_id)
            checked_facts(session, actor, found.project, Action.READ_PROJECTS)
            _not_a_dry_run(run_id)
            if found.run is None:
                raise NotFound("run", run_id)
            return found.run

    def list(
        self,
        actor: Actor,
        project_id: str,
        *,
        status: RunStatus | None,
        trigger: RunTrigger | None,
        limit: int,
        offset: int,
    ) -> list[RunRow]:
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        with self._db.read() as session:
            return store.list_runs(
                session,
                project_id,
                statuses=[status.value] if status else None,
                triggers=[trigger.value] if trigger else None,
                limit=limit,
                offset=offset,
            )

    def artifact(self, actor: Actor, project_id: str, run_id: str, name: str) -> tuple[str, bytes]:
        """Return (media type, content) of a run's `notebook`, `html` or `log`.

        The log holds what the notebook printed, for anyone who may see the app. The notebook
        carries its source, for those who may explore the project. `html` is the page the
        reader may see: the whole notebook for explorers, its outputs alone (the app) for
        those who may only view the app.
        """
        if name not in ARTIFACTS:
            raise NotFound("artifact", name)
        needs = Action.VIEW_PROJECT_SOURCE if name == "notebook" else Action.READ_PROJECTS
        access = self._projects.check(actor, project_id, needs)
        stored = name
        if name == "html" and not may_on_project(actor, Action.VIEW_PROJECT_SOURCE, access):
            stored = "app"
        with self._db.read() as session:
            run = store.get_run(session, run_id)
            if run is None or run.project_id != project_id:
                raise NotFound("run", run_id)
            page = page_of(session, run_id, stored) if stored in ("html", "app") else None
            row = store.get_artifact(session, run_id, stored) if page is None else None
            # The worker saves the log as the run ends (its pages just after): a run that
            # ended without one was ended by someone else, its server having stopped, say.
            ended_bare = (
                page is None
                and row is None
                and RunStatus(run.status).is_terminal
                and (stored == "log" or store.get_artifact(session, run_id, "log") is None)
            )
        if page is not None:
            return MEDIA_TYPES[stored], page
        if row is None:
            if ended_bare:
                reason = (run.error or {}).get("message")
                raise ArtifactNotReady(run_id, name, run.status, reason)
            raise ArtifactNotReady(run_id, name)
        return row.media_type, row.content

    def published(self, actor: Actor, project_id: str) -> RunRow:
        """The run whose outputs the project's published app shows: the latest completed run
        that was asked to update the published results. NoPublishedResults if none has."""
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        return self._published_run(project_id)

    def published_app(self, actor: Actor, project_id: str) -> tuple[RunRow, bytes]:
        """The published run and its outputs-only page (HTML, no code): what anyone who may
        see the project's app sees."""
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        return self.published_app_unchecked(project_id)

    def published_app_unchecked(self, project_id: str) -> tuple[RunRow, bytes]:
        """As `published_app`, for a caller that has proved access otherwise (a signed
        embedding URL)."""
        run = self._published_run(project_id)
        with self._db.read() as session:
            page = page_of(session, run.id, "app")
        if page is None:
            raise ArtifactNotReady(run.id, "app")
        return run, page

    def app_page_unchecked(self, project_id: str, run_id: str) -> tuple[RunRow, bytes | None]:
        """A run of the project and its outputs-only page (None before it has one), for a
        caller that has proved access otherwise (a signed embedding URL)."""
        with self._db.read() as session:
            run = store.get_run(session, run_id)
            if run is None or run.project_id != project_id:
                raise NotFound("run", run_id)
            return run, page_of(session, run_id, "app")

    def _published_run(self, project_id: str) -> RunRow:
        with self._db.read() as session:
            project = project_store.get_project(session, project_id)
            if project is None:
                raise NotFound("project", project_id)
            run_id = project.published_results_run_id
            run = store.get_run(session, run_id) if run_id else None
        if run is None:
            raise NoPublishedResults(project_id)
        return run

    # -- cancel ----------------------------------------------------------------------------

    def cancel(self, actor: Actor, project_id: str, run_id: str) -> RunRow:
        """End a PENDING run as KILLED at once; ask the owner of a RUNNING run to kill it.

        A finished run is refused (422): dagster-hex repeats a DELETE until it gets a 4xx.
        """
        self._projects.check(actor, project_id, Action.RUN_PROJECTS)
        _not_a_dry_run(run_id)
        now = self._clock()
        with self._db.write() as session:
            run = store.get_run(session, run_id)
            if run is None or run.project_id != project_id:
                raise NotFound("run", run_id)
            status = RunStatus(run.status)
            if status.is_terminal:
                raise RunNotCancellable(run_id, status.value)
            cancelled = status is RunStatus.PENDING and lifecycle.cancel_pending(
                session, run_id, f"Cancelled by {actor.email}", now
            )
            if not cancelled:
                # RUNNING (or claimed since we read it): its worker kills the kernel.
                store.request_cancel(session, run_id)
                store.add_event(session, run_id, "CANCEL_REQUESTED", actor.email, now)
            AuditLog.record(
                session,
                actor,
                "run.cancel",
                "run",
                run_id,
                {"projectId": project_id, "status": status.value},
                at=now,
            )
        self._executor.cancel(run_id)
        with self._db.read() as session:
            fresh = store.get_run(session, run_id)
        assert fresh is not None
        return fresh

    # -- upkeep (driven by the scheduler's tick) -------------------------------------------

    def upkeep(self, now: datetime, batch: int = 100) -> UpkeepReport:
        """Re-ring lost doorbells, end runs that waited too long for a kernel, and reap runs
        whose worker stopped renewing its lease."""
        unallocated = self._end_unallocated(now, batch)
        reaped = self._reap_expired(now, batch)
        rung = self._ring_lost(now, batch)
        return UpkeepReport(rung=rung, unallocated=unallocated, reaped=reaped)

    def _end_unallocated(self, now: datetime, batch: int) -> int:
        timeout = self._limits.allocation_timeout_seconds
        cutoff = now - timedelta(seconds=timeout)
        ended = 0
        with self._db.write() as session:
            for run_id in store.pending_created_before(session, cutoff, batch):
                ended += lifecycle.end_unallocated(session, run_id, timeout, now)
        return ended

    def _reap_expired(self, now: datetime, batch: int) -> int:
        reaped = 0
        with self._db.write() as session:
            for run in store.running_with_expired_lease(session, now, batch):
                reaped += lifecycle.reap(session, run.id, run.worker, now)
        return reaped

    def _ring_lost(self, now: datetime, batch: int) -> int:
        stale = now - timedelta(seconds=self._limits.ring_after_seconds)
        with self._db.write() as session:
            run_ids = store.pending_to_ring(session, stale, batch)
            store.mark_rung(session, run_ids, now)
        for run_id in run_ids:
            self._ring(run_id)
        return len(run_ids)

    def ring_all_pending(self, now: datetime) -> int:
        """At start-up: hand every PENDING run to the executor again."""
        total = 0
        with self._db.write() as session:
            run_ids = store.pending_to_ring(session, now + timedelta(seconds=1), 100_000)
            store.mark_rung(session, run_ids, now)
        for run_id in run_ids:
            self._ring(run_id)
            total += 1
        return total

    def end_orphans(
        self, worker_prefix: str, is_alive: Callable[[str], bool], now: datetime
    ) -> int:
        """At start-up: end RUNNING runs of processes on this host that are no longer alive,
        and kill the kernels their runs left behind, also those of runs the reaper ended
        meanwhile (only a process on the kernel's own host can kill it). Return how many
        runs were ended."""
        ended = 0
        with self._db.write() as session:
            for run in store.runs_with_kernels_on(session, worker_prefix):
                if run.worker is None or is_alive(run.worker):
                    continue
                if run.status == RunStatus.RUNNING.value:
                    ended += lifecycle.end_orphan(session, run.id, run.worker, now)
                if run.kernel_pid and kill_orphaned_kernel(run.kernel_pid, run.started_at):
                    log.warning("killed kernel %d left by run %s", run.kernel_pid, run.id)
                run.kernel_pid = None
        return ended


def _not_a_dry_run(run_id: str) -> None:
    if run_id == DRY_RUN_ID:
        error = NotFound("run", run_id)
        error.message = (
            f"Run {run_id} is the id every dry run answers with: a dry run checks the request "
            "and starts nothing, so there is no run to read or cancel"
        )
        error.args = (error.message,)
        raise error


def _still_shown(run: RunRow, now: datetime, reuse_for: timedelta) -> bool:
    """Whether an embedded app's run still answers for its inputs: while it runs, and for
    `reuse_for` after it ended COMPLETED or ERRORED."""
    status = RunStatus(run.status)
    if not status.is_terminal:
        return True
    if status not in (RunStatus.COMPLETED, RunStatus.ERRORED) or run.ended_at is None:
        return False
    return now - run.ended_at < reuse_for


def _resolve_options(request: TriggerRequest) -> lifecycle.RunOptions:
    """Apply Hex's rules for the trigger flags; raise BadRequest for contradictory ones."""
    if request.input_params and request.view_id:
        raise BadRequest(
            "inputParams and viewId cannot be used together",
            issues=["viewId: not allowed together with inputParams"],
        )
    update_published = bool(request.update_published_results)
    use_cache = True if request.use_cached_sql_results is None else request.use_cached_sql_results
    if request.update_cache is not None:
        # Deprecated flag: true means "update published results and bypass the SQL cache".
        update_published = update_published or request.update_cache
        if request.update_cache and request.use_cached_sql_results is None:
            use_cache = False
    if update_published and request.input_params:
        # Name the flag the request sent: the deprecated updateCache implies the other.
        sent = "updatePublishedResults" if request.update_published_results else "updateCache"
        raise BadRequest(
            f"{sent} cannot be used with custom inputParams",
            issues=[f"{sent}: not allowed together with inputParams"],
        )
    return lifecycle.RunOptions(
        update_published_results=update_published,
        use_cached_sql_results=use_cache,
        notifications=request.notifications,
    )
