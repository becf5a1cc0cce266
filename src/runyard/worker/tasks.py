"""What a `runyard worker` process does with a message: execute the run it names.

The worker's pool is threads (see celery_app.py), so the tasks and the remote-control
commands live in one process: the cancel broadcast, answered in the worker's main thread,
reaches the kernel of a run executing in a pool thread through the registry below.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.exceptions import Reject
from celery.worker.control import control_command

from runyard.executor.celery import CANCEL_RUN_COMMAND, EXECUTE_RUN_TASK
from runyard.kernel.runner import KernelControl

log = logging.getLogger(__name__)

RunFunction = Callable[[str, KernelControl], object]


class WorkerClosing(Exception):
    """The worker is shutting down and starts no more runs."""


class RunningRuns:
    """The kernel controls of the runs this process is executing, by run id.

    A run id may be registered twice at once: the broker may deliver a duplicate message
    while the first is executing. Only one of them wins the claim; a cancel stops both, and
    stopping the one that lost changes nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._none_running = threading.Condition(self._lock)
        self._controls: dict[str, list[KernelControl]] = {}
        self._closed = False

    @contextmanager
    def register(self, run_id: str) -> Iterator[KernelControl]:
        """Hold a fresh control for `run_id` while the block runs; raise WorkerClosing once
        `close` was called."""
        control = KernelControl()
        with self._lock:
            if self._closed:
                raise WorkerClosing
            self._controls.setdefault(run_id, []).append(control)
        try:
            yield control
        finally:
            with self._lock:
                controls = self._controls[run_id]
                controls.remove(control)
                if not controls:
                    del self._controls[run_id]
                if not self._controls:
                    self._none_running.notify_all()

    def cancel(self, run_id: str) -> bool:
        """Kill the run's kernel if this process executes it; whether it does."""
        with self._lock:
            controls = list(self._controls.get(run_id, ()))
        for control in controls:
            control.cancel()
        return bool(controls)

    def close(self, grace_seconds: float = 0.0) -> int:
        """Refuse new runs, give the running ones `grace_seconds` to finish, then kill the
        kernels of those still running (at shutdown); return how many were killed."""
        deadline = time.monotonic() + grace_seconds
        with self._lock:
            self._closed = True
            while self._controls and (left := deadline - time.monotonic()) > 0:
                self._none_running.wait(left)
            controls = [c for group in self._controls.values() for c in group]
            count = len(self._controls)
        for control in controls:
            control.cancel()
        return count


# One registry per worker process, like Celery's own registry of control commands: the
# command below is registered process-wide and must find the runs of this process.
RUNNING = RunningRuns()


def _cancel_run(state: Any, run_id: str) -> dict[str, str]:
    """Kill the kernel of `run_id` if this worker executes it (the cancel prompt)."""
    if RUNNING.cancel(run_id):
        log.info("cancel of run %s received: killed its kernel", run_id)
        return {"ok": "killed"}
    return {"ok": "not here"}


def register_tasks(app: Celery, execute: RunFunction) -> None:
    """Register the run task on `app` and the cancel command in this process."""
    control_command(args=[("run_id", str)], signature="<run_id>", name=CANCEL_RUN_COMMAND)(
        _cancel_run
    )

    def execute_run(run_id: str) -> None:
        try:
            with RUNNING.register(run_id) as control:
                # Returns at once, doing nothing, if another worker claimed the run (a
                # duplicate message) or it is no longer PENDING: the store decides.
                execute(run_id, control)
        except WorkerClosing:
            # Shutting down: leave the run PENDING and its message to another worker.
            raise Reject("the worker is shutting down", requeue=True) from None

    app.task(name=EXECUTE_RUN_TASK, ignore_result=True)(execute_run)
