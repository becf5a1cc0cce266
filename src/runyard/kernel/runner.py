"""Run a notebook in a fresh kernel and report what happened, whatever happens.

The runner takes plain values and returns plain values: it knows nothing of HTTP or of a
database, so it runs the same in a server thread and in a Celery worker. Each call runs its
own asyncio event loop in the calling thread, so concurrent runs in several threads of one
process share nothing but the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nbformat
from nbformat import NotebookNode

from runyard.kernel.control import Deadline, KernelControl, StopRequest
from runyard.kernel.execution import (
    CellFailedError,
    KernelDiedError,
    NotebookExecution,
    UnsupportedCellError,
)
from runyard.kernel.parameters import inject_parameters
from runyard.kernel.pool import KernelPool
from runyard.kernel.process import GRACEFUL_SHUTDOWN_SECONDS, KernelProcess
from runyard.kernel.results import CellError, KernelJob, KernelLimits, KernelResult, RunOutcome
from runyard.kernel.runlog import RunLog
from runyard.kernel.sandbox import KernelSandbox, NoSandbox
from runyard.kernel.sql_cache import SqlCache
from runyard.kernel.watch import ResourceWatch, memory_limit_reason

__all__ = [
    "CellError",
    "KernelControl",
    "KernelJob",
    "KernelLimits",
    "KernelResult",
    "RunOutcome",
    "run_notebook",
]

logger = logging.getLogger(__name__)

# How long a fresh kernel may take to answer its first request. Start-up is mostly imports
# (1-2 s); a loaded machine can take far longer, and the run's deadline bounds it anyway.
KERNEL_STARTUP_SECONDS = 120.0


def run_notebook(
    job: KernelJob,
    control: KernelControl | None = None,
    on_kernel_started: Callable[[int], None] | None = None,
    on_log: Callable[[str], None] | None = None,
    *,
    sandbox: KernelSandbox | None = None,
    pool: KernelPool | None = None,
    sql_cache: SqlCache | None = None,
) -> KernelResult:
    """Execute `job` in a fresh kernel and return the result; block until the run is over.

    Never raises because of the notebook, the kernel or the callbacks: each failure is an
    ERRORED outcome with a reason. When it returns, the kernel process and every process in
    its group are dead and the kernel is reaped, the temporary working directory (if the job
    named none) is removed, and every socket is closed.

    `control` lets another thread cancel the run. `on_kernel_started(pid)` is called in
    this thread as soon as the kernel process exists. `on_log(line)` gets each log line as
    it is written, in this thread.

    The kernel runs in `sandbox` (none: an unconfined process with limits only), within
    `job.limits`. With a `pool` whose kernels fit the job (same kernel, limits, and no
    `job.cwd`), the run takes a pooled kernel if one is ready instead of starting one.
    SQL cells reuse and keep results through `sql_cache` (none: every SQL cell queries).

    Raises RuntimeError if called from a thread whose event loop is running (call it with
    `asyncio.to_thread` instead), or with a control that already served a run.
    """
    if _loop_is_running():
        raise RuntimeError(
            "run_notebook blocks until the run is over: call it from a thread without a"
            " running event loop (asyncio.to_thread, say)"
        )
    control = control if control is not None else KernelControl()
    log = RunLog(on_log)
    started_at = datetime.now(UTC)
    early_stop = control.attach()
    limit = "none" if job.timeout_seconds is None else f"{job.timeout_seconds:g}s"
    log.event(f"run started (kernel {job.kernel_name}, timeout {limit})")
    try:
        injected = inject_parameters(job.notebook, job.parameters)
        notebook = nbformat.from_dict(injected)  # type: ignore[no-untyped-call]  # no hints
    except (TypeError, ValueError) as exc:
        log.event(f"could not inject parameters: {exc}")
        verdict = _Verdict(RunOutcome.ERRORED, f"Could not inject parameters: {exc}")
        return _result(verdict, job.notebook, log, started_at)
    if early_stop is not None:
        log.event(f"stopping: {early_stop.reason} before the kernel started")
        verdict = _Verdict(early_stop.outcome, early_stop.reason)
        return _result(verdict, notebook, log, started_at)

    run = _Run(job, notebook, control, log, on_kernel_started, sql_cache)
    try:
        with contextlib.ExitStack() as stack:
            due = None
            if job.timeout_seconds is not None:
                due = stack.enter_context(Deadline(control, job.timeout_seconds)).due
            kernel = _pooled_kernel(job, pool)
            if kernel is None:
                kernel = KernelProcess(
                    job.kernel_name,
                    sandbox=sandbox if sandbox is not None else NoSandbox(),
                    limits=job.limits,
                    env=kernel_environment(job.extra_env),
                    work_dir=job.cwd,
                )
            verdict = asyncio.run(run.main(kernel, due))
    except Exception as exc:
        # Broad on purpose: the contract is an outcome, never an exception. _Run.main has
        # already disposed of the kernel in its own finally, whatever went wrong.
        logger.exception("kernel runner failed")
        log.event(f"internal error: {traceback.format_exc()}")
        verdict = _Verdict(RunOutcome.ERRORED, f"Internal error: {type(exc).__name__}: {exc}")
    return _result(verdict, notebook, log, started_at)


@dataclass(frozen=True)
class _Verdict:
    outcome: RunOutcome
    reason: str | None = None
    error: CellError | None = None
    # The kernel died by itself; how (exit code, signal) is known only once it is reaped.
    kernel_died: bool = False


class _Run:
    """One run's asynchronous part: start the kernel, execute, and always dispose of it."""

    def __init__(
        self,
        job: KernelJob,
        notebook: NotebookNode,
        control: KernelControl,
        log: RunLog,
        on_kernel_started: Callable[[int], None] | None,
        sql_cache: SqlCache | None = None,
    ) -> None:
        self._job = job
        self._sql_cache = sql_cache
        self._notebook = notebook
        self._control = control
        self._log = log
        self._on_kernel_started = on_kernel_started

    async def main(self, kernel: KernelProcess, due: float | None) -> _Verdict:
        """Run the job on `kernel` (launched already if it comes from a pool); return how it
        ended. `due` is when the run's deadline passes (time.monotonic()), if it has one."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        verdict: _Verdict | None = None
        stop: StopRequest | None = None
        try:
            # A stop (cancel or deadline) arrives from another thread, which has already
            # killed the kernel; this wakes us to abandon the work at once rather than wait
            # for nbclient to notice the dead kernel.
            def wake() -> None:
                loop.call_soon_threadsafe(stop_requested.set)

            self._control.set_waker(wake)
            work = asyncio.create_task(self._work(kernel, due))
            stopped = asyncio.create_task(stop_requested.wait())
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if work.done() and not work.cancelled():
                verdict = work.result()
        finally:
            # Also on the way out of an error or a cancellation of this very task (Ctrl-C):
            # nothing may keep running, or keep polling the kernel, while it is disposed of.
            await _cancel_other_tasks()
            stop = self._control.settle()
            if stop is not None:
                killed = "no kernel to kill" if kernel.pid is None else f"killed pid={kernel.pid}"
                self._log.event(f"stopping: {stop.reason}; {killed}")
            # Only a run that ended on its own, in a working directory that is kept, shuts its
            # kernel down politely, so that the files it writes are flushed. Otherwise the
            # working directory goes with the kernel: nothing is worth waiting for. A stopped
            # run was killed already, and after an error of ours there is nothing to save.
            graceful = stop is None and verdict is not None and self._job.cwd is not None
            await kernel.dispose(graceful=graceful)
            self._log_kernel_exit(kernel)
        if stop is not None:
            return _Verdict(stop.outcome, stop.reason)
        assert verdict is not None
        if verdict.kernel_died:
            reason = f"{verdict.reason}{_exit_detail(kernel.returncode)}"
            return _Verdict(RunOutcome.ERRORED, reason)
        return verdict

    async def _work(self, kernel: KernelProcess, due: float | None) -> _Verdict:
        log = self._log
        job = self._job
        pooled = kernel.pid is not None
        if pooled:
            pid = kernel.pid
        else:
            try:
                pid = await kernel.launch()
            except Exception as exc:
                log.event(f"could not start kernel: {exc}")
                return _Verdict(RunOutcome.ERRORED, f"Could not start kernel: {exc}")
        assert pid is not None
        self._control.kernel_launched(pid, kernel.kill_group)
        where = "sandboxed" if kernel.sandboxed else "not sandboxed"
        started = "taken from the pool" if pooled else "started"
        log.event(f"kernel {started} pid={pid} name={job.kernel_name} ({where}, {_limits(job)})")
        try:
            if self._on_kernel_started is not None:
                self._on_kernel_started(pid)
            try:
                client = await kernel.connect(KERNEL_STARTUP_SECONDS)
            except RuntimeError as exc:
                log.event(f"could not start kernel: {exc}")
                return _Verdict(RunOutcome.ERRORED, f"Could not start kernel: {exc}")
            log.event("kernel ready")
            execution = NotebookExecution(
                self._notebook,
                kernel.manager,
                client,
                log,
                exchange_dir=kernel.exchange_dir,
                connections=job.connections,
                sql_row_limit=job.sql_row_limit,
                sql_query_timeout=job.sql_query_timeout_seconds,
                sql_cache=self._sql_cache,
                run_due=due,
                cell_output_limit=job.limits.max_cell_output_bytes,
                run_output_limit=job.limits.max_run_output_bytes,
            )
            with ResourceWatch(self._control, pid, job.limits):
                if pooled and job.extra_env:
                    # A pooled kernel was started before its run was known.
                    await execution.set_environment(job.extra_env)
                await execution.run()
        except CellFailedError as exc:
            if exc.error.ename == "MemoryError" and job.limits.memory_mb is not None:
                # An allocation far past the limit fails at once (the data segment's
                # backstop, see sandbox.py), before the watch sees memory in use: the same
                # limit, the same reason.
                reason = f"{memory_limit_reason(job.limits)} (cell {exc.error.cell_index})"
                return _Verdict(RunOutcome.ERRORED, reason, exc.error)
            return _Verdict(RunOutcome.ERRORED, str(exc), exc.error)
        except KernelDiedError as exc:
            # Expected when we killed the kernel ourselves; the stop explains it then.
            if self._control.stop_requested is None:
                log.event(str(exc))
            return _Verdict(RunOutcome.ERRORED, str(exc), kernel_died=True)
        except UnsupportedCellError as exc:
            log.event(str(exc))
            return _Verdict(RunOutcome.ERRORED, str(exc))
        except Exception as exc:
            # Broad on purpose: a bug here or in nbclient must end the run as ERRORED with
            # its outputs so far, not escape into the worker.
            logger.exception("kernel run failed")
            log.event(f"internal error: {traceback.format_exc()}")
            return _Verdict(RunOutcome.ERRORED, f"Internal error: {type(exc).__name__}: {exc}")
        log.event("all cells finished")
        return _Verdict(RunOutcome.COMPLETED)

    def _log_kernel_exit(self, kernel: KernelProcess) -> None:
        if kernel.pid is None:
            return
        if kernel.ignored_shutdown_request:
            self._log.event(
                f"kernel did not shut down within {GRACEFUL_SHUTDOWN_SECONDS:g}s of being asked;"
                " killed it"
            )
        output = kernel.output_tail().strip()
        if output:
            self._log.event(f"kernel process output:\n{output}")
        self._log.event(f"kernel stopped pid={kernel.pid}{_exit_detail(kernel.returncode)}")


async def _cancel_other_tasks() -> None:
    """Cancel every task of this loop but the current one, and wait until they are done.

    nbclient leaves pollers behind when a cell is abandoned; they would otherwise keep
    polling (and reaping) the kernel while it is being disposed of.
    """
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    if others:
        await asyncio.wait(others)


def _loop_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _exit_detail(returncode: int | None) -> str:
    if returncode is None:
        return ""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f" (killed by {name})"
    return f" (exit code {returncode})"


def _pooled_kernel(job: KernelJob, pool: KernelPool | None) -> KernelProcess | None:
    fits = (
        pool is not None
        and job.cwd is None
        and job.kernel_name == pool.kernel_name
        and job.limits == pool.limits
    )
    return pool.take() if fits and pool is not None else None


def _limits(job: KernelJob) -> str:
    limits = job.limits
    parts = [
        "no memory limit" if limits.memory_mb is None else f"memory {limits.memory_mb} MB",
        "no process limit" if limits.max_processes is None else f"{limits.max_processes} processes",
        "no file limit" if limits.max_files_mb is None else f"files {limits.max_files_mb} MB",
    ]
    return ", ".join(parts)


def _result(
    verdict: _Verdict, notebook: Mapping[str, Any], log: RunLog, started_at: datetime
) -> KernelResult:
    ending = f"run ended: {verdict.outcome.value}"
    log.event(ending if verdict.reason is None else f"{ending} ({verdict.reason})")
    return KernelResult(
        outcome=verdict.outcome,
        executed_notebook=_plain(notebook),
        log=log.text(),
        error=verdict.error,
        reason=verdict.reason,
        started_at=started_at,
        ended_at=datetime.now(UTC),
    )


def _plain(value: Any) -> Any:
    """Return `value` with every mapping (NotebookNode included) turned into a plain dict
    and every list copied, so the result shares nothing with the runner's state."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# The server's own settings (secret key, bootstrap token, database URL) must never be
# readable from a notebook, which runs arbitrary user code.
_PRIVATE_PREFIXES = ("RUNYARD_",)


def kernel_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment minus Runyard's own settings, plus `extra`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
    return {**inherited, **extra}
