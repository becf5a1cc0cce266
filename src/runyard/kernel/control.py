"""Stopping a run from outside it: a cancel from another thread, or its deadline passing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from runyard.kernel.results import RunOutcome


@dataclass(frozen=True)
class StopRequest:
    """Why a run is being stopped, and the outcome it will report."""

    outcome: RunOutcome
    reason: str


class KernelControl:
    """Thread-safe handle for a job that is running (or about to run) in another thread.

    One control serves one run. The first stop request wins (a cancel, or the deadline);
    once the run has settled its outcome, later requests change nothing.
    """

    def __init__(self) -> None:
        # Guards every field below. Killing happens under it too, so that the runner,
        # which settles under this lock before reaping the kernel, never has its kernel's
        # pid freed (and perhaps reused) between our decision to kill and the kill itself.
        self._lock = threading.Lock()
        self._attached = False
        self._settled = False
        self._stop: StopRequest | None = None
        self._pid: int | None = None
        self._kill: Callable[[], None] | None = None
        self._wake: Callable[[], None] | None = None

    def cancel(self) -> None:
        """Ask to stop: kill the kernel process tree at once; the run then reports KILLED.

        Before the kernel has started, the run reports KILLED without starting one (or
        kills it as soon as it has started). Returns immediately, without waiting for the run
        to end. No effect on a run that has already settled its outcome.
        """
        self.request_stop(StopRequest(RunOutcome.KILLED, "Cancelled"))

    @property
    def kernel_pid(self) -> int | None:
        """The pid of the run's kernel process once started (it stays set afterwards)."""
        with self._lock:
            return self._pid

    @property
    def stop_requested(self) -> StopRequest | None:
        """The stop that took effect, if any so far."""
        with self._lock:
            return self._stop

    # The runner's side. These are for run_notebook and its deadline, not for callers.

    def request_stop(self, request: StopRequest) -> bool:
        """Record `request` and kill the kernel, unless a stop was already requested or
        the run has settled; return whether this request was the one that took effect."""
        with self._lock:
            if self._stop is not None or self._settled:
                return False
            self._stop = request
            if self._kill is not None:
                self._kill()
            if self._wake is not None:
                self._wake()
            return True

    def attach(self) -> StopRequest | None:
        """Claim this control for one run; return the stop requested before the run began.

        Raises RuntimeError if the control was already used for a run.
        """
        with self._lock:
            if self._attached:
                raise RuntimeError("A KernelControl serves one run only")
            self._attached = True
            return self._stop

    def set_waker(self, wake: Callable[[], None] | None) -> None:
        """Have `wake` called (from any thread) when a stop is requested; None to clear."""
        with self._lock:
            self._wake = wake
            if wake is not None and self._stop is not None:
                wake()

    def kernel_launched(self, pid: int, kill: Callable[[], None]) -> None:
        """Record the kernel's pid and how to kill it; kill it now if a stop came first."""
        with self._lock:
            self._pid = pid
            self._kill = kill
            if self._stop is not None and not self._settled:
                kill()

    def settle(self) -> StopRequest | None:
        """End the window in which a stop can take effect; return the stop, if any.

        After this the kill function is never called again, so the runner may reap the
        kernel.
        """
        with self._lock:
            self._settled = True
            self._kill = None
            self._wake = None
            return self._stop


class Deadline:
    """While entered, requests a TIMED_OUT stop once `seconds` have passed since creation.

    A thread of its own (not a timer on the runner's event loop) so that it fires even if
    that loop is stuck; it waits on an Event, so leaving the block ends it at once.
    """

    def __init__(self, control: KernelControl, seconds: float) -> None:
        self._control = control
        self._seconds = seconds
        self._due = time.monotonic() + seconds
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="runyard-kernel-deadline", daemon=True
        )

    @property
    def due(self) -> float:
        """When the deadline passes, on the time.monotonic() clock."""
        return self._due

    def __enter__(self) -> Deadline:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        if not self._done.wait(max(0.0, self._due - time.monotonic())):
            reason = f"Run exceeded its timeout of {self._seconds:g}s"
            self._control.request_stop(StopRequest(RunOutcome.TIMED_OUT, reason))
