"""The composition root: the only place concrete classes are chosen and wired together."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from runyard import __doc__ as package_doc
from runyard.api import errors as api_errors
from runyard.api import openapi, rate_limits
from runyard.api import operations as operations_api
from runyard.api.status_polls import StatusPolls
from runyard.api.tracing import TraceIdMiddleware
from runyard.api.v1 import audit as audit_api
from runyard.api.v1 import cells as cells_api
from runyard.api.v1 import collections as collections_api
from runyard.api.v1 import data_connections as connections_api
from runyard.api.v1 import embedding as embedding_api
from runyard.api.v1 import groups as groups_api
from runyard.api.v1 import project_sharing as project_sharing_api
from runyard.api.v1 import projects as projects_api
from runyard.api.v1 import queried_tables as queried_tables_api
from runyard.api.v1 import runs as runs_api
from runyard.api.v1 import schedules as schedules_api
from runyard.api.v1 import tokens as tokens_api
from runyard.api.v1 import users as users_api
from runyard.api.v1 import views as views_api
from runyard.api.verifications import Verifications
from runyard.auth.keys import load_or_create_secret_key, workspace_id
from runyard.auth.secrets import SecretBox
from runyard.config import ExecutorKind, KernelNetwork, Settings
from runyard.errors import RunyardError
from runyard.executor.base import Executor
from runyard.executor.local import LocalExecutor
from runyard.kernel.results import KernelLimits
from runyard.kernel.sandbox import KernelSandbox, sandbox_for
from runyard.notify.base import Channel
from runyard.notify.email import EmailChannel, SmtpSettings
from runyard.notify.slack import SlackChannel
from runyard.scheduler.loop import Scheduler
from runyard.services.audit import AuditLog
from runyard.services.cells import CellService
from runyard.services.collections import CollectionService
from runyard.services.connections import ConnectionService
from runyard.services.container import Services
from runyard.services.embedding import EmbeddingService
from runyard.services.execution import (
    ExecutionService,
    ExecutionSettings,
    worker_is_alive,
    worker_prefix_of_this_host,
)
from runyard.services.groups import GroupService
from runyard.services.identity import Bootstrap, IdentityService
from runyard.services.notifications import NotificationService
from runyard.services.operations import (
    HealthService,
    KernelCollector,
    SchedulerHeartbeat,
    StoreCollector,
)
from runyard.services.project_sharing import ProjectSharingService
from runyard.services.projects import ProjectService
from runyard.services.queried_tables import QueriedTableService
from runyard.services.retention import RetentionPolicy, RetentionService
from runyard.services.runs import RunLimits, RunService
from runyard.services.schedules import ScheduleService
from runyard.services.scheduling import SchedulingLimits, SchedulingService
from runyard.services.sql_cache import SqlCacheService
from runyard.services.tokens import TokenService
from runyard.services.users import UserService
from runyard.services.views import ViewService
from runyard.store.db import Database, upgrade, wait_until_migrated
from runyard.web import errors as web_errors
from runyard.web.routes import router as web_router
from runyard.worker.probes import ProbeServer

if TYPE_CHECKING:
    from runyard.executor.celery import BrokerSettings
    from runyard.worker.celery_app import Worker

# Celery and kombu are imported by the functions that need them: a server with the local
# executor (the default) never does, and does without their modules (about 8 MB).

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything one server process runs: the services plus its background machinery."""

    settings: Settings
    db: Database
    services: Services
    executor: Executor
    execution: ExecutionService
    scheduler: Scheduler
    health: HealthService
    heartbeat: SchedulerHeartbeat
    bootstrap: Bootstrap | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, *, scheduler: bool = True) -> None:
        """Recover from a previous crash, then start the executor and the scheduler loop."""
        now = utcnow()
        ended = self.services.runs.end_orphans(worker_prefix_of_this_host(), worker_is_alive, now)
        if ended:
            log.warning("ended %d run(s) left RUNNING by a previous server process", ended)
        if self.settings.executor is ExecutorKind.LOCAL:
            self.execution.start()  # this process runs the kernels: fill its pool
        self.executor.start()
        requeued = self.services.runs.ring_all_pending(now)
        if requeued:
            log.info("picked up %d pending run(s)", requeued)
        if scheduler:
            self.heartbeat.started()
            thread = threading.Thread(
                target=self.scheduler.run_forever,
                args=(self._stopping, self.settings.scheduler_interval_seconds),
                name="runyard-scheduler",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            # Long enough for the scheduler to wait out its notification delivery thread.
            thread.join(timeout=45)
        self.heartbeat.stopped()
        self.executor.stop()
        self.execution.stop()
        self.db.dispose()


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    if migrate:
        upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    key = load_or_create_secret_key(settings.secret_key, settings.home)
    identity = IdentityService(db, key, utcnow, settings.token_cache_seconds)
    projects = ProjectService(db, utcnow, settings.max_notebook_bytes)
    execution = _execution(settings, db, key)
    executor = _executor(settings, execution)
    notifications = _notifications(settings, db)
    runs = RunService(db, projects, executor, utcnow, _run_limits(settings), notifications)
    scheduling = SchedulingService(
        db,
        utcnow,
        scheduling_limits(settings),
        ring=executor.submit,
        cancel=executor.cancel,
    )
    services = Services(
        identity=identity,
        projects=projects,
        runs=runs,
        schedules=ScheduleService(db, projects, utcnow, notifications),
        views=ViewService(db, projects, utcnow),
        cells=CellService(db, projects, utcnow),
        queried_tables=QueriedTableService(db, projects, utcnow),
        embedding=EmbeddingService(
            db,
            projects,
            runs,
            identity,
            key,
            utcnow,
            settings.resolved_public_url,
            timedelta(seconds=settings.embed_results_lifetime_seconds),
        ),
        users=UserService(db, utcnow, workspace_id(key)),
        tokens=TokenService(db, key, utcnow, settings.max_personal_token_days),
        groups=GroupService(db, utcnow),
        collections=CollectionService(db, utcnow),
        project_sharing=ProjectSharingService(db, utcnow),
        connections=ConnectionService(db, SecretBox(key), utcnow),
        audit=AuditLog(db),
        public_url=settings.resolved_public_url,
        secret_key=key,
    )
    heartbeat = SchedulerHeartbeat()
    runtime = Runtime(
        settings=settings,
        db=db,
        services=services,
        executor=executor,
        execution=execution,
        scheduler=Scheduler(
            scheduling,
            runs,
            utcnow,
            notifications,
            heartbeat,
            build_retention(settings, db),
            build_sql_cache(settings, db),
        ),
        health=HealthService(
            db, broker_check(settings), heartbeat, scheduler_stale_after(settings)
        ),
        heartbeat=heartbeat,
    )
    runtime.bootstrap = identity.bootstrap(settings.admin_email, settings.bootstrap_token)
    return runtime


def build_scheduler(settings: Settings) -> tuple[Scheduler, Database]:
    """A scheduler on its own (`runyard scheduler`).

    With the local executor it fires due slots and leaves the runs to the processes that
    have an executor (`runyard serve`), whose upkeep rings them. With Celery it can reach the
    workers itself: it publishes the runs it fires to the broker at once and does the upkeep
    too (re-ringing lost runs, reaping runs whose worker died), so a deployment needs no
    `runyard serve` for schedules to run.
    """
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    if settings.executor is not ExecutorKind.CELERY:
        scheduling = SchedulingService(db, utcnow, scheduling_limits(settings), None, None)
        retention = build_retention(settings, db)
        notifications = _notifications(settings, db)
        sql_cache = build_sql_cache(settings, db)
        return Scheduler(scheduling, None, utcnow, notifications, None, retention, sql_cache), db
    from runyard.executor.celery import CeleryExecutor

    executor = CeleryExecutor(_broker(settings))
    projects = ProjectService(db, utcnow, settings.max_notebook_bytes)
    notifications = _notifications(settings, db)
    runs = RunService(db, projects, executor, utcnow, _run_limits(settings), notifications)
    scheduling = SchedulingService(
        db, utcnow, scheduling_limits(settings), ring=executor.submit, cancel=executor.cancel
    )
    retention = build_retention(settings, db)
    sql_cache = build_sql_cache(settings, db)
    return Scheduler(scheduling, runs, utcnow, notifications, None, retention, sql_cache), db


def build_retention(settings: Settings, db: Database) -> RetentionService:
    """The retention policy of the settings, on `db` (the scheduler and `runyard runs prune`)."""
    policy = RetentionPolicy(
        days=settings.retention_days,
        keep_last_runs=settings.retention_keep_last_runs,
        batch_size=settings.retention_batch_size,
    )
    return RetentionService(db, utcnow, policy)


def build_sql_cache(settings: Settings, db: Database) -> SqlCacheService:
    """The SQL result cache on `db`, bounded as the settings say (workers and upkeep)."""
    return SqlCacheService(db, utcnow, int(settings.sql_cache_max_mb * 1024 * 1024))


def broker_check(settings: Settings) -> Callable[[], bool] | None:
    """For readiness: whether the Celery broker accepts a connection now; None with the
    local executor, which needs no broker."""
    if settings.executor is not ExecutorKind.CELERY:
        return None
    url = settings.broker_url

    def reachable() -> bool:
        from kombu.connection import Connection as BrokerConnection

        with BrokerConnection(url, connect_timeout=3) as connection:  # type: ignore[no-untyped-call]
            # One quick try: a readiness probe must answer within the prober's timeout.
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5)
        return True

    return reachable


def scheduler_stale_after(settings: Settings) -> float:
    """Seconds without a finished tick after which the scheduler loop counts as stalled."""
    return max(60.0, 10 * settings.scheduler_interval_seconds)


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    """This server's own collectors: the store's figures, and its kernel pool if it runs
    kernels (with the local executor)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(runtime.db))
    pool = runtime.execution.pool
    if runtime.settings.executor is ExecutorKind.LOCAL:
        registry.register(KernelCollector(lambda: pool.idle_count if pool is not None else 0))
    return registry


def scheduling_limits(settings: Settings) -> SchedulingLimits:
    return SchedulingLimits(
        misfire_grace_seconds=settings.schedule_misfire_grace_seconds,
        catch_up_limit=settings.schedule_catch_up_limit,
        run_timeout_seconds=settings.run_timeout_seconds,
    )


def build_worker(settings: Settings) -> Worker:
    """A Celery worker (`runyard worker`) on the store that `runyard serve` migrates.

    Workers never migrate: many of them start at once, and a new worker must not change the
    schema under running API servers. One waits instead until the store is at the revision
    it was built for (`runyard serve` or `runyard migrate` upgrades it).
    """
    assert settings.executor is ExecutorKind.CELERY
    from runyard.executor.celery import CeleryExecutor
    from runyard.worker.celery_app import Worker, create_worker_app

    wait_until_migrated(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    # Workers open data-connection secrets for SQL cells: they share the server's key.
    execution = _execution(
        settings, db, load_or_create_secret_key(settings.secret_key, settings.home)
    )
    broker = _broker(settings)
    executor = CeleryExecutor(broker)
    projects = ProjectService(db, utcnow, settings.max_notebook_bytes)
    return Worker(
        celery=create_worker_app(broker, execution),
        broker=broker,
        execution=execution,
        runs=RunService(db, projects, executor, utcnow, _run_limits(settings)),
        executor=executor,
        db=db,
        concurrency=settings.max_concurrent_kernels,
        log_level=settings.log_level,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


def worker_probes(settings: Settings, worker: Worker) -> ProbeServer | None:
    """The worker's `/healthz`, `/readyz` and `/metrics` server, if a port is set for it."""
    if settings.worker_probe_port is None:
        return None
    registry = CollectorRegistry(auto_describe=False)
    pool = worker.execution.pool
    registry.register(KernelCollector(lambda: pool.idle_count if pool is not None else 0))
    token = settings.metrics_token
    return ProbeServer(
        settings.host,
        settings.worker_probe_port,
        HealthService(worker.db, broker_check(settings)),
        registry,
        token.get_secret_value() if token is not None else None,
    )


def _execution(settings: Settings, db: Database, key: bytes) -> ExecutionService:
    return ExecutionService(
        db,
        utcnow,
        ExecutionSettings(
            lease_seconds=settings.lease_seconds,
            allocation_timeout_seconds=settings.kernel_allocation_timeout_seconds,
            kernel_name=settings.kernel_name,
            sql_row_limit=settings.sql_row_limit,
            # 0 means no limit of its own; the kernel runner says so with None.
            sql_query_timeout_seconds=settings.sql_query_timeout_seconds or None,
            limits=kernel_limits(settings),
            pool_size=kernel_pool_size(settings),
            max_artifact_bytes=int(settings.max_artifact_mb * 1024 * 1024) or None,
        ),
        SecretBox(key),
        kernel_sandbox(settings),
        build_sql_cache(settings, db),
    )


def kernel_limits(settings: Settings) -> KernelLimits:
    """The settings' limits for each run's kernel; a setting of 0 means no limit."""
    megabyte = 1024 * 1024
    return KernelLimits(
        memory_mb=settings.kernel_memory_limit_mb or None,
        max_processes=settings.kernel_max_processes or None,
        max_files_mb=settings.kernel_max_files_mb or None,
        max_cell_output_bytes=int(settings.cell_output_limit_mb * megabyte) or None,
        max_run_output_bytes=int(settings.run_output_limit_mb * megabyte) or None,
    )


def kernel_pool_size(settings: Settings) -> int:
    if settings.kernel_pool_size is not None:
        return settings.kernel_pool_size
    return min(settings.max_concurrent_kernels, os.cpu_count() or 1)


def kernel_sandbox(settings: Settings) -> KernelSandbox:
    """The sandbox the settings ask for. Raises SandboxUnavailable if `bwrap` was asked for
    and cannot work here; warns (once per process) if `auto` falls back to none."""
    hidden = [settings.home]
    if settings.database_url is None or settings.database_url.startswith("sqlite"):
        database = make_url(settings.resolved_database_url).database
        if database:
            hidden.append(Path(database).parent)
    network = settings.kernel_network is KernelNetwork.HOST
    sandbox, warning = sandbox_for(settings.kernel_sandbox.value, hidden, network=network)
    if warning is not None:
        _warn_once(warning)
    return sandbox


@functools.cache
def _warn_once(message: str) -> None:
    log.warning(message)


def notification_channels(settings: Settings) -> dict[str, Channel]:
    """The channels the settings configure, by name; a channel without settings is absent
    and triggers that ask for it are refused."""
    channels: dict[str, Channel] = {}
    if settings.smtp_host:
        password = settings.smtp_password
        channels["email"] = EmailChannel(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username,
                password=password.get_secret_value() if password is not None else None,
                starttls=settings.smtp_starttls,
            )
        )
    if settings.slack_bot_token is not None:
        channels["slack"] = SlackChannel(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url
        )
    return channels


def _notifications(settings: Settings, db: Database) -> NotificationService:
    return NotificationService(
        db, utcnow, notification_channels(settings), settings.resolved_public_url
    )


def _run_limits(settings: Settings) -> RunLimits:
    return RunLimits(
        default_timeout_seconds=settings.run_timeout_seconds,
        allocation_timeout_seconds=settings.kernel_allocation_timeout_seconds,
    )


def _broker(settings: Settings) -> BrokerSettings:
    assert settings.broker_url is not None  # Settings refuses the celery executor without
    from runyard.executor.celery import LONGEST_PROJECT_RUN_SECONDS, BrokerSettings

    return BrokerSettings(
        url=settings.broker_url,
        queue=settings.broker_queue,
        allocation_timeout_seconds=settings.kernel_allocation_timeout_seconds,
        longest_run_seconds=max(settings.run_timeout_seconds, LONGEST_PROJECT_RUN_SECONDS),
    )


def _executor(settings: Settings, execution: ExecutionService) -> Executor:
    if settings.executor is ExecutorKind.CELERY:
        from runyard.executor.celery import CeleryExecutor

        # Runs go to `runyard worker` processes; this process runs no kernels.
        return CeleryExecutor(_broker(settings))
    return LocalExecutor(
        execution.execute, settings.max_concurrent_kernels, settings.shutdown_grace_seconds
    )


def _unconfined_kernels_warning(runtime: Runtime) -> str:
    if runtime.settings.executor is not ExecutorKind.LOCAL or runtime.execution.sandboxed:
        return ""
    return (
        "\n\n**Warning: this server runs notebooks without a sandbox** "
        f"(RUNYARD_KERNEL_SANDBOX={runtime.settings.kernel_sandbox.value}): a notebook can read "
        "what the server's user can read, its store and secret key included. See "
        "docs/security.md."
    )


def _error_response(request: Request, error: Exception) -> Response:
    """One handler table per app: web pages answer errors in HTML, the API in JSON."""
    if web_errors.handles(request):
        return web_errors.response_for(request, error)
    return api_errors.response_for(request, error)


def create_app(runtime: Runtime, *, background: bool = True) -> FastAPI:
    """The ASGI app. With `background`, its lifespan starts and stops the runtime."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if background:
            runtime.start()
        try:
            yield
        finally:
            if background:
                runtime.stop()

    app = FastAPI(
        title="Runyard",
        version="0.1.0",
        description=(package_doc or "")
        + "\n\nServes Hex's API v1 under `/api/v1`, plus Runyard's extensions."
        + _unconfined_kernels_warning(runtime),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.services = runtime.services
    app.state.verifications = Verifications(runtime.services.identity)
    app.state.runtime = runtime
    metrics_on = runtime.settings.metrics_enabled
    token = runtime.settings.metrics_token
    app.state.operations = operations_api.Operations(
        health=runtime.health,
        registry=metrics_registry(runtime) if metrics_on else None,
        metrics_token=token.get_secret_value() if token is not None else None,
    )
    for kind in (RunyardError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _error_response)
    # Innermost: the polls it answers get the trace id, metrics and quota headers too.
    app.add_middleware(
        StatusPolls,
        services=runtime.services,
        verifications=app.state.verifications,
        counted=any(
            rate_limits.counted(runtime.settings, "GET", path) for path in runs_api.status_paths()
        ),
    )
    app.add_middleware(rate_limits.QuotaHeaders)
    app.add_middleware(TraceIdMiddleware)
    if metrics_on:
        app.add_middleware(operations_api.HttpMetrics)
    # Hex's per-token limits cover every API route; the web UI is not rate limited.
    limited = rate_limits.dependencies(runtime.settings)
    app.include_router(projects_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(runs_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(schedules_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(views_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(cells_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(queried_tables_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(embedding_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(users_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(tokens_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(groups_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(collections_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(project_sharing_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(connections_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(audit_api.router, prefix="/api/v1", dependencies=limited)
    app.include_router(operations_api.router)
    app.include_router(web_router)
    openapi.install(app)
    return app
