"""The executor is a doorbell: the database holds the run, the executor is told to look.

Two real implementations: `local` (a bounded pool of threads in this process tree, each
driving one kernel process) and `celery` (workers on other machines, via a broker).
"""

from __future__ import annotations

from typing import Protocol


class Executor(Protocol):
    def submit(self, run_id: str) -> None:
        """Ask for the run to be executed. May be called more than once for the same run:
        the worker's compare-and-set claim makes every call after the first a no-op."""

    def cancel(self, run_id: str) -> None:
        """Best-effort prompt to stop a run now; the `cancel_requested` flag in the store is
        the reliable signal, polled by the owner's heartbeat."""

    def start(self) -> None: ...

    def stop(self) -> None: ...
