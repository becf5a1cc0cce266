"""Local executor: a fixed number of threads, each running one run (one kernel) at a time.

The kernel itself is a separate, spawned process; the thread only drives it over ZeroMQ, so
the server stays responsive while notebooks compute. The pool size is the kernel limit of
this machine: a run queued here waits for a slot, and the allocation timeout (enforced at
claim time and by the scheduler's reaper) ends it if none frees up.

Stopping drains: runs still waiting for a slot are let go (they stay PENDING in the store,
for the next process to take), running ones get a grace period to finish, and only those
still running after it have their kernels killed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from runyard.kernel.runner import KernelControl

log = logging.getLogger(__name__)

RunFunction = Callable[[str, KernelControl], object]

_STOP = ""


class LocalExecutor:
    def __init__(
        self, run: RunFunction, max_concurrent: int, shutdown_grace_seconds: float = 0.0
    ) -> None:
        self._run = run
        self._size = max_concurrent
        self._grace = shutdown_grace_seconds
        self._queue: queue.Queue[str] = queue.Queue()
        self._queued: set[str] = set()
        self._controls: dict[str, KernelControl] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self._size):
            thread = threading.Thread(
                target=self._work, name=f"runyard-kernel-slot-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Let waiting runs go, give running ones the grace period, then kill what still
        runs and stop the slots. A killed run ends ERRORED ("the worker shut down")."""
        with self._lock:
            self._stopping = True
            # Not claimed yet, so still PENDING in the store: the next process to start (or
            # another one's upkeep) rings them again. Running them now would only kill them.
            for run_id in self._queued:
                self._controls.pop(run_id, None)
            self._queued.clear()
            if self._controls and self._grace > 0:
                log.info(
                    "shutting down: waiting up to %gs for %d running run(s) to finish "
                    "(RUNYARD_SHUTDOWN_GRACE_SECONDS)",
                    self._grace,
                    len(self._controls),
                )
            deadline = time.monotonic() + self._grace
            while self._controls and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)
            if self._controls:
                log.warning(
                    "shutting down: killing the kernels of %d run(s) still running",
                    len(self._controls),
                )
            for control in self._controls.values():
                control.cancel()
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def submit(self, run_id: str) -> None:
        with self._lock:
            # A re-rung doorbell for a run already waiting here would only queue a no-op. A
            # stopping executor takes nothing new: the run stays PENDING for the next process.
            if self._stopping or run_id in self._queued or run_id in self._controls:
                return
            self._queued.add(run_id)
            self._controls[run_id] = KernelControl()
        self._queue.put(run_id)

    def cancel(self, run_id: str) -> None:
        with self._lock:
            control = self._controls.get(run_id)
        if control is not None:
            control.cancel()

    @property
    def busy_slots(self) -> int:
        with self._lock:
            return len(self._controls) - len(self._queued)

    def _work(self) -> None:
        while True:
            run_id = self._queue.get()
            if run_id == _STOP:
                return
            with self._lock:
                control = self._controls.get(run_id)
                if run_id not in self._queued or control is None:
                    continue  # let go by stop()
                self._queued.discard(run_id)
            try:
                self._run(run_id, control)
            except Exception:
                # The slot must survive any one run's failure; the run itself is ended by
                # the reaper when its lease lapses.
                log.exception("run %s failed inside the executor", run_id)
            finally:
                with self._lock:
                    self._controls.pop(run_id, None)
                    self._idle.notify_all()
