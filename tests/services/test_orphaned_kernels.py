"""A process starting on a host kills the kernels that dead processes on that host left
behind, whether their runs are still RUNNING or were ended by the reaper meanwhile, and
never a process that merely inherited a kernel's pid."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.cast import notebook, published_project

from runyard.app import Runtime
from runyard.domain.run_status import RunStatus
from runyard.kernel.orphans import is_kernel_process, remove_orphaned_runtime_dirs
from runyard.services.execution import worker_is_alive, worker_prefix_of_this_host
from runyard.store import runs as runs_store
from runyard.store.runs import RunRow

pytestmark = [pytest.mark.kernel]


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ipykernel leading its own process group, as the runner starts them."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "kernel.json")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not is_kernel_process(process.pid):
        assert time.monotonic() < deadline, "the kernel did not start"
        time.sleep(0.05)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def dead_worker() -> str:
    """The worker id of a process on this host that has exited."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return f"{worker_prefix_of_this_host()}{gone.pid}:deadbeef"


def add_run(
    runtime: Runtime,
    project_id: str,
    *,
    status: RunStatus,
    worker: str,
    kernel_pid: int,
    claimed_at: datetime,
) -> str:
    run_id = str(uuid.uuid4())
    with runtime.db.write() as session:
        session.add(
            RunRow(
                id=run_id,
                project_id=project_id,
                project_version=1,
                status=status.value,
                trigger="API",
                input_params={},
                options={},
                requested_by=None,
                token_id=None,
                trace_id=uuid.uuid4().hex,
                timeout_seconds=3600.0,
                created_at=claimed_at,
                rung_at=claimed_at,
                started_at=claimed_at,
                ended_at=None if status is RunStatus.RUNNING else claimed_at,
                cancel_requested=False,
                worker=worker,
                kernel_pid=kernel_pid,
            )
        )
    return run_id


def stored(runtime: Runtime, run_id: str) -> RunRow:
    with runtime.db.read() as session:
        run = runs_store.get_run(session, run_id)
        assert run is not None
        return run


def end_orphans(runtime: Runtime) -> int:
    now = datetime.now(UTC)
    return runtime.services.runs.end_orphans(worker_prefix_of_this_host(), worker_is_alive, now)


@pytest.fixture
def project_id(client: TestClient) -> str:
    return published_project(client, notebook("1"))


def test_the_kernel_of_a_run_the_reaper_ended_is_killed_by_the_next_start(
    runtime: Runtime, project_id: str, kernel: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(
        runtime,
        project_id,
        status=RunStatus.ERRORED,
        worker=dead_worker(),
        kernel_pid=kernel.pid,
        claimed_at=datetime.now(UTC) - timedelta(seconds=2),
    )
    assert end_orphans(runtime) == 0  # nothing left RUNNING to end
    assert kernel.wait(timeout=10) != 0
    assert stored(runtime, run_id).kernel_pid is None
    assert stored(runtime, run_id).status == RunStatus.ERRORED.value


def test_a_running_run_of_a_dead_process_ends_errored_and_its_kernel_dies(
    runtime: Runtime, project_id: str, kernel: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(
        runtime,
        project_id,
        status=RunStatus.RUNNING,
        worker=dead_worker(),
        kernel_pid=kernel.pid,
        claimed_at=datetime.now(UTC) - timedelta(seconds=2),
    )
    assert end_orphans(runtime) == 1
    assert kernel.wait(timeout=10) != 0
    assert stored(runtime, run_id).status == RunStatus.ERRORED.value


def test_a_kernel_that_only_inherited_a_recorded_pid_is_left_alone(
    runtime: Runtime, project_id: str, kernel: subprocess.Popen[bytes]
) -> None:
    # The run was claimed a day before this process started: its own kernel is long gone,
    # and the number now belongs to someone else's kernel.
    run_id = add_run(
        runtime,
        project_id,
        status=RunStatus.ERRORED,
        worker=dead_worker(),
        kernel_pid=kernel.pid,
        claimed_at=datetime.now(UTC) - timedelta(days=1),
    )
    end_orphans(runtime)
    assert kernel.poll() is None
    assert stored(runtime, run_id).kernel_pid is None


def test_the_kernel_of_a_live_process_is_left_alone(
    runtime: Runtime, project_id: str, kernel: subprocess.Popen[bytes]
) -> None:
    run_id = add_run(
        runtime,
        project_id,
        status=RunStatus.RUNNING,
        worker=runtime.execution.worker_id,
        kernel_pid=kernel.pid,
        claimed_at=datetime.now(UTC) - timedelta(seconds=2),
    )
    assert end_orphans(runtime) == 0
    assert kernel.poll() is None
    assert stored(runtime, run_id).status == RunStatus.RUNNING.value


def test_kernel_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    left_behind = tmp_path / f"runyard-kernel-{dead_pid.pid}-abc123"
    left_behind.mkdir()
    (left_behind / "kernel.json").write_text('{"key": "signing key"}')
    ours = tmp_path / f"runyard-kernel-{os.getpid()}-def456"
    ours.mkdir()
    unrelated = tmp_path / "runyard-kernel-notes"
    unrelated.mkdir()

    assert remove_orphaned_runtime_dirs(str(tmp_path)) == 1

    assert not left_behind.exists()
    assert ours.exists() and unrelated.exists()


def test_a_kernel_folder_whose_pid_a_later_process_got_is_removed(tmp_path: Path) -> None:
    later = subprocess.Popen(["sleep", "60"])
    try:
        # The folder last changed a day before the process with its pid started: that
        # process cannot have made it (the system gave the pid of a dead one to it).
        reused = tmp_path / f"runyard-kernel-{later.pid}-abc123"
        reused.mkdir()
        (reused / "kernel.json").write_text('{"key": "signing key"}')
        day_ago = time.time() - 86400
        os.utime(reused, (day_ago, day_ago))
        # Its own folder, made after it started, is kept.
        current = tmp_path / f"runyard-kernel-{later.pid}-def456"
        current.mkdir()

        assert remove_orphaned_runtime_dirs(str(tmp_path)) == 1

        assert not reused.exists()
        assert current.exists()
    finally:
        later.kill()
        later.wait()


def test_legacy_run_work_folders_are_removed_unless_a_process_works_in_them(
    tmp_path: Path,
) -> None:
    left_behind = tmp_path / "runyard-run-k2x9q1"
    (left_behind / "data").mkdir(parents=True)
    (left_behind / "data" / "out.csv").write_text("a,b\n")
    in_use = tmp_path / "runyard-run-w8v7u6"
    (in_use / "sub").mkdir(parents=True)
    worker = subprocess.Popen(["sleep", "60"], cwd=in_use / "sub")
    try:
        assert remove_orphaned_runtime_dirs(str(tmp_path)) == 1
        assert not left_behind.exists()
        assert in_use.exists()
    finally:
        worker.kill()
        worker.wait()
