"""`runyard worker`: a Celery worker that executes runs, one fresh kernel per run.

The pool is threads, not Celery's default prefork:
- A run's kernel is already a process of its own, spawned by jupyter_client in a new
  session; the pool thread only drives it over ZeroMQ and renews the lease, as the local
  executor's threads do inside `runyard serve`. Forked pool children would add nothing but
  a fork of a process that holds threads and sockets (kernels are spawned, never forked).
- The cancel broadcast is answered in the worker's main process. With threads, the run's
  KernelControl lives in that very process (tasks.RUNNING), so the prompt kills the kernel's
  process group directly; prefork children would be out of its reach.
- Celery's time limits, which need prefork, are not used: the kernel runner enforces each
  run's timeout itself.

Concurrency is RUNYARD_MAX_CONCURRENT_KERNELS. With prefetch 1 and late acks (see
runyard.executor.celery) the worker holds exactly the messages it is executing.

Shutdown (SIGTERM, SIGINT) is Celery's warm shutdown, plus what `runyard serve` does:
running runs get RUNYARD_SHUTDOWN_GRACE_SECONDS to finish, then the kernels of those still
running are killed, so those runs end ERRORED ("the worker shut down"), and their messages
are acknowledged; messages not yet started go back to the broker for another worker. A
second SIGINT, or SIGQUIT, is Celery's cold shutdown.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from celery import Celery, bootsteps, signals

from runyard.executor.celery import BrokerSettings, CeleryExecutor, celery_app
from runyard.services.execution import (
    ExecutionService,
    worker_is_alive,
    worker_prefix_of_this_host,
)
from runyard.services.runs import RunService
from runyard.store.db import Database
from runyard.worker.tasks import RUNNING, register_tasks

log = logging.getLogger(__name__)


def create_worker_app(broker: BrokerSettings, execution: ExecutionService) -> Celery:
    """The Celery app of a worker: the executor's configuration plus the run task."""
    app = celery_app(broker)
    register_tasks(app, execution.execute)
    app.steps["consumer"].add(_WakeEverySecond)
    return app


# Celery's types are not checked (no stubs); the base is Any to mypy.
class _WakeEverySecond(bootsteps.StartStopStep):  # type: ignore[misc]
    """A timer that wakes the worker's event loop every second.

    The loop notices a shutdown request only when it wakes, and with RabbitMQ, idle, it
    sleeps up to ten seconds (the Redis transport polls every second anyway): a SIGTERM
    would keep the process around that much longer, after its kernels are already dead.
    """

    def __init__(self, parent: Any, **options: Any) -> None:
        super().__init__(parent, **options)
        self._entry: Any = None

    def start(self, parent: Any) -> None:
        self._entry = parent.timer.call_repeatedly(1.0, _nothing)

    def stop(self, parent: Any) -> None:
        if self._entry is not None:
            self._entry.cancel()
            self._entry = None


def _nothing() -> None:
    """A timer's callback whose only effect is that the loop woke."""


@dataclass
class Worker:
    """One `runyard worker` process, wired by `runyard.app.build_worker`."""

    celery: Celery
    broker: BrokerSettings
    execution: ExecutionService
    runs: RunService
    executor: CeleryExecutor
    db: Database
    concurrency: int
    log_level: str
    shutdown_grace_seconds: float = 0.0

    @property
    def node_name(self) -> str:
        # One Celery node per process: two workers on one host must not share a name, or
        # they would share one remote-control queue and a cancel would reach only one.
        return f"runyard-{os.getpid()}@{socket.gethostname()}"

    def run(self) -> int:
        """Execute runs until told to stop; return the process's exit code."""
        ended = self.runs.end_orphans(
            worker_prefix_of_this_host(), worker_is_alive, self.runs.now()
        )
        if ended:
            log.warning("ended %d run(s) left RUNNING by a previous process on this host", ended)
        signals.worker_shutting_down.connect(self._drain, weak=False)
        worker = self.celery.Worker(
            hostname=self.node_name,
            pool_cls="threads",
            concurrency=self.concurrency,
            queues=[self.broker.queue],
            loglevel=self.log_level.upper(),
            # No worker-to-worker chatter: the database coordinates Runyard's workers.
            without_gossip=True,
            without_mingle=True,
            without_heartbeat=True,
        )
        log.info("runyard worker %s (runs claimed as %s)", self.node_name, self.execution.worker_id)
        self.execution.start()
        try:
            worker.start()
        finally:
            signals.worker_shutting_down.disconnect(self._drain)
            self.executor.stop()
            self.execution.stop()
            self.db.dispose()
        exitcode: int = worker.exitcode or 0
        return exitcode

    def _drain(self, **_signal: Any) -> None:
        # Called from Celery's signal handler, in the main thread, which may be holding a
        # lock the cancel needs (a control command runs there too): drain from a thread of
        # its own. Celery's warm shutdown then waits for the runs' tasks to return.
        threading.Thread(
            target=_close, args=(self.shutdown_grace_seconds,), name="runyard-shutdown", daemon=True
        ).start()


def _close(grace_seconds: float) -> None:
    count = RUNNING.close(grace_seconds)
    if count:
        log.warning("shutting down: killed the kernels of %d running run(s)", count)
