"""Stopping `runyard serve` (SIGTERM, as systemd, Docker or Kubernetes do) drains it: runs
waiting for a kernel slot stay PENDING for the next start, running runs get
RUNYARD_SHUTDOWN_GRACE_SECONDS to finish, and only those still running after it are killed
(ERRORED, naming the shutdown)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.cast import notebook
from tests.servers import Server, free_port

TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def published(server: Server, source: str) -> str:
    response = server.http.post(
        "/api/v1/projects/import",
        params={"publish": "true"},
        content=json.dumps(notebook(source)),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project"]["id"]
    return project_id


def stop_gracefully(server: Server) -> None:
    """SIGTERM the server and see it exit on its own: Server.stop kills it (exit -9) if it
    has not exited 20 s later. Uvicorn ends a graceful shutdown by re-raising the signal."""
    server.stop()
    assert server.process is not None
    assert server.process.returncode in (0, -signal.SIGTERM), server.process.returncode


def test_a_run_that_finishes_within_the_grace_period_completes(tmp_path: Path) -> None:
    server = Server(tmp_path / "home", free_port(), RUNYARD_SHUTDOWN_GRACE_SECONDS="60")
    server.start()
    try:
        project_id = published(server, "import time\ntime.sleep(4)\nprint('finished')")
        run_id = server.http.post(f"/api/v1/projects/{project_id}/runs").json()["runId"]
        server.wait_for(project_id, run_id, {"RUNNING"})
        stop_gracefully(server)
        server.start()
        final = server.wait_for(project_id, run_id, TERMINAL, timeout=10)
        assert final["status"] == "COMPLETED", final
    finally:
        server.stop()
        server.http.close()


def test_after_the_grace_period_running_runs_are_killed_and_waiting_runs_stay_pending(
    tmp_path: Path,
) -> None:
    server = Server(
        tmp_path / "home",
        free_port(),
        RUNYARD_SHUTDOWN_GRACE_SECONDS="1",
        RUNYARD_MAX_CONCURRENT_KERNELS="1",
    )
    server.start()
    try:
        slow_id = published(server, "import time\ntime.sleep(600)")
        quick_id = published(server, "print('picked up after the restart')")
        running = server.http.post(f"/api/v1/projects/{slow_id}/runs").json()["runId"]
        server.wait_for(slow_id, running, {"RUNNING"})
        # The one kernel slot is taken: this run waits in the executor's queue.
        waiting = server.http.post(f"/api/v1/projects/{quick_id}/runs").json()["runId"]

        stop_gracefully(server)
        server.start()
        killed = server.wait_for(slow_id, running, TERMINAL, timeout=10)
        assert killed["status"] == "ERRORED"
        assert "shut down" in killed["error"]["message"]
        picked_up = server.wait_for(quick_id, waiting, TERMINAL)
        assert picked_up["status"] == "COMPLETED", picked_up
    finally:
        server.stop()
        server.http.close()
