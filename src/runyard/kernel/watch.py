"""Watching a kernel's whole process tree against the run's memory and process limits.

Resource limits (prlimit) bound each process on its own; a notebook that starts many
processes could still use many times the memory limit together. A thread samples the tree
(the kernel, or its sandbox, and every descendant) a few times a second, and stops the run
with a reason as soon as the sum passes a limit.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

from runyard.kernel.control import KernelControl, StopRequest
from runyard.kernel.results import KernelLimits, RunOutcome

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
# Short enough that a notebook allocating as fast as it can gains little over the limit.
SAMPLE_SECONDS = 0.2


def memory_limit_reason(limits: KernelLimits) -> str:
    return f"The run exceeded its memory limit of {limits.memory_mb} MB"


def process_limit_reason(limits: KernelLimits) -> str:
    return f"The run exceeded its limit of {limits.max_processes} processes and threads"


def tree_usage(pid: int) -> tuple[int, int]:
    """(resident bytes, threads) of `pid` and all its descendants; (0, 0) once it is gone.

    One pass over /proc (a read of each process's stat): the kernels' `children` files
    are not built into every Linux, and a pass costs about 1.5 ms per 100 processes.
    """
    parents: dict[int, list[int]] = {}
    usage: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # Counted after the command name: 4 ppid, 20 num_threads, 24 rss (pages).
        parents.setdefault(int(fields[1]), []).append(int(name))
        usage[int(name)] = (int(fields[21]) * _PAGE_BYTES, int(fields[17]))
    resident = threads = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        process_resident, process_threads = usage.get(current, (0, 0))
        resident += process_resident
        threads += process_threads
        pending.extend(parents.get(current, ()))
    return resident, threads


class ResourceWatch:
    """While entered, stops the run (ERRORED, with the reason) when the kernel's process
    tree passes its memory or process limit."""

    def __init__(self, control: KernelControl, pid: int, limits: KernelLimits) -> None:
        self._control = control
        self._pid = pid
        self._limits = limits
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="runyard-kernel-watch", daemon=True
        )
        self.peak_resident_bytes = 0

    def __enter__(self) -> ResourceWatch:
        if self._limits.memory_mb is not None or self._limits.max_processes is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        limits = self._limits
        memory = None if limits.memory_mb is None else limits.memory_mb * 1024 * 1024
        while not self._done.wait(SAMPLE_SECONDS):
            resident, threads = tree_usage(self._pid)
            self.peak_resident_bytes = max(self.peak_resident_bytes, resident)
            reason = None
            if memory is not None and resident > memory:
                reason = memory_limit_reason(limits)
            elif limits.max_processes is not None and threads > limits.max_processes:
                reason = process_limit_reason(limits)
            if reason is not None:
                self._control.request_stop(StopRequest(RunOutcome.ERRORED, reason))
                return
