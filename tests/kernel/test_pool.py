"""The kernel pool: started kernels, each handed to one run only, never a dead one, and
stopped runs' process trees killed as without the pool. In the sandbox where bubblewrap
works here, unconfined as well."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runyard.kernel.pool import KernelPool
from runyard.kernel.runner import (
    KernelControl,
    KernelJob,
    KernelLimits,
    RunOutcome,
    kernel_environment,
    run_notebook,
)
from runyard.kernel.sandbox import KernelSandbox, NoSandbox, sandbox_for

pytestmark = [pytest.mark.kernel]

NotebookFactory = Callable[..., dict[str, Any]]


def _sandboxes() -> list[Any]:
    bwrap, warning = sandbox_for("auto")
    sandboxed = pytest.param(
        bwrap,
        id="bwrap",
        marks=pytest.mark.skipif(warning is not None, reason=f"no sandbox here: {warning}"),
    )
    return [sandboxed, pytest.param(NoSandbox(), id="none")]


@pytest.fixture(params=_sandboxes())
def pool(request: pytest.FixtureRequest) -> Iterator[KernelPool]:
    sandbox: KernelSandbox = request.param
    kernels = KernelPool(sandbox, "python3", KernelLimits(), kernel_environment({}), size=1)
    kernels.start()
    assert kernels.wait_until_full(60), "the pool never filled"
    yield kernels
    kernels.stop()


def _run(pool: KernelPool, nb: dict[str, Any], **job: Any) -> tuple[Any, int]:
    pids: list[int] = []
    result = run_notebook(
        KernelJob(nb, {}, **job), on_kernel_started=pids.append, sandbox=pool.sandbox, pool=pool
    )
    return result, pids[0]


def _stdout(result: Any, cell: int) -> str:
    return "".join(o.get("text", "") for o in result.executed_notebook["cells"][cell]["outputs"])


def test_consecutive_runs_never_share_a_kernel(
    pool: KernelPool, make_notebook: NotebookFactory
) -> None:
    first, first_pid = _run(pool, make_notebook("secret = 42\nprint('set')"))
    assert pool.wait_until_full(60)
    second, second_pid = _run(
        pool, make_notebook("print('defined' if 'secret' in globals() else 'undefined')")
    )

    assert (first.outcome, second.outcome) == (RunOutcome.COMPLETED, RunOutcome.COMPLETED)
    assert "taken from the pool" in first.log and "taken from the pool" in second.log
    assert first_pid != second_pid
    assert _stdout(second, 0).strip() == "undefined"


def test_a_pooled_kernel_gets_the_runs_environment(
    pool: KernelPool, make_notebook: NotebookFactory
) -> None:
    result, _ = _run(
        pool,
        make_notebook("import os; print(os.environ['RUNYARD_RUN_ID'])"),
        extra_env={"RUNYARD_RUN_ID": "run-7"},
    )

    assert "taken from the pool" in result.log
    assert _stdout(result, 0).strip() == "run-7"


def test_a_pooled_kernel_killed_while_idle_is_never_handed_out(
    pool: KernelPool, make_notebook: NotebookFactory
) -> None:
    idle = pool._idle[0]  # the one idle kernel
    assert idle.pid is not None
    os.killpg(idle.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while idle.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.02)

    result, pid = _run(pool, make_notebook("print('ran')"))

    assert result.outcome is RunOutcome.COMPLETED
    assert pid != idle.pid
    assert _stdout(result, 0).strip() == "ran"


@pytest.mark.parametrize("stop", ["cancel", "timeout"])
def test_a_stopped_pooled_run_has_its_whole_process_group_killed(
    pool: KernelPool, make_notebook: NotebookFactory, stop: str
) -> None:
    nb = make_notebook(
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        "print('child started', flush=True)\n"
        "time.sleep(600)"
    )
    control = KernelControl()
    pids: list[int] = []
    seen = threading.Event()

    def on_log(line: str) -> None:
        if "child started" in line:
            seen.set()
            if stop == "cancel":
                control.cancel()

    result = run_notebook(
        KernelJob(nb, {}, timeout_seconds=None if stop == "cancel" else 3),
        control,
        on_kernel_started=pids.append,
        on_log=on_log,
        sandbox=pool.sandbox,
        pool=pool,
    )

    assert seen.is_set()
    assert "taken from the pool" in result.log
    expected = RunOutcome.KILLED if stop == "cancel" else RunOutcome.TIMED_OUT
    assert result.outcome is expected
    assert _living_members_of_group(pids[0]) == []


def _living_members_of_group(pgid: int) -> list[int]:
    """Processes of group `pgid` that are not dead (a zombie waiting for init is)."""
    living = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            living.append(int(name))
    return living
