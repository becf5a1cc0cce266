"""A bounded number of kernels: a run that cannot get one in time ends
UNABLE_TO_ALLOCATE_KERNEL, and the scheduler's upkeep re-rings and reaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.cast import (
    AUTH,
    notebook,
    published_project,
    trigger,
    wait_for_end,
    wait_for_status,
)

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import Settings
from runyard.domain.run_status import RunStatus
from runyard.store import runs as run_store

pytestmark = pytest.mark.kernel


@pytest.fixture
def one_slot_runtime(settings_values: dict[str, Any]) -> Runtime:
    values = {
        **settings_values,
        "max_concurrent_kernels": 1,
        "kernel_allocation_timeout_seconds": 1.0,
        "scheduler_interval_seconds": 0.2,
    }
    return build_runtime(Settings(**values), migrate=False)


@pytest.fixture
def one_slot(one_slot_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(one_slot_runtime), headers=AUTH) as client:
        yield client


def test_a_run_that_waits_too_long_for_a_kernel_is_unable_to_allocate(
    one_slot: TestClient,
) -> None:
    busy = published_project(one_slot, notebook("import time\ntime.sleep(60)"))
    hog = trigger(one_slot, busy)["runId"]
    wait_for_status(one_slot, busy, hog, "RUNNING")
    quick = published_project(one_slot, notebook("x = 1"))
    starved = trigger(one_slot, quick)["runId"]
    final = wait_for_end(one_slot, quick, starved, timeout=15)
    assert final["status"] == "UNABLE_TO_ALLOCATE_KERNEL"
    assert "No kernel became available" in final["error"]["message"]
    one_slot.delete(f"/api/v1/projects/{busy}/runs/{hog}")
    assert wait_for_end(one_slot, busy, hog)["status"] == "KILLED"


def test_upkeep_reaps_a_run_whose_worker_stopped_renewing_its_lease(
    runtime: Runtime, client: TestClient
) -> None:
    project_id = published_project(client, notebook("x = 1"))
    run_id = trigger(client, project_id)["runId"]
    wait_for_end(client, project_id, run_id)
    # Pretend a worker claimed a fresh PENDING run and then vanished without a trace.
    orphan = trigger(client, project_id, dryRun=False)["runId"]
    wait_for_end(client, project_id, orphan)
    with runtime.db.write() as session:
        row = run_store.get_run(session, orphan)
        assert row is not None
        row.status = RunStatus.RUNNING.value
        row.worker = "elsewhere:1:dead"
        row.ended_at = None
        row.lease_until = runtime.services.runs.now() - timedelta(seconds=1)
    report = runtime.services.runs.upkeep(runtime.services.runs.now())
    assert report.reaped == 1
    final = client.get(f"/api/v1/projects/{project_id}/runs/{orphan}").json()
    assert final["status"] == "ERRORED" and "lease" in final["error"]["message"]
