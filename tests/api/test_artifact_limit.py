"""RUNYARD_MAX_ARTIFACT_MB: an artifact larger than the limit is refused when the run writes
it, and the run's log says so, rather than filling the store."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, trigger, wait_for_end


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    return {**settings_values, "max_artifact_mb": 1}


def test_an_executed_notebook_over_the_limit_is_not_kept_and_the_log_says_why(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("print('x' * 2_000_000)"))
    run_id = trigger(client, project_id)["runId"]
    assert wait_for_end(client, project_id, run_id)["status"] == "COMPLETED"
    base = f"/api/v1/projects/{project_id}/runs/{run_id}"

    # The pages are made after the run ends, and refused then.
    deadline = time.monotonic() + 30
    while "The run's app page" not in (log := client.get(f"{base}/log")).text:
        assert time.monotonic() < deadline, log.text[-500:]
        time.sleep(0.1)
    limit = "is larger than RUNYARD_MAX_ARTIFACT_MB (1 MB) and was not kept."
    assert f"The run's executed notebook (1.9 MB) {limit}" in log.text
    assert "The run's html page" in log.text and "The run's app page" in log.text
    assert "[runyard] The log (1.9 MB) is larger than RUNYARD_MAX_ARTIFACT_MB (1 MB)" in log.text
    assert len(log.content) <= 1024 * 1024
    assert client.get(f"{base}/notebook").status_code == 404
    assert client.get(f"{base}/html").status_code == 404


def test_artifacts_within_the_limit_are_kept(client: TestClient) -> None:
    project_id = published_project(client, notebook("print('small')"))
    run_id = trigger(client, project_id)["runId"]
    assert wait_for_end(client, project_id, run_id)["status"] == "COMPLETED"
    base = f"/api/v1/projects/{project_id}/runs/{run_id}"
    assert client.get(f"{base}/notebook").status_code == 200
    assert "RUNYARD_MAX_ARTIFACT_MB" not in client.get(f"{base}/log").text
