"""DELETE …/runs/{runId} and …/run/{runId} (Hex's CancelRun)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runyard.app import Runtime
from runyard.store import runs as run_store
from tests.cast import notebook, published_project, trigger, wait_for_end, wait_for_status


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    """These runs take their kernels from the pool, as with the default settings."""
    return {**settings_values, "kernel_pool_size": 1}


def process_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def kernel_pid(runtime: Runtime, run_id: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.read() as session:
            run = run_store.get_run(session, run_id)
        if run is not None and run.kernel_pid:
            return run.kernel_pid
        time.sleep(0.05)
    raise AssertionError("the kernel never started")


def test_cancelling_a_running_run_kills_its_kernel_and_ends_it_killed(
    client: TestClient, runtime: Runtime
) -> None:
    project_id = published_project(client, notebook("import time\ntime.sleep(120)"))
    run_id = trigger(client, project_id)["runId"]
    wait_for_status(client, project_id, run_id, "RUNNING")
    pid = kernel_pid(runtime, run_id)
    response = client.delete(f"/api/v1/projects/{project_id}/runs/{run_id}")
    assert response.status_code == 204 and response.content == b""
    final = wait_for_end(client, project_id, run_id, timeout=20)
    assert final["status"] == "KILLED"
    assert process_gone(pid)


def test_a_second_cancel_of_a_killed_run_is_a_422(client: TestClient) -> None:
    project_id = published_project(client, notebook("import time\ntime.sleep(120)"))
    run_id = trigger(client, project_id)["runId"]
    assert client.delete(f"/api/v1/project/{project_id}/run/{run_id}").status_code == 204
    wait_for_end(client, project_id, run_id, timeout=20)
    again = client.delete(f"/api/v1/project/{project_id}/run/{run_id}")
    assert again.status_code == 422 and again.json()["code"] == "UNPROCESSABLE_CONTENT"


def test_cancelling_a_completed_run_is_a_422_and_leaves_it_completed(client: TestClient) -> None:
    project_id = published_project(client, notebook("x = 1"))
    run_id = trigger(client, project_id)["runId"]
    wait_for_end(client, project_id, run_id)
    assert client.delete(f"/api/v1/projects/{project_id}/runs/{run_id}").status_code == 422
    status = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()["status"]
    assert status == "COMPLETED"
