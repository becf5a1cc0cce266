"""Executing one run: claim it, drive a fresh kernel, keep the lease, record the outcome.

The same code path serves the local executor and Celery workers; the kernel runner below it
knows nothing of the store.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from runyard import metrics
from runyard.auth.secrets import SecretBox
from runyard.domain.run_status import RunStatus
from runyard.kernel.artifacts import MEDIA_TYPES, render_pages
from runyard.kernel.orphans import remove_orphaned_runtime_dirs
from runyard.kernel.pool import KernelPool
from runyard.kernel.runner import (
    KernelControl,
    KernelJob,
    KernelLimits,
    KernelResult,
    RunOutcome,
    kernel_environment,
    run_notebook,
)
from runyard.kernel.sandbox import KernelSandbox, NoSandbox, Sandbox
from runyard.kernel.sql_cache import SqlCache
from runyard.kernel.sql_cells import connection_references
from runyard.log_format import run_context
from runyard.services import artifact_limits
from runyard.services import run_lifecycle as lifecycle
from runyard.services.connections import ConnectionService, ConnectionUnavailable
from runyard.services.sql_cache import SqlCacheService
from runyard.store import projects as project_store
from runyard.store import runs as store
from runyard.store.db import Database
from runyard.store.runs import RunRow

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """`host:pid:nonce`: the host and pid let a restarted server recognise its dead runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def worker_prefix_of_this_host() -> str:
    return f"{socket.gethostname()}:"


def worker_is_alive(worker: str) -> bool:
    """True if `worker` (an id from new_worker_id on this host) may still be running."""
    try:
        _host, pid, _nonce = worker.split(":")
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return int(pid) != os.getpid() or worker == _CURRENT_WORKER_ID


_CURRENT_WORKER_ID = new_worker_id()


@dataclass(frozen=True)
class ExecutionSettings:
    lease_seconds: float
    allocation_timeout_seconds: float
    kernel_name: str
    worker_id: str = _CURRENT_WORKER_ID
    sql_row_limit: int = 100_000
    sql_query_timeout_seconds: float | None = None
    limits: KernelLimits = field(default_factory=KernelLimits)
    # Kernels started ahead of demand (kernel/pool.py); 0: none, each run starts its own.
    pool_size: int = 0
    # Largest artifact stored (services/artifact_limits.py); None: no limit.
    max_artifact_bytes: int | None = None


class ExecutionService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        settings: ExecutionSettings,
        secrets: SecretBox | None = None,
        sandbox: KernelSandbox | None = None,
        sql_cache: SqlCacheService | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        # Opens data-connection secrets for SQL cells; without it they cannot run.
        self._connections = None if secrets is None else ConnectionService(db, secrets, clock)
        self._sandbox = sandbox if sandbox is not None else NoSandbox()
        # Where SQL cells' results are kept and reused; without it every SQL cell queries.
        self._sql_cache = sql_cache
        self._pool = (
            KernelPool(
                self._sandbox,
                settings.kernel_name,
                settings.limits,
                kernel_environment({}),
                settings.pool_size,
            )
            if settings.pool_size > 0
            else None
        )

    @property
    def pool(self) -> KernelPool | None:
        return self._pool

    @property
    def sandboxed(self) -> bool:
        """Whether kernels run in the bubblewrap sandbox."""
        return isinstance(self._sandbox, Sandbox)

    def start(self) -> None:
        """Remove what kernels of dead processes left on this host, and start filling the
        kernel pool (a process that executes runs calls this)."""
        removed = remove_orphaned_runtime_dirs()
        if removed:
            log.info("removed %d kernel folder(s) left by processes that died", removed)
        if self._pool is not None:
            self._pool.start()

    def stop(self) -> None:
        """Dispose of the pool's idle kernels."""
        if self._pool is not None:
            self._pool.stop()

    @property
    def worker_id(self) -> str:
        return self._settings.worker_id

    def execute(self, run_id: str, control: KernelControl) -> RunStatus | None:
        """Run `run_id` to a terminal status; None if another worker (or nobody) owns it."""
        claimed = self._claim(run_id)
        if claimed is None:
            return None
        run, job = claimed
        with run_context(run.id, run.project_id, run.trace_id):
            return self._execute(run, job, control)

    def _execute(self, run: RunRow, job: KernelJob, control: KernelControl) -> RunStatus | None:
        run_id = run.id
        claimed_at = time.perf_counter()

        def kernel_started(pid: int) -> None:
            metrics.KERNEL_START.observe(time.perf_counter() - claimed_at)
            self._record_kernel(run_id, pid)

        heartbeat = _Heartbeat(self, run_id, control)
        heartbeat.start()
        try:
            with metrics.KERNELS_BUSY.track_inprogress():
                result = run_notebook(
                    job,
                    control,
                    on_kernel_started=kernel_started,
                    sandbox=self._sandbox,
                    pool=self._pool,
                    sql_cache=self._sql_cache_of(run),
                )
        finally:
            heartbeat.stop()
        status = self._finish(run, result)
        log.info("run %s ended %s", run_id, status.value if status else "(reaped meanwhile)")
        return status

    def _sql_cache_of(self, run: RunRow) -> SqlCache | None:
        """The SQL result cache as this run sees it: its requester's access is checked at
        each reuse, and `useCachedSqlResults` (Hex's default: true) says whether to reuse."""
        if self._sql_cache is None:
            return None
        reuse = bool(run.options.get("useCachedSqlResults", True))
        return self._sql_cache.for_run(run.requested_by, reuse)

    # -- steps -----------------------------------------------------------------------------

    def _claim(self, run_id: str) -> tuple[RunRow, KernelJob] | None:
        now = self._clock()
        lease = now + timedelta(seconds=self._settings.lease_seconds)
        waited_too_long = now - timedelta(seconds=self._settings.allocation_timeout_seconds)
        with self._db.write() as session:
            run = store.get_run(session, run_id)
            if run is None or run.status != RunStatus.PENDING.value:
                return None
            if run.created_at < waited_too_long:
                timeout = self._settings.allocation_timeout_seconds
                lifecycle.end_unallocated(session, run_id, timeout, now)
                return None
            # The claim: only one worker's UPDATE can match the PENDING guard.
            worker = self._settings.worker_id
            if not lifecycle.claim(session, run_id, worker, lease, now):
                return None
            metrics.RUN_QUEUE_WAIT.observe(max((now - run.created_at).total_seconds(), 0.0))
            version = project_store.get_version(session, run.project_id, run.project_version)
            if version is None:
                error = {"message": f"Project version {run.project_version} no longer exists"}
                lifecycle.end_claimed(session, run_id, worker, RunStatus.ERRORED, error, now)
                return None
            project = project_store.get_project(session, run.project_id)
            limits = self._settings.limits
            if project is not None and project.memory_limit_mb is not None:
                # The project's own limit: such a run starts its own kernel (the pool's kernels
                # were started with the server's limits).
                limits = replace(limits, memory_mb=project.memory_limit_mb)
            job = KernelJob(
                notebook=version.notebook,
                parameters=run.input_params,
                timeout_seconds=run.timeout_seconds,
                kernel_name=self._settings.kernel_name,
                extra_env={"RUNYARD_RUN_ID": run.id, "RUNYARD_PROJECT_ID": run.project_id},
                sql_row_limit=self._settings.sql_row_limit,
                sql_query_timeout_seconds=self._settings.sql_query_timeout_seconds,
                limits=limits,
            )
        references = connection_references(job.notebook)
        if not references:
            return run, job
        try:
            connections = self._resolve_connections(run, references)
        except ConnectionUnavailable as exc:
            self._end_unrunnable(run_id, str(exc))
            return None
        return run, replace(job, connections=connections)

    def _resolve_connections(
        self, run: RunRow, references: list[tuple[int, str]]
    ) -> dict[str, dict[str, Any]]:
        """The SQL cells' connections, each checked against the run's requester (for a
        scheduled run, the schedule's creator) at claim time."""
        resolved: dict[str, dict[str, Any]] = {}
        for index, reference in references:
            if reference in resolved:
                continue
            if self._connections is None:
                raise ConnectionUnavailable(
                    f"Cell {index} is a SQL cell, and this worker cannot open data connections"
                )
            try:
                resolved[reference] = self._connections.resolve_for_sql_cell(
                    reference, run.requested_by
                )
            except ConnectionUnavailable as exc:
                raise ConnectionUnavailable(f"Cell {index} (SQL) cannot run: {exc}") from None
        return resolved

    def _end_unrunnable(self, run_id: str, reason: str) -> None:
        now = self._clock()
        with self._db.write() as session:
            lifecycle.end_claimed(
                session,
                run_id,
                self._settings.worker_id,
                RunStatus.ERRORED,
                {"message": reason},
                now,
            )

    def _record_kernel(self, run_id: str, pid: int) -> None:
        now = self._clock()
        with self._db.write() as session:
            run = store.get_run(session, run_id)
            if run is not None:
                run.kernel_pid = pid
                store.add_event(session, run_id, "KERNEL_STARTED", f"pid {pid}", now)

    def _finish(self, run: RunRow, result: KernelResult) -> RunStatus | None:
        now = self._clock()
        with self._db.write() as session:
            current = store.get_run(session, run.id)
            if current is not None:
                # The runner has disposed of the kernel: there is nothing left to kill.
                current.kernel_pid = None
            # KILLED means "someone cancelled it": only the flag in the store says so. A kernel
            # killed for any other reason (shutdown, lost lease) is an error with a reason.
            cancelled = bool(current and current.cancel_requested)
            status, error = _status_of(result, cancelled)
            limit = self._settings.max_artifact_bytes
            notebook = json.dumps(result.executed_notebook).encode()
            notes = ""
            if artifact_limits.fits(notebook, limit):
                store.save_artifact(
                    session, run.id, "notebook", MEDIA_TYPES["notebook"], notebook, now
                )
            else:
                assert limit is not None
                notes = artifact_limits.refusal("executed notebook", len(notebook), limit)
            store.save_artifact(
                session,
                run.id,
                "log",
                MEDIA_TYPES["log"],
                artifact_limits.bounded_log(result.log, limit, notes),
                now,
            )
            done = lifecycle.end_claimed(
                session, run.id, self._settings.worker_id, status, error, now
            )
            if done:
                metrics.RUN_DURATION.labels(status.value).observe(
                    (
                        now - (current.started_at if current and current.started_at else now)
                    ).total_seconds()
                )
                if status is RunStatus.COMPLETED and run.options.get("updatePublishedResults"):
                    project = project_store.get_project(session, run.project_id)
                    if project is not None:
                        project.published_results_updated_at = now
                        project.published_results_run_id = run.id
        # The run is over for its callers already; its pages are made now, off the critical
        # path (a request for one before it is saved renders it from the executed notebook).
        self._save_pages(run.id, result.executed_notebook)
        # Not done: reaped while we ran (lost lease); the artifacts are still worth keeping.
        return status if done else None

    def _save_pages(self, run_id: str, executed_notebook: dict[str, Any]) -> None:
        pages = render_pages(executed_notebook)
        now = self._clock()
        limit = self._settings.max_artifact_bytes
        with self._db.write() as session:
            for name, page in (("html", pages.notebook), ("app", pages.app)):
                content = page.encode()
                if artifact_limits.fits(content, limit):
                    store.save_artifact(session, run_id, name, MEDIA_TYPES[name], content, now)
                    continue
                assert limit is not None
                log = store.get_artifact(session, run_id, "log")
                if log is not None:
                    # Appended whole: a cut log left room for these lines.
                    line = artifact_limits.refusal(f"{name} page", len(content), limit)
                    log.content = log.content + line.encode()

    # -- heartbeat support -----------------------------------------------------------------

    def renew(self, run_id: str) -> tuple[bool, bool]:
        """Renew the lease; return (still ours, cancel requested)."""
        lease = self._clock() + timedelta(seconds=self._settings.lease_seconds)
        with self._db.write() as session:
            ours = store.renew_lease(session, run_id, self._settings.worker_id, lease)
            run = store.get_run(session, run_id)
            return ours, bool(run and run.cancel_requested)


def _status_of(result: KernelResult, cancelled: bool) -> tuple[RunStatus, dict[str, Any] | None]:
    if result.outcome is RunOutcome.COMPLETED:
        return RunStatus.COMPLETED, None
    if result.outcome is RunOutcome.KILLED and cancelled:
        return RunStatus.KILLED, {"message": result.reason or "Cancelled"}
    error: dict[str, Any] = {"message": result.reason or result.outcome.value}
    if result.error is not None:
        error.update(
            cellIndex=result.error.cell_index,
            cellId=result.error.cell_id,
            ename=result.error.ename,
            evalue=result.error.evalue,
            traceback=result.error.traceback,
        )
    if result.outcome is RunOutcome.KILLED:
        error["message"] = "The run's kernel was stopped: the worker shut down or lost its lease"
    return RunStatus.ERRORED, error


class _Heartbeat:
    """Renews the run's lease and watches for a cancel request from any process."""

    def __init__(self, service: ExecutionService, run_id: str, control: KernelControl) -> None:
        self._service = service
        self._run_id = run_id
        self._control = control
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"heartbeat-{run_id[:8]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        # Poll at least every second so a cancel from another process lands quickly.
        interval = min(1.0, self._service._settings.lease_seconds / 3)
        while not self._stopping.wait(interval):
            try:
                ours, cancel = self._service.renew(self._run_id)
            except Exception:
                # A database hiccup must not kill the run; the lease has slack for retries.
                log.exception("heartbeat for run %s failed", self._run_id)
                continue
            if cancel or not ours:
                self._control.cancel()
